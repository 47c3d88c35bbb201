"""OpenAI chat fine-tuning records: `messages` with `tool_calls`, `tool_call_id`, `weight`; `tools`."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from dialogdata.export.formats.base import Exporter, Losses, answers
from dialogdata.schemas import Dialogue, Role, Turn

IDS_ADDED = "export.tool_call_ids_added"


class OpenAIExporter(Exporter):
    """OpenAI's format carries every turn field; it adds call ids it requires and keeps `loss` as `weight`.

    Lost: `loss` on turns that are not the assistant's (OpenAI weighs assistant turns only).
    """

    name = "openai"
    formatting = "sharegpt"
    columns: ClassVar[dict[str, str]] = {"messages": "messages"}
    tags: ClassVar[dict[str, str]] = {
        "role_tag": "role",
        "content_tag": "content",
        "user_tag": "user",
        "assistant_tag": "assistant",
        "system_tag": "system",
    }

    def _build(self, dialogue: Dialogue, lost: Losses) -> dict[str, Any]:
        """Return `messages` (and `tools` when declared)."""
        call_ids, result_ids = _ids(dialogue.turns, lost)
        messages = [
            _message(i, turn, call_ids, result_ids.get(i), lost) for i, turn in enumerate(dialogue.turns)
        ]
        record: dict[str, Any] = {"messages": messages}
        if dialogue.tools:
            record["tools"] = list(dialogue.tools)
        return record


def _message(
    at: int, turn: Turn, call_ids: dict[tuple[int, int], str], result_id: str | None, lost: Losses
) -> dict[str, Any]:
    """Return one OpenAI message; `loss` on an assistant turn becomes OpenAI's `weight`."""
    message: dict[str, Any] = {"role": turn.role.value}
    # A tool-calling turn with no text carries no `content`, as OpenAI's own fine-tuning examples do.
    if turn.content or not turn.tool_calls:
        message["content"] = turn.content
    if turn.name is not None:
        message["name"] = turn.name
    if turn.tool_calls:
        message["tool_calls"] = [
            {
                "id": call_ids[(at, k)] if call.id is None else call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for k, call in enumerate(turn.tool_calls)
        ]
    tool_call_id = result_id if turn.tool_call_id is None else turn.tool_call_id
    if tool_call_id is not None:
        message["tool_call_id"] = tool_call_id
    if turn.loss is not None:
        if turn.role is Role.ASSISTANT:
            message["weight"] = int(turn.loss)
        else:
            lost.add("export.loss_dropped", at)
    return message


def _ids(turns: Sequence[Turn], lost: Losses) -> tuple[dict[tuple[int, int], str], dict[int, str]]:
    """Return ids for calls that have none, by (turn, call), and for tool results that name no call."""
    fresh = _fresh_ids(turns)
    call_ids: dict[tuple[int, int], str] = {}
    for i, turn in enumerate(turns):
        for k, call in enumerate(turn.tool_calls):
            if call.id is None:
                call_ids[(i, k)] = next(fresh)
                lost.add(IDS_ADDED, i)
    result_ids: dict[int, str] = {}
    for i, results in answers(turns).items():
        for k, j in enumerate(results):
            if j is not None and turns[j].tool_call_id is None:
                called = turns[i].tool_calls[k].id
                result_ids[j] = call_ids[(i, k)] if called is None else called
                lost.add(IDS_ADDED, j)
    return call_ids, result_ids


def _fresh_ids(turns: Sequence[Turn]) -> Iterator[str]:
    """Yield `call_1`, `call_2`, ... skipping ids the dialogue already uses, so no two calls share one."""
    taken = {call.id for turn in turns for call in turn.tool_calls} | {turn.tool_call_id for turn in turns}
    return (name for name in (f"call_{n}" for n in itertools.count(1)) if name not in taken)
