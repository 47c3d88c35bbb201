"""The canonical dialogue as an Arrow schema for Parquet and columnar work; free-form values are JSON text."""

from __future__ import annotations

from typing import Any

import orjson

from dialogdata.schemas.dialogue import Dialogue


def arrow_schema() -> Any:
    """Return the `pyarrow.Schema` of `dialogues.parquet` (pyarrow is imported only here, on use)."""
    import pyarrow as pa

    call = pa.struct([("id", pa.string()), ("name", pa.string()), ("arguments", pa.string())])
    turn = pa.struct(
        [
            ("role", pa.string()),
            ("content", pa.string()),
            ("name", pa.string()),
            ("tool_calls", pa.list_(call)),
            ("tool_call_id", pa.string()),
            ("loss", pa.bool_()),
            ("meta", pa.string()),
        ]
    )
    source = pa.struct(
        [
            ("path", pa.string()),
            ("line", pa.int64()),
            ("index", pa.int64()),
            ("key", pa.string()),
            ("format", pa.string()),
            ("encoding", pa.string()),
            ("source_id", pa.string()),
            ("normalizations", pa.list_(pa.string())),
        ]
    )
    return pa.schema(
        [
            ("id", pa.string()),
            ("split", pa.string()),
            ("turns", pa.list_(turn)),
            ("tools", pa.string()),
            ("meta", pa.string()),
            ("source", source),
            ("lineage", pa.string()),
            ("tags", pa.map_(pa.string(), pa.string())),
            ("scores", pa.map_(pa.string(), pa.float64())),
        ]
    )


def to_arrow_row(dialogue: Dialogue, *, split: str | None = None) -> dict[str, Any]:
    """Return one row for `arrow_schema()`: nested values as structs, free-form ones as JSON text."""
    data = dialogue.to_dict()
    for turn in data["turns"]:
        turn["meta"] = _json(turn["meta"])
    return {
        "id": data["id"],
        "split": split,
        "turns": data["turns"],
        "tools": _json(data["tools"]),
        "meta": _json(data["meta"]),
        "source": data["source"],
        "lineage": None if data["lineage"] is None else _json(data["lineage"]),
        "tags": list(data["tags"].items()),
        "scores": list(data["scores"].items()),
    }


def _json(value: Any) -> str:
    """Canonical JSON text of a free-form value."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
