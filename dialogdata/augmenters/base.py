"""The augmenter contract: one dialogue in, zero or more out, seeded per dialogue, with lineage."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import ClassVar

from dialogdata.errors import UsageError
from dialogdata.schemas import JSON, Dialogue, Lineage, Operation, Turn


class Augmenter:
    """Base of the augmenters; a subclass names itself and fills `_augment`."""

    name: ClassVar[str]

    def __init__(self, *, seed: int = 0, p: float = 1.0) -> None:
        if not 0.0 <= p <= 1.0:
            raise UsageError(f"p must be between 0 and 1; found {p}")
        self.seed = seed
        self.p = p
        self.skipped: Counter[str] = Counter()

    def params(self) -> dict[str, JSON]:
        """Return the options that shape the output, recorded in each output's lineage."""
        return {"p": self.p}

    def rng(self, dialogue: Dialogue) -> random.Random:
        """Return the RNG of `dialogue`: seeded by (seed, operation, dialogue id), so order never matters."""
        key = f"{self.seed}\x1f{self.name}\x1f{dialogue.id}".encode()
        return random.Random(int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big"))

    def augment(self, dialogue: Dialogue) -> list[Dialogue]:
        """Return the dialogues derived from `dialogue` (possibly none); the input is never changed."""
        rng = self.rng(dialogue)
        if rng.random() >= self.p:
            self.skipped["p"] += 1
            return []
        return self._augment(dialogue, rng)

    def __call__(self, dialogues: Iterable[Dialogue]) -> Iterator[Dialogue]:
        """Yield the outputs for every dialogue, as a pipeline step."""
        for dialogue in dialogues:
            yield from self.augment(dialogue)

    def _augment(self, dialogue: Dialogue, rng: random.Random) -> list[Dialogue]:
        """Derive the outputs of one dialogue."""
        raise NotImplementedError

    def derive(self, parent: Dialogue, turns: tuple[Turn, ...], **changes: JSON) -> Dialogue:
        """Return a child of `parent` with new turns, its own id, no scores, and lineage."""
        before = parent.lineage.operations if parent.lineage else ()
        root = parent.lineage.root_id if parent.lineage else parent.id
        operation = Operation(name=self.name, params=self.params(), seed=self.seed)
        lineage = Lineage(parent_id=parent.id, root_id=root, operations=(*before, operation))
        return parent.evolve(turns=turns, lineage=lineage, scores={}, **changes)
