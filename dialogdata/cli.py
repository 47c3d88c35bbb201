"""The `dialogdata` command: thin typer commands over the library."""

from __future__ import annotations

import sys
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


@app.command()
def build(
    paths: Annotated[
        list[Path],
        typer.Argument(help="RAW... OUT: input files or folders, then the output folder."),
    ],
    to: Annotated[str, typer.Option("--to", help="Output format for the split files.")] = "openai",
    format: Annotated[
        str,
        typer.Option("--format", help="Input format (openai, sharegpt), or auto to detect per file."),
    ] = "auto",
    augment: Annotated[
        str, typer.Option("--augment", help="Comma-separated augmenters (role_swap), or none.")
    ] = "none",
    seed: Annotated[int, typer.Option("--seed", help="Seed for augmentation and splits.")] = 0,
    validation: Annotated[
        float, typer.Option("--validation", help="Share of dialogues in validation.")
    ] = 0.1,
    test: Annotated[float, typer.Option("--test", help="Share of dialogues in test.")] = 0.0,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace OUT if it is not empty.")] = False,
) -> None:
    """Ingest, validate, deduplicate, filter, augment and export RAW... into OUT, with a report.

    Exit codes: 0 success; 1 written but the quality gate failed (no _SUCCESS); 2 usage error; 3 fatal.
    """
    if len(paths) < 2:
        raise _usage("build needs at least one RAW input and an OUT folder: dialogdata build RAW... OUT")
    from dialogdata.build import build as run_build

    names = [] if augment.strip().lower() == "none" else [a.strip() for a in augment.split(",") if a.strip()]
    splits = {"train": 1.0 - validation - test, "validation": validation, "test": test}
    result = _guard(
        run_build,
        paths[:-1],
        paths[-1],
        to=to,
        format=format,
        augment=names,
        seed=seed,
        splits=splits,
        overwrite=overwrite,
        on_file=_file_progress(),
    )
    _print_summary(result)
    raise typer.Exit(result.exit_code)


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


def _file_progress() -> Callable[[str, int, int], None] | None:
    """Return a per-file progress line printer for a terminal, or None when stderr is not one."""
    if not sys.stderr.isatty():
        return None
    from rich.console import Console

    console = Console(stderr=True)

    def on_file(path: str, number: int, total: int) -> None:
        console.print(f"[dim]reading[/dim] {number}/{total} {path}", highlight=False, markup=True)

    return on_file


def _print_summary(result: Any) -> None:
    """Print the fates, the gate's verdict and where the outputs are."""
    fates = result.fates
    typer.echo(
        "source records {source_records}: kept {kept}, rejected {rejected}, filtered {filtered}, "
        "deduplicated {deduplicated}; augmented {augmented}; written {written}".format(**fates),
        err=True,
    )
    verdict = "passed" if result.gate_passed else "FAILED: " + "; ".join(result.gate_reasons)
    typer.echo(f"gate {verdict}", err=True)
    typer.echo(f"output: {result.out}/  report: {result.report}", err=True)


def main() -> None:
    """Run the command line."""
    app()
