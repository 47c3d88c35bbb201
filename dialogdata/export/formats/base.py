"""What every export format shares: `Exporter`, `Loss` and the helpers that note what a format drops.

A format's `record()` always returns its most faithful record of the dialogue; `losses()` says what that
record dropped or altered, one `Loss` per code. A dialogue with an `export.unrepresentable` loss has no
usable record and callers skip it. Dialogue and turn metadata (`meta`, `source`, `lineage`, `tags`,
`scores`) are not training content: no format carries them, they live in `dialogues.parquet`, and they
are never reported as losses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import msgspec
import orjson

from dialogdata.codes import EXPORT_CODES
from dialogdata.schemas import Dialogue, Role, ToolCall, Turn

UNREPRESENTABLE = "export.unrepresentable"
TRAINER_ONLY = frozenset(
    {"export.not_alternating", "export.ends_without_reply", "export.arguments_not_object"}
)
"""Codes for records that dialogdata reads back unchanged but the target trainer skips or misreads."""


class Loss(msgspec.Struct, frozen=True):
    """What a format could not carry for one dialogue: a stable code (see `EXPORT_CODES`) and where."""

    code: str
    message: str


class Losses:
    """The losses of one dialogue, gathered while its record is built: one per code, with the turns."""

    def __init__(self, format: str) -> None:
        self.format = format
        self._at: dict[str, list[int]] = {}

    def add(self, code: str, at: int | None = None) -> None:
        """Note `code`, at turn `at` (None for the dialogue as a whole)."""
        where = self._at.setdefault(code, [])
        if at is not None and at not in where:
            where.append(at)

    def to_list(self) -> list[Loss]:
        """Return the losses sorted by code, each message naming the turns it happened at."""
        return [Loss(code, self._message(code)) for code in sorted(self._at)]

    def _message(self, code: str) -> str:
        """Say what was lost: the format, the code's meaning, then the turns it happened at."""
        at = "".join(f", turns[{i}]" if n else f"; at turns[{i}]" for n, i in enumerate(self._at[code]))
        return f"{self.format}: {EXPORT_CODES[code]}{at}"


class Exporter:
    """Base of the export formats: a subclass fills `_build` and names its LLaMA-Factory columns."""

    name: ClassVar[str]
    formatting: ClassVar[str]
    columns: ClassVar[dict[str, str]]
    tags: ClassVar[dict[str, str]] = {}

    def record(self, dialogue: Dialogue) -> dict[str, Any]:
        """Return the JSON object of one output line."""
        return self._build(dialogue, Losses(self.name))

    def losses(self, dialogue: Dialogue) -> list[Loss]:
        """Return everything `record()` drops or alters for `dialogue` (`[]` when it is lossless)."""
        return self.export(dialogue)[1]

    def export(self, dialogue: Dialogue) -> tuple[dict[str, Any], list[Loss]]:
        """Return the record and its losses, building the record once."""
        lost = Losses(self.name)
        if not dialogue.turns:
            lost.add(UNREPRESENTABLE)
        record = self._build(dialogue, lost)
        return record, lost.to_list()

    def dataset_info(self, file_name: str) -> dict[str, Any]:
        """Return this format's LLaMA-Factory `dataset_info.json` entry for `file_name`."""
        entry: dict[str, Any] = {
            "file_name": file_name,
            "formatting": self.formatting,
            "columns": dict(self.columns),
        }
        if self.tags:
            entry["tags"] = dict(self.tags)
        return entry

    def _build(self, dialogue: Dialogue, lost: Losses) -> dict[str, Any]:
        """Return the record of `dialogue`, noting in `lost` what it cannot carry."""
        raise NotImplementedError


def drop_fields(turns: Sequence[Turn], lost: Losses, *, loss: bool) -> None:
    """Note the names, tool call ids and (when `loss`) loss flags of a format that has no place for them."""
    for i, turn in enumerate(turns):
        if turn.name is not None:
            lost.add("export.name_dropped", i)
        if turn.tool_call_id is not None or any(call.id is not None for call in turn.tool_calls):
            lost.add("export.tool_call_ids_dropped", i)
        if loss and turn.loss is not None:
            lost.add("export.loss_dropped", i)


def assistant_calls(turn: Turn, at: int, lost: Losses) -> tuple[ToolCall, ...]:
    """Return the calls a format can write for `turn`: an assistant's; anyone else's are dropped."""
    if turn.role is Role.ASSISTANT:
        return turn.tool_calls
    if turn.tool_calls:
        lost.add("export.tool_calls_dropped", at)
    return ()


def answers(turns: Sequence[Turn]) -> dict[int, list[int | None]]:
    """Map each assistant turn that calls tools to the tool turns answering its calls, in order.

    The tool turns right after a call turn answer its calls one by one; a call with none left is
    unanswered (None).
    """
    out: dict[int, list[int | None]] = {}
    for i, turn in enumerate(turns):
        if turn.role is not Role.ASSISTANT or not turn.tool_calls:
            continue
        results: list[int | None] = []
        j = i + 1
        for _ in turn.tool_calls:
            if j < len(turns) and turns[j].role is Role.TOOL:
                results.append(j)
                j += 1
            else:
                results.append(None)
        out[i] = results
    return out


def arguments_object(call: ToolCall, at: int, lost: Losses) -> Any:
    """Return a call's arguments as the JSON object trainers expect, or its text when it is not one.

    Readers keep an object as compact JSON text, so text in any other form is noted as reformatted.
    Empty arguments mean no arguments: `{}`.
    """
    text = call.arguments
    try:
        value = orjson.loads(text) if text.strip() else {}
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        lost.add("export.arguments_not_object", at)
        return text
    if orjson.dumps(value).decode() != text:
        lost.add("export.arguments_reformatted", at)
    return value


def json_text(value: Any) -> str:
    """Return compact JSON text (UTF-8 kept, no ASCII escapes), as tool lists and calls are embedded."""
    return orjson.dumps(value).decode()
