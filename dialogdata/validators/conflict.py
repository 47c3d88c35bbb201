"""Conflict (corpus): duplicates, near duplicates, contradictions, reused answers, prefixes, adversarial mix.

Feed every dialogue to `Conflict.add` (shards merge with `+`), then call `finish` once.

- Canonical form of a text: NFC, whitespace runs collapsed to one space, trimmed, case-folded
  (`str.casefold` changes cased scripts only; Chinese is untouched). Of a dialogue: its roles,
  canonical contents and tool calls. A dialogue's *context* is every turn before its final assistant
  answer (all of it when it does not end on one); its *answer* is that final turn.
- `conflict.duplicate`: the same canonical form as an earlier dialogue with another id.
- `conflict.contradiction`: contexts at least `contradiction_prompt` similar, final answers less
  than `contradiction_answer` similar. Reported on both sides; a contradiction is never merged as a
  near duplicate, so a filter cannot silently keep one of two conflicting answers.
- `conflict.near_duplicate`: not a contradiction, and the whole dialogues are at least
  `near_threshold` similar, or the contexts are and the answers do not diverge (the same question
  with a compatible answer). Similarity is rapidfuzz's `ratio` / 100 on canonical text.
- `conflict.reused_answer`: an assistant turn whose canonical text recurs under at least
  `reused_answer_min` distinct contexts. `conflict.prefix`: the dialogue's turns are the first turns of
  a longer dialogue. `conflict.adversarial_share` (in `ConflictResult.corpus`): the share of dialogues
  tagged `adversarial` lies outside `adversarial_band`.
- Search is never all-pairs: character n-grams of the context and of the whole dialogue are sketched
  (one-permutation MinHash, see `minhash`), rows sharing an LSH band become candidates, and rapidfuzz
  verifies each (see `conflict_pairs`). With the defaults (128 bins; 10 bands of 12 for contexts,
  8 of 16 for whole dialogues) a context pair with a 5-gram Jaccard of 0.9 is proposed with
  probability 0.96 (0.5 at 0.8), a whole-dialogue pair 0.99 at 0.95 (0.8 at 0.9): local edits are
  found; text reworded all through may not be. More bands (fewer rows each) find more, slower.
- Rows are ordered by source (path, line, index), then id; sourceless dialogues come last, by id.
  Representatives are chosen in that order, never by arrival, so the result does not depend on how
  dialogues were ordered or split between shards. A near duplicate points at the first earlier
  representative it is directly similar to (no chaining: A~B~C does not make C a duplicate of A).
  `add` takes no key: order comes from `dialogue.source`.
- Results are keyed by dialogue id. Copies that share an id (byte-identical dialogues) cannot be told
  apart by id: they share their issues, and an id is never reported as a duplicate of itself.
  Relatives (one lineage root) are never paired; an adversarial sample is not a near duplicate of
  a dialogue of another (or no) adversarial kind, since it is a perturbed copy on purpose.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, ClassVar

import msgspec
import numpy as np

from dialogdata.errors import UsageError
from dialogdata.schemas import Dialogue
from dialogdata.validators.conflict_pairs import (
    Candidates,
    Thresholds,
    Verified,
    classify,
    components,
    exact,
    stars,
    verify,
)
from dialogdata.validators.conflict_rows import Chunk, Table, to_table
from dialogdata.validators.issues import Issue
from dialogdata.validators.minhash import (
    I64,
    U16,
    band_pairs,
    densify,
    hash_ngrams,
    is_empty,
    sketch,
)

DUPLICATE = "conflict.duplicate"
NEAR_DUPLICATE = "conflict.near_duplicate"
CONTRADICTION = "conflict.contradiction"
REUSED_ANSWER = "conflict.reused_answer"
PREFIX = "conflict.prefix"
ADVERSARIAL_SHARE = "conflict.adversarial_share"

CODES: dict[str, str] = {
    DUPLICATE: "an exact duplicate of another dialogue once texts are NFC, whitespace-collapsed, case-folded",
    NEAR_DUPLICATE: (
        "a near duplicate of its cluster's representative: the whole dialogue is similar, or the prompt "
        "is and the final answer does not diverge"
    ),
    CONTRADICTION: "a near-identical prompt (context before the final answer) whose final answer diverges",
    REUSED_ANSWER: "an assistant answer reused word for word across many distinct prompts",
    PREFIX: "the dialogue is the first turns of a longer dialogue in the corpus",
    ADVERSARIAL_SHARE: "the corpus's share of adversarial samples lies outside the target band",
}
"""Every issue code this validator reports, with its meaning (for the table in `dialogdata.codes`)."""

_BATCH = 512


class ConflictResult(msgspec.Struct, frozen=True, kw_only=True):
    """What `Conflict.finish` found; every mapping is keyed by dialogue id.

    `duplicate_of` maps each exact or near duplicate to its representative (always a root: never itself
    a key). `group_of` maps every dialogue linked to another (duplicate, near duplicate or
    contradiction) to its group's first dialogue, so grouped splits keep them together. `pairs` lists
    the verified near-duplicate and contradiction pairs; `corpus` holds corpus-level issues.
    """

    duplicate_of: dict[str, str]
    group_of: dict[str, str]
    issues: dict[str, list[Issue]]
    corpus: list[Issue]
    pairs: dict[str, list[tuple[str, str]]]
    metrics: dict[str, Any]


class Conflict:
    """Find duplicates and conflicts across a corpus, streaming, in mergeable partial states.

    >>> from dialogdata import Dialogue, Turn, Role
    >>> def chat(q, a):
    ...     return Dialogue(turns=(Turn(role=Role.USER, content=q), Turn(role=Role.ASSISTANT, content=a)))
    >>> first, copy, other = chat("2+2?", "4"), chat(" 2 + 2? ", "4"), chat("2+2?", "Five, I think.")
    >>> conflict = Conflict()
    >>> for dialogue in (first, copy, other):
    ...     conflict.add(dialogue)
    >>> result = conflict.finish()
    >>> len(result.duplicate_of), [issue.code for issue in result.issues[other.id]]
    (1, ['conflict.contradiction'])
    """

    name: ClassVar[str] = "conflict"
    codes: ClassVar[tuple[str, ...]] = tuple(CODES)

    def __init__(
        self,
        *,
        near_threshold: float = 0.95,
        contradiction_prompt: float = 0.95,
        contradiction_answer: float = 0.5,
        reused_answer_min: int = 5,
        adversarial_band: tuple[float, float] = (0.0, 1.0),
        num_perm: int = 128,
        bands: int = 10,
        whole_bands: int = 8,
        ngram: int = 5,
        window: int = 64,
        seed: int = 0,
        workers: int = 1,
    ) -> None:
        for label, value in (
            ("near_threshold", near_threshold),
            ("contradiction_prompt", contradiction_prompt),
            ("contradiction_answer", contradiction_answer),
        ):
            _share(label, value)
        low, high = _band(adversarial_band)
        _integer("reused_answer_min", reused_answer_min, 2)
        _integer("num_perm", num_perm, 1, 4096)
        _integer("bands", bands, 1, num_perm)
        _integer("whole_bands", whole_bands, 1, num_perm)
        _integer("ngram", ngram, 1, 32)
        _integer("window", window, 1)
        _integer("seed", seed, -(2**63), 2**63 - 1)
        if workers != -1:
            _integer("workers", workers, 1)
        self.near_threshold = float(near_threshold)
        self.contradiction_prompt = float(contradiction_prompt)
        self.contradiction_answer = float(contradiction_answer)
        self.reused_answer_min = reused_answer_min
        self.adversarial_band = (low, high)
        self.num_perm, self.bands, self.whole_bands = num_perm, bands, whole_bands
        self.ngram, self.window = ngram, window
        self.seed, self.workers = seed, workers
        self._chunks: list[Chunk] = []
        self._pending = Chunk()

    def params(self) -> dict[str, Any]:
        """Return the options, as given to the constructor."""
        return {
            "near_threshold": self.near_threshold,
            "contradiction_prompt": self.contradiction_prompt,
            "contradiction_answer": self.contradiction_answer,
            "reused_answer_min": self.reused_answer_min,
            "adversarial_band": self.adversarial_band,
            "num_perm": self.num_perm,
            "bands": self.bands,
            "whole_bands": self.whole_bands,
            "ngram": self.ngram,
            "window": self.window,
            "seed": self.seed,
            "workers": self.workers,
        }

    def __len__(self) -> int:
        """Return the number of dialogues added so far."""
        return sum(len(chunk) for chunk in self._chunks) + len(self._pending)

    def add(self, dialogue: Dialogue) -> None:
        """Record one dialogue: its hashes, its canonical context and answer, its sketches."""
        self._pending.add(dialogue)
        if len(self._pending) >= _BATCH:
            self._flush()

    def __add__(self, other: Conflict) -> Conflict:
        """Return the merged state of two shards; neither operand changes (beyond sketching its batch)."""
        if not isinstance(other, Conflict):
            return NotImplemented
        if other.params() != self.params():
            raise UsageError(
                f"cannot merge Conflict states with different options: {self.params()} and {other.params()}"
            )
        self._flush()
        other._flush()
        merged = type(self)(**self.params())
        merged._chunks = [*self._chunks, *other._chunks]
        return merged

    def __radd__(self, other: object) -> Conflict:
        """Let `sum(shards)` start from 0."""
        if other == 0:
            return self
        return NotImplemented

    def finish(self) -> ConflictResult:
        """Search the whole corpus and return duplicates, issues and metrics."""
        self._flush()
        table = to_table(self._chunks, self.num_perm)
        return _Report(self, table).result()

    def shard(self) -> Conflict:
        """Return an empty validator with the same options, to fill elsewhere and add back with `+`."""
        return type(self)(**self.params())

    def seal(self) -> None:
        """Sketch the dialogues added since the last batch, so that the process that added them does it."""
        self._flush()

    def clear(self) -> None:
        """Forget every dialogue added (the options stay): a finished run releases its rows this way."""
        self._chunks, self._pending = [], Chunk()

    # The seams the benchmark replaces to run datasketch on the same rows and the same verification.

    def _sketch_batch(self, context: list[str], answer: list[str]) -> tuple[U16, U16]:
        """Return the raw sketches of a batch: of each context, and of each whole dialogue."""
        n = len(context)
        grams, rows = hash_ngrams(context, n=self.ngram, seed=self.seed)
        of_context = sketch(grams, rows, n_rows=n, k=self.num_perm)
        grams, rows = hash_ngrams(answer, n=self.ngram, seed=self.seed)
        # A sketch of a union is the element-wise minimum of the sketches of its parts.
        return of_context, np.minimum(of_context, sketch(grams, rows, n_rows=n, k=self.num_perm))

    def _candidate_pairs(self, table: Table, rows: I64) -> Candidates:
        """Return candidate pairs among `rows`: rows sharing an LSH band of their prompt or whole sketch."""
        found = []
        for sketches, bands in ((table.sketch_context, self.bands), (table.sketch_full, self.whole_bands)):
            dense = densify(sketches[rows])
            some = np.flatnonzero(~is_empty(dense))
            found.append(rows[band_pairs(dense, bands=bands, window=self.window, rows=some)])
        return Candidates(*found)

    def _flush(self) -> None:
        """Sketch the pending batch and keep it as a chunk."""
        if not len(self._pending):
            return
        chunk, self._pending = self._pending, Chunk()
        chunk.seal(*self._sketch_batch(chunk.context, chunk.answer))
        self._chunks.append(chunk)


def _share(label: str, value: object) -> None:
    """Raise a `UsageError` unless `value` is a number in (0, 1]."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 < value <= 1.0:
        raise UsageError(f"{label} must be a number between 0 (excluded) and 1; found {value!r}")


def _integer(label: str, value: object, low: int, high: int | None = None) -> None:
    """Raise a `UsageError` unless `value` is an integer from `low` to `high`."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise UsageError(f"{label} must be an integer {bound}; found {value!r}")


def _band(band: object) -> tuple[float, float]:
    """Return a valid (low, high) adversarial band or raise a `UsageError`."""
    if isinstance(band, tuple | list) and len(band) == 2:
        low, high = band
        numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in band)
        if numbers and 0.0 <= low <= high <= 1.0:
            return float(low), float(high)
    raise UsageError(
        f"adversarial_band must be two shares (low, high), 0 <= low <= high <= 1; found {band!r}"
    )


class _Report:
    """Turn a finished table into duplicates, issues and metrics."""

    def __init__(self, conflict: Conflict, table: Table) -> None:
        self.conflict = conflict
        self.table = table
        self.ids = table.ids
        self.n = len(self.ids)
        self.issues: dict[str, set[Issue]] = defaultdict(set)
        self.exact = _exact_representatives(table)
        self.unique = np.flatnonzero(self.exact == np.arange(self.n))
        self.members: dict[int, list[int]] = defaultdict(list)
        for row, rep in enumerate(self.exact.tolist()):
            self.members[rep].append(row)

    def result(self) -> ConflictResult:
        """Run every check and assemble the result."""
        conflict, table = self.conflict, self.table
        candidates = conflict._candidate_pairs(table, self.unique)
        limits = Thresholds(
            conflict.near_threshold, conflict.contradiction_prompt, conflict.contradiction_answer
        )
        verified = verify(table, candidates, limits, workers=conflict.workers)
        near, contradiction = classify(table, verified, limits)
        near = exact(table, near, workers=conflict.workers)
        root = stars(self.n, near)[self.exact]
        linked = np.concatenate([near.pairs, contradiction.pairs])
        group = components(self.n, linked)[self.exact]
        self._exact_issues()
        clusters = self._near_issues(near, root)
        self._contradiction_issues(contradiction)
        reused = self._reused_answers()
        prefixes = self._prefixes()
        corpus, adversarial = self._adversarial()
        issues = {
            i: sorted(found, key=lambda x: (x.code, -1 if x.turn is None else x.turn, x.message))
            for i, found in sorted(self.issues.items())
        }
        metrics = {
            "n_dialogues": self.n,
            "n_ids": len(set(self.ids)),
            "n_unique": len(self.unique),
            "n_candidates": {"prompt": len(candidates.by_prompt), "whole": len(candidates.by_whole)},
            "codes": dict(
                sorted(Counter(c for found in issues.values() for c in {i.code for i in found}).items())
            ),
            "near_duplicate": {"pairs": len(near.pairs), **clusters},
            "contradiction": {"pairs": len(contradiction.pairs)},
            "reused_answer": reused,
            "prefix": prefixes,
            "adversarial": adversarial,
        }
        return ConflictResult(
            duplicate_of=self._mapping(root),
            group_of=self._mapping(group, linked_only=True),
            issues=issues,
            corpus=corpus,
            pairs={NEAR_DUPLICATE: self._pair_ids(near), CONTRADICTION: self._pair_ids(contradiction)},
            metrics=metrics,
        )

    def _mapping(self, root: I64, *, linked_only: bool = False) -> dict[str, str]:
        """Map each id whose root row has another id to that root's id."""
        ids = self.ids
        out = {ids[row]: ids[r] for row, r in enumerate(root.tolist()) if ids[r] != ids[row]}
        if linked_only:
            for r in set(out.values()):
                out.setdefault(r, r)
        return dict(sorted(out.items()))

    def _pair_ids(self, verified: Verified) -> list[tuple[str, str]]:
        """Return verified pairs as sorted id pairs."""
        ids = self.ids
        return sorted((ids[a], ids[b]) for a, b in verified.pairs.tolist())

    def _flag(self, rows: list[int], code: str, message: str, turn: int | None = None) -> None:
        """Record one issue on the ids of `rows`."""
        for row in rows:
            self.issues[self.ids[row]].add(Issue(code=code, message=message, turn=turn))

    def _exact_issues(self) -> None:
        """Flag every row whose canonical form equals an earlier row's (with another id)."""
        ids = self.ids
        for row, rep in enumerate(self.exact.tolist()):
            if ids[row] != ids[rep]:
                message = (
                    f"an exact duplicate of dialogue {ids[rep]} after NFC, whitespace and case normalisation"
                )
                self._flag([row], DUPLICATE, message)

    def _near_issues(self, near: Verified, root: I64) -> dict[str, int]:
        """Flag every near duplicate with its representative, to which it is directly similar."""
        ids = self.ids
        index = {(a, b): k for k, (a, b) in enumerate(near.pairs.tolist())}
        for row in self.unique.tolist():
            representative = int(root[row])
            if representative == row:
                continue
            k = index[(representative, row)]
            similarity = f"whole dialogue {near.whole[k]:.2f}, prompt {near.context[k]:.2f}"
            message = f"a near duplicate of dialogue {ids[representative]} (similarity: {similarity}, "
            self._flag([row], NEAR_DUPLICATE, message + f"final answer {near.answer[k]:.2f})")
        sizes = Counter(root[self.unique].tolist())
        clusters = [size for size in sizes.values() if size > 1]
        return {"clusters": len(clusters), "largest": max(clusters, default=0)}

    def _contradiction_issues(self, contradiction: Verified) -> None:
        """Flag both sides of every contradiction, naming the first other side."""
        ids, partners = self.ids, defaultdict(list)
        for index, (a, b) in enumerate(contradiction.pairs.tolist()):
            partners[a].append((b, index))
            partners[b].append((a, index))
        for row, found in partners.items():
            other, index = min(found)
            message = (
                f"the prompt matches dialogue {ids[other]} (similarity {contradiction.context[index]:.2f}) "
                f"but the final answers diverge (similarity {contradiction.answer[index]:.2f})"
            )
            if len(found) > 1:
                message += f"; {len(found) - 1} more dialogue(s) too"
            turn = int(self.table.n_turns[row]) - 1
            self._flag(self.members[row], CONTRADICTION, message, turn)

    def _reused_answers(self) -> dict[str, int]:
        """Flag answers repeated word for word under `reused_answer_min` or more distinct prompts."""
        t = self.table
        order = np.lexsort((t.answer_context, t.answer_hash))
        answer, context = t.answer_hash[order], t.answer_context[order]
        new_answer = np.r_[True, answer[1:] != answer[:-1]]
        new_prompt = new_answer | np.r_[True, context[1:] != context[:-1]]
        starts = np.flatnonzero(new_answer)
        prompts = np.add.reduceat(new_prompt.astype(np.int64), starts) if len(starts) else starts
        ends = np.r_[starts[1:], len(order)]
        reused = np.flatnonzero(prompts >= self.conflict.reused_answer_min)
        for k in reused.tolist():
            entries = order[starts[k] : ends[k]]
            rows, turns = t.answer_at[entries].tolist(), t.answer_turn[entries].tolist()
            self._flag_reused(rows, turns, int(prompts[k]))
        return {"answers": len(reused), "most": int(prompts.max(initial=0))}

    def _flag_reused(self, rows: list[int], turns: list[int], prompts: int) -> None:
        """Flag each turn that carries one reused answer, naming the first other dialogue with it."""
        ids = self.ids
        first: dict[str, int] = {}
        for row in sorted(rows):
            first.setdefault(ids[row], row)
        for row, turn in zip(rows, turns, strict=True):
            message = f"this answer is reused word for word under {prompts} distinct prompts"
            other = next((i for i in first if i != ids[row]), None)
            if other is not None:
                message += f", also in dialogue {other}"
            self._flag([row], REUSED_ANSWER, message, turn)

    def _prefixes(self) -> dict[str, int]:
        """Flag every dialogue whose turns are the first turns of a longer dialogue."""
        t, ids = self.table, self.ids
        full = t.full[self.unique]
        order = np.argsort(full, kind="stable")
        position = np.searchsorted(full[order], t.prefix)
        position = np.minimum(position, max(len(full) - 1, 0))
        hit = (full[order][position] == t.prefix) if len(full) else np.zeros(len(t.prefix), bool)
        containers: dict[int, set[int]] = defaultdict(set)
        for entry in np.flatnonzero(hit).tolist():
            contained = int(self.unique[order[position[entry]]])
            containers[contained].add(int(self.exact[t.prefix_at[entry]]))
        for row, found in sorted(containers.items()):
            first = min(found)
            message = f"the dialogue is the first {int(t.n_turns[row])} turns of dialogue {ids[first]}"
            if len(found) > 1:
                message += f" and of {len(found) - 1} more"
            self._flag(self.members[row], PREFIX, message)
        return {"dialogues": len(containers)}

    def _adversarial(self) -> tuple[list[Issue], dict[str, Any]]:
        """Measure the share and kinds of adversarial samples against the target band."""
        kinds = Counter(kind for kind in self.table.kinds if kind)
        count = sum(kinds.values())
        share = count / self.n if self.n else 0.0
        low, high = self.conflict.adversarial_band
        verdict = "below" if share < low else "above" if share > high else "within"
        metrics = {
            "n": count,
            "share": share,
            "kinds": dict(sorted(kinds.items())),
            "band": [low, high],
            "verdict": verdict,
        }
        if verdict == "within":
            return [], metrics
        band = f"{low:.1%}-{high:.1%}"
        message = f"adversarial samples are {share:.1%} of the corpus, {verdict} the target band {band}"
        return [Issue(code=ADVERSARIAL_SHARE, message=message)], metrics


def _exact_representatives(table: Table) -> I64:
    """Return, per row, the first row with the same canonical form."""
    _, first, inverse = np.unique(table.full, return_index=True, return_inverse=True)
    # np.unique's first index is the first occurrence: rows are sorted, so it is the group's first row.
    return first[inverse.reshape(-1)].astype(np.int64)
