"""The main job: ingest -> validate -> deduplicate and filter -> augment -> split and export -> report."""

from __future__ import annotations

import platform
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from dialogdata._io import JsonlWriter, dumps, sha256_file
from dialogdata.augmenters import Augmenter
from dialogdata.export import Staging, assign_split, check_output, check_ratios, get_exporter
from dialogdata.export.publish import SUCCESS
from dialogdata.ingest import FileReport, Reader, Reject
from dialogdata.registry import resolve
from dialogdata.reports import Metrics, write_summary
from dialogdata.schemas import Dialogue
from dialogdata.validators import Consistency, Issue
from dialogdata.validators.consistency import EMPTY_TURN, ENDS_WITH_USER, ROLE_ORDER

DEFAULT_DROP = (ROLE_ORDER, EMPTY_TURN, ENDS_WITH_USER)
DEFAULT_SPLITS = {"train": 0.9, "validation": 0.1}
FATES = ("kept", "rejected", "filtered", "deduplicated")
REPORT_REJECTS = 50
FileHook = Callable[[str, int, int], None]


@dataclass
class BuildResult:
    """What a build produced: fate counts, the gate's verdict and where the outputs are."""

    out: Path
    fates: dict[str, int]
    gate_passed: bool
    gate_reasons: list[str] = field(default_factory=list)

    @property
    def report(self) -> Path:
        """Path of the HTML summary report."""
        return self.out / "reports" / "summary.html"

    @property
    def exit_code(self) -> int:
        """0 when the gate passed, 1 when outputs were written but the gate failed."""
        return 0 if self.gate_passed else 1


def build(
    raw: str | Path | Sequence[str | Path],
    out: str | Path,
    *,
    to: str = "openai",
    format: str = "auto",
    mapping: str | Path | None = None,
    augment: Sequence[str] = (),
    seed: int = 0,
    splits: dict[str, float] | None = None,
    drop: Sequence[str] = DEFAULT_DROP,
    max_reject_share: float = 0.5,
    overwrite: bool = False,
    on_file: FileHook | None = None,
) -> BuildResult:
    """Run the whole job as `dialogdata build` does and publish `out` atomically.

    >>> result = build("examples/raw", "out/demo", overwrite=True)  # doctest: +SKIP
    >>> result.fates["kept"], result.report  # doctest: +SKIP
    """
    ratios = check_ratios(splits or DEFAULT_SPLITS)
    mapping_name = Path(mapping).name if mapping is not None else None
    options = _Options(to, format, mapping_name, tuple(augment), seed, ratios, tuple(drop))
    get_exporter(to)
    augmenters = [_augmenter(name, seed) for name in options.augment]
    out = Path(out)
    check_output(out, overwrite=overwrite)
    reader = Reader([raw] if isinstance(raw, str | Path) else list(raw), format=format, mapping=mapping)
    staging = Staging(out)
    try:
        run = _Run(staging.path, options, augmenters)
        try:
            run.execute(reader, on_file)
        finally:
            run.close()
        result = run.finish(out, max_reject_share)
        staging.publish()
    except BaseException:
        staging.discard()
        raise
    return result


@dataclass(frozen=True)
class _Options:
    """The options that shape the data files, recorded in the manifest."""

    to: str
    format: str
    mapping: str | None
    augment: tuple[str, ...]
    seed: int
    splits: dict[str, float]
    drop: tuple[str, ...]


def _augmenter(name: str, seed: int) -> Augmenter:
    """Return the built-in augmenter `name` (a `UsageError` lists them)."""
    cls: type[Augmenter] = resolve("augmenter", name)
    return cls(seed=seed)


class _Run:
    """The state of one build: open ledgers and split files, counters, metrics."""

    def __init__(self, folder: Path, options: _Options, augmenters: list[Augmenter]) -> None:
        self.folder = folder
        self.options = options
        self.augmenters = augmenters
        self.consistency = Consistency()
        self.exporter = get_exporter(options.to)
        self.metrics = Metrics()
        self.fates: dict[str, Counter[str]] = {}
        self.seen: dict[str, str] = {}
        self.reject_examples: list[Reject] = []
        self.reader: Reader | None = None
        self.ledgers = {
            name: JsonlWriter(folder / f"{name}.jsonl") for name in ("rejects", "filtered", "issues")
        }
        self.splits = {
            name: JsonlWriter(folder / f"{name}.jsonl") for name, ratio in options.splits.items() if ratio > 0
        }

    def reject(self, reject: Reject) -> None:
        """Write a reject to the ledger; keep the first few for the report."""
        self.ledgers["rejects"].write(reject.to_dict())
        if len(self.reject_examples) < REPORT_REJECTS:
            self.reject_examples.append(reject)

    def execute(self, reader: Reader, on_file: FileHook | None) -> None:
        """Stream every dialogue through the stages."""
        self.reader = reader
        reader.on_reject = self.reject
        for dialogue in _announce(reader, on_file):
            self._process(dialogue)

    def close(self) -> None:
        """Close the ledgers and split files."""
        for writer in (*self.ledgers.values(), *self.splits.values()):
            writer.close()

    def _process(self, dialogue: Dialogue) -> None:
        """Validate, deduplicate, filter, augment and write one dialogue."""
        scored, issues = self.consistency(dialogue)
        self.metrics.add_scored(scored, issues)
        for issue in issues:
            self.ledgers["issues"].write(_issue_line(scored, issue))
        fate = self._fate(scored, issues)
        self._count(scored, fate)
        if fate != "kept":
            return
        self._write(scored)
        for augmenter in self.augmenters:
            for child in augmenter.augment(scored):
                self._count(child, "augmented")
                self._write(child)

    def _fate(self, dialogue: Dialogue, issues: list[Issue]) -> str:
        """Decide deduplicated, filtered or kept, writing the ledger line for the first two."""
        first = self.seen.setdefault(dialogue.id, _where(dialogue))
        if first != _where(dialogue):
            line = _filtered_line(dialogue, "dedup.exact", f"exact duplicate of the dialogue at {first}")
            self.ledgers["filtered"].write({**line, "duplicate_of": {"id": dialogue.id, "source": first}})
            return "deduplicated"
        dropped = [i for i in issues if i.code in self.options.drop]
        if dropped:
            rule = f"drop dialogues with {dropped[0].code}"
            self.ledgers["filtered"].write(
                {**_filtered_line(dialogue, "filter.issue", rule), "issue": dropped[0].code}
            )
            return "filtered"
        return "kept"

    def _write(self, dialogue: Dialogue) -> None:
        """Write a dialogue into its split's file."""
        split = assign_split(dialogue, self.options.splits, seed=self.options.seed)
        self.splits[split].write(self.exporter(dialogue))
        self.metrics.add_written(dialogue, split)

    def _count(self, dialogue: Dialogue, fate: str) -> None:
        """Count a fate against the dialogue's source file."""
        path = dialogue.source.path if dialogue.source else "<memory>"
        self.fates.setdefault(path, Counter())[fate] += 1

    def finish(self, out: Path, max_reject_share: float) -> BuildResult:
        """Write metrics, the report and the manifest; `_SUCCESS` last, only when the gate passes."""
        assert self.reader is not None
        inputs = [self._input(report) for report in self.reader.reports]
        fates = _total(inputs)
        passed, reasons = _gate(fates, max_reject_share)
        gate = {"passed": passed, "reasons": reasons}
        metrics = {"fates": fates, "gate": gate, **self.metrics.to_dict()}
        (self.folder / "reports").mkdir(exist_ok=True)
        (self.folder / "reports" / "metrics.json").write_bytes(dumps(metrics))
        write_summary(self.folder / "reports" / "summary.html", self._report_context(inputs, fates, gate))
        manifest = self._manifest(inputs, fates, gate)
        (self.folder / "manifest.json").write_bytes(dumps(manifest))
        if passed:
            (self.folder / SUCCESS).write_bytes(b"")
        return BuildResult(out=out, fates=fates, gate_passed=passed, gate_reasons=reasons)

    def _input(self, report: FileReport) -> dict[str, Any]:
        """Return the manifest entry of one input file, with its fate counts."""
        counts = self.fates.get(report.path, Counter())
        fates = {"source_records": report.records}
        fates.update({name: counts[name] for name in FATES if name != "rejected"})
        fates["rejected"] = report.rejected
        fates["augmented"] = counts["augmented"]
        return {
            "path": report.path,
            "sha256": report.sha256,
            "container": report.container,
            "format": report.format,
            "compression": report.compression,
            "encoding": report.encoding,
            "evidence": report.evidence,
            "records": fates["source_records"],
            "fates": fates,
            "reject_codes": dict(sorted(report.reject_codes.items())),
        }

    def _report_context(
        self, inputs: list[dict[str, Any]], fates: dict[str, int], gate: dict[str, Any]
    ) -> dict[str, Any]:
        """Return what the summary template shows."""
        assert self.reader is not None
        return {
            "version": _version("dialogdata"),
            "seed": self.options.seed,
            "to": self.options.to,
            "gate": gate,
            "fates": fates,
            "inputs": inputs,
            "metrics": self.metrics.to_dict(),
            "issue_examples": dict(sorted(self.metrics.examples.items())),
            "reject_codes": dict(sorted(self.reader.reject_codes().items())),
            "rejects": self.reject_examples,
            "skipped": self.reader.skipped,
        }

    def _manifest(
        self, inputs: list[dict[str, Any]], fates: dict[str, int], gate: dict[str, Any]
    ) -> dict[str, Any]:
        """Return `manifest.json`: inputs, config, seed, versions, fates, gate and output hashes."""
        assert self.reader is not None
        outputs = [
            {
                "path": path.relative_to(self.folder).as_posix(),
                "sha256": sha256_file(path),
                "records": _records(path),
            }
            for path in sorted(self.folder.rglob("*"))
            if path.is_file()
        ]
        options = self.options
        return {
            "dialogdata": _version("dialogdata"),
            "config": {
                "to": options.to,
                "format": options.format,
                "mapping": options.mapping,
                "augment": list(options.augment),
                "splits": options.splits,
                "drop": list(options.drop),
            },
            "seed": options.seed,
            "versions": {
                "python": platform.python_version(),
                **{name: _version(name) for name in ("msgspec", "orjson", "jinja2", "typer")},
            },
            "fates": fates,
            "gate": gate,
            "inputs": inputs,
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.reader.skipped],
            "outputs": outputs,
        }


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
    return {
        "path": s.path,
        "line": s.line,
        "index": s.index,
        "key": s.key,
        "source_id": s.source_id,
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


def _filtered_line(dialogue: Dialogue, code: str, rule: str) -> dict[str, Any]:
    """Return one line of `filtered.jsonl`."""
    return {"id": dialogue.id, "source": _source(dialogue), "code": code, "rule": rule}


def _total(inputs: list[dict[str, Any]]) -> dict[str, int]:
    """Add the per-file fates into the corpus fates, with `written = kept + augmented`."""
    keys = ("source_records", *FATES, "augmented")
    fates = {key: sum(item["fates"][key] for item in inputs) for key in keys}
    fates["written"] = fates["kept"] + fates["augmented"]
    return fates


def _gate(fates: dict[str, int], max_reject_share: float) -> tuple[bool, list[str]]:
    """Return whether the output is fit to publish as complete, and why not."""
    reasons = []
    if fates["written"] == 0:
        reasons.append("no dialogue was written")
    source = fates["source_records"]
    if source and fates["rejected"] / source > max_reject_share:
        share = fates["rejected"] / source
        reasons.append(f"{share:.0%} of source records were rejected (limit {max_reject_share:.0%})")
    return not reasons, reasons


def _records(path: Path) -> int | None:
    """Return the number of lines of a JSON Lines output, None for other files."""
    if path.suffix != ".jsonl":
        return None
    with path.open("rb") as stream:
        return sum(1 for _ in stream)


def _version(name: str) -> str:
    """Return an installed distribution's version, or 'unknown'."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"
