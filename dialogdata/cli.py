"""The `dialogdata` command: thin typer commands over the library."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from dialogdata.errors import DialogdataError

app = typer.Typer(
    name="dialogdata",
    help="Turn raw dialogue files into clean, scored, augmented, fine-tuning-ready JSONL with a report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    """Print the version and stop."""
    if value:
        from dialogdata import __version__

        typer.echo(f"dialogdata {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = False,
) -> None:
    """Turn raw dialogue files into clean, scored, augmented, fine-tuning-ready JSONL with a report."""


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="A TOML recipe: [run], [ingest], [consistency], [conflict], [coverage], [filter], "
        "[augment.NAME], [export], [splits], [gate].",
    ),
]
MappingOption = Annotated[
    Path | None, typer.Option("--mapping", help="A mapping file (TOML or JSON) for shapes not detected.")
]
FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format", help="Input format (openai, sharegpt, chatglm3, alpaca, ...), or auto per file."
    ),
]
DropOption = Annotated[
    str | None,
    typer.Option(
        "--drop", help="Comma-separated issue codes that drop a dialogue (default: see the README)."
    ),
]
DedupOption = Annotated[
    str | None, typer.Option("--dedup", help="Drop near and exact duplicates (near), exact only, or none.")
]
OverwriteOption = Annotated[bool, typer.Option("--overwrite", help="Replace OUT if it is not empty.")]
NerModelOption = Annotated[
    str | None,
    typer.Option(
        "--ner-model",
        help="A spaCy pipeline (installed name or path) whose NER feeds the entities augmenter, "
        "besides the gazetteer. Never downloaded.",
    ),
]


WorkersOption = Annotated[
    int | None, typer.Option("--workers", help="Worker processes for the per-dialogue stages (default 1).")
]


@app.command()
def build(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="RAW... OUT: input files or folders, then the output folder.", show_default=False
        ),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="Output format(s), comma-separated: openai, sharegpt, chatglm3, alpaca (default openai; "
            "several give one subfolder each).",
        ),
    ] = None,
    format: FormatOption = None,
    mapping: MappingOption = None,
    config: ConfigOption = None,
    augment: Annotated[
        str | None,
        typer.Option(
            "--augment",
            help="Comma-separated augmenters (role_swap, entities, adversarial), or none "
            "(default: those with an [augment.NAME] section in --config).",
        ),
    ] = None,
    ner_model: NerModelOption = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed for augmentation and splits (default 0).")
    ] = None,
    workers: WorkersOption = None,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            help="Where the stages run: local (this machine, default) or ray (Ray Data; needs "
            'pip install "dialogdata[ray]"). Both write byte-identical data files.',
        ),
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            help="With --engine ray: the cluster to join (e.g. 10.0.0.1:6379 or ray://host:10001). "
            "Default: start a local Ray instance with --workers CPUs (all when not given).",
        ),
    ] = None,
    validation: Annotated[
        float | None, typer.Option("--validation", help="Share of dialogues in validation (default 0.1).")
    ] = None,
    test: Annotated[
        float | None, typer.Option("--test", help="Share of dialogues in test (default 0).")
    ] = None,
    drop: DropOption = None,
    dedup: DedupOption = None,
    overwrite: OverwriteOption = False,
    show_config: Annotated[
        bool,
        typer.Option(
            "--print-config", help="Print the effective recipe (file + flags + defaults) as TOML and exit."
        ),
    ] = False,
) -> None:
    """Ingest, validate, deduplicate, filter, augment and export RAW... into OUT, with a report.

    Flags override the recipe given with --config. Exit codes: 0 success; 1 written but the quality gate
    failed (no _SUCCESS); 2 usage or config error; 3 fatal.
    """
    from dialogdata.build import build as run_build
    from dialogdata.build import effective_recipe, print_config

    options: dict[str, Any] = {
        "to": None if to is None else _names(to),
        "format": format,
        "mapping": mapping,
        "augment": None if augment is None else _names(augment),
        "ner_model": ner_model,
        "seed": seed,
        "workers": workers,
        "engine": engine,
        "ray_address": ray_address,
        "validation": validation,
        "test": test,
        "drop": None if drop is None else _names(drop),
        "dedup": dedup,
    }
    if show_config:
        recipe = _guard(effective_recipe, config, **options)
        typer.echo(_guard(print_config, recipe), nl=False)
        return
    if paths is None or len(paths) < 2:
        raise _usage("build needs at least one RAW input and an OUT folder: dialogdata build RAW... OUT")
    from dialogdata._progress import progress_for_terminal

    with progress_for_terminal() as progress:
        result = _guard(
            run_build, paths[:-1], paths[-1], config=config, overwrite=overwrite, progress=progress, **options
        )
    _print_summary(result)
    raise typer.Exit(result.exit_code)


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Input files or folders.")],
    report: Annotated[
        Path, typer.Option("--report", help="Folder for issues, fates, dialogues.parquet and the reports.")
    ] = Path("dialogdata-report"),
    format: FormatOption = None,
    mapping: MappingOption = None,
    config: ConfigOption = None,
    workers: WorkersOption = None,
    drop: DropOption = None,
    dedup: DedupOption = None,
    overwrite: OverwriteOption = False,
) -> None:
    """Score RAW... and report issues and what would be dropped, without augmenting or exporting.

    Exit codes as for build.
    """
    from dialogdata._progress import progress_for_terminal
    from dialogdata.build import validate as run_validate

    with progress_for_terminal() as progress:
        result = _guard(
            run_validate, paths, report, format=format, mapping=mapping, config=config, workers=workers,
            drop=None if drop is None else _names(drop), dedup=dedup, overwrite=overwrite, progress=progress,
        )  # fmt: skip
    _print_summary(result)
    raise typer.Exit(result.exit_code)


@app.command()
def report(
    out: Annotated[Path, typer.Argument(help="An output folder written by build or validate.")],
) -> None:
    """Rebuild OUT's reports (summary.html, summary.md, metrics.json, reports/gx) and the gate's verdict.

    The data files are left as they are; _SUCCESS is rewritten by the new verdict. Exit codes as for build.
    """
    from dialogdata.build import report as run_report

    result = _guard(run_report, out)
    _print_summary(result)
    raise typer.Exit(result.exit_code)


def _names(text: str) -> list[str]:
    """Split a comma-separated option; `none` is the empty list."""
    return [] if text.strip().lower() == "none" else [n.strip() for n in text.split(",") if n.strip()]


@app.command("augment")
def augment_command(
    paths: Annotated[
        list[Path], typer.Argument(help="IN... OUT: input files or folders, then the output file.")
    ],
    op: Annotated[
        str, typer.Option("--op", help="Comma-separated augmenters: role_swap, entities, adversarial.")
    ],
    to: Annotated[
        str,
        typer.Option(
            "--to", help="Output format: openai, sharegpt, chatglm3, alpaca, or dialogdata (canonical)."
        ),
    ] = "openai",
    format: FormatOption = "auto",
    mapping: MappingOption = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="A TOML recipe; its [augment.NAME] sections set options.")
    ] = None,
    ner_model: NerModelOption = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every augmenter.")] = 0,
    only_augmented: Annotated[
        bool, typer.Option("--only-augmented", help="Write the augmented dialogues only, not the originals.")
    ] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace OUT if it exists.")] = False,
) -> None:
    """Run augmenters over IN... and write one JSONL file: each dialogue followed by its augmented ones.

    Rejected input records go to OUT.rejects.jsonl. Exit codes: 0 success; 2 usage error; 3 fatal.
    """
    if len(paths) < 2:
        raise _usage("augment needs at least one IN and an OUT file: dialogdata augment IN... OUT --op NAME")
    from dialogdata.build import augmenters_from
    from dialogdata.transform import augment as run_augment

    augmenters = _guard(augmenters_from, _names(op), config=config, seed=seed, ner_model=ner_model)
    result = _guard(
        run_augment, paths[:-1], paths[-1], augmenters, to=to, format=format, mapping=mapping,
        keep_originals=not only_augmented, overwrite=overwrite,
    )  # fmt: skip
    _print_file_job(result)


@app.command()
def convert(
    paths: Annotated[
        list[Path], typer.Argument(help="IN... OUT: input files or folders, then the output file.")
    ],
    to: Annotated[
        str,
        typer.Option(
            "--to", help="Output format: openai, sharegpt, chatglm3, alpaca, or dialogdata (canonical)."
        ),
    ],
    format: FormatOption = "auto",
    mapping: MappingOption = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace OUT if it exists.")] = False,
) -> None:
    """Convert IN... (any supported format) into one JSONL file in format --to, without validating.

    Rejected input records go to OUT.rejects.jsonl. Exit codes: 0 success; 2 usage error; 3 fatal.
    """
    if len(paths) < 2:
        raise _usage(
            "convert needs at least one IN and an OUT file: dialogdata convert IN... OUT --to FORMAT"
        )
    from dialogdata.transform import convert as run_convert

    result = _guard(
        run_convert, paths[:-1], paths[-1], to=to, format=format, mapping=mapping, overwrite=overwrite
    )
    _print_file_job(result)


def _print_file_job(result: Any) -> None:
    """Print what a file job read, rejected, derived and wrote."""
    parts = [f"read {result.read}", f"rejected {result.rejected}"]
    if result.skipped:
        parts.append(f"augmented {result.augmented}")
    parts.append(f"written {result.written}")
    if result.not_written:
        parts.append(f"not representable in the format {result.not_written}")
    typer.echo(", ".join(parts), err=True)
    for name, reasons in result.skipped.items():
        if reasons:
            typer.echo(f"{name} skipped: " + ", ".join(f"{k} {v}" for k, v in reasons.items()), err=True)
    if result.losses:
        typer.echo(
            "lost in export: " + ", ".join(f"{k} {v}" for k, v in sorted(result.losses.items())), err=True
        )
    if result.rejects_file is not None:
        typer.echo(f"rejects: {result.rejects_file}", err=True)
    typer.echo(f"output: {result.out}", err=True)


@app.command()
def inspect(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to look at.")],
    format: Annotated[
        str, typer.Option("--format", help="Input format, or auto to detect per file.")
    ] = "auto",
    mapping: Annotated[Path | None, typer.Option("--mapping", help="A mapping file (TOML or JSON).")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON for machines instead of tables.")
    ] = False,
) -> None:
    """Show each file's container, encoding and detected format (with the evidence), counts, a sample
    dialogue and the first rejects, without writing anything."""
    from dialogdata.ingest.inspection import inspect_files

    found = _guard(inspect_files, paths, format=format, mapping=mapping)
    if as_json:
        import orjson

        typer.echo(orjson.dumps(found, option=orjson.OPT_INDENT_2).decode())
        return
    _print_inspection(found)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the canonical dialogue (what Dialogue.to_dict() returns)."""
    import orjson

    from dialogdata.schemas import json_schema

    typer.echo(orjson.dumps(json_schema(), option=orjson.OPT_INDENT_2).decode())


def _guard(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call `function`; a `DialogdataError` becomes one line on stderr and its exit code."""
    try:
        return function(*args, **kwargs)
    except DialogdataError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        typer.echo(f"error: {where}{exc.strerror or exc}", err=True)
        raise typer.Exit(3) from None


def _usage(message: str) -> typer.Exit:
    """Print a usage error and return the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _print_inspection(found: dict[str, Any]) -> None:
    """Render the inspection as rich tables on stdout."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    table = Table(title="inputs", show_lines=False)
    for column in ("file", "container", "encoding", "format", "records", "dialogues", "rejected"):
        table.add_column(
            column, justify="right" if column in ("records", "dialogues", "rejected") else "left"
        )
    for f in found["files"]:
        container = f["container"] + (f"+{f['compression']}" if f["compression"] else "")
        row = (
            f["path"],
            container,
            f["encoding"] or "",
            f["format"] or "-",
            f["records"],
            f["dialogues"],
            f["rejected"],
        )
        table.add_row(*map(str, row))
    console.print(table)
    for f in found["files"]:
        console.print(f"\n[bold]{_escape(f['path'])}[/bold]: {_escape(f['evidence'] or 'no known format')}")
        for turn in f["sample"] or []:
            console.print(f"  [cyan]{turn['role']:>9}[/cyan]  {_escape(_short(turn['content']))}")
        for reject in f["first_rejects"]:
            where = reject["source"]["line"] or reject["source"]["key"] or ""
            console.print(f"  [red]reject[/red] line {where}: {reject['code']}: {_escape(reject['message'])}")
    for skipped in found["skipped"]:
        console.print(f"[dim]skipped {_escape(skipped['path'])}: {_escape(skipped['reason'])}[/dim]")


def _escape(text: str) -> str:
    """Escape rich markup in untrusted text."""
    from rich.markup import escape

    return escape(text)


def _short(text: str, width: int = 100) -> str:
    """One line of at most `width` characters."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _print_summary(result: Any) -> None:
    """Print on stderr the fates, the mean scores, the gate's checks and verdict, and where outputs are.

    Plain text when stderr is not a terminal; data (paths, names, messages) is never read as markup.
    """
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(stderr=True, highlight=False)
    console.print(Text(_fates_line(result.fates)), soft_wrap=True)
    scores = getattr(result, "scores", {})
    if scores:
        console.print(Text(_scores_line(scores)), soft_wrap=True)
    checks = getattr(result, "gate_checks", [])
    if checks:
        console.print()
        gate = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
        for header in ("gate check", "value", "threshold", "result"):
            gate.add_column(Text(header), justify="left" if header == "gate check" else "right")
        for name, value, threshold, passed in _gate_rows(checks):
            verdict = Text("pass", style="green") if passed else Text("FAIL", style="bold red")
            gate.add_row(Text(name), Text(value), Text(threshold), verdict)
        console.print(gate)
    for line, style in _verdict_lines(result):
        console.print(Text(line, style=style), soft_wrap=True)


_RECORD_FATES = ("kept", "rejected", "filtered", "deduplicated")
_SCORE_ORDER = ("consistency", "conflict", "coverage")


def _fates_line(fates: dict[str, int]) -> str:
    """Return the fates on one line: where the source records went, then what was derived and written."""
    ends = ", ".join(f"{key} {fates.get(key, 0):,}" for key in _RECORD_FATES)
    line = f"source records {fates.get('source_records', 0):,}: {ends}"
    return line + "".join(f"; {key} {fates[key]:,}" for key in ("augmented", "written") if key in fates)


def _scores_line(scores: dict[str, float]) -> str:
    """Return the mean scores on one line: consistency, conflict and coverage first, then the rest."""
    names = [name for name in _SCORE_ORDER if name in scores] + sorted(set(scores) - set(_SCORE_ORDER))
    return "mean scores: " + ", ".join(f"{name} {scores[name]:.3f}" for name in names)


def _gate_rows(checks: list[dict[str, Any]]) -> list[tuple[str, str, str, bool]]:
    """Return each gate check as (name, value, threshold, passed), shares as percentages."""
    rows = []
    for check in checks:
        name = str(check["name"])
        bound = {"max": "<= ", "min": ">= "}.get(check.get("kind", ""), "")
        value, threshold = _gate_number(name, check["value"]), _gate_number(name, check["threshold"])
        rows.append((name, value, bound + threshold, bool(check["passed"])))
    return rows


def _gate_number(name: str, value: Any) -> str:
    """Show a gate figure: a share as a percentage, an integer with separators, a float briefly."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "-" if value is None else str(value)
    if isinstance(value, float) and name.endswith("share") and 0 <= value <= 1:
        return f"{value:.1%}"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def _verdict_lines(result: Any) -> list[tuple[str, str]]:
    """Return (line, style): the gate's verdict, why it failed and what the exit code means, the paths."""
    checks = getattr(result, "gate_checks", [])
    failed = sum(1 for check in checks if not check["passed"])
    if result.gate_passed:
        lines = [("gate passed" + (f" ({len(checks)} checks)" if checks else ""), "bold green")]
    else:
        of = f" ({failed} of {len(checks)} checks)" if checks else ""
        lines = [(f"gate FAILED{of}:", "bold red")]
        lines += [(f"  - {reason}", "red") for reason in result.gate_reasons]
        meaning = "the outputs are written but not marked complete (no _SUCCESS)"
        lines.append((f"exit code {result.exit_code}: {meaning}", ""))
    lines += [(f"output: {result.out}/", ""), (f"report: {result.report}", "")]
    return lines


def main() -> None:
    """Run the command line."""
    app()


if __name__ == "__main__":
    main()
