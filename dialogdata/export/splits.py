"""Deterministic, grouped splits, and a measure of what the written splits leak.

`assign_split` hashes a dialogue's group with the seed: stable as the corpus changes, but the ratios hold
only on average. `SplitPlanner` sees every dialogue first and plans exact, stratified, grouped splits:

    planner = SplitPlanner()
    for dialogue in corpus:                                   # pass 1, in data order
        planner.add(dialogue.id, f"{dialogue.source.path}|{language}")
    plan = planner.plan(group_of, {"train": 0.8, "validation": 0.1, "test": 0.1}, seed=0)
    plan.split_of(root_id)                                    # pass 2, for originals and children

Counting is in dialogues (added ids), not groups: that is what users see in the files. A group belongs to
the stratum of its first-added member and goes whole to one split. In each stratum every split gets the
floor or the ceiling of its quota (ratio x dialogues); the ceilings go to the splits that the strata
before it still owe most, so small strata are not all rounded into train, and with one-dialogue groups
every split's corpus-wide count is within one dialogue of its global quota. Inside a stratum the groups
are ordered by a seeded hash of their key and cut into consecutive runs of those sizes; a group that
straddles a cut goes to the side holding its midpoint, so each cut moves by less than one group (what
that costs is owed to the next strata).

`LeakageCheck` measures the written data: ids, roots and groups that appear in more than one split, and
near-duplicate or contradiction pairs whose members did.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from dialogdata.errors import UsageError
from dialogdata.schemas import Dialogue

SPLITS = ("train", "validation", "test")

# Float ratios such as 0.1 become the fractions they were written as, so 40 x 0.1 is exactly 4.
_MAX_DENOMINATOR = 10**9


def check_ratios(ratios: Mapping[str, float]) -> dict[str, float]:
    """Return the ratios in split order, or raise when a name is unknown or they do not sum to 1."""
    unknown = set(ratios) - set(SPLITS)
    if unknown:
        raise UsageError(f"unknown split {sorted(unknown)[0]!r}; expected one of: {', '.join(SPLITS)}")
    if any(v < 0 for v in ratios.values()) or abs(sum(ratios.values()) - 1.0) > 1e-9:
        raise UsageError(f"split ratios must be non-negative and sum to 1; found {dict(ratios)}")
    return {name: float(ratios.get(name, 0.0)) for name in SPLITS}


def group_id(dialogue: Dialogue) -> str:
    """Return the id that keeps a dialogue with its relatives: the original it was derived from."""
    return dialogue.lineage.root_id if dialogue.lineage else dialogue.id


def assign_split(
    dialogue: Dialogue, ratios: Mapping[str, float], *, seed: int = 0, group: str | None = None
) -> str:
    """Return the split of `dialogue`; augmented children land where their original does.

    `group` overrides the dialogue's own group (the build passes its near-duplicate cluster).
    """
    return _hash_split(group or group_id(dialogue), ratios, seed)


def _point(seed: int, key: str) -> int:
    """Return the seeded 64-bit hash that places a group."""
    return int.from_bytes(hashlib.blake2b(f"{seed}\x1f{key}".encode(), digest_size=8).digest(), "big")


def _hash_split(key: str, ratios: Mapping[str, float], seed: int) -> str:
    """Return the split whose share of [0, 1) holds the seeded hash of `key`."""
    point = _point(seed, key) / 2**64
    used = [name for name in SPLITS if ratios.get(name, 0.0) > 0] or [SPLITS[0]]
    edge = 0.0
    for name in used:
        edge += ratios.get(name, 0.0)
        if point < edge:
            return name
    # Rounding can leave the sum a hair under 1: the remainder belongs to the last used split.
    return used[-1]


class SplitPlanner:
    """Collect (dialogue id, stratum) in data order, then plan exact, stratified, grouped splits.

    Each call keeps one reference to the id (the string itself is shared with the caller) and a 4-byte
    stratum number; stratum names are stored once.

    >>> planner = SplitPlanner()
    >>> for i in range(40):
    ...     planner.add(f"d{i}", "chat.jsonl|en")
    >>> plan = planner.plan({}, {"train": 0.8, "validation": 0.1, "test": 0.1}, seed=0)
    >>> [plan.summary()["splits"][name]["dialogues"] for name in SPLITS]
    [32, 4, 4]
    """

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._strata = array("I")
        self._codes: dict[str, int] = {}

    def __len__(self) -> int:
        """Number of `add` calls."""
        return len(self._ids)

    def add(self, dialogue_id: str, stratum: str) -> None:
        """Record one source dialogue; an id added again is the same dialogue, in its first stratum."""
        self._ids.append(dialogue_id)
        self._strata.append(self._codes.setdefault(stratum, len(self._codes)))

    def plan(self, group_of: Mapping[str, str], ratios: Mapping[str, float], *, seed: int = 0) -> SplitPlan:
        """Give every group one split, matching the ratios in dialogues within each stratum.

        `group_of` maps ids to a group key (ids missing from it are their own group); the plan keeps a
        reference to it for ids that were never added. The result depends only on the added (id, stratum)
        pairs, which member of each group came first, `group_of`, the ratios and the seed.
        """
        checked = check_ratios(ratios)
        stratum_of: dict[str, int] = {}
        for dialogue_id, code in zip(self._ids, self._strata, strict=True):
            stratum_of.setdefault(dialogue_id, code)
        index, group_stratum, sizes = _groups(stratum_of, group_of)
        keys = list(index)
        members: dict[str, list[int]] = {name: [] for name in self._codes}
        names = list(self._codes)
        for number, code in enumerate(group_stratum):
            members[names[code]].append(number)
        split_codes, by_stratum = _assign(members, keys, sizes, _weights(checked), seed)
        ids = sorted(stratum_of)
        codes = bytearray(split_codes[index[group_of.get(i, i)]] for i in ids)
        known = {group_of[i]: split_codes[index[group_of[i]]] for i in ids if i in group_of}
        n_groups = [split_codes.count(code) for code in range(len(SPLITS))]
        return SplitPlan(
            ids,
            codes,
            known,
            group_of=group_of,
            ratios=checked,
            seed=seed,
            n_groups=n_groups,
            by_stratum=by_stratum,
        )


def _groups(
    stratum_of: dict[str, int], group_of: Mapping[str, str]
) -> tuple[dict[str, int], array[int], array[int]]:
    """Number the groups in order of first member; return the numbers, each group's stratum and size."""
    index: dict[str, int] = {}
    group_stratum = array("I")
    sizes = array("I")
    for dialogue_id, code in stratum_of.items():
        number = index.setdefault(group_of.get(dialogue_id, dialogue_id), len(index))
        if number == len(sizes):
            group_stratum.append(code)
            sizes.append(0)
        sizes[number] += 1
    return index, group_stratum, sizes


def _assign(
    members: dict[str, list[int]], keys: list[str], sizes: array[int], weights: list[Fraction], seed: int
) -> tuple[bytearray, dict[str, list[int]]]:
    """Give each group a split code, stratum by stratum; return the codes and each stratum's counts."""
    split_codes = bytearray(len(keys))
    by_stratum: dict[str, list[int]] = {}
    owed = [Fraction(0)] * len(SPLITS)
    # Strata take their turn in a seeded order, so the seed also decides which small strata are
    # rounded up into validation and test.
    for name in sorted(members, key=lambda name: (_point(seed, name), name)):
        ordered = sorted(members[name], key=lambda g: (_point(seed, keys[g]), keys[g]))
        n = sum(sizes[g] for g in ordered)
        counts = _cut(ordered, sizes, _targets(weights, n, owed), split_codes)
        owed = [o + w * n - c for o, w, c in zip(owed, weights, counts, strict=True)]
        by_stratum[name] = counts
    return split_codes, by_stratum


class SplitPlan:
    """The planned split of every added dialogue; look children up by their root id."""

    __slots__ = ("_by_stratum", "_codes", "_group_of", "_ids", "_known", "_n_groups", "_ratios", "_seed")

    def __init__(
        self,
        ids: list[str],
        codes: bytearray,
        known: dict[str, int],
        *,
        group_of: Mapping[str, str],
        ratios: dict[str, float],
        seed: int,
        n_groups: list[int],
        by_stratum: dict[str, list[int]],
    ) -> None:
        self._ids = ids
        self._codes = codes
        self._known = known
        self._group_of = group_of
        self._ratios = ratios
        self._seed = seed
        self._n_groups = n_groups
        self._by_stratum = by_stratum

    def split_of(self, dialogue_id: str) -> str:
        """Return the split of an added dialogue id (pass a child's root id).

        An id that was never added takes the split of its group when `group_of` names a planned group,
        and otherwise falls back to `assign_split`'s hash of (seed, group key): deterministic and never a
        ratio-0 split, but outside the exact counts.
        """
        i = bisect_left(self._ids, dialogue_id)
        if i < len(self._ids) and self._ids[i] == dialogue_id:
            return SPLITS[self._codes[i]]
        key = self._group_of.get(dialogue_id, dialogue_id)
        if key in self._known:
            return SPLITS[self._known[key]]
        return _hash_split(key, self._ratios, self._seed)

    def summary(self) -> dict[str, Any]:
        """Return groups and dialogues per split, and dialogues per split in each stratum (by group stratum).

        {"splits": {"train": {"groups": 3, "dialogues": 5}, ...}, "strata": {"a.jsonl|en": {"train": 4, ...}}}
        """
        dialogues = [0] * len(SPLITS)
        for counts in self._by_stratum.values():
            dialogues = [a + b for a, b in zip(dialogues, counts, strict=True)]
        return {
            "splits": {
                name: {"groups": self._n_groups[s], "dialogues": dialogues[s]}
                for s, name in enumerate(SPLITS)
            },
            "strata": {
                stratum: dict(zip(SPLITS, counts, strict=True))
                for stratum, counts in sorted(self._by_stratum.items())
            },
        }


def _weights(ratios: dict[str, float]) -> list[Fraction]:
    """Return the ratios, in split order, as exact fractions summing to 1."""
    fractions = [Fraction(ratios[name]).limit_denominator(_MAX_DENOMINATOR) for name in SPLITS]
    total = sum(fractions, Fraction(0))
    return [f / total for f in fractions]


def _targets(weights: list[Fraction], n: int, owed: list[Fraction]) -> list[int]:
    """Return the dialogues per split for a stratum of `n`: floor or ceiling of each quota, summing to n.

    The ceilings go to the splits that are owed most once this stratum's remainders are added.
    """
    quotas = [w * n for w in weights]
    targets = [math.floor(q) for q in quotas]
    remainders = [q - t for q, t in zip(quotas, targets, strict=True)]
    candidates = [s for s, r in enumerate(remainders) if r > 0]
    candidates.sort(key=lambda s: (-(owed[s] + remainders[s]), -remainders[s], s))
    for s in candidates[: n - sum(targets)]:
        targets[s] += 1
    return targets


def _cut(ordered: list[int], sizes: array[int], targets: list[int], split_codes: bytearray) -> list[int]:
    """Give each group, in order, the split whose run holds its midpoint; return dialogues per split."""
    edges = list(itertools.accumulate(targets))
    counts = [0] * len(targets)
    done = 0
    for g in ordered:
        size = sizes[g]
        # Midpoint done + size/2 against each edge, doubled to stay in integers; empty runs never match.
        split = next(s for s, edge in enumerate(edges) if 2 * done + size < 2 * edge)
        split_codes[g] = split
        counts[split] += size
        done += size
    return counts


def _key_hash(key: str) -> int:
    """Return a 62-bit hash of `key`, leaving two low bits for a split code."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") >> 2


class LeakageCheck:
    """Count what the written splits leak: ids, roots and groups in more than one split, and split pairs.

    Feed every written dialogue (originals and augmented children), then `report` with the corpus's
    near-duplicate and contradiction pairs. Keys are kept as 62-bit hashes (8 bytes per written
    dialogue and kind, consecutive repeats stored once); a false leak needs a hash collision between
    keys placed in different splits, about n²/2⁶³ for n keys. Checks add up with `+`.

    >>> check = LeakageCheck()
    >>> check.add("a", "a", "g", "train")
    >>> check.add("a~swap", "a", "g", "test")
    >>> check.report([("a", "b")])
    {'ids_across_splits': 0, 'roots_across_splits': 1, 'groups_across_splits': 1, 'pairs_across_splits': 0}
    """

    def __init__(self) -> None:
        self._kinds = {kind: array("Q") for kind in ("ids", "roots", "groups")}

    def add(self, dialogue_id: str, root_id: str, group: str, split: str) -> None:
        """Record one written dialogue: its id, its original's id, its split group and its split."""
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of: {', '.join(SPLITS)}")
        code = SPLITS.index(split)
        for kind, key in (("ids", dialogue_id), ("roots", root_id), ("groups", group)):
            values = self._kinds[kind]
            value = _key_hash(key) << 2 | code
            if not values or values[-1] != value:
                values.append(value)

    def __add__(self, other: LeakageCheck) -> LeakageCheck:
        """Return the check of both shards' written dialogues."""
        merged = LeakageCheck()
        for kind, values in merged._kinds.items():
            values.extend(self._kinds[kind])
            values.extend(other._kinds[kind])
        return merged

    def report(self, pairs: Iterable[tuple[str, str]] = ()) -> dict[str, int]:
        """Return the number of ids, roots, groups and pairs whose dialogues were written to several splits.

        A pair counts when both members were written and, between them, they are in two or more splits.
        """
        out = {f"{kind}_across_splits": _n_across(values) for kind, values in self._kinds.items()}
        unique = {(a, b) if a <= b else (b, a) for a, b in pairs}
        wanted = {_key_hash(i) for pair in unique for i in pair}
        splits = _splits_by_key(self._kinds["ids"], wanted)
        found = [(splits.get(_key_hash(a), set()), splits.get(_key_hash(b), set())) for a, b in unique]
        out["pairs_across_splits"] = sum(bool(sa and sb) and len(sa | sb) > 1 for sa, sb in found)
        return out


def _n_across(values: array[int]) -> int:
    """Return how many key hashes carry more than one split code."""
    runs = itertools.groupby(sorted(values), key=lambda value: value >> 2)
    return sum(len(set(run)) > 1 for _, run in runs)


def _splits_by_key(values: array[int], wanted: set[int]) -> dict[int, set[int]]:
    """Return the split codes seen for each wanted key hash."""
    out: dict[int, set[int]] = {}
    for value in values:
        if value >> 2 in wanted:
            out.setdefault(value >> 2, set()).add(value & 3)
    return out
