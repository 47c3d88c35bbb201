"""Formats: one raw record (a parsed JSON object) -> turns, tools and meta of a `Dialogue`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import orjson

from dialogdata.errors import UsageError
from dialogdata.ingest.text import normalize_text
from dialogdata.schemas import JSON, Role, ToolCall, Turn


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

    def text(self, value: object, where: str) -> str:
        """Return `value` as normalised text, or raise a `format.bad_type` error."""
        if value is None:
            return ""
        if not isinstance(value, str):
            raise RecordError("format.bad_type", f"{where}: expected text, found {_kind(value)}")
        return normalize_text(value, self.normalizations)


class Format:
    """Base of the record formats; a subclass names its keys and fills `parse`."""

    name: ClassVar[str]
    turns_key: ClassVar[str]

    def claims(self, record: Mapping[str, Any]) -> bool:
        """Tell whether `record` looks like this format (used to detect a file's format)."""
        turns = record.get(self.turns_key)
        return isinstance(turns, list) and bool(turns) and self.claims_turn(turns[0])

    def claims_turn(self, turn: object) -> bool:
        """Tell whether one turn object looks like this format's turns."""
        raise NotImplementedError

    def parse(self, record: Mapping[str, Any]) -> Parsed:
        """Turn one record into turns, tools and meta, or raise `RecordError`."""
        out = Parsed()
        turns = _require_list(record, self.turns_key)
        for position, item in enumerate(turns):
            if not isinstance(item, dict):
                where = f"{self.turns_key}[{position}]"
                raise RecordError("format.bad_type", f"{where}: expected an object, found {_kind(item)}")
            out.turns.append(self.parse_turn(item, f"{self.turns_key}[{position}]", out))
        if not out.turns:
            raise RecordError(
                "format.no_turns", f"expected at least one turn in '{self.turns_key}', found none"
            )
        out.tools = _tools(record.get("tools"))
        out.source_id = _source_id(record)
        out.meta = {k: v for k, v in record.items() if k not in (self.turns_key, "tools", "id")}
        return out

    def parse_turn(self, item: Mapping[str, Any], where: str, out: Parsed) -> Turn:
        """Turn one turn object into a `Turn`."""
        raise NotImplementedError


class OpenAI(Format):
    """OpenAI chat fine-tuning records: `messages` of `role`/`content`, `tool_calls`, `tools`."""

    name = "openai"
    turns_key = "messages"
    roles: ClassVar[dict[str, Role]] = {
        "system": Role.SYSTEM,
        "developer": Role.SYSTEM,
        "user": Role.USER,
        "assistant": Role.ASSISTANT,
        "tool": Role.TOOL,
        "function": Role.TOOL,
    }

    def claims_turn(self, turn: object) -> bool:
        """OpenAI turns carry `role`."""
        return isinstance(turn, dict) and "role" in turn

    def parse_turn(self, item: Mapping[str, Any], where: str, out: Parsed) -> Turn:
        """Read role, content (text or text parts), name, tool calls and the `weight` flag."""
        role = _role(item.get("role"), self.roles, f"{where}.role")
        content = out.text(_content_text(item.get("content"), f"{where}.content"), f"{where}.content")
        weight = item.get("weight")
        return Turn(
            role=role,
            content=content,
            name=_optional_str(item.get("name"), f"{where}.name"),
            tool_calls=_openai_tool_calls(item.get("tool_calls"), f"{where}.tool_calls"),
            tool_call_id=_optional_str(item.get("tool_call_id"), f"{where}.tool_call_id"),
            loss=None if weight is None else bool(weight),
        )


class ShareGPT(Format):
    """ShareGPT records: `conversations` of `from`/`value`, with function calls and observations."""

    name = "sharegpt"
    turns_key = "conversations"
    roles: ClassVar[dict[str, Role]] = {
        "system": Role.SYSTEM,
        "human": Role.USER,
        "user": Role.USER,
        "gpt": Role.ASSISTANT,
        "assistant": Role.ASSISTANT,
        "chatgpt": Role.ASSISTANT,
        "bard": Role.ASSISTANT,
        "bing": Role.ASSISTANT,
        "function_call": Role.ASSISTANT,
        "observation": Role.TOOL,
        "tool": Role.TOOL,
        "function": Role.TOOL,
    }

    def claims_turn(self, turn: object) -> bool:
        """ShareGPT turns carry `from` and `value`."""
        return isinstance(turn, dict) and "from" in turn and "value" in turn

    def parse_turn(self, item: Mapping[str, Any], where: str, out: Parsed) -> Turn:
        """Read speaker and value; a `function_call` value becomes the turn's tool call."""
        speaker = item.get("from")
        role = _role(speaker, self.roles, f"{where}.from")
        value = out.text(item.get("value"), f"{where}.value")
        if speaker == "function_call":
            return Turn(role=role, tool_calls=(_sharegpt_call(value, f"{where}.value"),))
        return Turn(role=role, content=value)


FORMATS: dict[str, type[Format]] = {"openai": OpenAI, "sharegpt": ShareGPT}


def get_format(name: str) -> Format:
    """Return the format called `name`, or raise a `UsageError` listing the known ones."""
    try:
        return FORMATS[name]()
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise UsageError(f"unknown format {name!r}; expected one of: {known}") from None


def detect_format(records: Iterable[object]) -> Format | None:
    """Return the format that claims the most of `records`, or None when none claims any."""
    formats = [cls() for cls in FORMATS.values()]
    votes = dict.fromkeys(range(len(formats)), 0)
    for record in records:
        if isinstance(record, dict):
            for i, fmt in enumerate(formats):
                votes[i] += fmt.claims(record)
    best = max(votes, key=lambda i: (votes[i], -i))
    return formats[best] if votes[best] else None


def _kind(value: object) -> str:
    """Name a JSON value's type the way a user reads it."""
    names = {dict: "an object", list: "a list", str: "text", bool: "a boolean", type(None): "null"}
    return names.get(
        type(value),
        f"a number ({value!r})" if isinstance(value, int | float) else type(value).__name__,
    )


def _require_list(record: Mapping[str, Any], key: str) -> list[Any]:
    """Return `record[key]` as a list, or raise a reject naming what was found."""
    if key not in record:
        keys = ", ".join(sorted(map(str, record))) or "none"
        raise RecordError("format.missing_field", f"expected a '{key}' list, found keys: {keys}")
    value = record[key]
    if not isinstance(value, list):
        raise RecordError("format.bad_type", f"'{key}': expected a list, found {_kind(value)}")
    return value


def _role(value: object, roles: Mapping[str, Role], where: str) -> Role:
    """Map a role or speaker name onto `Role`, or raise `format.unknown_role`."""
    if isinstance(value, str) and value.strip().lower() in roles:
        return roles[value.strip().lower()]
    known = ", ".join(sorted(roles))
    raise RecordError("format.unknown_role", f"{where}: expected one of {known}; found {value!r}")


def _optional_str(value: object, where: str) -> str | None:
    """Return `value` when it is text or null, else raise `format.bad_type`."""
    if value is None or isinstance(value, str):
        return value
    raise RecordError("format.bad_type", f"{where}: expected text, found {_kind(value)}")


def _content_text(value: object, where: str) -> object:
    """Join OpenAI content parts of type `text`; anything else is passed on to be type-checked."""
    if not isinstance(value, list):
        return value
    texts = []
    for part in value:
        if not (isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)):
            found = part.get("type") if isinstance(part, dict) else _kind(part)
            raise RecordError(
                "format.bad_type", f"{where}: expected text parts, found a part of type {found!r}"
            )
        texts.append(part["text"])
    return "\n".join(texts)


def _arguments(value: object) -> str:
    """Keep tool arguments as the source gave them: text stays text, objects become compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _openai_tool_calls(value: object, where: str) -> tuple[ToolCall, ...]:
    """Read OpenAI `tool_calls` (`{id, type, function: {name, arguments}}`)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RecordError("format.bad_type", f"{where}: expected a list, found {_kind(value)}")
    calls = []
    for i, call in enumerate(value):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise RecordError("format.bad_type", f"{where}[{i}]: expected {{function: {{name, arguments}}}}")
        calls.append(
            ToolCall(
                name=function["name"],
                arguments=_arguments(function.get("arguments")),
                id=_optional_str(call.get("id"), f"{where}[{i}].id"),
            )
        )
    return tuple(calls)


def _sharegpt_call(value: str, where: str) -> ToolCall:
    """Read a ShareGPT `function_call` value: JSON text `{"name": ..., "arguments": ...}`."""
    try:
        call = orjson.loads(value)
    except orjson.JSONDecodeError:
        call = None
    if not isinstance(call, dict) or not isinstance(call.get("name"), str):
        raise RecordError(
            "format.bad_type",
            f"{where}: expected JSON text {{name, arguments}}, found {value[:80]!r}",
        )
    return ToolCall(name=call["name"], arguments=_arguments(call.get("arguments")))


def _tools(value: object) -> tuple[JSON, ...]:
    """Read declared tools: a list, or a JSON string holding one (as ShareGPT exports do)."""
    if isinstance(value, str) and value.strip():
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise RecordError("format.bad_type", "'tools': expected a JSON list of tool schemas") from None
    if value is None or value == "":
        return ()
    if not isinstance(value, list):
        raise RecordError("format.bad_type", f"'tools': expected a list, found {_kind(value)}")
    return tuple(value)


def _source_id(record: Mapping[str, Any]) -> str | None:
    """Return the record's own id, if it has one, as text."""
    value = record.get("id")
    return None if value is None else str(value)
