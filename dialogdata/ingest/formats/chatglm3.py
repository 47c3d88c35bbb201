"""ChatGLM3 fine-tuning records: `conversations` of `role`/`content`, tool turns, `tools`, `loss`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from dialogdata.ingest.formats.base import (
    Format,
    Parsed,
    RecordError,
    arguments_text,
    kind,
    read_role,
    read_tools,
    require_field,
)
from dialogdata.schemas import Role, ToolCall, Turn


class ChatGLM3(Format):
    """ChatGLM3 `finetune_demo` records: `conversations` of `role`/`content`, with tool turns and `loss`."""

    name = "chatglm3"
    turns_key = "conversations"
    roles: ClassVar[dict[str, Role]] = {
        "system": Role.SYSTEM,
        "user": Role.USER,
        "assistant": Role.ASSISTANT,
        "observation": Role.TOOL,
        "tool": Role.TOOL,
    }

    def claims_turn(self, turn: object) -> bool:
        """ChatGLM3 turns carry `role` and `content` (ShareGPT's carry `from`/`value`)."""
        return isinstance(turn, dict) and "role" in turn and "content" in turn

    def parse(self, record: Mapping[str, Any]) -> Parsed:
        """Read the record as the base does, then add the tools a system turn declares."""
        out = super().parse(record)
        for position, item in enumerate(record[self.turns_key]):
            if str(item.get("role")).strip().lower() == "system":
                tools = read_tools(item.get("tools"), f"{self.turns_key}[{position}].tools")
                out.tools += tuple(t for t in tools if t not in out.tools)
        return out

    def parse_turn(self, item: Mapping[str, Any], where: str, out: Parsed) -> Turn:
        """Read role, content and `loss`; a `tool` turn holding a call and its result becomes two turns."""
        role = read_role(item, "role", self.roles, where)
        loss = _loss(item.get("loss"), f"{where}.loss")
        if role is Role.TOOL and ("parameters" in item or "observation" in item):
            # finetune_demo writes `{role: tool, name, parameters, observation}` and its preprocessing splits
            # it into an assistant call and an observation: the call is added here, the result returned.
            out.turns.append(Turn(role=Role.ASSISTANT, tool_calls=(_call(item, where),), loss=loss))
            observation = arguments_text(item.get("observation"))
            return Turn(role=Role.TOOL, content=out.text(observation, f"{where}.observation"))
        content = require_field(item, "content", where)
        return Turn(role=role, content=out.text(content, f"{where}.content"), loss=loss)


def _call(item: Mapping[str, Any], where: str) -> ToolCall:
    """Read the call of a `tool` turn: its `name` and `parameters` (kept as JSON text)."""
    name = item.get("name")
    if name is None:
        raise RecordError("format.missing_field", f"{where}: expected the 'name' of the tool called")
    if not isinstance(name, str):
        raise RecordError("format.bad_type", f"{where}.name: expected text, found {kind(name)}")
    return ToolCall(name=name, arguments=arguments_text(item.get("parameters")))


def _loss(value: object, where: str) -> bool | None:
    """Read a turn's `loss` flag: a boolean, or absent."""
    if value is None or isinstance(value, bool):
        return value
    raise RecordError("format.bad_type", f"{where}: expected a boolean, found {kind(value)}")
