"""Plain utterance lists: speakers alternate, user first (DailyDialog, KdConv, bare lists of text)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, NoReturn

from dialogdata.ingest.formats.base import Format, Parsed, RecordError, require_list, source_id_of
from dialogdata.schemas import Role, Turn

TURN_KEYS = ("utterances", "dialog", "dialogue", "turns", "messages")
TEXT_KEYS = ("text", "message", "utterance", "content")
# A turn that names its speaker belongs to a format that reads the speaker (openai, sharegpt, chatglm3).
SPEAKER_KEYS = ("role", "from", "speaker")


class Utterances(Format):
    """A list of utterances, bare or under one of `TURN_KEYS`; items are text or one-text-field objects."""

    name = "utterances"
    accepts_lists = True
    roles: ClassVar[tuple[Role, Role]] = (Role.USER, Role.ASSISTANT)

    def claims(self, record: Mapping[str, Any]) -> bool:
        """Claim an object whose turn list holds only utterances."""
        key = _turns_key(record)
        return key is not None and self.claims_list(record[key])

    def claims_list(self, record: object) -> bool:
        """Claim a non-empty list of text, or of objects with one text field and no speaker."""
        return isinstance(record, list) and bool(record) and all(map(_is_utterance, record))

    def parse(self, record: Mapping[str, Any] | list[Any]) -> Parsed:
        """Read the utterances, alternating user and assistant; other record keys become meta."""
        out = Parsed()
        key, items = "", record
        if not isinstance(record, list):
            key = _turns_key(record) or _missing_turns(record)
            items = require_list(record, key)
            out.source_id = source_id_of(record)
            out.meta = {k: v for k, v in record.items() if k not in (key, "id")}
        for position, item in enumerate(items):
            out.turns.append(_turn(item, self.roles[position % 2], f"{key}[{position}]", out))
        if not out.turns:
            raise RecordError(
                "format.no_turns", f"expected at least one utterance in '{key or 'the record'}'"
            )
        return out


def _turns_key(record: Mapping[str, Any]) -> str | None:
    """Name the record's turn list: the first of `TURN_KEYS` it has."""
    return next((k for k in TURN_KEYS if k in record), None)


def _missing_turns(record: Mapping[str, Any]) -> NoReturn:
    """Raise `format.missing_field` naming the turn lists looked for and the keys found."""
    keys = ", ".join(sorted(map(str, record))) or "none"
    wanted = ", ".join(f"'{k}'" for k in TURN_KEYS)
    raise RecordError("format.missing_field", f"expected a list under one of {wanted}; found keys: {keys}")


def _text_keys(item: Mapping[str, Any]) -> list[str]:
    """List the text fields an utterance object has."""
    return [k for k in TEXT_KEYS if k in item]


def _is_utterance(item: object) -> bool:
    """Tell whether `item` is text, or an object with exactly one text field and no speaker."""
    if isinstance(item, dict):
        return len(_text_keys(item)) == 1 and not any(k in item for k in SPEAKER_KEYS)
    return isinstance(item, str)


def _turn(item: object, role: Role, where: str, out: Parsed) -> Turn:
    """Read one utterance: text, or an object whose one text field is the content and the rest meta."""
    if not isinstance(item, dict):
        return Turn(role=role, content=out.text(item, where))
    keys = _text_keys(item)
    if len(keys) != 1:
        fields = ", ".join(TEXT_KEYS)
        found = ", ".join(sorted(map(str, item))) or "none"
        # No text field is a missing field; two leave the text ambiguous, which is the item's shape at fault.
        code = "format.missing_field" if not keys else "format.bad_type"
        raise RecordError(code, f"{where}: expected one text field ({fields}), found keys: {found}")
    meta = {k: v for k, v in item.items() if k != keys[0]}
    return Turn(role=role, content=out.text(item[keys[0]], f"{where}.{keys[0]}"), meta=meta)
