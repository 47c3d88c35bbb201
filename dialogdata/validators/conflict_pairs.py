"""Verify candidate pairs with rapidfuzz, sort them into near duplicates and contradictions, cluster them.

Similarities are rapidfuzz's normalised Indel similarity (`fuzz.ratio` / 100) of the canonical texts:
of the contexts (every turn before the final assistant answer), of the final answers, and of the whole
dialogues (context, newline, answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
from rapidfuzz import process
from rapidfuzz.distance import Indel

from dialogdata.validators.conflict_rows import Table
from dialogdata.validators.minhash import I64, unique_pairs

F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]
_BLOCK = 8192


class _Texts(Protocol):
    """Texts by row: a mapping, or texts built on demand."""

    def __getitem__(self, row: int, /) -> str: ...


@dataclass(frozen=True, slots=True)
class Verified:
    """Candidate pairs `(i, j)` with their similarities, one entry per pair."""

    pairs: I64
    context: F64
    answer: F64
    whole: F64
    answered: Mask

    def select(self, mask: Mask) -> Verified:
        """Return the pairs where `mask` holds."""
        return Verified(
            self.pairs[mask], self.context[mask], self.answer[mask], self.whole[mask], self.answered[mask]
        )


@dataclass(frozen=True, slots=True)
class Candidates:
    """Candidate pairs `(i, j)`, `i < j`, proposed by the prompt sketches and by the whole-dialogue ones."""

    by_prompt: I64
    by_whole: I64

    def merged(self) -> tuple[I64, Mask, Mask]:
        """Return every distinct pair, and whether each came from the prompt and from the whole sketches."""
        pairs = unique_pairs(np.concatenate([self.by_prompt, self.by_whole]))
        size = int(pairs.max()) + 1 if len(pairs) else 1
        codes = pairs[:, 0] * size + pairs[:, 1]

        def member(found: I64) -> Mask:
            return np.isin(codes, found[:, 0] * size + found[:, 1])

        return pairs, member(self.by_prompt), member(self.by_whole)

    def __len__(self) -> int:
        return len(self.by_prompt) + len(self.by_whole)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a verified pair is a near duplicate or a contradiction."""

    near: float
    prompt: float
    answer: float


def verify(table: Table, candidates: Candidates, limits: Thresholds, *, workers: int = 1) -> Verified:
    """Measure each candidate pair: as prompts when the prompt sketches met, as wholes when those did.

    A score under the threshold it is tested against is 0 (rapidfuzz stops early then), as is a score
    that was not measured; answers are compared only where the contexts match.
    """
    pairs, by_prompt, by_whole = candidates.merged()
    first, second = pairs[:, 0], pairs[:, 1]
    texts = _Gathered(table, pairs)
    floor = min(limits.near, limits.prompt)
    context, whole = np.zeros(len(pairs)), np.zeros(len(pairs))
    asked = np.flatnonzero(by_prompt)
    context[asked] = _similarities(texts.context, first[asked], second[asked], floor, workers)
    asked = np.flatnonzero(by_whole)
    whole[asked] = _similarities(texts, first[asked], second[asked], limits.near, workers)
    lengths = table.answer.lengths()
    answered = (lengths[first] > 0) & (lengths[second] > 0)
    answer = np.zeros(len(pairs))
    asked = np.flatnonzero(answered & (context >= floor))
    answer[asked] = _similarities(texts.answer, first[asked], second[asked], 0.0, workers)
    return Verified(pairs, context, answer, whole, answered)


def exact(table: Table, verified: Verified, *, workers: int = 1) -> Verified:
    """Return `verified` with every similarity measured in full (for messages), not cut off."""
    first, second = verified.pairs[:, 0], verified.pairs[:, 1]
    texts = _Gathered(table, verified.pairs)
    return Verified(
        verified.pairs,
        _similarities(texts.context, first, second, 0.0, workers),
        _similarities(texts.answer, first, second, 0.0, workers),
        _similarities(texts, first, second, 0.0, workers),
        verified.answered,
    )


class _Gathered:
    """The texts of the rows in `pairs` only, decoded once; indexing it gives the whole dialogue."""

    def __init__(self, table: Table, pairs: I64) -> None:
        rows = np.unique(pairs).tolist()
        self.context = table.context.take(rows)
        self.answer = table.answer.take(rows)

    def __getitem__(self, row: int) -> str:
        context, answer = self.context[row], self.answer[row]
        return f"{context}\n{answer}" if answer else context


def _similarities(texts: _Texts, first: I64, second: I64, cutoff: float, workers: int) -> F64:
    """Return the normalised Indel similarity of each pair of texts, 0 where it is under `cutoff`."""
    out = np.zeros(len(first))
    # In blocks, so that texts built on demand never all live at once.
    for start in range(0, len(first), _BLOCK):
        left = [texts[i] for i in first[start : start + _BLOCK].tolist()]
        right = [texts[j] for j in second[start : start + _BLOCK].tolist()]
        scores = process.cpdist(
            left, right, scorer=Indel.normalized_similarity, score_cutoff=cutoff, workers=workers
        )
        out[start : start + len(left)] = scores
    return out


def classify(table: Table, verified: Verified, limits: Thresholds) -> tuple[Verified, Verified]:
    """Split verified pairs into (near duplicates, contradictions); relatives are neither.

    A contradiction: both end on an answer, the contexts are at least `prompt` similar and the answers
    less than `answer` similar. A near duplicate (unless it is a contradiction): the whole dialogues are at
    least `near` similar, or the contexts are and the answers do not diverge. Relatives (one lineage root)
    are never paired, nor is an adversarial sample paired with a dialogue of another (or no) kind as a
    near duplicate: an adversarial sample is meant to be a perturbed copy.
    """
    first, second = verified.pairs[:, 0].tolist(), verified.pairs[:, 1].tolist()
    roots, kinds = table.roots, table.kinds
    strangers = np.fromiter(
        (roots[i] != roots[j] for i, j in zip(first, second, strict=True)), bool, len(first)
    )
    same_kind = np.fromiter(
        (kinds[i] == kinds[j] for i, j in zip(first, second, strict=True)), bool, len(first)
    )
    prompt_match = verified.context >= limits.prompt
    contradiction = strangers & verified.answered & prompt_match & (verified.answer < limits.answer)
    same_question = verified.answered & (verified.context >= limits.near) & (verified.answer >= limits.answer)
    near = strangers & same_kind & ~contradiction & ((verified.whole >= limits.near) | same_question)
    return verified.select(near), verified.select(contradiction)


def stars(n_rows: int, near: Verified) -> I64:
    """Return, per row, its representative: itself, or the most similar earlier representative it matches.

    Rows are taken in order; a row becomes a duplicate only of a row verified similar to it directly
    that is itself a representative, so clusters never drift along a chain of near duplicates.
    """
    earlier: dict[int, list[tuple[float, int]]] = {}
    for (a, b), similarity in zip(near.pairs.tolist(), near.whole.tolist(), strict=True):
        earlier.setdefault(b, []).append((-similarity, a))
    representative = np.arange(n_rows, dtype=np.int64)
    for row in sorted(earlier):
        for _, other in sorted(earlier[row]):
            if representative[other] == other:
                representative[row] = other
                break
    return representative


def components(n_rows: int, pairs: I64) -> I64:
    """Return, per row, the smallest row of its connected component under `pairs` (union-find)."""
    parent = list(range(n_rows))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs.tolist():
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.fromiter((find(x) for x in range(n_rows)), np.int64, count=n_rows)
