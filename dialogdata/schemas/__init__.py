"""The typed dialogue schema; imports nothing else from the package."""

from dialogdata.schemas.dialogue import (
    JSON,
    Dialogue,
    Lineage,
    Operation,
    Role,
    Source,
    ToolCall,
    Turn,
    content_id,
    json_schema,
)

__all__ = [
    "JSON",
    "Dialogue",
    "Lineage",
    "Operation",
    "Role",
    "Source",
    "ToolCall",
    "Turn",
    "content_id",
    "json_schema",
]
