"""The main job: ingest -> validate -> deduplicate and filter -> augment -> split and export -> report."""

from __future__ import annotations

import contextlib
import errno
import platform
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, TypedDict, Unpack

from dialogdata._io import dumps, sha256_file
from dialogdata._progress import NoProgress, Progress
from dialogdata._run import Run, Stages
from dialogdata.augmenters import Augmenter
from dialogdata.config import construct, load_recipe
from dialogdata.errors import AccountingError, DialogdataError, OutputError, UsageError
from dialogdata.export import Staging, check_output, check_ratios, get_exporter
from dialogdata.export.publish import SUCCESS, lock_output
from dialogdata.filtering import Filter
from dialogdata.ingest import FileReport, Reader
from dialogdata.options import ExportOptions, GateOptions, IngestOptions, RunOptions, SplitOptions
from dialogdata.registry import AUGMENTERS, resolve
from dialogdata.reports import write_reports
from dialogdata.validators import Consistency
from dialogdata.validators.conflict import Conflict
from dialogdata.validators.coverage import Coverage

FATES = ("kept", "rejected", "filtered", "deduplicated")
GX_FOLDER = "reports/gx"
SECTIONS: dict[str, Callable[..., Any] | dict[str, Callable[..., Any]]] = {
    "run": RunOptions,
    "ingest": IngestOptions,
    "consistency": Consistency,
    "conflict": Conflict,
    "coverage": Coverage,
    "filter": Filter,
    "augment": {name: resolve("augmenter", name) for name in AUGMENTERS},
    "export": ExportOptions,
    "splits": SplitOptions,
    "gate": GateOptions,
}


@dataclass
class BuildResult:
    """What a build produced: fate counts, scores, the gate's verdict and checks, and where outputs are."""

    out: Path
    fates: dict[str, int]
    gate_passed: bool
    gate_reasons: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    gate_checks: list[dict[str, Any]] = field(default_factory=list)

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
    """The effective options of a run: the recipe after flags, and the sections it constructs."""

    mode: Literal["build", "validate"]
    config: str | None
    recipe: dict[str, dict[str, Any]]
    run: RunOptions
    ingest: IngestOptions
    export: ExportOptions
    splits: SplitOptions
    gate: GateOptions

    @property
    def seed(self) -> int:
        """The run's one seed."""
        return self.run.seed

    @property
    def augment(self) -> tuple[str, ...]:
        """The augmenters that run, in recipe order."""
        return tuple(self.recipe["augment"]) if self.mode == "build" else ()

    @property
    def formats(self) -> tuple[str, ...]:
        """The output formats (none when validating)."""
        return self.export.formats if self.mode == "build" else ()


class Overrides(TypedDict, total=False):
    """Options that override their recipe section when given (the CLI's flags)."""

    to: str | Sequence[str] | None
    format: str | None
    mapping: str | Path | None
    augment: Sequence[str] | None
    ner_model: str | None
    seed: int | None
    workers: int | None
    engine: Literal["local", "ray"] | None
    ray_address: str | None
    splits: Mapping[str, float] | None
    validation: float | None
    test: float | None
    drop: Sequence[str] | None
    dedup: Literal["near", "exact", "none"] | None
    max_reject_share: float | None


def build(
    raw: str | Path | Sequence[str | Path],
    out: str | Path,
    *,
    config: str | Path | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
    **overrides: Unpack[Overrides],
) -> BuildResult:
    """Run the whole job as `dialogdata build` does and publish `out` atomically.

    `config` is a TOML recipe (see `SECTIONS`); each of `overrides` (`to`, `format`, `mapping`,
    `augment`, `ner_model`, `seed`, `workers`, `engine`, `ray_address`, `splits`, `validation`, `test`,
    `drop`, `dedup`, `max_reject_share`) overrides its section of the recipe when given. `augment`
    names the augmenters to run (default: those with an [augment.NAME] section); `to` is one format
    or several.

    >>> result = build("examples/raw", "out/demo", overwrite=True)  # doctest: +SKIP
    >>> result.fates["kept"], result.report  # doctest: +SKIP
    """
    options = _options("build", config, effective_recipe(config, **overrides))
    return _execute(raw, Path(out), options, overwrite, progress or NoProgress())


def validate(
    raw: str | Path | Sequence[str | Path],
    out: str | Path,
    *,
    config: str | Path | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
    **overrides: Unpack[Overrides],
) -> BuildResult:
    """Ingest and validate as `build` does, writing issues, fates and reports, but no training files."""
    overrides["augment"] = ()  # validating never augments
    options = _options("validate", config, effective_recipe(config, **overrides))
    return _execute(raw, Path(out), options, overwrite, progress or NoProgress())


def effective_recipe(config: str | Path | None, **overrides: Unpack[Overrides]) -> dict[str, dict[str, Any]]:
    """Return the recipe file's sections with every given option put over them (flags win)."""
    given: dict[str, Any] = {key: value for key, value in overrides.items() if value is not None}
    unknown = sorted(set(given) - set(Overrides.__annotations__))
    if unknown:
        raise UsageError(
            f"unknown option {unknown[0]!r}; expected one of: {', '.join(Overrides.__annotations__)}"
        )
    recipe = load_recipe(config, SECTIONS)
    to, mapping, drop = given.get("to"), given.get("mapping"), given.get("drop")
    _put(recipe["run"], seed=given.get("seed"), workers=given.get("workers"), engine=given.get("engine"))
    _put(recipe["run"], ray_address=given.get("ray_address"))
    _put(recipe["ingest"], format=given.get("format"), mapping=None if mapping is None else str(mapping))
    _put(recipe["export"], to=[to] if isinstance(to, str) else None if to is None else list(to))
    _put(recipe["filter"], drop=None if drop is None else list(drop), dedup=given.get("dedup"))
    _put(recipe["gate"], max_reject_share=given.get("max_reject_share"))
    if "splits" in given:
        ratios = check_ratios(given["splits"])
        _put(recipe["splits"], validation=ratios["validation"], test=ratios["test"])
    _put(recipe["splits"], validation=given.get("validation"), test=given.get("test"))
    if "augment" in given:
        for name in given["augment"]:
            resolve("augmenter", name)
        recipe["augment"] = {name: recipe["augment"].get(name, {}) for name in given["augment"]}
    if "ner_model" in given and "entities" in recipe["augment"]:
        recipe["augment"]["entities"]["model"] = given["ner_model"]
    # The near-duplicate search is the one corpus stage with its own workers; it follows the run's.
    if "workers" in recipe["run"]:
        recipe["conflict"].setdefault("workers", recipe["run"]["workers"])
    return recipe


def _factory(name: str) -> Callable[..., Any]:
    """Return the constructor of a plain (not nested) recipe section."""
    factory = SECTIONS[name]
    assert callable(factory)
    return factory


def _put(section: dict[str, Any], **values: Any) -> None:
    """Set the options that were given (not None) in a recipe section."""
    section.update({key: value for key, value in values.items() if value is not None})


def _options(
    mode: Literal["build", "validate"], config: str | Path | None, recipe: dict[str, Any]
) -> _Options:
    """Construct the run's own sections (a bad value is a `ConfigError` naming its section)."""
    sections = {
        name: construct(_factory(name), recipe[name], section=name)
        for name in ("run", "ingest", "export", "splits", "gate")
    }
    options = _Options(mode, _name(config), recipe, **sections)
    for name in options.formats:
        get_exporter(name)
    return options


def print_config(recipe: dict[str, dict[str, Any]]) -> str:
    """Return the effective recipe as TOML, every option shown with its value or default."""
    import tomli_w

    full: dict[str, Any] = {}
    for name, factory in SECTIONS.items():
        if isinstance(factory, dict):
            full[name] = {
                sub: _with_defaults(factory[sub], recipe[name][sub], "seed") for sub in recipe[name]
            }
        else:
            full[name] = _with_defaults(factory, recipe[name])
    return tomli_w.dumps(full)


def _with_defaults(factory: Callable[..., Any], section: Mapping[str, Any], *reserved: str) -> dict[str, Any]:
    """Return a section's options over the constructor's defaults; unset (None) ones are left out."""
    import inspect

    parameters = inspect.signature(factory).parameters.values()
    defaults = {p.name: p.default for p in parameters if p.kind is p.KEYWORD_ONLY and p.name not in reserved}
    merged = {**defaults, **section}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in merged.items() if v is not None}


def _execute(
    raw: str | Path | Sequence[str | Path], out: Path, options: _Options, overwrite: bool, progress: Progress
) -> BuildResult:
    """Check everything that can be checked, then run both passes in a staging folder and publish."""
    # One run per OUT at a time; the lock also cleans up after a run that was killed.
    with lock_output(out):
        stages = _stages(options)
        check_output(out, overwrite=overwrite)
        inputs = [raw] if isinstance(raw, str | Path) else list(raw)
        reader = Reader(inputs, format=options.ingest.format, mapping=options.ingest.mapping)
        staging = Staging(out)
        try:
            with _engine(options.run) as factory:
                run = factory(staging.path, stages, formats=options.formats, splits=options.splits,
                              seed=options.seed, workers=options.run.workers, progress=progress)  # fmt: skip
                try:
                    run.execute(reader)
                finally:
                    run.close()
            result = _finish(run, options, out)
            staging.publish()
        except OSError as exc:
            staging.discard()
            if isinstance(exc, DialogdataError):
                raise
            raise _output_error(exc, out) from exc
        except BaseException:
            staging.discard()
            raise
        return result


def _output_error(exc: OSError, out: Path) -> OutputError:
    """Return the one-line error for a failure to write OUT's staging folder (a full disk, say)."""
    hint = "free some space" if exc.errno == errno.ENOSPC else "check that OUT's folder is writable"
    return OutputError(
        f"cannot write the output ({exc.strerror or exc}); nothing was published: {hint}, or choose another "
        "OUT",
        path=str(out),
    )


@contextlib.contextmanager
def _engine(run: RunOptions) -> Iterator[type[Run]]:
    """Yield the run class of the chosen engine, inside a Ray session for `ray`."""
    if run.engine == "local":
        yield Run
        return
    from dialogdata.engines.ray import RayRun, session

    # A local Ray instance gets --workers CPUs when more than one is asked for, else every CPU.
    with session(run.ray_address, run.workers if run.workers > 1 else None):
        yield RayRun


def _stages(options: _Options) -> Stages:
    """Construct the validators, filter and augmenters from the recipe."""
    built = {
        name: construct(_factory(name), options.recipe[name], section=name)
        for name in ("consistency", "conflict", "coverage", "filter")
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


def _finish(run: Run, options: _Options, out: Path) -> BuildResult:
    """Gather the figures, then run the expectations and write the reports and the manifest."""
    assert run.reader is not None and run.conflict is not None and run.coverage is not None
    inputs = [_input(report, run.fates.get(report.path, Counter())) for report in run.reader.reports]
    fates = _total(inputs)
    _check_accounting(run, inputs, fates)
    metrics = {
        "fates": fates,
        **run.metrics.to_dict(),
        "conflict": run.conflict.metrics,
        "coverage": _coverage(run),
        "export": run.export_metrics(),
        "augmenters": {a.name: {"skipped": dict(sorted(a.skipped.items()))} for a in run.stages.augmenters},
        **_report_figures(run, options, inputs),
    }
    manifest = _manifest(run, options, inputs, fates)
    return _publish_reports(run.folder, out, metrics, manifest, options.gate)


def _check_accounting(run: Run, inputs: list[dict[str, Any]], fates: dict[str, int]) -> None:
    """Raise `AccountingError` unless every record has one fate and every written dialogue was written."""
    problems = []
    unknown = sorted(set(run.fates) - {i["path"] for i in inputs})
    if unknown:
        problems.append(f"fates counted for paths that were never read: {unknown[:3]}")
    for item in inputs:
        counted = sum(item["fates"][key] for key in FATES)
        if counted != item["fates"]["source_records"]:
            problems.append(f"{item['path']}: {item['fates']['source_records']} records but {counted} fates")
    rows = run.table.count
    if rows != fates["written"]:
        problems.append(f"{fates['written']} dialogues written but {rows} rows in dialogues.parquet")
    for name, output in run.export_metrics()["formats"].items():
        lines = sum(output["written"].values()) + output["not_written"]
        if lines != fates["written"]:
            problems.append(f"{fates['written']} dialogues written but {lines} accounted for in {name}")
    if problems:
        raise AccountingError(
            "the run's counts do not add up, so nothing was published (a bug in dialogdata; please report "
            f"it): {'; '.join(problems)}"
        )


def report(out: str | Path) -> BuildResult:
    """Rebuild the reports, the expectation results and the gate's verdict of an existing output folder.

    >>> report("out/demo").gate_passed  # doctest: +SKIP
    """
    out = Path(out)
    with lock_output(out):
        manifest, metrics = _read_output(out)
        recipe = manifest.get("config", {}).get("recipe", {})
        gate = construct(GateOptions, recipe.get("gate", {}), section="gate")
        # Not complete until the new verdict says so.
        (out / SUCCESS).unlink(missing_ok=True)
        return _publish_reports(out, out, metrics, manifest, gate)


def _read_output(out: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read an output folder's manifest and metrics, or raise a `UsageError` saying what is missing."""
    import orjson

    documents = []
    for path in (out / "manifest.json", out / "reports" / "metrics.json"):
        try:
            documents.append(orjson.loads(path.read_bytes()))
        except (OSError, orjson.JSONDecodeError) as exc:
            raise UsageError(
                f"not a dialogdata output folder ({path.relative_to(out)}: {exc}); "
                "run dialogdata build first",
                path=str(out),
            ) from None
    return documents[0], documents[1]


def _publish_reports(
    folder: Path, out: Path, metrics: dict[str, Any], manifest: dict[str, Any], gate: GateOptions
) -> BuildResult:
    """Decide the gate (own checks and the expectation suite); write metrics, reports, manifest, _SUCCESS."""
    from dialogdata.reports.gx import run_expectations

    mode = str(manifest.get("mode", "build"))
    checks = gate_checks(gate, mode, metrics["fates"], metrics, metrics)
    metrics["gate"] = _verdict(checks)
    reports = folder / "reports"
    reports.mkdir(exist_ok=True)
    # The expectation suite reads the data files and these figures, so they are written first.
    (reports / "metrics.json").write_bytes(dumps(metrics))
    outcome = run_expectations(folder, gate, recipe=manifest.get("config", {}).get("recipe", {}))
    failed = len(outcome.failed)
    checks.append(_check("failed expectations", failed, 0, "max", "expectations failed (see reports/gx)"))
    metrics["gate"] = _verdict(checks)
    metrics["expectations"] = _expectations(outcome.to_dict(), folder)
    (reports / "metrics.json").write_bytes(dumps(metrics))
    write_reports(folder / "reports", metrics)
    manifest["gate"] = metrics["gate"]
    manifest["outputs"] = _outputs(folder)
    (folder / "manifest.json").write_bytes(dumps(manifest))
    passed = metrics["gate"]["passed"]
    if passed:
        (folder / SUCCESS).write_bytes(b"")
    scores = {name: value["mean"] for name, value in metrics["scores"].items() if value["mean"] is not None}
    reasons = metrics["gate"]["reasons"]
    return BuildResult(out=out, fates=metrics["fates"], gate_passed=passed, gate_reasons=reasons,
                       scores=scores, gate_checks=checks)  # fmt: skip


def _verdict(checks: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the gate's verdict from its checks."""
    reasons = [check["message"] for check in checks if not check["passed"]]
    return {"passed": not reasons, "reasons": reasons, "checks": checks}


def _expectations(outcome: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Return the expectation results for metrics.json, with paths relative to the output folder."""
    paths = [Path(p).relative_to(folder).as_posix() for p in outcome["paths"]]
    return {**outcome, "paths": paths}


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


def _report_figures(run: Run, options: _Options, inputs: list[dict[str, Any]]) -> dict[str, Any]:
    """Return what the report shows beyond the counts, so it can be rebuilt from `metrics.json` alone."""
    assert run.reader is not None
    return {
        "run": {
            "dialogdata": _version("dialogdata"),
            "mode": options.mode,
            "seed": options.seed,
            "to": list(options.formats),
            "augment": list(options.augment),
        },
        "inputs": [
            {key: item[key] for key in ("path", "container", "encoding", "format", "evidence", "fates")}
            for item in inputs
        ],
        "skipped": [{"path": s.path, "reason": s.reason} for s in run.reader.skipped],
        "issue_examples": dict(sorted(run.metrics.examples.items())),
        "rejects": {
            "by_code": dict(sorted(run.reader.reject_codes().items())),
            "examples": [reject.to_dict() for reject in run.reject_examples],
        },
    }


def _outputs(folder: Path) -> list[dict[str, Any]]:
    """Return every file under the output folder with its hash and line count (manifest and marker aside).

    Great Expectations' own files (reports/gx/) carry run times and ids, so they are named as one entry
    without a hash: the manifest stays byte-identical between identical runs.
    """
    files = [
        {"path": path.relative_to(folder).as_posix(), "sha256": sha256_file(path), "records": _records(path)}
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name not in ("manifest.json", SUCCESS)
    ]
    kept = [f for f in files if not str(f["path"]).startswith(f"{GX_FOLDER}/")]
    if len(kept) < len(files):
        kept.append({"path": f"{GX_FOLDER}/", "sha256": None, "records": None})
    return sorted(kept, key=lambda f: str(f["path"]))


def _manifest(
    run: Run, options: _Options, inputs: list[dict[str, Any]], fates: dict[str, int]
) -> dict[str, Any]:
    """Return `manifest.json` without the gate and the outputs, which come last."""
    assert run.reader is not None
    return {
        "dialogdata": _version("dialogdata"),
        "mode": options.mode,
        "config": {
            "to": list(options.formats),
            "format": options.ingest.format,
            "mapping": _name(options.ingest.mapping),
            "recipe_file": options.config,
            "augment": list(options.augment),
            "splits": options.splits.ratios if options.mode == "build" else {"train": 1.0},
            "workers": options.run.workers,
            "engine": options.run.engine,
            "recipe": _portable(options.recipe),
        },
        "seed": options.seed,
        "versions": {
            "python": platform.python_version(),
            **{name: _version(name) for name in ("msgspec", "orjson", "rapidfuzz", "numpy", "pyarrow")},
        },
        "fates": fates,
        "inputs": inputs,
        "skipped": [{"path": s.path, "reason": s.reason} for s in run.reader.skipped],
    }


def _portable(recipe: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Return the recipe for the manifest: paths cut to their file names, so no machine's paths leak."""
    ingest = dict(recipe["ingest"])
    if ingest.get("mapping") is not None:
        ingest["mapping"] = _name(ingest["mapping"])
    # Workers and engine change how fast, never what: leaving them out keeps manifests equal across them.
    run = {k: v for k, v in recipe["run"].items() if k not in ("workers", "engine", "ray_address")}
    conflict = {k: v for k, v in recipe["conflict"].items() if k != "workers"}
    return {**recipe, "ingest": ingest, "run": run, "conflict": conflict}


def _total(inputs: list[dict[str, Any]]) -> dict[str, int]:
    """Add the per-file fates into the corpus fates, with `written = kept + augmented`."""
    keys = ("source_records", *FATES, "augmented")
    fates = {key: sum(item["fates"][key] for item in inputs) for key in keys}
    fates["written"] = fates["kept"] + fates["augmented"]
    return fates


def gate_checks(
    gate: GateOptions,
    mode: str,
    fates: Mapping[str, int],
    figures: Mapping[str, Any],
    corpus: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Return the quality gate's checks: name, value, threshold, passed and a message."""
    source = fates["source_records"] or 1
    checks = [_check("reject share", fates["rejected"] / source, gate.max_reject_share, "max",
                     "of source records were rejected")]  # fmt: skip
    if mode == "build":
        checks.append(_check("dialogues written", fates["written"], 1, "min", "dialogues were written"))
        leaks = corpus["export"]["leakage"]["groups_across_splits"]
        checks.append(_check("groups across splits", leaks, 0, "max", "groups of relatives span splits"))
    if gate.max_filtered_share is not None:
        share = fates["filtered"] / source
        checks.append(_check("filtered share", share, gate.max_filtered_share, "max", "were filtered"))
    if gate.max_duplicate_share is not None:
        share = fates["deduplicated"] / source
        checks.append(_check("duplicate share", share, gate.max_duplicate_share, "max", "were duplicates"))
    mean = figures["scores"].get("consistency", {}).get("mean")
    if gate.min_consistency is not None and mean is not None:
        checks.append(_check("mean consistency", mean, gate.min_consistency, "min", "mean consistency"))
    if gate.require_coverage:
        short = sum(1 for cell in corpus["coverage"]["cells"] if cell.get("status") != "filled")
        checks.append(_check("coverage cells short", short, 0, "max", "checklist cells are thin or missing"))
    return checks


def _check(name: str, value: float, threshold: float, kind: str, what: str) -> dict[str, Any]:
    """Return one gate check; shares are shown as percentages in the message."""
    passed = value <= threshold if kind == "max" else value >= threshold
    share = isinstance(value, float) and 0 <= threshold <= 1 and name.endswith("share")
    shown = f"{value:.1%}" if share else f"{value:g}"
    limit = f"{threshold:.1%}" if share else f"{threshold:g}"
    bound = "at most {} allowed" if kind == "max" else "at least {} required"
    return {
        "name": name,
        "value": round(value, 6) if isinstance(value, float) else value,
        "threshold": threshold,
        "kind": kind,
        "passed": passed,
        "message": f"{shown} {what} ({bound.format(limit)})",
    }


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
