"""ShareGPT records as LLaMA-Factory reads them: `conversations` of `from`/`value`, `tools` as JSON text."""

from __future__ import annotations

from typing import Any, ClassVar

from dialogdata.export.formats.base import (
    Exporter,
    Losses,
    arguments_object,
    assistant_calls,
    drop_fields,
    json_text,
)
from dialogdata.schemas import Dialogue, Role, Turn

SPEAKERS = {Role.SYSTEM: "system", Role.USER: "human", Role.ASSISTANT: "gpt", Role.TOOL: "observation"}
# LLaMA-Factory reads turns in pairs after an optional first system turn: a prompt, then a reply.
PROMPTS = ("human", "observation")
REPLIES = ("gpt", "function_call")


class ShareGPTExporter(Exporter):
    """ShareGPT (LLaMA-Factory flavour): human, gpt, function_call (JSON `{name, arguments}`), observation.

    The system prompt is the first turn (`from: system`), which LLaMA-Factory and dialogdata both read.
    Lost: names, loss flags, tool call ids; arguments text (written as an object); a turn with text and
    calls becomes two. LLaMA-Factory skips records whose turns do not alternate or that end on a prompt.
    """

    name = "sharegpt"
    formatting = "sharegpt"
    columns: ClassVar[dict[str, str]] = {"messages": "conversations", "tools": "tools"}
    tags: ClassVar[dict[str, str]] = {
        "role_tag": "from",
        "content_tag": "value",
        "user_tag": "human",
        "assistant_tag": "gpt",
        "observation_tag": "observation",
        "function_tag": "function_call",
        "system_tag": "system",
    }

    def _build(self, dialogue: Dialogue, lost: Losses) -> dict[str, Any]:
        """Return `conversations` and `tools` (`""` when none, so every line has the mapped column)."""
        drop_fields(dialogue.turns, lost, loss=True)
        conversations = [item for i, turn in enumerate(dialogue.turns) for item in _items(i, turn, lost)]
        _check_pairs([item["from"] for item in conversations], lost)
        return {
            "conversations": conversations,
            "tools": json_text(list(dialogue.tools)) if dialogue.tools else "",
        }


def _items(at: int, turn: Turn, lost: Losses) -> list[dict[str, str]]:
    """Return the ShareGPT turns of one turn: its text, then its calls as one `function_call`."""
    calls = assistant_calls(turn, at, lost)
    items = []
    if turn.content or not calls:
        items.append({"from": SPEAKERS[turn.role], "value": turn.content})
    if calls:
        if items:
            lost.add("export.turn_split", at)
        value = [{"name": call.name, "arguments": arguments_object(call, at, lost)} for call in calls]
        if len(value) > 1:
            # LLaMA-Factory reads a list as parallel calls; one object is the common, single-call form.
            lost.add("export.multiple_tool_calls", at)
        items.append({"from": "function_call", "value": json_text(value if len(value) > 1 else value[0])})
    return items


def _check_pairs(speakers: list[str], lost: Losses) -> None:
    """Note what makes LLaMA-Factory skip the record: turns out of pairs, or no reply at the end."""
    body = speakers[1:] if speakers[:1] == ["system"] else speakers
    if any(speaker not in (PROMPTS, REPLIES)[k % 2] for k, speaker in enumerate(body)):
        lost.add("export.not_alternating")
    if not body or body[-1] not in REPLIES:
        lost.add("export.ends_without_reply")
