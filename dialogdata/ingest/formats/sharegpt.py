"""ShareGPT records: `conversations` of `from`/`value`, with function calls and observations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import orjson

from dialogdata.ingest.containers import loads_exact
from dialogdata.ingest.formats.base import (
    Format,
    Parsed,
    RecordError,
    arguments_text,
    read_role,
    require_field,
)
from dialogdata.schemas import Role, ToolCall, Turn


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

    def parse(self, record: Mapping[str, Any]) -> Parsed:
        """Read the turns; a top-level `system` text (LLaMA-Factory's system column) opens the dialogue."""
        out = super().parse(record)
        system = record.get("system")
        if system is not None and not (out.turns and out.turns[0].role is Role.SYSTEM):
            text = out.text(system, "system")
            if text:
                out.turns.insert(0, Turn(role=Role.SYSTEM, content=text))
            del out.meta["system"]
        return out

    def claims_turn(self, turn: object) -> bool:
        """ShareGPT turns carry `from` and `value`."""
        return isinstance(turn, dict) and "from" in turn and "value" in turn

    def parse_turn(self, item: Mapping[str, Any], where: str, out: Parsed) -> Turn:
        """Read speaker and value; a `function_call` value becomes the turn's tool call."""
        role = read_role(item, "from", self.roles, where)
        value = out.text(require_field(item, "value", where), where, "value")
        if item["from"] == "function_call":
            return Turn(role=role, tool_calls=(_sharegpt_call(value, f"{where}.value"),))
        return Turn(role=role, content=value)


def _sharegpt_call(value: str, where: str) -> ToolCall:
    """Read a ShareGPT `function_call` value: JSON text `{"name": ..., "arguments": ...}`."""
    try:
        call = loads_exact(value)
    except orjson.JSONDecodeError:
        call = None
    if not isinstance(call, dict) or not isinstance(call.get("name"), str):
        raise RecordError(
            "format.bad_type",
            f"{where}: expected JSON text {{name, arguments}}, found {value[:80]!r}",
        )
    return ToolCall(name=call["name"], arguments=arguments_text(call.get("arguments")))
