"""Run every benchmark in turn and join their results into one Markdown document.

Run (in `.bench/venv`): `python benchmarks/run.py [--workdir .bench] [--only NAME,...] [--skip NAME,...]
[--quick]`. Each script runs as a subprocess of this interpreter and writes `<workdir>/bench_<name>.json`;
then the `rows` of all of them (timings side by side) and their `checks` (every aim) are joined into two
tables, printed and written to `<workdir>/RESULTS.md`; each script's own printed tables go to
`<workdir>/bench_<name>.md`. A script that fails or writes no result is named
with its exit code, the tables keep what the others measured, and this command exits 1.
`--quick` runs every script on small inputs once: a smoke test whose figures are not meant to meet the
aims. Progress goes to stderr, the document to stdout.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import code_state, machine  # noqa: E402


@dataclass(frozen=True)
class Script:
    """One benchmark script and its arguments for a full and for a quick run."""

    name: str
    full: tuple[str, ...]
    quick: tuple[str, ...]


SCRIPTS = (
    Script("schema", (), ("2000", "--repeat", "1")),
    Script("ingest", ("--n", "200000", "--repeat", "3"), ("--n", "2000", "--repeat", "1")),
    # Two sizes in the quick run too, so the growth check is exercised.
    Script("dedup", ("--n", "20000", "200000"), ("--n", "1000", "2000")),
    Script("augment", ("--n", "20000", "--repeat", "3"), ("--n", "2000", "--repeat", "1")),
    Script("datatrove", ("--n", "20000", "--repeat", "3"), ("--n", "2000", "--repeat", "1")),
    Script("datajuicer", ("--n", "20000", "--repeat", "3"), ("--n", "2000", "--repeat", "1")),
    # 200 -> 2,000 keeps the scaling factor at 10x, so the checks read as in the full run.
    Script("pipeline", (), ("--sizes", "200", "2000", "--repeat", "1", "--repeat-large", "1")),
)
NAMES = tuple(s.name for s in SCRIPTS)


@dataclass
class Outcome:
    """What one script did: its command, wall time, exit code and result file (None when none is fresh)."""

    script: Script
    argv: list[str]
    seconds: float
    returncode: int
    result: Path | None
    stdout: str


def names(text: str | None) -> list[str]:
    """Split a comma-separated list of script names."""
    return [] if text is None else [part.strip() for part in text.split(",") if part.strip()]


def run_script(script: Script, argv: list[str], index: int, total: int, started: float) -> Outcome:
    """Run one script, echo its output to stderr, and tell whether it wrote a fresh result."""
    shown = shlex.join([f"benchmarks/{Path(argv[1]).name}", *argv[2:]])
    print(f"[{index}/{total}] {script.name}: {shown}", file=sys.stderr, flush=True)
    result = Path(argv[argv.index("--workdir") + 1]) / f"bench_{script.name}.json"
    wall_start = time.time()
    clock = time.perf_counter()
    # stdout (the script's Markdown) is kept for the document; stderr (its progress) streams through.
    done = subprocess.run(argv, stdout=subprocess.PIPE, text=True, check=False)
    seconds = time.perf_counter() - clock
    if done.stdout:
        print(done.stdout.rstrip(), file=sys.stderr, flush=True)
        # The script's own tables (runs, counts) stay beside its result for whoever wants the detail.
        result.with_suffix(".md").write_text(done.stdout, encoding="utf-8")
    # A result older than this run is a previous run's: it must not pass for this one.
    fresh = result.exists() and result.stat().st_mtime >= wall_start - 1
    print(
        f"[{index}/{total}] {script.name}: exit {done.returncode} after {seconds:.1f} s "
        f"({'result written' if fresh else 'no result'}); {time.perf_counter() - started:.1f} s in all",
        file=sys.stderr,
        flush=True,
    )
    return Outcome(script, argv, seconds, done.returncode, result if fresh else None, done.stdout)


def load(path: Path) -> dict[str, Any] | None:
    """A result file's content, or None when it cannot be read."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def cell(value: Any) -> str:
    """A value made safe for a Markdown table cell."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def seconds_text(value: float) -> str:
    """Seconds with as many decimals as short timings need."""
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:.1f}"


def ratio_text(value: float) -> str:
    """A ratio with as many decimals as small ratios need."""
    return f"{value:.3f}x" if value < 0.1 else f"{value:.2f}x"


def met(ok: Any) -> str:
    """yes, no, or - when there is no aim."""
    return "-" if ok is None else "yes" if ok else "no"


def side_by_side(results: dict[str, dict[str, Any]]) -> list[str]:
    """Table 1: every row of every result, then each row's note."""
    lines = [
        "## Table 1: side by side",
        "",
        "| benchmark | ours | median s | reference | median s | ratio ours/reference | aim | met |",
        "|---|---|--:|---|--:|--:|--:|---|",
    ]
    notes = []
    for rows in (result.get("rows") for result in results.values()):
        for r in rows if isinstance(rows, list) else []:
            aim = "-" if r.get("aim") is None else f"<= {r['aim']:g}x"
            lines.append(
                f"| {cell(r['benchmark'])} | {cell(r['ours'])} | {seconds_text(r['ours_s'])} | "
                f"{cell(r['reference'])} | {seconds_text(r['reference_s'])} | {ratio_text(r['ratio'])} | "
                f"{aim} | {met(r.get('ok'))} |"
            )
            if r.get("note"):
                notes.append(f"- {r['benchmark']}: {r['note']}.")
    missing = [name for name, result in results.items() if not isinstance(result.get("rows"), list)]
    if missing:
        notes.append(f"- No rows in the results of: {', '.join(missing)} (written before rows existed?).")
    return [*lines, "", *notes] if notes else lines


def every_aim(results: dict[str, dict[str, Any]]) -> list[str]:
    """Table 2: every check of every result, and how many were met."""
    lines = [
        "## Table 2: every aim",
        "",
        "| benchmark | check | measured | target | met |",
        "|---|---|--:|--:|---|",
    ]
    met_count = total = 0
    unreadable = []
    for name, result in results.items():
        checks = result.get("checks")
        if not isinstance(checks, list):
            unreadable.append(name)
            continue
        for c in checks:
            total += 1
            met_count += bool(c["ok"])
            lines.append(
                f"| {name} | {cell(c['name'])} | {cell(c['measured'])} | {cell(c['target'])} | "
                f"{met(c['ok'])} |"
            )
    lines += ["", f"{met_count} of {total} aims met."]
    if unreadable:
        lines.append(f"No list of checks in the results of: {', '.join(unreadable)}.")
    return lines


def document(
    outcomes: list[Outcome],
    results: dict[str, dict[str, Any]],
    earlier: dict[str, float],
    code: dict[str, Any],
    command: str,
    total_seconds: float,
    quick: bool,
) -> str:
    """The whole Markdown document."""
    m = machine()
    dirty = " + uncommitted changes in dialogdata/" if code["dirty"] else ""
    lines = [
        "# dialogdata benchmarks",
        "",
        f"- Machine: {m['cpu'] or 'unknown CPU'}, {m['cores']} cores, {m['memory_gib']} GiB memory; "
        f"Python {m['python']}; {m['platform']}",
        f"- Code: commit {code['commit'][:12] or 'unknown'}{dirty} "
        f"(dialogdata sources sha256 {code['sources_sha256'][:12]})",
        f"- Command: `{command}`",
        f"- Total wall time: {total_seconds:.0f} s ({total_seconds / 60:.1f} min), finished "
        f"{datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
    ]
    if quick:
        lines.append(
            "- Quick run: small inputs, one run each; a smoke test, not figures to hold to the aims."
        )
    lines += ["", "| script | arguments | wall s | exit | result |", "|---|---|--:|--:|---|"]
    for o in outcomes:
        arguments = shlex.join(o.argv[2 : o.argv.index("--workdir")]) or "(defaults)"
        state = f"bench_{o.script.name}.json" if o.result else "**none**"
        lines.append(f"| {o.script.name} | `{arguments}` | {o.seconds:.1f} | {o.returncode} | {state} |")
    problems = []
    for o in outcomes:
        if o.result is None:
            problems.append(f"- **{o.script.name}**: no result written (exit code {o.returncode}).")
        elif o.returncode != 0:
            problems.append(f"- **{o.script.name}**: exit code {o.returncode}, though it wrote a result.")
    for name, mtime in earlier.items():
        when = datetime.datetime.fromtimestamp(mtime, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
        problems.append(f"- {name}: not run this time; its figures are from an earlier run ({when}).")
    # The package can change between scripts; a result measured on other sources says so.
    for name, result in results.items():
        measured = result.get("code", {}).get("sources_sha256", "")
        if measured and measured != code["sources_sha256"]:
            problems.append(
                f"- {name}: measured on other dialogdata sources (sha256 {measured[:12]}) than at the start."
            )
    if problems:
        lines += ["", *problems]
    lines += ["", *side_by_side(results), "", *every_aim(results)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workdir", type=Path, help="default .bench, or .bench/quick with --quick")
    parser.add_argument("--only", help=f"comma-separated scripts to run, of: {', '.join(NAMES)}")
    parser.add_argument("--skip", help="comma-separated scripts not to run")
    parser.add_argument("--quick", action="store_true", help="small inputs, one run each (a smoke test)")
    args = parser.parse_args(argv)
    only, skip = names(args.only), names(args.skip)
    unknown = sorted(set(only + skip) - set(NAMES))
    if unknown:
        parser.error(f"unknown script(s) {', '.join(unknown)}; known: {', '.join(NAMES)}")
    chosen = [s for s in SCRIPTS if (not only or s.name in only) and s.name not in skip]
    if not chosen:
        parser.error("--only and --skip leave no script to run")
    # A smoke run never overwrites the figures of a full one.
    workdir: Path = args.workdir or Path(".bench/quick" if args.quick else ".bench")
    workdir.mkdir(parents=True, exist_ok=True)
    command = shlex.join(["python", "benchmarks/run.py", *(sys.argv[1:] if argv is None else argv)])
    code = code_state()
    started = time.perf_counter()
    outcomes = []
    for index, script in enumerate(chosen, 1):
        arguments = script.quick if args.quick else script.full
        call = [sys.executable, str(HERE / f"bench_{script.name}.py"), *arguments, "--workdir", str(workdir)]
        outcomes.append(run_script(script, call, index, len(chosen), started))
    total_seconds = time.perf_counter() - started

    results: dict[str, dict[str, Any]] = {}
    earlier: dict[str, float] = {}
    ran = {o.script.name: o for o in outcomes}
    # Known scripts in their order, then any other result file in the folder.
    others = sorted(p.stem.removeprefix("bench_") for p in workdir.glob("bench_*.json"))
    for name in [*NAMES, *(n for n in others if n not in NAMES)]:
        path = workdir / f"bench_{name}.json"
        if name in ran:
            found = ran[name].result
        elif path.exists():
            found = path
            earlier[name] = path.stat().st_mtime
        else:
            found = None
        data = load(found) if found else None
        if data is not None:
            results[name] = data
        elif found and name in ran:
            ran[name].result = None  # written but unreadable: as good as missing
    text = document(outcomes, results, earlier, code, command, total_seconds, args.quick)
    (workdir / "RESULTS.md").write_text(text, encoding="utf-8")
    print(text)
    print(f"results: {workdir / 'RESULTS.md'}", file=sys.stderr)
    failed = [o.script.name for o in outcomes if o.result is None or o.returncode != 0]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
