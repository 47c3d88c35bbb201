"""The filter step: validators score and report; this decides what is dropped, and says why."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from dialogdata.errors import UsageError
from dialogdata.validators import Issue

DEFAULT_DROP = (
    "consistency.role_order",
    "consistency.empty_turn",
    "consistency.ends_with_user",
    "consistency.no_user",
    "consistency.tool_arguments",
)


class Filter:
    """Drop dialogues with an issue in `drop`, a score under its minimum, or duplicates per `dedup`.

    `dedup`: "near" drops exact and near duplicates (keeping each cluster's representative), "exact"
    only exact ones, "none" keeps them all (they still share a split with their representative).
    """

    def __init__(
        self,
        *,
        drop: Sequence[str] = DEFAULT_DROP,
        min_scores: Mapping[str, float] | None = None,
        dedup: Literal["near", "exact", "none"] = "near",
    ) -> None:
        if dedup not in ("near", "exact", "none"):
            raise UsageError(f"dedup must be one of near, exact, none; found {dedup!r}")
        for name, value in (min_scores or {}).items():
            if not 0.0 <= float(value) <= 1.0:
                raise UsageError(f"min_scores.{name} must be between 0 and 1; found {value}")
        self.drop = tuple(drop)
        self.min_scores = dict(min_scores or {})
        self.dedup = dedup

    def duplicate_rule(self, code: str) -> bool:
        """Tell whether a duplicate of this kind (`conflict.duplicate` or `.near_duplicate`) is dropped."""
        if self.dedup == "none":
            return False
        return code == "conflict.duplicate" or self.dedup == "near"

    def reason(self, scores: Mapping[str, float], issues: Sequence[Issue]) -> tuple[str, str] | None:
        """Return (code, rule) of the first rule that drops a dialogue, or None to keep it."""
        for issue in issues:
            if issue.code in self.drop:
                return issue.code, f"drop dialogues with {issue.code}"
        for name, minimum in self.min_scores.items():
            if name in scores and scores[name] < minimum:
                return f"score.{name}", f"drop dialogues whose {name} score is under {minimum}"
        return None
