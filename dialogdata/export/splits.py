"""Deterministic, grouped splits: a dialogue's split depends only on its group id and the seed."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from dialogdata.errors import UsageError
from dialogdata.schemas import Dialogue

SPLITS = ("train", "validation", "test")


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
    key = f"{seed}\x1f{group or group_id(dialogue)}".encode()
    point = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / 2**64
    used = [name for name in SPLITS if ratios.get(name, 0.0) > 0] or [SPLITS[0]]
    edge = 0.0
    for name in used:
        edge += ratios.get(name, 0.0)
        if point < edge:
            return name
    # Rounding can leave the sum a hair under 1: the remainder belongs to the last used split.
    return used[-1]
