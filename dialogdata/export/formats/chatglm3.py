"""ChatGLM3 `finetune_demo` records: `conversations` of `role`/`content`, tool turns, `loss`; `tools`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from dialogdata.export.formats.base import (
    Exporter,
    Losses,
    answers,
    arguments_object,
    assistant_calls,
    drop_fields,
)
from dialogdata.schemas import Dialogue, Role, Turn


class ChatGLM3Exporter(Exporter):
    """ChatGLM3: a call and its result are one `{role: tool, name, parameters, observation}` turn.

    Lost: names, tool call ids, loss flags of tool results (ChatGLM3 never trains on an observation);
    arguments text (written as an object); a turn with text and calls becomes a text turn and tool turns,
    one per call; a call with no result gets an empty observation; a result that answers no call becomes
    an observation turn with `loss: false`.
    """

    name = "chatglm3"
    formatting = "sharegpt"
    # LLaMA-Factory reads the plain turns; ChatGLM3's tool turns and list of tools are for its own demo.
    columns: ClassVar[dict[str, str]] = {"messages": "conversations"}
    tags: ClassVar[dict[str, str]] = {
        "role_tag": "role",
        "content_tag": "content",
        "user_tag": "user",
        "assistant_tag": "assistant",
        "observation_tag": "observation",
        "system_tag": "system",
    }

    def _build(self, dialogue: Dialogue, lost: Losses) -> dict[str, Any]:
        """Return `conversations`, and `tools` only if declared (the demo adds a tools prompt for the key)."""
        turns = dialogue.turns
        drop_fields(turns, lost, loss=False)
        called = answers(turns)
        # A result is written inside the tool turn of its call, so it is skipped where it stands.
        results = {j for found in called.values() for j in found if j is not None}
        conversations: list[dict[str, Any]] = []
        for i, turn in enumerate(turns):
            if i in results:
                _result(i, turn, lost)
            else:
                answered = [None if j is None else turns[j] for j in called.get(i, [])]
                conversations += _items(i, turn, answered, lost)
        record: dict[str, Any] = {"conversations": conversations}
        if dialogue.tools:
            record["tools"] = list(dialogue.tools)
        return record


def _items(at: int, turn: Turn, results: Sequence[Turn | None], lost: Losses) -> list[dict[str, Any]]:
    """Return the ChatGLM3 turns of one turn: its text, then one tool turn per call with its result."""
    if turn.role is Role.TOOL:
        return [_orphan(at, turn, lost)]
    calls = assistant_calls(turn, at, lost)
    items = []
    if turn.content or not calls:
        items.append(_with_loss({"role": turn.role.value, "content": turn.content}, turn.loss))
    if calls and items:
        lost.add("export.turn_split", at)
    if len(calls) > 1:
        lost.add("export.multiple_tool_calls", at)
    for call, result in zip(calls, results, strict=True):
        if result is None:
            lost.add("export.unanswered_call", at)
        tool = {
            "role": "tool",
            "name": call.name,
            "parameters": arguments_object(call, at, lost),
            "observation": "" if result is None else result.content,
        }
        items.append(_with_loss(tool, turn.loss))
    return items


def _result(at: int, turn: Turn, lost: Losses) -> None:
    """Note what a tool result loses inside its call's tool turn: its loss flag and any calls it makes."""
    assistant_calls(turn, at, lost)
    if turn.loss is not None:
        lost.add("export.loss_dropped", at)


def _orphan(at: int, turn: Turn, lost: Losses) -> dict[str, Any]:
    """Return a tool result that answers no call as an observation turn, never trained on unless marked."""
    assistant_calls(turn, at, lost)
    if turn.loss is None:
        # The demo trains on every turn but system and user unless told not to.
        lost.add("export.orphan_tool_result", at)
    return {"role": "observation", "content": turn.content, "loss": bool(turn.loss)}


def _with_loss(item: dict[str, Any], loss: bool | None) -> dict[str, Any]:
    """Add the turn's `loss` flag when it has one."""
    if loss is not None:
        item["loss"] = loss
    return item
