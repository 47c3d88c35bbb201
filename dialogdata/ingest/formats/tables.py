"""Utterance tables: one row per turn (dialogue id, speaker, text, optional order); rows are grouped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from dialogdata.ingest.formats.base import Format, Parsed, RecordError, kind
from dialogdata.ingest.formats.columns import (
    DIALOGUE_ID,
    ORDER,
    SPEAKER,
    SPEAKERS,
    TEXT,
    find_column,
    normalise,
)
from dialogdata.schemas import Role, Turn


class UtteranceTable(Format):
    """Rows sharing a dialogue id form one dialogue, in order-column order (else file order).

    Speakers are mapped by name (customer, agent, 患者, 医生, ...); when a dialogue has exactly two
    unknown speakers, the first to speak is the user (recorded as the `speakers_inferred` normalisation).
    """

    name: ClassVar[str] = "utterance_table"
    grouping: ClassVar[bool] = True

    def claims(self, record: Mapping[str, Any]) -> bool:
        """Claim rows with a dialogue id, a speaker and a text column."""
        return all(find_column(record, aliases) for aliases in (DIALOGUE_ID, SPEAKER, TEXT))

    def group_key(self, record: Mapping[str, Any]) -> str:
        """Return the dialogue id of a row, or raise when it has none."""
        column = find_column(record, DIALOGUE_ID)
        value = record.get(column) if column else None
        if value is None or not str(value).strip():
            raise RecordError("format.missing_field", "expected a dialogue id in the row, found none")
        return str(value).strip()

    def parse(self, record: Mapping[str, Any]) -> Parsed:
        """A single row is a one-turn group."""
        return self.parse_group([record])

    def parse_group(self, rows: Sequence[Mapping[str, Any]]) -> Parsed:
        """Turn the rows of one dialogue into its turns."""
        out = Parsed()
        ordered = _in_order(rows)
        speakers = _speaker_roles([_speaker(row) for row in ordered], out)
        for row in ordered:
            text_column = _require_column(row, TEXT, "text")
            role = speakers[_speaker(row)]
            extra = {k: v for k, v in row.items() if normalise(str(k)) not in (*DIALOGUE_ID, *SPEAKER, *TEXT)}
            out.turns.append(Turn(role=role, content=out.text(row.get(text_column), text_column), meta=extra))
        out.source_id = UtteranceTable().group_key(rows[0])
        return out


def _speaker(row: Mapping[str, Any]) -> str:
    """Return a row's speaker value as folded text; a row that names no speaker lacks a field."""
    column = _require_column(row, SPEAKER, "speaker")
    value = row[column]
    if value is None or (isinstance(value, str) and not value.strip()):
        found = "null" if value is None else "blank text"
        raise RecordError("format.missing_field", f"{column}: expected a speaker, found {found}")
    if not isinstance(value, str):
        raise RecordError("format.bad_type", f"{column}: expected text, found {kind(value)}")
    return normalise(value)


def _require_column(row: Mapping[str, Any], aliases: tuple[str, ...], what: str) -> str:
    """Return the row's column among `aliases`, or raise `format.missing_field` naming the keys found."""
    column = find_column(row, aliases)
    if column is None:
        keys = ", ".join(sorted(map(str, row))) or "none"
        raise RecordError(
            "format.missing_field", f"expected a {what} column ({', '.join(aliases)}), found keys: {keys}"
        )
    return column


def _speaker_roles(speakers: list[str], out: Parsed) -> dict[str, Role]:
    """Map each speaker to a role: by name, else the first of two unknown speakers is the user."""
    roles = {s: SPEAKERS[s] for s in speakers if s in SPEAKERS}
    unknown = list(dict.fromkeys(s for s in speakers if s not in SPEAKERS))
    if not unknown:
        return roles
    known = set(roles.values()) & {Role.USER, Role.ASSISTANT}
    free = [r for r in (Role.USER, Role.ASSISTANT) if r not in known]
    if len(unknown) > len(free):
        found = ", ".join(repr(s) for s in unknown)
        raise RecordError("format.unknown_role", f"expected two speakers or known names, found {found}")
    out.normalizations.add("speakers_inferred")
    roles.update(zip(unknown, free, strict=False))
    return roles


def _in_order(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Sort rows by the order column (numerically when every value is a number); stable otherwise."""
    column = find_column(rows[0], ORDER)
    if column is None:
        return list(rows)
    values = [str(row.get(column, "")).strip() for row in rows]
    try:
        keys: list[Any] = [float(v) for v in values]
    except ValueError:
        keys = values
    return [
        row
        for _, _, row in sorted(zip(keys, range(len(rows)), rows, strict=True), key=lambda t: (t[0], t[1]))
    ]
