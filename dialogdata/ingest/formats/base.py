"""What every record format shares: the `Format` base, parse results and field readers."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import orjson

from dialogdata.ingest.containers import loads_exact
from dialogdata.ingest.text import TextPolicyError, normalize_text
from dialogdata.schemas import JSON, Role, Turn


class RecordError(Exception):
    """A record that cannot become a dialogue; `code` is a stable reject code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Parsed:
    """What a format makes of one record, before it becomes a `Dialogue`."""

    __slots__ = ("meta", "normalizations", "source_id", "tools", "turns")

    def __init__(self) -> None:
        self.turns: list[Turn] = []
        self.tools: tuple[JSON, ...] = ()
        self.meta: dict[str, JSON] = {}
        self.source_id: str | None = None
        self.normalizations: set[str] = set()

    def text(self, value: object, where: str, field: str = "") -> str:
        """Return `value` as normalised text, or raise a `format.bad_type` error naming `where.field`."""
        # The common case, checked in C: printable ASCII with nothing to trim.
        if type(value) is str and value.isascii() and value.isprintable() and value.strip() == value:
            return value
        if value is None:
            return ""
        if not isinstance(value, str):
            name = f"{where}.{field}" if field else where
            raise RecordError("format.bad_type", f"{name}: expected text, found {kind(value)}")
        try:
            return normalize_text(value, self.normalizations)
        except TextPolicyError as exc:
            name = f"{where}.{field}" if field else where
            raise RecordError(exc.code, f"{name}: {exc}") from None


class Format:
    """Base of the record formats; a subclass names its keys and fills `parse`."""

    name: ClassVar[str]
    turns_key: ClassVar[str]
    accepts_lists: ClassVar[bool] = False
    """True for formats whose records may be bare lists (utterance lists)."""
    grouping: ClassVar[bool] = False
    """True for table formats whose rows are grouped into dialogues (see `group_key`, `parse_group`)."""

    def claims(self, record: Mapping[str, Any]) -> bool:
        """Tell whether `record` looks like this format (used to detect a file's format)."""
        turns = record.get(self.turns_key)
        return isinstance(turns, list) and bool(turns) and self.claims_turn(turns[0])

    def claims_list(self, record: object) -> bool:
        """Tell whether a bare list record looks like this format (only utterance lists do)."""
        return False

    def group_key(self, record: Mapping[str, Any]) -> str:
        """Return the dialogue a table row belongs to (grouping formats only)."""
        raise NotImplementedError

    def parse_group(self, rows: Sequence[Mapping[str, Any]]) -> Parsed:
        """Turn the rows of one dialogue into turns (grouping formats only)."""
        raise NotImplementedError

    def claims_turn(self, turn: object) -> bool:
        """Tell whether one turn object looks like this format's turns."""
        raise NotImplementedError

    def parse(self, record: Mapping[str, Any]) -> Parsed:
        """Turn one record into turns, tools and meta, or raise `RecordError`."""
        out = Parsed()
        turns = require_list(record, self.turns_key)
        for position, item in enumerate(turns):
            if not isinstance(item, dict):
                where = f"{self.turns_key}[{position}]"
                raise RecordError("format.bad_type", f"{where}: expected an object, found {kind(item)}")
            out.turns.append(self.parse_turn(item, _where(self.turns_key, position), out))
        if not out.turns:
            raise RecordError(
                "format.no_turns", f"expected at least one turn in '{self.turns_key}', found none"
            )
        out.tools = read_tools(record.get("tools"))
        out.source_id = source_id_of(record)
        out.meta = {k: v for k, v in record.items() if k not in (self.turns_key, "tools", "id")}
        return out

    def parse_turn(self, item: Mapping[str, Any], where: str, out: Parsed) -> Turn:
        """Turn one turn object into a `Turn`."""
        raise NotImplementedError


def kind(value: object) -> str:
    """Name a JSON value's type the way a user reads it."""
    names = {dict: "an object", list: "a list", str: "text", bool: "a boolean", type(None): "null"}
    return names.get(
        type(value),
        f"a number ({value!r})" if isinstance(value, int | float) else type(value).__name__,
    )


def require_list(record: Mapping[str, Any], key: str) -> list[Any]:
    """Return `record[key]` as a list, or raise a reject naming what was found."""
    if key not in record:
        keys = ", ".join(sorted(map(str, record))) or "none"
        raise RecordError("format.missing_field", f"expected a '{key}' list, found keys: {keys}")
    value = record[key]
    if not isinstance(value, list):
        raise RecordError("format.bad_type", f"'{key}': expected a list, found {kind(value)}")
    return value


def require_field(item: Mapping[str, Any], key: str, where: str = "") -> object:
    """Return `item[key]`, or raise `format.missing_field` naming `where`, the field and the keys found."""
    if key in item:
        return item[key]
    keys = ", ".join(sorted(map(str, item))) or "none"
    prefix = f"{where}: " if where else ""
    raise RecordError("format.missing_field", f"{prefix}expected a '{key}' field, found keys: {keys}")


def read_role(item: Mapping[str, Any], key: str, roles: Mapping[str, Role], where: str) -> Role:
    """Map a turn's speaker field onto `Role`; a turn that names no speaker (absent or null) lacks a field."""
    value = item.get(key)
    role = roles.get(value) if type(value) is str else None
    if role is not None:
        return role
    if value is None:
        # `format.unknown_role` is for a speaker the turn names; this one names none.
        found = "null" if key in item else "keys: " + (", ".join(sorted(map(str, item))) or "none")
        raise RecordError(
            "format.missing_field", f"{where}: expected a '{key}' naming the speaker, found {found}"
        )
    return to_role(value, roles, f"{where}.{key}")


def to_role(value: object, roles: Mapping[str, Role], where: str) -> Role:
    """Map a role or speaker name onto `Role`, or raise `format.unknown_role`."""
    if isinstance(value, str) and (role := roles.get(value)) is not None:
        return role
    if isinstance(value, str) and value.strip().lower() in roles:
        return roles[value.strip().lower()]
    known = ", ".join(sorted(roles))
    raise RecordError("format.unknown_role", f"{where}: expected one of {known}; found {value!r}")


def optional_str(value: object, where: str) -> str | None:
    """Return `value` when it is text or null, else raise `format.bad_type`."""
    if value is None or isinstance(value, str):
        return value
    raise RecordError("format.bad_type", f"{where}: expected text, found {kind(value)}")


def arguments_text(value: object) -> str:
    """Keep tool arguments as the source gave them: text stays text, objects become compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def read_tools(value: object, where: str = "tools") -> tuple[JSON, ...]:
    """Read declared tools: a list of tool schemas, or a JSON string holding one (as ShareGPT exports do)."""
    if isinstance(value, str):
        if not value.strip():
            return ()
        try:
            value = loads_exact(value)
        except orjson.JSONDecodeError:
            raise RecordError("format.bad_type", f"'{where}': expected a JSON list of tool schemas") from None
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RecordError("format.bad_type", f"'{where}': expected a list, found {kind(value)}")
    for position, tool in enumerate(value):
        _check_tool(tool, f"{where}[{position}]")
    return tuple(value)


def _check_tool(tool: object, where: str) -> None:
    """Check one tool schema: an object named by `name`, or by `function.name` inside OpenAI's wrapper.

    Only what trainers need to read a tool is required (LLaMA-Factory reads the name of every tool; OpenAI
    wraps it in `function`); description and parameters stay optional, as they are for ChatGLM3.
    """
    if not isinstance(tool, dict):
        raise RecordError("format.bad_type", f"{where}: expected a tool schema object, found {kind(tool)}")
    spec = tool.get("function", tool)
    if spec is not tool:
        where = f"{where}.function"
        if not isinstance(spec, dict):
            raise RecordError("format.bad_type", f"{where}: expected an object, found {kind(spec)}")
    name = require_field(spec, "name", where)
    if not isinstance(name, str):
        raise RecordError("format.bad_type", f"{where}.name: expected text, found {kind(name)}")


def source_id_of(record: Mapping[str, Any]) -> str | None:
    """Return the record's own id, if it has one, as text."""
    value = record.get("id")
    return None if value is None else str(value)


@functools.lru_cache(maxsize=1024)
def _where(key: str, position: int) -> str:
    """Name a turn for messages (`messages[3]`); cached, since every record asks for the same few."""
    return f"{key}[{position}]"
