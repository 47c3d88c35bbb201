"""Alpaca records as LLaMA-Factory reads them: `instruction`, `input`, `output`, `system`, `history`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, NamedTuple

from dialogdata.export.formats.base import UNREPRESENTABLE, Exporter, Losses, drop_fields
from dialogdata.schemas import Dialogue, Role, Turn


class _Said(NamedTuple):
    """What one speaker said, from turn `at` on (consecutive turns of one speaker are joined)."""

    role: Role
    text: str
    at: int


class AlpacaExporter(Exporter):
    """Alpaca: the last user turn is `instruction`, its answer `output`, earlier pairs `history`.

    It carries one leading system prompt and user/assistant pairs, nothing else: tools, tool calls and
    results, names, ids and loss flags are dropped; turns of one speaker in a row are joined; a leading
    assistant turn and a trailing user turn are dropped. With no user turn answered by an assistant turn
    the dialogue is `export.unrepresentable` (the record is then empty). `input` is always empty.
    """

    name = "alpaca"
    formatting = "alpaca"
    columns: ClassVar[dict[str, str]] = {
        "prompt": "instruction",
        "query": "input",
        "response": "output",
        "system": "system",
        "history": "history",
    }

    def _build(self, dialogue: Dialogue, lost: Losses) -> dict[str, Any]:
        """Return every column on every line, so a dataset loader sees one schema."""
        if dialogue.tools:
            lost.add("export.tools_dropped")
        drop_fields(dialogue.turns, lost, loss=True)
        system = _system(dialogue.turns, lost)
        pairs = _pairs(_spoken(dialogue.turns, lost), lost)
        if not pairs:
            lost.add(UNREPRESENTABLE)
            pairs = [("", "")]
        *history, (instruction, output) = pairs
        return {
            "instruction": instruction,
            "input": "",
            "output": output,
            "system": system,
            "history": [[user, assistant] for user, assistant in history],
        }


def _system(turns: Sequence[Turn], lost: Losses) -> str:
    """Return the system prompt: the first turn's, when it is a non-empty system turn."""
    for i, turn in enumerate(turns):
        if turn.role is Role.SYSTEM and (i > 0 or not turn.content):
            lost.add("export.system_dropped", i)
    return turns[0].content if turns and turns[0].role is Role.SYSTEM else ""


def _spoken(turns: Sequence[Turn], lost: Losses) -> list[_Said]:
    """Return the user and assistant texts in order, joining turns of one speaker in a row."""
    said: list[_Said] = []
    for i, turn in enumerate(turns):
        if turn.tool_calls:
            lost.add("export.tool_calls_dropped", i)
        if turn.role is Role.TOOL:
            lost.add("export.tool_turns_dropped", i)
        # A turn that only calls tools says nothing once its calls are dropped.
        if turn.role not in (Role.USER, Role.ASSISTANT) or (turn.tool_calls and not turn.content):
            continue
        if said and said[-1].role is turn.role:
            lost.add("export.turns_joined", i)
            text = "\n".join(t for t in (said[-1].text, turn.content) if t)
            said[-1] = said[-1]._replace(text=text)
        else:
            said.append(_Said(turn.role, turn.content, i))
    return said


def _pairs(said: list[_Said], lost: Losses) -> list[tuple[str, str]]:
    """Return (user, assistant) pairs, dropping a leading reply and a trailing prompt."""
    if said and said[0].role is Role.ASSISTANT:
        lost.add("export.starts_with_assistant", said[0].at)
        said = said[1:]
    if said and said[-1].role is Role.USER:
        lost.add("export.ends_with_user", said[-1].at)
        said = said[:-1]
    # Joined turns alternate, so what is left is user, assistant, user, assistant, ...
    return [(said[k].text, said[k + 1].text) for k in range(0, len(said), 2)]
