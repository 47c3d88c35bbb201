"""One run of the pipeline, in two passes over the data.

Pass one streams ingest -> Consistency, writes per-dialogue issues, feeds the corpus validators
(Conflict, Coverage) and spills each scored dialogue to disk. Between the passes the corpus
validators finish. Pass two reads the spill back in data order, adds corpus findings, decides each
dialogue's fate (deduplicated, filtered, kept), augments, splits and exports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import orjson

from dialogdata._io import JsonlWriter
from dialogdata._progress import NoProgress, Progress
from dialogdata._spill import Spill
from dialogdata.augmenters import Augmenter
from dialogdata.engines.local import batched, ordered_map
from dialogdata.export import LeakageCheck, SplitPlan, SplitPlanner, dataset_info, get_exporter
from dialogdata.export.formats.base import UNREPRESENTABLE, Exporter, Loss
from dialogdata.export.parquet import ParquetWriter
from dialogdata.filtering import Filter
from dialogdata.ingest import Reader, Reject
from dialogdata.ingest.records import excerpt
from dialogdata.options import SplitOptions
from dialogdata.reports import Metrics
from dialogdata.schemas import Dialogue, Role
from dialogdata.validators import Consistency, Issue
from dialogdata.validators._text import script_counts
from dialogdata.validators.conflict import Conflict, ConflictResult
from dialogdata.validators.coverage import Coverage, CoverageResult

REPORT_REJECTS = 50
OP_ERROR = "op_error"
ERROR_CHARS = 300
"""At most this much of an exception's message goes into a reject (it may quote hostile input)."""
BATCH = 64
"""Dialogues per batch handed to a worker: big enough to amortise the hand-over, small enough to stream."""
# Reused answers and prefixes are worth a look but are not conflicts in themselves.
CONFLICT_SCORED = ("conflict.duplicate", "conflict.near_duplicate", "conflict.contradiction")


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
        self,
        folder: Path,
        stages: Stages,
        *,
        formats: Sequence[str],
        splits: SplitOptions,
        seed: int,
        workers: int = 1,
        progress: Progress | None = None,
    ) -> None:
        self.folder = folder
        self.stages = stages
        self.outputs = [
            FormatOutput(folder, name, splits.ratios, nested=len(formats) > 1) for name in formats
        ]
        self.ratios = splits.ratios
        self.stratify = splits.stratify
        self.planner = SplitPlanner()
        self.plan: SplitPlan | None = None
        self.leakage = LeakageCheck()
        self.seed = seed
        self.workers = workers
        self.progress: Progress = progress or NoProgress()
        self.metrics = Metrics()
        self.fates: dict[str, Counter[str]] = {}
        self.first_seen: dict[str, str] = {}
        self.kept: set[str] = set()
        self.near: dict[str, set[str]] = {}
        self.reject_examples: list[Reject] = []
        self.failed: list[Failed] = []
        self.reader: Reader | None = None
        self.conflict: ConflictResult | None = None
        self.coverage: CoverageResult | None = None
        self.ledgers = {
            name: JsonlWriter(folder / f"{name}.jsonl")
            for name in ("rejects", "filtered", "issues", "losses")
        }
        self.table = ParquetWriter(folder / "dialogues.parquet")
        self.spill = Spill(folder / ".spill")

    def _reject_failed(self, failed: Failed) -> None:
        """Reject a dialogue a stage raised on, and count it against its input file."""
        reject = failed.reject()
        self.reject(reject)
        self._count(failed.dialogue, "rejected")
        assert self.reader is not None
        for report in self.reader.reports:
            if report.path == reject.path:
                report.rejected += 1
                report.reject_codes[OP_ERROR] = report.reject_codes.get(OP_ERROR, 0) + 1

    def reject(self, reject: Reject) -> None:
        """Write a reject to the ledger; keep the first few for the report."""
        self.ledgers["rejects"].write(reject.to_dict())
        if len(self.reject_examples) < REPORT_REJECTS:
            self.reject_examples.append(reject)

    def execute(self, reader: Reader) -> None:
        """Run both passes."""
        self.reader = reader
        reader.on_reject = self.reject
        self.progress.start("read and validate")
        self._first_pass(reader)
        # After the reader's own rejects, in data order, so the ledger is the same whatever the engine.
        for failed in self.failed:
            self._reject_failed(failed)
        self.failed = []
        self.progress.end("read and validate")
        self.progress.start("duplicates and coverage")
        self.conflict = self.stages.conflict.finish()
        # The rows are the largest corpus-level state and nothing reads them after the search.
        self.stages.conflict.clear()
        for a, b in self.conflict.pairs.get("conflict.near_duplicate", []):
            self.near.setdefault(a, set()).add(b)
            self.near.setdefault(b, set()).add(a)
        self.coverage = self.stages.coverage.finish()
        if self.outputs:
            self.plan = self.planner.plan(self.conflict.group_of, self.ratios, seed=self.seed)
        for issue in (*self.conflict.corpus, *self.coverage.issues):
            self.ledgers["issues"].write(_corpus_issue_line(issue))
        self.progress.end("duplicates and coverage")
        self.progress.start("decide and write", self.spill.count)
        self._second_pass()
        self.progress.end("decide and write")

    def _first_pass(self, reader: Reader) -> None:
        """Score each dialogue, write its issues, feed the corpus validators and spill it."""
        batches = batched(iter(reader), BATCH)
        checked = ordered_map(_validate_batch, batches, state=self.stages.consistency, workers=self.workers)
        for batch in checked:
            for item in batch:
                if isinstance(item, Failed):
                    self.failed.append(item)
                    continue
                scored, issues = item
                self.stages.conflict.add(scored)
                self.stages.coverage.add(scored)
                self._scored(scored, issues, self.spill.encode(scored, issues))
            self.progress.advance("read and validate", len(batch))
        self.spill.close()

    def _scored(self, scored: Dialogue, issues: list[Issue], frame: bytes) -> None:
        """Write a scored dialogue's issues, spill it (`frame` is its encoding) and enter it for splitting."""
        for issue in issues:
            self.ledgers["issues"].write(_issue_line(scored, issue))
        self.spill.write_frame(frame)
        if self.outputs:
            self.planner.add(scored.id, _stratum(scored) if self.stratify else "")

    def _second_pass(self) -> None:
        """Decide fates in data order, then augment and export what is kept (in workers), then write."""
        assert self.conflict is not None and self.coverage is not None
        for augmenter in self.stages.augmenters:
            augmenter.observe(self.coverage)
        state = _Derive(self.stages.augmenters, [output.exporter for output in self.outputs])
        for batch in self._derived(state):
            for item in batch:
                self._keep(item)

    def _derived(self, state: _Derive) -> Iterator[list[Derived]]:
        """Augment and export the kept dialogues in batches, in data order."""
        return ordered_map(_derive_batch, batched(self._decided(), BATCH), state=state, workers=self.workers)

    @property
    def remote(self) -> bool:
        """Tell whether the per-dialogue stages run in other processes than this one."""
        return self.workers > 1

    def _decided(self) -> Iterator[Dialogue]:
        """Yield the kept dialogues in data order, having written the ledgers of the others."""
        assert self.conflict is not None
        for scored, issues in self.spill:
            found = self.conflict.issues.get(scored.id, [])
            for issue in found:
                self.ledgers["issues"].write(_issue_line(scored, issue))
            dialogue = scored.evolve(scores=self._scores(scored, found))
            every = [*issues, *found]
            self.metrics.add_scored(dialogue, every)
            fate = self._fate(dialogue, every)
            self._count(dialogue, fate)
            self.progress.advance("decide and write")
            if fate == "kept":
                yield dialogue

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

    def _keep(self, item: Derived) -> None:
        """Write a kept dialogue and its augmented children, and count what the augmenters skipped."""
        if item.failed is not None:
            # Decided kept, then a stage raised on it: it becomes a reject (the decisions of the
            # others stand, so they do not depend on when this one's result came back).
            self.fates[_path(item.failed.dialogue)]["kept"] -= 1
            self._reject_failed(item.failed)
            return
        for augmenter, skipped in zip(self.stages.augmenters, item.skipped, strict=True):
            # With worker processes the augmenters ran elsewhere: their counts come back with the batch.
            if self.remote:
                augmenter.skipped.update(skipped)
        for number, (dialogue, exports) in enumerate(zip(item.dialogues, item.exports, strict=True)):
            if number:
                self._count(dialogue, "augmented")
            self._write(dialogue, exports)

    def _write(self, dialogue: Dialogue, exports: list[Exported]) -> None:
        """Write a dialogue into its split's file in each format, and into the table."""
        split = None
        if self.plan is not None:
            root = dialogue.lineage.root_id if dialogue.lineage else dialogue.id
            split = self.plan.split_of(root)
            self.leakage.add(dialogue.id, root, self._group(dialogue), split)
            for output, (record, losses) in zip(self.outputs, exports, strict=True):
                output.write(record, losses, split)
                for loss in losses:
                    self.ledgers["losses"].write(_loss_line(dialogue, output.name, loss))
        self.table.write(dialogue, split)
        self.metrics.add_written(dialogue, split or "none")

    def export_metrics(self) -> dict[str, Any]:
        """Return what each format wrote, left out and lost, and the leakage across splits."""
        return {
            "formats": {output.name: output.metrics() for output in self.outputs},
            "leakage": self.leakage.report(self._pairs()),
            "splits": self.plan.summary() if self.plan is not None else {},
        }

    def _pairs(self) -> list[tuple[str, str]]:
        """Return the corpus's near-duplicate and contradiction pairs, whose members must share a split."""
        assert self.conflict is not None
        codes = ("conflict.near_duplicate", "conflict.contradiction")
        return [pair for code in codes for pair in self.conflict.pairs.get(code, [])]

    def _group(self, dialogue: Dialogue) -> str:
        """Return the split group: the original's group of duplicates, near duplicates and contradictions."""
        assert self.conflict is not None
        root = dialogue.lineage.root_id if dialogue.lineage else dialogue.id
        return self.conflict.group_of.get(root, root)

    def _count(self, dialogue: Dialogue, fate: str) -> None:
        """Count a fate against the dialogue's source file."""
        self.fates.setdefault(_path(dialogue), Counter())[fate] += 1

    def close(self) -> None:
        """Close every output, describe the split files for LLaMA-Factory, and remove the spill."""
        for writer in self.ledgers.values():
            writer.close()
        for output in self.outputs:
            output.close()
        if self.outputs:
            info = {name: entry for output in self.outputs for name, entry in output.dataset_info().items()}
            (self.folder / "dataset_info.json").write_bytes(orjson.dumps(info, option=orjson.OPT_INDENT_2))
        self.table.close()
        self.spill.remove()


class FormatOutput:
    """The split files of one output format, with what the format could not carry."""

    def __init__(self, folder: Path, name: str, ratios: Mapping[str, float], *, nested: bool) -> None:
        self.name = name
        self.exporter = get_exporter(name)
        # With several formats each gets a subfolder; dataset_info.json at the top names them all.
        self.prefix = f"{name}/" if nested else ""
        if nested:
            (folder / name).mkdir()
        self.files = {
            split: JsonlWriter(folder / f"{self.prefix}{split}.jsonl")
            for split, ratio in ratios.items()
            if ratio > 0
        }
        self.nested = nested
        self.losses: Counter[str] = Counter()
        self.not_written = 0

    def write(self, record: dict[str, Any], losses: list[Loss], split: str) -> None:
        """Write one exported record unless the format cannot hold its dialogue; count what was lost."""
        self.losses.update(loss.code for loss in losses)
        if any(loss.code == UNREPRESENTABLE for loss in losses):
            self.not_written += 1
        else:
            self.files[split].write(record)

    def metrics(self) -> dict[str, Any]:
        """Return lines written per split, dialogues left out, and loss counts by code."""
        return {
            "written": {split: writer.count for split, writer in self.files.items()},
            "not_written": self.not_written,
            "losses": dict(sorted(self.losses.items())),
        }

    def dataset_info(self) -> dict[str, Any]:
        """Return this format's LLaMA-Factory entries, one per split file."""
        files = {
            (f"{self.name}_{split}" if self.nested else split): f"{self.prefix}{split}.jsonl"
            for split in self.files
        }
        return dataset_info(files, self.name)

    def close(self) -> None:
        """Close the split files."""
        for writer in self.files.values():
            writer.close()


def _path(dialogue: Dialogue) -> str:
    """Return the input path a dialogue's fate is counted against."""
    return dialogue.source.path if dialogue.source else "<memory>"


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


Exported = tuple[dict[str, Any], list[Loss]]


@dataclass
class _Derive:
    """What pass two's workers need: the augmenters and the exporters."""

    augmenters: list[Augmenter]
    exporters: list[Exporter]


@dataclass
class Derived:
    """A kept dialogue, its children, each one's record and losses per format, and augmenter skips."""

    dialogues: list[Dialogue]
    exports: list[list[Exported]]
    skipped: list[Counter[str]]
    failed: Failed | None = None


@dataclass
class Failed:
    """A dialogue that a stage raised on: it is rejected with `op_error` and the run goes on."""

    dialogue: Dialogue
    stage: str
    error: str

    def reject(self) -> Reject:
        """Return the reject ledger entry, with the stage and the exception in its message."""
        s = self.dialogue.source
        return Reject(
            code=OP_ERROR,
            message=f"{self.stage} failed on this dialogue: {self.error}",
            path=s.path if s else "<memory>",
            line=s.line if s else None,
            index=s.index if s else None,
            key=s.key if s else None,
            excerpt=excerpt(msgspec.json.encode(self.dialogue)),
        )


def _described(exc: Exception) -> str:
    """Return an exception as one bounded line: its type and the first line of its message."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}"[:ERROR_CHARS]


Scored = tuple[Dialogue, list[Issue]]


def _validate_batch(consistency: Consistency, batch: list[Dialogue]) -> list[Scored | Failed]:
    """Score a batch of dialogues (in a worker process, or here); a dialogue that raises is `Failed`."""
    return [_validated(consistency, dialogue) for dialogue in batch]


def _validated(consistency: Consistency, dialogue: Dialogue) -> Scored | Failed:
    """Score one dialogue, or say how Consistency failed on it."""
    try:
        return consistency(dialogue)
    except Exception as exc:  # one dialogue's failure must not take the others with it
        return Failed(dialogue, "consistency", _described(exc))


def _derive_batch(state: _Derive, batch: list[Dialogue]) -> list[Derived]:
    """Augment and export a batch of kept dialogues (in a worker process, or here)."""
    return [_derived(state, parent) for parent in batch]


def _derived(state: _Derive, parent: Dialogue) -> Derived:
    """Augment and export one kept dialogue; if an augmenter or exporter raises, say which and how."""
    dialogues, skipped = [parent], []
    stage = ""
    try:
        for augmenter in state.augmenters:
            stage = f"augmenter {augmenter.name}"
            before = Counter(augmenter.skipped)
            dialogues.extend(augmenter.augment(parent))
            skipped.append(augmenter.skipped - before)
        exports = []
        for dialogue in dialogues:
            row = []
            for exporter in state.exporters:
                stage = f"export to {exporter.name}"
                row.append(exporter.export(dialogue))
            exports.append(row)
    except Exception as exc:  # the dialogue is rejected; its neighbours are not touched
        return Derived([parent], [], [], failed=Failed(parent, stage, _described(exc)))
    return Derived(dialogues, exports, skipped)


def _stratum(dialogue: Dialogue) -> str:
    """Return the split stratum of a dialogue: its source file and the main script of its first question."""
    path = dialogue.source.path if dialogue.source else ""
    question = next((t.content for t in dialogue.turns if t.role is Role.USER), "")
    counts = script_counts(question)
    return f"{path}|{max(sorted(counts), key=counts.__getitem__) if counts else 'none'}"


def _loss_line(dialogue: Dialogue, format: str, loss: Loss) -> dict[str, Any]:
    """Return one line of `issues.jsonl` for what an output format could not carry."""
    return {
        "id": dialogue.id,
        "source": _source(dialogue),
        "code": loss.code,
        "turn": None,
        "message": loss.message,
        "format": format,
    }


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
