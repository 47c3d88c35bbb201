"""One run of the pipeline, in two passes over the data.

Pass one streams ingest -> Consistency, writes per-dialogue issues, feeds the corpus validators
(Conflict, Coverage) and spills each scored dialogue to disk. Between the passes the corpus
validators finish. Pass two reads the spill back in data order, adds corpus findings, decides each
dialogue's fate (deduplicated, filtered, kept), augments, splits and exports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dialogdata._io import JsonlWriter
from dialogdata._spill import Spill
from dialogdata.augmenters import Augmenter
from dialogdata.export import assign_split, get_exporter
from dialogdata.export.parquet import ParquetWriter
from dialogdata.filtering import Filter
from dialogdata.ingest import Reader, Reject
from dialogdata.reports import Metrics
from dialogdata.schemas import Dialogue
from dialogdata.validators import Consistency, Issue
from dialogdata.validators.conflict import Conflict, ConflictResult
from dialogdata.validators.coverage import Coverage, CoverageResult

REPORT_REJECTS = 50
# Reused answers and prefixes are worth a look but are not conflicts in themselves.
CONFLICT_SCORED = ("conflict.duplicate", "conflict.near_duplicate", "conflict.contradiction")
FileHook = Callable[[str, int, int], None]


@dataclass
class Stages:
    """The configured validators and filter of a run."""

    consistency: Consistency
    conflict: Conflict
    coverage: Coverage
    filter: Filter
    augmenters: list[Augmenter] = field(default_factory=list)


class Run:
    """The state of one run: open ledgers and outputs, fate counters, metrics."""

    def __init__(
        self, folder: Path, stages: Stages, *, to: str | None, splits: dict[str, float], seed: int
    ) -> None:
        self.folder = folder
        self.stages = stages
        self.exporter = get_exporter(to) if to else None
        self.ratios = splits
        self.seed = seed
        self.metrics = Metrics()
        self.fates: dict[str, Counter[str]] = {}
        self.first_seen: dict[str, str] = {}
        self.kept: set[str] = set()
        self.near: dict[str, set[str]] = {}
        self.reject_examples: list[Reject] = []
        self.reader: Reader | None = None
        self.conflict: ConflictResult | None = None
        self.coverage: CoverageResult | None = None
        self.ledgers = {
            name: JsonlWriter(folder / f"{name}.jsonl") for name in ("rejects", "filtered", "issues")
        }
        self.splits = (
            {name: JsonlWriter(folder / f"{name}.jsonl") for name, ratio in splits.items() if ratio > 0}
            if self.exporter
            else {}
        )
        self.table = ParquetWriter(folder / "dialogues.parquet")
        self.spill = Spill(folder / ".spill")

    def reject(self, reject: Reject) -> None:
        """Write a reject to the ledger; keep the first few for the report."""
        self.ledgers["rejects"].write(reject.to_dict())
        if len(self.reject_examples) < REPORT_REJECTS:
            self.reject_examples.append(reject)

    def execute(self, reader: Reader, on_file: FileHook | None) -> None:
        """Run both passes."""
        self.reader = reader
        reader.on_reject = self.reject
        self._first_pass(_announce(reader, on_file))
        self.conflict = self.stages.conflict.finish()
        for a, b in self.conflict.pairs.get("conflict.near_duplicate", []):
            self.near.setdefault(a, set()).add(b)
            self.near.setdefault(b, set()).add(a)
        self.coverage = self.stages.coverage.finish()
        for issue in (*self.conflict.corpus, *self.coverage.issues):
            self.ledgers["issues"].write(_corpus_issue_line(issue))
        self._second_pass()

    def _first_pass(self, dialogues: Iterator[Dialogue]) -> None:
        """Score each dialogue, write its issues, feed the corpus validators and spill it."""
        for dialogue in dialogues:
            scored, issues = self.stages.consistency(dialogue)
            for issue in issues:
                self.ledgers["issues"].write(_issue_line(scored, issue))
            self.stages.conflict.add(scored)
            self.stages.coverage.add(scored)
            self.spill.write(scored, issues)
        self.spill.close()

    def _second_pass(self) -> None:
        """Decide fates in data order, then augment, split and export what is kept."""
        assert self.conflict is not None and self.coverage is not None
        for augmenter in self.stages.augmenters:
            augmenter.observe(self.coverage)
        for scored, issues in self.spill:
            found = self.conflict.issues.get(scored.id, [])
            for issue in found:
                self.ledgers["issues"].write(_issue_line(scored, issue))
            dialogue = scored.evolve(scores=self._scores(scored, found))
            every = [*issues, *found]
            self.metrics.add_scored(dialogue, every)
            fate = self._fate(dialogue, every)
            self._count(dialogue, fate)
            if fate == "kept":
                self._keep(dialogue)

    def _scores(self, dialogue: Dialogue, found: list[Issue]) -> dict[str, float]:
        """Add the corpus scores: conflict (0 for a duplicate, near duplicate or contradiction) and rarity."""
        assert self.coverage is not None
        conflicted = any(i.code in CONFLICT_SCORED for i in found)
        scores = {**dialogue.scores, "conflict": 0.0 if conflicted else 1.0}
        if dialogue.id in self.coverage.rarity:
            scores["rarity"] = self.coverage.rarity[dialogue.id]
        return scores

    def _fate(self, dialogue: Dialogue, issues: list[Issue]) -> str:
        """Decide deduplicated, filtered or kept, writing the ledger line for the first two."""
        where = _where(dialogue)
        first = self.first_seen.setdefault(dialogue.id, where)
        rule = self.stages.filter
        if first != where and rule.duplicate_rule("conflict.duplicate"):
            self._filtered(
                dialogue, "conflict.duplicate", "exact duplicate", {"id": dialogue.id, "source": first}
            )
            return "deduplicated"
        of = self._duplicate_of(dialogue, issues)
        if of is not None and rule.duplicate_rule(of[1]):
            self._filtered(dialogue, of[1], of[1].split(".")[1].replace("_", " "), {"id": of[0]})
            return "deduplicated"
        reason = rule.reason(dialogue.scores, issues)
        if reason is not None:
            code, text = reason
            kind = "filter.score" if code.startswith("score.") else "filter.issue"
            self.ledgers["filtered"].write({**_filtered_line(dialogue, kind, text), "issue": code})
            return "filtered"
        self.kept.add(dialogue.id)
        return "kept"

    def _duplicate_of(self, dialogue: Dialogue, issues: list[Issue]) -> tuple[str, str] | None:
        """Return (kept dialogue, code) that this one duplicates, or None.

        An exact duplicate (same canonical text) points to its cluster's representative. A near
        duplicate is dropped only when it is itself similar to a dialogue already kept, so a chain of
        paraphrases (a ~ b ~ c, a !~ c) never removes more than the similarity says.
        """
        assert self.conflict is not None
        codes = {i.code for i in issues}
        representative = self.conflict.duplicate_of.get(dialogue.id)
        if "conflict.duplicate" in codes and representative not in (None, dialogue.id):
            return str(representative), "conflict.duplicate"
        partners = sorted(self.near.get(dialogue.id, set()) & self.kept)
        return (partners[0], "conflict.near_duplicate") if partners else None

    def _filtered(self, dialogue: Dialogue, code: str, what: str, of: dict[str, Any]) -> None:
        """Write the ledger line of a deduplicated dialogue."""
        line = _filtered_line(dialogue, code, f"drop each {what} of a kept dialogue")
        self.ledgers["filtered"].write({**line, "duplicate_of": of})

    def _keep(self, dialogue: Dialogue) -> None:
        """Write a kept dialogue and its augmented children."""
        self._write(dialogue)
        for augmenter in self.stages.augmenters:
            for child in augmenter.augment(dialogue):
                self._count(child, "augmented")
                self._write(child)

    def _write(self, dialogue: Dialogue) -> None:
        """Write a dialogue into its split's file and the table."""
        split = None
        if self.exporter is not None:
            split = assign_split(dialogue, self.ratios, seed=self.seed, group=self._group(dialogue))
            self.splits[split].write(self.exporter.record(dialogue))
        self.table.write(dialogue, split)
        self.metrics.add_written(dialogue, split or "none")

    def _group(self, dialogue: Dialogue) -> str:
        """Return the split group: the original's group of duplicates, near duplicates and contradictions."""
        assert self.conflict is not None
        root = dialogue.lineage.root_id if dialogue.lineage else dialogue.id
        return self.conflict.group_of.get(root, root)

    def _count(self, dialogue: Dialogue, fate: str) -> None:
        """Count a fate against the dialogue's source file."""
        path = dialogue.source.path if dialogue.source else "<memory>"
        self.fates.setdefault(path, Counter())[fate] += 1

    def close(self) -> None:
        """Close every output and remove the spill."""
        for writer in (*self.ledgers.values(), *self.splits.values()):
            writer.close()
        self.table.close()
        self.spill.remove()


def _announce(reader: Reader, on_file: FileHook | None) -> Iterator[Dialogue]:
    """Yield the reader's dialogues, calling `on_file` as each file starts."""
    if on_file is None:
        yield from reader
        return
    total = len(reader.files)
    started = 0
    for dialogue in reader:
        while started < len(reader.reports):
            started += 1
            on_file(reader.reports[started - 1].path, started, total)
        yield dialogue
    while started < total:
        started += 1
        on_file(reader.files[started - 1].rel, started, total)


def _where(dialogue: Dialogue) -> str:
    """Return `path:line` (or `path#index`) of a dialogue's source record."""
    source = dialogue.source
    if source is None:
        return dialogue.id
    return f"{source.path}:{source.line}" if source.line is not None else f"{source.path}#{source.index}"


def _source(dialogue: Dialogue) -> dict[str, Any]:
    """Return the `source` object of a ledger line."""
    s = dialogue.source
    if s is None:
        return {"path": None, "line": None, "index": None}
    return {"path": s.path, "line": s.line, "index": s.index, "key": s.key, "source_id": s.source_id}


def _issue_line(dialogue: Dialogue, issue: Issue) -> dict[str, Any]:
    """Return one line of `issues.jsonl`."""
    return {
        "id": dialogue.id,
        "source": _source(dialogue),
        "code": issue.code,
        "turn": issue.turn,
        "message": issue.message,
    }


def _corpus_issue_line(issue: Issue) -> dict[str, Any]:
    """Return one line of `issues.jsonl` for a finding about the whole corpus."""
    return {
        "id": None,
        "source": {"path": None, "line": None},
        "code": issue.code,
        "turn": None,
        "message": issue.message,
    }


def _filtered_line(dialogue: Dialogue, code: str, rule: str) -> dict[str, Any]:
    """Return one line of `filtered.jsonl`."""
    return {"id": dialogue.id, "source": _source(dialogue), "code": code, "rule": rule}
