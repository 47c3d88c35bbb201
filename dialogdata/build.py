"""The main job: ingest -> validate -> deduplicate and filter -> augment -> split and export -> report."""

from __future__ import annotations

import platform
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from dialogdata._io import dumps, sha256_file
from dialogdata._run import FileHook, Run, Stages
from dialogdata.augmenters import Augmenter
from dialogdata.config import construct, load_recipe
from dialogdata.export import Staging, check_output, check_ratios, get_exporter
from dialogdata.export.publish import SUCCESS
from dialogdata.filtering import Filter
from dialogdata.ingest import FileReport, Reader
from dialogdata.registry import AUGMENTERS, resolve
from dialogdata.reports import write_summary
from dialogdata.validators import Consistency
from dialogdata.validators.conflict import Conflict
from dialogdata.validators.coverage import Coverage

DEFAULT_SPLITS = {"train": 0.9, "validation": 0.1}
FATES = ("kept", "rejected", "filtered", "deduplicated")
SECTIONS: dict[str, Callable[..., Any] | dict[str, Callable[..., Any]]] = {
    "consistency": Consistency,
    "conflict": Conflict,
    "coverage": Coverage,
    "filter": Filter,
    "augment": {name: resolve("augmenter", name) for name in AUGMENTERS},
}


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


@dataclass(frozen=True)
class _Options:
    """The options that shape the outputs, recorded in the manifest."""

    mode: Literal["build", "validate"]
    to: str | None
    format: str
    mapping: str | None
    config: str | None
    augment: tuple[str, ...]
    seed: int
    splits: dict[str, float]
    recipe: dict[str, dict[str, Any]]


def build(
    raw: str | Path | Sequence[str | Path],
    out: str | Path,
    *,
    to: str = "openai",
    format: str = "auto",
    mapping: str | Path | None = None,
    config: str | Path | None = None,
    augment: Sequence[str] | None = None,
    ner_model: str | None = None,
    seed: int = 0,
    splits: dict[str, float] | None = None,
    drop: Sequence[str] | None = None,
    dedup: Literal["near", "exact", "none"] | None = None,
    max_reject_share: float = 0.5,
    overwrite: bool = False,
    on_file: FileHook | None = None,
) -> BuildResult:
    """Run the whole job as `dialogdata build` does and publish `out` atomically.

    `config` is a TOML recipe ([consistency], [conflict], [coverage], [filter], [augment.<name>]);
    `drop` and `dedup` override its [filter] section; `augment` names the augmenters to run (default:
    those with a section in the recipe).

    >>> result = build("examples/raw", "out/demo", overwrite=True)  # doctest: +SKIP
    >>> result.fates["kept"], result.report  # doctest: +SKIP
    """
    get_exporter(to)
    recipe = _recipe(config, drop, dedup)
    names = tuple(recipe["augment"]) if augment is None else tuple(augment)
    for name in names:
        resolve("augmenter", name)
    if ner_model is not None:
        recipe["augment"].setdefault("entities", {})["model"] = ner_model
    options = _Options(
        "build", to, format, _name(mapping), _name(config), names, seed,
        check_ratios(splits or DEFAULT_SPLITS), recipe,
    )  # fmt: skip
    return _execute(raw, Path(out), options, mapping, max_reject_share, overwrite, on_file)


def validate(
    raw: str | Path | Sequence[str | Path],
    out: str | Path,
    *,
    format: str = "auto",
    mapping: str | Path | None = None,
    config: str | Path | None = None,
    drop: Sequence[str] | None = None,
    dedup: Literal["near", "exact", "none"] | None = None,
    max_reject_share: float = 0.5,
    overwrite: bool = False,
    on_file: FileHook | None = None,
) -> BuildResult:
    """Ingest and validate as `build` does, writing issues, fates and reports, but no training files."""
    recipe = _recipe(config, drop, dedup)
    options = _Options("validate", None, format, _name(mapping), _name(config), (), 0, {"train": 1.0}, recipe)
    return _execute(raw, Path(out), options, mapping, max_reject_share, overwrite, on_file)


def _execute(
    raw: str | Path | Sequence[str | Path],
    out: Path,
    options: _Options,
    mapping: str | Path | None,
    max_reject_share: float,
    overwrite: bool,
    on_file: FileHook | None,
) -> BuildResult:
    """Check everything that can be checked, then run both passes in a staging folder and publish."""
    stages = _stages(options)
    check_output(out, overwrite=overwrite)
    reader = Reader(
        [raw] if isinstance(raw, str | Path) else list(raw), format=options.format, mapping=mapping
    )
    staging = Staging(out)
    try:
        run = Run(staging.path, stages, to=options.to, splits=options.splits, seed=options.seed)
        try:
            run.execute(reader, on_file)
        finally:
            run.close()
        result = _finish(run, options, out, max_reject_share)
        staging.publish()
    except BaseException:
        staging.discard()
        raise
    return result


def _recipe(
    config: str | Path | None, drop: Sequence[str] | None, dedup: str | None
) -> dict[str, dict[str, Any]]:
    """Load the recipe and apply the CLI's filter overrides."""
    recipe = load_recipe(config, SECTIONS)
    if drop is not None:
        recipe["filter"]["drop"] = list(drop)
    if dedup is not None:
        recipe["filter"]["dedup"] = dedup
    return recipe


def _stages(options: _Options) -> Stages:
    """Construct the validators, filter and augmenters from the recipe."""
    built = {
        name: construct(factory, options.recipe[name], section=name)
        for name, factory in SECTIONS.items()
        if callable(factory)
    }
    augmenters = make_augmenters(options.augment, options.recipe["augment"], options.seed)
    return Stages(built["consistency"], built["conflict"], built["coverage"], built["filter"], augmenters)


def augmenters_from(
    names: Sequence[str],
    *,
    config: str | Path | None = None,
    seed: int = 0,
    ner_model: str | None = None,
) -> list[Augmenter]:
    """Construct augmenters by name with the options of a recipe's [augment.NAME] sections."""
    # The whole recipe is checked, so one file serves `build` and `augment` alike.
    options = load_recipe(config, SECTIONS)["augment"]
    if ner_model is not None:
        options.setdefault("entities", {})["model"] = ner_model
    return make_augmenters(names, options, seed)


def make_augmenters(
    names: Sequence[str], recipe: Mapping[str, Mapping[str, Any]], seed: int
) -> list[Augmenter]:
    """Construct the built-in augmenters `names` with their recipe options and the run's seed."""
    augmenters = []
    for name in names:
        cls: type[Augmenter] = resolve("augmenter", name)
        augmenters.append(construct(cls, {**recipe.get(name, {}), "seed": seed}, section=f"augment.{name}"))
    return augmenters


def _name(path: str | Path | None) -> str | None:
    """The file name of an option path, for the manifest (never an absolute path of this machine)."""
    return Path(path).name if path is not None else None


def _finish(run: Run, options: _Options, out: Path, max_reject_share: float) -> BuildResult:
    """Write metrics, the report and the manifest; `_SUCCESS` last, only when the gate passes."""
    assert run.reader is not None and run.conflict is not None and run.coverage is not None
    inputs = [_input(report, run.fates.get(report.path, Counter())) for report in run.reader.reports]
    fates = _total(inputs)
    passed, reasons = _gate(fates, max_reject_share, options.mode)
    gate = {"passed": passed, "reasons": reasons}
    corpus = {"conflict": run.conflict.metrics, "coverage": _coverage(run)}
    metrics = {"fates": fates, "gate": gate, **run.metrics.to_dict(), **corpus}
    (run.folder / "reports").mkdir(exist_ok=True)
    (run.folder / "reports" / "metrics.json").write_bytes(dumps(metrics))
    write_summary(run.folder / "reports" / "summary.html", _report_context(run, options, inputs, metrics))
    (run.folder / "manifest.json").write_bytes(dumps(_manifest(run, options, inputs, fates, gate)))
    if passed:
        (run.folder / SUCCESS).write_bytes(b"")
    return BuildResult(out=out, fates=fates, gate_passed=passed, gate_reasons=reasons)


def _coverage(run: Run) -> dict[str, Any]:
    """Return the coverage figures: score, cells and the validator's own metrics."""
    assert run.coverage is not None
    cells = [_cell(c) for c in run.coverage.cells]
    return {"score": run.coverage.score, "cells": cells, **run.coverage.metrics}


def _cell(cell: Any) -> dict[str, Any]:
    """Return a coverage cell as plain JSON."""
    import msgspec

    value: dict[str, Any] = msgspec.to_builtins(cell)
    return value


def _input(report: FileReport, counts: Counter[str]) -> dict[str, Any]:
    """Return the manifest entry of one input file, with its fate counts."""
    fates = {"source_records": report.records}
    fates.update({name: counts[name] for name in FATES if name != "rejected"})
    fates["rejected"] = report.rejected
    fates["augmented"] = counts["augmented"]
    return {
        "path": report.path,
        "sha256": report.sha256,
        "container": report.container,
        "compression": report.compression,
        "encoding": report.encoding,
        "format": report.format,
        "evidence": report.evidence,
        "records": fates["source_records"],
        "fates": fates,
        "reject_codes": dict(sorted(report.reject_codes.items())),
    }


def _report_context(
    run: Run, options: _Options, inputs: list[dict[str, Any]], metrics: dict[str, Any]
) -> dict[str, Any]:
    """Return what the summary template shows."""
    assert run.reader is not None
    return {
        "version": _version("dialogdata"),
        "mode": options.mode,
        "seed": options.seed,
        "to": options.to or "none (validate)",
        "gate": metrics["gate"],
        "fates": metrics["fates"],
        "inputs": inputs,
        "metrics": metrics,
        "issue_examples": dict(sorted(run.metrics.examples.items())),
        "reject_codes": dict(sorted(run.reader.reject_codes().items())),
        "rejects": run.reject_examples,
        "skipped": run.reader.skipped,
    }


def _manifest(
    run: Run, options: _Options, inputs: list[dict[str, Any]], fates: dict[str, int], gate: dict[str, Any]
) -> dict[str, Any]:
    """Return `manifest.json`: inputs, config, seed, versions, fates, gate and output hashes."""
    assert run.reader is not None
    outputs = [
        {
            "path": path.relative_to(run.folder).as_posix(),
            "sha256": sha256_file(path),
            "records": _records(path),
        }
        for path in sorted(run.folder.rglob("*"))
        if path.is_file()
    ]
    return {
        "dialogdata": _version("dialogdata"),
        "mode": options.mode,
        "config": {
            "to": options.to,
            "format": options.format,
            "mapping": options.mapping,
            "recipe_file": options.config,
            "augment": list(options.augment),
            "splits": options.splits,
            "recipe": options.recipe,
        },
        "seed": options.seed,
        "versions": {
            "python": platform.python_version(),
            **{name: _version(name) for name in ("msgspec", "orjson", "rapidfuzz", "numpy", "pyarrow")},
        },
        "fates": fates,
        "gate": gate,
        "inputs": inputs,
        "skipped": [{"path": s.path, "reason": s.reason} for s in run.reader.skipped],
        "outputs": outputs,
    }


def _total(inputs: list[dict[str, Any]]) -> dict[str, int]:
    """Add the per-file fates into the corpus fates, with `written = kept + augmented`."""
    keys = ("source_records", *FATES, "augmented")
    fates = {key: sum(item["fates"][key] for item in inputs) for key in keys}
    fates["written"] = fates["kept"] + fates["augmented"]
    return fates


def _gate(fates: dict[str, int], max_reject_share: float, mode: str) -> tuple[bool, list[str]]:
    """Return whether the output is fit to publish as complete, and why not."""
    reasons = []
    if fates["written"] == 0 and mode == "build":
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
