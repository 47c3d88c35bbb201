"""Corpus metrics gathered while the build streams: counts, distributions and worst examples."""

from __future__ import annotations

from collections import Counter
from typing import Any

from dialogdata.schemas import Dialogue
from dialogdata.validators import Issue

EXAMPLES_PER_CODE = 5
EXCERPT_CHARS = 160
SCORE_BUCKETS = 10


class Metrics:
    """Running figures over the kept dialogues and their issues; `to_dict` is `metrics.json`."""

    def __init__(self) -> None:
        self.turns: Counter[int] = Counter()
        self.chars_by_role: dict[str, list[int]] = {}
        self.scores: dict[str, Counter[int]] = {}
        self.score_sums: dict[str, float] = {}
        self.n_scored = 0
        self.issues: Counter[str] = Counter()
        self.examples: dict[str, list[dict[str, Any]]] = {}
        self.splits: Counter[str] = Counter()
        self.augmented: Counter[str] = Counter()
        self.adversarial: Counter[str] = Counter()
        self.normalizations: Counter[str] = Counter()

    def add_scored(self, dialogue: Dialogue, issues: list[Issue]) -> None:
        """Count one validated dialogue (kept or not) and its issues."""
        self.n_scored += 1
        if dialogue.source is not None:
            self.normalizations.update(dialogue.source.normalizations)
        for name, value in dialogue.scores.items():
            bucket = min(int(value * SCORE_BUCKETS), SCORE_BUCKETS - 1)
            self.scores.setdefault(name, Counter())[bucket] += 1
            self.score_sums[name] = self.score_sums.get(name, 0.0) + value
        for issue in issues:
            self.issues[issue.code] += 1
            examples = self.examples.setdefault(issue.code, [])
            if len(examples) < EXAMPLES_PER_CODE:
                examples.append(_example(dialogue, issue))

    def add_written(self, dialogue: Dialogue, split: str) -> None:
        """Count one written dialogue: its split, depth and lengths per role."""
        self.splits[split] += 1
        self.turns[len(dialogue.turns)] += 1
        for turn in dialogue.turns:
            self.chars_by_role.setdefault(turn.role.value, []).append(len(turn.content))
        if dialogue.lineage:
            self.augmented[dialogue.lineage.operations[-1].name] += 1
        if kind := dialogue.tags.get("adversarial"):
            self.adversarial[kind] += 1

    def to_dict(self) -> dict[str, Any]:
        """Return the machine-readable figures (stable keys, documented in the README)."""
        return {
            "dialogues_scored": self.n_scored,
            "scores": {
                name: {
                    "mean": round(self.score_sums[name] / self.n_scored, 6) if self.n_scored else None,
                    "histogram": [counts[b] for b in range(SCORE_BUCKETS)],
                }
                for name, counts in sorted(self.scores.items())
            },
            "issues": dict(sorted(self.issues.items())),
            "turns_per_dialogue": {str(k): v for k, v in sorted(self.turns.items())},
            "chars_by_role": {role: _summary(v) for role, v in sorted(self.chars_by_role.items())},
            "splits": dict(sorted(self.splits.items())),
            "augmented": dict(sorted(self.augmented.items())),
            "adversarial_written": dict(sorted(self.adversarial.items())),
            "normalizations": dict(sorted(self.normalizations.items())),
        }


def _summary(values: list[int]) -> dict[str, float]:
    """Return count, mean, median, p95 and max of a list of lengths."""
    ordered = sorted(values)
    n = len(ordered)
    return {
        "count": n,
        "mean": round(sum(ordered) / n, 2),
        "median": ordered[n // 2],
        "p95": ordered[min(n - 1, int(n * 0.95))],
        "max": ordered[-1],
    }


def _example(dialogue: Dialogue, issue: Issue) -> dict[str, Any]:
    """Return a short, bounded example of an issue for the report."""
    text = ""
    if issue.turn is not None and issue.turn < len(dialogue.turns):
        text = dialogue.turns[issue.turn].content[:EXCERPT_CHARS]
    source = dialogue.source
    return {
        "id": dialogue.id,
        "path": source.path if source else None,
        "line": source.line if source else None,
        "turn": issue.turn,
        "message": issue.message,
        "text": text,
    }
