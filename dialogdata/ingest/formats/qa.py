"""Question/answer tables: one row is one exchange (question/answer, ask/answer, query/response, 问/答)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from dialogdata.ingest.formats.base import Format, Parsed, RecordError, source_id_of
from dialogdata.ingest.formats.columns import ANSWER, QUESTION, SYSTEM, find_column
from dialogdata.schemas import Role, Turn


class QA(Format):
    """A row with a question column and an answer column becomes a user turn and an assistant turn.

    Other columns (department, title, ...) become the dialogue's `meta`; a `system` column, if any,
    becomes a leading system turn.
    """

    name: ClassVar[str] = "qa"

    def claims(self, record: Mapping[str, Any]) -> bool:
        """Claim rows with both a question-like and an answer-like column."""
        return find_column(record, QUESTION) is not None and find_column(record, ANSWER) is not None

    def parse(self, record: Mapping[str, Any]) -> Parsed:
        """Turn one row into [system], user and assistant turns."""
        question, answer = find_column(record, QUESTION), find_column(record, ANSWER)
        if question is None or answer is None:
            keys = ", ".join(sorted(map(str, record))) or "none"
            raise RecordError("format.missing_field", f"expected question and answer columns, found: {keys}")
        out = Parsed()
        system = find_column(record, SYSTEM)
        if system is not None and (prompt := out.text(record[system], system)):
            out.turns.append(Turn(role=Role.SYSTEM, content=prompt))
        out.turns.append(Turn(role=Role.USER, content=out.text(record[question], question)))
        out.turns.append(Turn(role=Role.ASSISTANT, content=out.text(record[answer], answer)))
        out.source_id = source_id_of(record)
        out.meta = {k: v for k, v in record.items() if k not in (question, answer, system, "id")}
        return out
