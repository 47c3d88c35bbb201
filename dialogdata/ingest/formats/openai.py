"""OpenAI chat fine-tuning records: `messages` of `role`/`content`, `tool_calls`, `tools`, `weight`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from dialogdata.ingest.formats.base import (
    Format,
    Parsed,
    RecordError,
    arguments_text,
    kind,
    optional_str,
    read_role,
    require_field,
)
from dialogdata.schemas import Role, ToolCall, Turn


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
        role = read_role(item, "role", self.roles, where)
        # Only an assistant turn may leave out its content (it may only call tools), as OpenAI documents.
        content = item.get("content") if role is Role.ASSISTANT else require_field(item, "content", where)
        if type(content) is list:
            content = _content_text(content, f"{where}.content")
        weight, name, calls, call_id = (item.get(k) for k in ("weight", "name", "tool_calls", "tool_call_id"))
        # Names of fields in messages are built only when a field is present and may be wrong.
        return Turn(
            role=role,
            content=out.text(content, where, "content"),
            name=None if name is None else optional_str(name, f"{where}.name"),
            tool_calls=() if calls is None else _openai_tool_calls(calls, f"{where}.tool_calls"),
            tool_call_id=None if call_id is None else optional_str(call_id, f"{where}.tool_call_id"),
            loss=None if weight is None else bool(weight),
        )


def _content_text(value: object, where: str) -> object:
    """Join OpenAI content parts of type `text`; anything else is passed on to be type-checked."""
    if not isinstance(value, list):
        return value
    texts = []
    for part in value:
        if not (isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)):
            found = part.get("type") if isinstance(part, dict) else kind(part)
            raise RecordError(
                "format.bad_type", f"{where}: expected text parts, found a part of type {found!r}"
            )
        texts.append(part["text"])
    return "\n".join(texts)


def _openai_tool_calls(value: object, where: str) -> tuple[ToolCall, ...]:
    """Read OpenAI `tool_calls` (`{id, type, function: {name, arguments}}`)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RecordError("format.bad_type", f"{where}: expected a list, found {kind(value)}")
    calls = []
    for i, call in enumerate(value):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise RecordError("format.bad_type", f"{where}[{i}]: expected {{function: {{name, arguments}}}}")
        calls.append(
            ToolCall(
                name=function["name"],
                arguments=arguments_text(function.get("arguments")),
                id=optional_str(call.get("id"), f"{where}[{i}].id"),
            )
        )
    return tuple(calls)
