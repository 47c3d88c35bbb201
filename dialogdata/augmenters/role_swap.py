"""RoleSwap: user and assistant trade places, to train a user simulator."""

from __future__ import annotations

import random
from typing import ClassVar, Literal

from dialogdata.augmenters.base import Augmenter
from dialogdata.schemas import JSON, Dialogue, Role, Turn

_SWAP = {Role.USER: Role.ASSISTANT, Role.ASSISTANT: Role.USER}


class RoleSwap(Augmenter):
    """Swap user and assistant turns.

    Rules: dialogues with tool calls or tool turns are skipped (counted in `skipped["tools"]`),
    since a user simulator never calls tools; the original system prompt, written for the assistant,
    is dropped, or replaced by `system_prompt`; with `trailing="drop"` (the default) a final user
    turn left by the swap is dropped so the output still ends on an assistant turn.

    >>> from dialogdata import Dialogue, Turn, Role
    >>> d = Dialogue(turns=(Turn(role=Role.USER, content="Hi"), Turn(role=Role.ASSISTANT, content="Hello!")))
    >>> [(t.role.value, t.content) for t in RoleSwap(trailing="keep").augment(d)[0].turns]
    [('assistant', 'Hi'), ('user', 'Hello!')]
    """

    name: ClassVar[str] = "role_swap"

    def __init__(
        self,
        *,
        seed: int = 0,
        p: float = 1.0,
        system_prompt: str | None = None,
        trailing: Literal["drop", "keep"] = "drop",
    ) -> None:
        super().__init__(seed=seed, p=p)
        self.system_prompt = system_prompt
        self.trailing = trailing

    def params(self) -> dict[str, JSON]:
        """Return p, the replacement system prompt and the trailing-turn rule."""
        return {**super().params(), "system_prompt": self.system_prompt, "trailing": self.trailing}

    def _augment(self, dialogue: Dialogue, rng: random.Random) -> list[Dialogue]:
        """Swap the roles of one dialogue, or skip it with a counted reason."""
        if any(t.role is Role.TOOL or t.tool_calls for t in dialogue.turns):
            self.skipped["tools"] += 1
            return []
        turns = [_swap(t) for t in dialogue.turns if t.role is not Role.SYSTEM]
        if self.trailing == "drop" and turns and turns[-1].role is Role.USER:
            turns.pop()
        if not any(t.role is Role.ASSISTANT for t in turns) or not any(t.role is Role.USER for t in turns):
            self.skipped["too_short"] += 1
            return []
        if self.system_prompt is not None:
            turns.insert(0, Turn(role=Role.SYSTEM, content=self.system_prompt))
        return [self.derive(dialogue, tuple(turns))]


def _swap(turn: Turn) -> Turn:
    """Return `turn` spoken by the other party, with the per-turn loss flag left for the trainer."""
    return Turn(role=_SWAP[turn.role], content=turn.content, name=turn.name, meta=turn.meta)
