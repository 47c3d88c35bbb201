"""dialogdata: turn piles of raw dialogue files into clean, scored, augmented fine-tuning JSONL.

>>> import dialogdata as dd
>>> d = dd.Dialogue(turns=(dd.Turn(role=dd.Role.USER, content="你好"),))
>>> dd.Dialogue.from_dict(d.to_dict()) == d
True
"""

from dialogdata.build import BuildResult, build
from dialogdata.export import write
from dialogdata.ingest import read
from dialogdata.schemas import Dialogue, Role, ToolCall, Turn

__version__ = "0.1.0"

__all__ = [
    "BuildResult",
    "Dialogue",
    "Role",
    "ToolCall",
    "Turn",
    "__version__",
    "build",
    "read",
    "write",
]
