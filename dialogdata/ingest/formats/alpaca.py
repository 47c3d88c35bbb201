"""Alpaca records: `instruction`, `input`, `output`, with optional `system` and `history` pairs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from dialogdata.ingest.formats.base import Format, Parsed, RecordError, kind, source_id_of
from dialogdata.schemas import Role, Turn


class Alpaca(Format):
    """Alpaca records (LLaMA-Factory columns): `instruction`, `input`, `output`, `system`, `history`."""

    name = "alpaca"
    fields: ClassVar[tuple[str, ...]] = ("instruction", "input", "output", "system", "history", "id")
    # LLaMA-Factory's data/README: the user prompt is `instruction\ninput`.
    separator: ClassVar[str] = "\n"

    def claims(self, record: Mapping[str, Any]) -> bool:
        """Alpaca records have `instruction` and `output`."""
        return "instruction" in record and "output" in record

    def parse(self, record: Mapping[str, Any]) -> Parsed:
        """Build system, history pairs, the prompt (instruction and input) and the output."""
        out = Parsed()
        system = out.text(record.get("system"), "system")
        if system:
            out.turns.append(Turn(role=Role.SYSTEM, content=system))
        for position, pair in enumerate(_history(record.get("history"))):
            where = f"history[{position}]"
            out.turns.append(Turn(role=Role.USER, content=out.text(pair[0], f"{where}[0]")))
            out.turns.append(Turn(role=Role.ASSISTANT, content=out.text(pair[1], f"{where}[1]")))
        parts = (
            out.text(_require(record, "instruction"), "instruction"),
            out.text(record.get("input"), "input"),
        )
        out.turns.append(Turn(role=Role.USER, content=self.separator.join(p for p in parts if p)))
        out.turns.append(Turn(role=Role.ASSISTANT, content=out.text(_require(record, "output"), "output")))
        out.source_id = source_id_of(record)
        out.meta = {k: v for k, v in record.items() if k not in self.fields}
        return out


def _require(record: Mapping[str, Any], key: str) -> object:
    """Return `record[key]`, or raise `format.missing_field` naming the keys found."""
    if key not in record:
        keys = ", ".join(sorted(map(str, record))) or "none"
        raise RecordError("format.missing_field", f"expected '{key}' text, found keys: {keys}")
    return record[key]


def _history(value: object) -> list[list[Any]]:
    """Read `history`: a list of `[user, assistant]` pairs (absent or null means none)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError("format.bad_type", f"'history': expected a list of pairs, found {kind(value)}")
    for position, pair in enumerate(value):
        if not (isinstance(pair, list) and len(pair) == 2):
            found = f"a list of {len(pair)}" if isinstance(pair, list) else kind(pair)
            raise RecordError(
                "format.bad_type", f"history[{position}]: expected a [user, assistant] pair, found {found}"
            )
    return value
