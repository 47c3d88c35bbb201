"""Fine-tuning formats out: a `Dialogue` -> one JSON line the trainer expects."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from dialogdata._io import dumps
from dialogdata.registry import resolve
from dialogdata.schemas import Dialogue, Role, Turn


def to_openai(dialogue: Dialogue) -> dict[str, Any]:
    """Return the OpenAI chat fine-tuning record: `messages` (and `tools` when declared)."""
    record: dict[str, Any] = {"messages": [_openai_message(t) for t in dialogue.turns]}
    if dialogue.tools:
        record["tools"] = list(dialogue.tools)
    return record


def _openai_message(turn: Turn) -> dict[str, Any]:
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
                "id": call.id or f"call_{i}",
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for i, call in enumerate(turn.tool_calls)
        ]
    if turn.tool_call_id is not None:
        message["tool_call_id"] = turn.tool_call_id
    if turn.loss is not None and turn.role is Role.ASSISTANT:
        message["weight"] = int(turn.loss)
    return message


def get_exporter(name: str) -> Callable[[Dialogue], dict[str, Any]]:
    """Return the record builder of format `name` (a `UsageError` lists the known ones)."""
    exporter: Callable[[Dialogue], dict[str, Any]] = resolve("exporter", name)
    return exporter


def write(dialogues: Iterable[Dialogue], path: str | Path, *, format: str = "openai") -> int:
    """Write one fine-tuning JSONL file and return the number of lines written.

    >>> write(read("examples/raw"), "train.jsonl", format="openai")  # doctest: +SKIP
    """
    exporter = get_exporter(format)
    count = 0
    with Path(path).open("wb") as stream:
        for dialogue in dialogues:
            stream.write(dumps(exporter(dialogue)))
            count += 1
    return count
