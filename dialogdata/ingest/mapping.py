"""Mappings: a few lines of TOML or JSON that make any other dialogue shape ingestible without code.

include = ["dialogs/*.json"]     # which files (globs on paths relative to the input root); default all
records = "data.dialogs"         # dotted path to the list of dialogues inside each record or document
turns = "turns"                  # key of the turn list in a dialogue ("." when the dialogue is the list)
role = "speaker"                 # key of the speaker in a turn; omit when speakers alternate
content = "text"                 # key of the text in a turn; omit when turns are plain strings
alternate = ["user", "assistant"]  # roles of alternating speakers, first speaker first
id = "dialogue_id"               # the dialogue's own id, kept as source.source_id
system = "persona"               # a dialogue-level field holding the system prompt
meta = ["topic"]                 # dialogue fields kept as meta (default: every other field)
[roles]                          # speaker values -> user, assistant, system or tool
usr = "user"
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import msgspec
import orjson

from dialogdata.errors import ConfigError
from dialogdata.ingest.encoding import ENCODINGS
from dialogdata.ingest.formats.base import Format, Parsed, RecordError, kind, require_field, source_id_of
from dialogdata.ingest.formats.columns import SPEAKERS, normalise
from dialogdata.schemas import Role, Turn


class DialogueMapping(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A parsed mapping file; see the module docstring for every key."""

    include: tuple[str, ...] = ()
    format: str | None = None
    records: str | None = None
    turns: str | None = None
    role: str | None = None
    content: str | None = None
    alternate: tuple[str, str] = ("user", "assistant")
    id: str | None = None
    system: str | None = None
    meta: tuple[str, ...] | None = None
    roles: dict[str, str] = {}
    encoding: str | None = None
    delimiter: str | None = None
    turn_separator: str | None = None
    blocks: bool = False

    def applies_to(self, rel: str) -> bool:
        """Tell whether the mapping is for the file at `rel` (every file when `include` is empty)."""
        return not self.include or any(fnmatch.fnmatch(rel, pattern) for pattern in self.include)

    def to_format(self) -> Format | None:
        """Return the record format this mapping describes (None when it only sets container options)."""
        return MappedFormat(self) if self.turns is not None else None


FIELDS = tuple(DialogueMapping.__struct_fields__)


def load_mapping(path: str | Path) -> DialogueMapping:
    """Read a mapping file (.toml or .json); an unknown key or bad value is a `ConfigError`."""
    path = Path(path)
    try:
        text = path.read_bytes()
        data = orjson.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text.decode("utf-8"))
    except (OSError, UnicodeDecodeError, orjson.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the mapping: {exc}", path=str(path)) from None
    return parse_mapping(data, where=str(path))


def parse_mapping(data: Mapping[str, Any], *, where: str = "mapping") -> DialogueMapping:
    """Validate a mapping given as a dict."""
    body = data.get("mapping", data) if isinstance(data.get("mapping"), dict) else data
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise ConfigError(
            f"unknown key {unknown[0]!r} in the mapping; expected one of: {', '.join(FIELDS)}", path=where
        )
    try:
        mapping = msgspec.convert(body, DialogueMapping)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"bad value in the mapping: {exc}", path=where) from None
    if mapping.encoding is not None and mapping.encoding not in ENCODINGS:
        raise ConfigError(
            f"unknown encoding {mapping.encoding!r}; expected one of: {', '.join(ENCODINGS)}", path=where
        )
    bad = sorted(
        v for v in (*mapping.roles.values(), *mapping.alternate) if v not in Role.__members__.values()
    )
    if bad:
        raise ConfigError(
            f"unknown role {bad[0]!r} in the mapping; expected one of: {', '.join(Role)}", path=where
        )
    return mapping


def dig(value: Any, path: str | None) -> Any:
    """Follow a dotted path ("data.dialogs", "." or None for the value itself) into nested objects."""
    if path in (None, ".", ""):
        return value
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise RecordError("format.missing_field", f"expected the path {path!r}, found no {part!r}")
        value = value[part]
    return value


class MappedFormat(Format):
    """The record format a mapping describes."""

    name: ClassVar[str] = "mapping"
    accepts_lists: ClassVar[bool] = True

    def __init__(self, mapping: DialogueMapping) -> None:
        self.mapping = mapping

    def claims(self, record: Mapping[str, Any]) -> bool:
        """A mapping is chosen by the user, never detected."""
        return False

    def parse(self, record: Any) -> Parsed:
        """Turn one dialogue into turns following the mapping."""
        m = self.mapping
        out = Parsed()
        turns = dig(record, m.turns)
        if not isinstance(turns, list):
            raise RecordError(
                "format.bad_type", f"{m.turns!r}: expected a list of turns, found {kind(turns)}"
            )
        if isinstance(record, dict) and m.system and (prompt := out.text(record.get(m.system), m.system)):
            out.turns.append(Turn(role=Role.SYSTEM, content=prompt))
        for position, item in enumerate(turns):
            out.turns.append(self._turn(item, position, out))
        if not out.turns:
            raise RecordError("format.no_turns", f"expected at least one turn in {m.turns!r}, found none")
        if isinstance(record, dict):
            out.source_id = (
                str(record[m.id]) if m.id and record.get(m.id) is not None else source_id_of(record)
            )
            out.meta = self._meta(record)
        return out

    def _turn(self, item: Any, position: int, out: Parsed) -> Turn:
        """Read one turn: a string (alternating speakers) or an object with role and content keys."""
        m = self.mapping
        where = f"turn {position}"
        if isinstance(item, str):
            return Turn(role=Role(m.alternate[position % 2]), content=out.text(item, where))
        if not isinstance(item, dict):
            raise RecordError("format.bad_type", f"{where}: expected text or an object, found {kind(item)}")
        content = require_field(item, m.content, where) if m.content else None
        role = self._role(item, position)
        extra = {k: v for k, v in item.items() if k not in (m.role, m.content)}
        return Turn(role=role, content=out.text(content, f"{where}.{m.content}"), meta=extra)

    def _role(self, item: Mapping[str, Any], position: int) -> Role:
        """Map a turn's speaker through the mapping's aliases, then the built-in names."""
        m = self.mapping
        if not m.role:
            return Role(m.alternate[position % 2])
        value = item.get(m.role)
        if value is None:
            # `format.unknown_role` is for a speaker the turn names; this one names none.
            raise RecordError(
                "format.missing_field", f"turn {position}: expected a '{m.role}' naming the speaker"
            )
        if isinstance(value, str):
            if value in m.roles:
                return Role(m.roles[value])
            if normalise(value) in SPEAKERS:
                return SPEAKERS[normalise(value)]
        known = ", ".join(sorted({*m.roles, *SPEAKERS}))
        raise RecordError(
            "format.unknown_role", f"turn {position}.{m.role}: expected one of {known}; found {value!r}"
        )

    def _meta(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Return the dialogue fields kept as meta."""
        m = self.mapping
        if m.meta is not None:
            return {k: record[k] for k in m.meta if k in record}
        used = {m.turns, m.id, m.system, "id"}
        return {k: v for k, v in record.items() if k not in used}
