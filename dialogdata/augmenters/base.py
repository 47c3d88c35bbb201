"""The augmenter contract: one dialogue in, zero or more out, seeded per dialogue, with lineage."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from dialogdata.errors import UsageError
from dialogdata.schemas import JSON, Dialogue, Lineage, Operation, Turn

if TYPE_CHECKING:
    from dialogdata.validators.coverage import CoverageResult


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

    def observe(self, coverage: CoverageResult) -> None:
        """Learn from the corpus's Coverage result before augmenting (a build calls it; no-op by default)."""

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

    def for_datasets(
        self, format: str = "sharegpt", *, keep_originals: bool = True, lineage: bool = False
    ) -> Callable[[dict[str, list[Any]]], dict[str, list[Any]]]:
        """Return a function for `Dataset.map(fn, batched=True)` over rows in `format`.

        Each row is kept (unless `keep_originals=False`) and followed by its augmented rows, written in
        the same format and shape; columns outside the format are carried over from the parent row.
        `lineage=True` adds `dialogdata_id`, `dialogdata_parent_id` and `dialogdata_operations` columns.
        A row that cannot be read stays as it is, gets no children and is counted in `skipped`.

        >>> ds = ds.map(RoleSwap(seed=1).for_datasets("sharegpt"), batched=True)  # doctest: +SKIP
        """
        from dialogdata.augmenters.datasets_map import batch_function

        return batch_function(self, format, keep_originals=keep_originals, lineage=lineage)

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
