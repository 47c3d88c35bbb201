"""The canonical dialogue: frozen value types that every stage speaks."""

from __future__ import annotations

import enum
import hashlib
from typing import Any

import msgspec
import msgspec.structs

JSON = Any
"""A JSON-serialisable value (free-form `meta`, tool schemas, parameters)."""


class Role(enum.StrEnum):
    """Who speaks a turn."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class ToolCall(msgspec.Struct, frozen=True, kw_only=True):
    """A function call made by an assistant turn; `arguments` is the JSON text the source gave."""

    name: str
    arguments: str = ""
    id: str | None = None


class Turn(msgspec.Struct, frozen=True, kw_only=True):
    """One message of a dialogue."""

    role: Role
    content: str = ""
    name: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    loss: bool | None = None
    meta: dict[str, JSON] = {}


class Source(msgspec.Struct, frozen=True, kw_only=True):
    """Where a dialogue came from: file relative to the input root, line, record index, format."""

    path: str
    line: int | None = None
    index: int = 0
    key: str | None = None
    format: str | None = None
    encoding: str | None = None
    source_id: str | None = None
    normalizations: tuple[str, ...] = ()


class Operation(msgspec.Struct, frozen=True, kw_only=True):
    """One augmentation step applied to a parent dialogue."""

    name: str
    params: dict[str, JSON] = {}
    seed: int = 0


class Lineage(msgspec.Struct, frozen=True, kw_only=True):
    """Where a derived dialogue came from: its parent, the original, and every operation since."""

    parent_id: str
    root_id: str
    operations: tuple[Operation, ...] = ()


class Dialogue(msgspec.Struct, frozen=True, kw_only=True):
    """A dialogue; `id` defaults to a stable hash of its content (roles, texts, tool calls)."""

    id: str = ""
    turns: tuple[Turn, ...]
    tools: tuple[JSON, ...] = ()
    meta: dict[str, JSON] = {}
    source: Source | None = None
    lineage: Lineage | None = None
    tags: dict[str, str] = {}
    scores: dict[str, float] = {}

    def __post_init__(self) -> None:
        """Fill in the content id when none was given."""
        if not self.id:
            msgspec.structs.force_setattr(self, "id", content_id(self.turns))

    def to_dict(self) -> dict[str, JSON]:
        """Return the canonical schema as plain JSON-ready dicts and lists."""
        # A JSON round trip turns tuples into lists, so the result equals what `json.loads` gives.
        out: dict[str, JSON] = msgspec.json.decode(msgspec.json.encode(self))
        return out

    @classmethod
    def from_dict(cls, data: dict[str, JSON]) -> Dialogue:
        """Build a dialogue from the canonical dict form, validating every field."""
        return msgspec.convert(data, cls)

    def evolve(self, **changes: Any) -> Dialogue:
        """Return a copy with `changes`; the id is recomputed when the turns change."""
        if "turns" in changes and "id" not in changes:
            changes["id"] = ""
        return msgspec.structs.replace(self, **changes)

    @property
    def n_turns(self) -> int:
        """Number of turns."""
        return len(self.turns)


def content_id(turns: tuple[Turn, ...]) -> str:
    """Hash roles, texts and tool calls (not ids or metadata) into a 32-hex-digit id."""
    # Separators are control characters that sit between fields; roles are str members, so join takes them.
    parts: list[str] = []
    for turn in turns:
        parts += (turn.role, "\x1e", turn.content)
        for call in turn.tool_calls:
            parts += ("\x1f", call.name, "\x1f", call.arguments)
        parts.append("\x1d")
    data = "".join(parts).encode("utf-8", "surrogatepass")
    # SHA-256 (hardware-accelerated on current CPUs, twice BLAKE2b's speed here), cut to 128 bits.
    return hashlib.sha256(data).hexdigest()[:32]


def json_schema() -> dict[str, JSON]:
    """Return the JSON Schema of the canonical dialogue dict."""
    schema: dict[str, JSON] = msgspec.json.schema(Dialogue)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "dialogdata Dialogue"
    return schema
