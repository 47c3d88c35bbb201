"""EntitySubstitution: each entity found by the gazetteer becomes another of the same label, everywhere.

Matching is the gazetteer's (longest match first, word boundaries for Latin terms, none needed between
CJK characters), so "高血压病" is never read as "高血压" + "病" and "Anna" never hits "Annapolis".
One mapping per dialogue is applied to every turn and to tool-call arguments, span by span.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar

from dialogdata.augmenters.base import Augmenter
from dialogdata.errors import UsageError
from dialogdata.gazetteers import Gazetteer, load_gazetteer
from dialogdata.schemas import JSON, Dialogue, ToolCall, Turn


class EntitySubstitution(Augmenter):
    """Replace gazetteer entities with others of the same label, one consistent mapping per dialogue.

    `entities` ({label: [terms]} or a file) replaces `gazetteer` (a bundled name: medical, finance,
    default). A dialogue with no entity is skipped and counted in `skipped["no_entities"]`.

    >>> from dialogdata import Dialogue, Turn, Role
    >>> d = Dialogue(turns=(Turn(role=Role.USER, content="高血压病要吃什么药？"),
    ...                     Turn(role=Role.ASSISTANT, content="高血压病请遵医嘱。")))
    >>> sub = EntitySubstitution(entities={"DISEASE": ["高血压病", "糖尿病"]})
    >>> [t.content for t in sub.augment(d)[0].turns]
    ['糖尿病要吃什么药？', '糖尿病请遵医嘱。']
    """

    name: ClassVar[str] = "entities"

    def __init__(
        self,
        *,
        entities: Mapping[str, Sequence[str]] | str | Path | None = None,
        gazetteer: str | Path = "default",
        seed: int = 0,
        p: float = 1.0,
    ) -> None:
        super().__init__(seed=seed, p=p)
        if isinstance(entities, Mapping):
            self.gazetteer = Gazetteer(entities, name="entities")
        else:
            self.gazetteer = load_gazetteer(entities if entities is not None else gazetteer)
        if not len(self.gazetteer):
            raise UsageError(
                "the gazetteer holds no terms; give entities={label: [terms]} or a gazetteer file"
            )
        self.source = str(
            entities if entities is not None and not isinstance(entities, Mapping) else gazetteer
        )

    def params(self) -> dict[str, JSON]:
        """Return p and where the entities came from."""
        return {
            **super().params(),
            "gazetteer": self.source if not isinstance(self.source, dict) else "entities",
        }

    def _augment(self, dialogue: Dialogue, rng: random.Random) -> list[Dialogue]:
        """Build one mapping from every entity in the dialogue, then rewrite every text with it."""
        texts = [t.content for t in dialogue.turns] + [
            c.arguments for t in dialogue.turns for c in t.tool_calls
        ]
        found = sorted({(span.label, span.term) for text in texts for span in self.gazetteer.find(text)})
        mapping: dict[str, str] = {}
        for label, term in found:
            other = self._other(label, term, rng)
            if other is not None:
                mapping[term] = other
        if not mapping:
            self.skipped["no_entities"] += 1
            return []
        turns = tuple(self._turn(turn, mapping) for turn in dialogue.turns)
        return [self.derive(dialogue, turns)]

    def _other(self, label: str, term: str, rng: random.Random) -> str | None:
        """Pick another term of the same label, in the same script when there is one (None: no other)."""
        choices = [t for t in self.gazetteer.terms[label] if t != term]
        same = [t for t in choices if _is_cjk(t) == _is_cjk(term)]
        pool = same or choices
        return rng.choice(pool) if pool else None

    def _turn(self, turn: Turn, mapping: Mapping[str, str]) -> Turn:
        """Rewrite a turn's text and its tool calls' arguments."""
        calls = tuple(
            ToolCall(name=c.name, arguments=self._rewrite(c.arguments, mapping), id=c.id)
            for c in turn.tool_calls
        )
        return Turn(
            role=turn.role,
            content=self._rewrite(turn.content, mapping),
            name=turn.name,
            tool_calls=calls,
            tool_call_id=turn.tool_call_id,
            loss=turn.loss,
            meta=turn.meta,
        )

    def _rewrite(self, text: str, mapping: Mapping[str, str]) -> str:
        """Replace each matched span on its exact boundaries, right to left."""
        for span in reversed(self.gazetteer.find(text)):
            if span.term in mapping:
                text = text[: span.start] + mapping[span.term] + text[span.end :]
        return text


def _is_cjk(term: str) -> bool:
    """Tell Chinese terms from Latin ones, so a replacement reads naturally in its sentence."""
    return any("\u3400" <= ch <= "\u9fff" for ch in term)
