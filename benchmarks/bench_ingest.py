"""Typed ingest vs a bare parse: `dd.read` into `Dialogue`s against an orjson loop, same file, same run.

Run: `python benchmarks/bench_ingest.py [--n 200000] [--repeat 3] [--workdir .bench] [--profile]`.
Each measurement runs in a fresh interpreter (`sys.executable`), so the peak RSS it reports is its own.
Prints a Markdown table and writes `<workdir>/bench_ingest.json`.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# The shared helpers are imported by the parent side only: their own imports (venv, platform, ...)
# would add to the RSS a measured child reports.
sys.path.insert(0, str(HERE))

CASES = ("bare", "dialogdata")
TARGET_RATIO = 3.0
TARGET_PEAK_BYTES = 200 * 1000 * 1000  # "200 MB", compared in bytes so the MiB column cannot flatter it
MIB = 1024 * 1024
PROFILE_TOP = 25


# --- child side: one case, one fresh process ------------------------------------------------


def count_bare(path: Path) -> int:
    """The floor: parse every line with orjson and build nothing else."""
    import orjson

    n = 0
    with path.open("rb") as stream:
        for line in stream:
            if not line.strip():
                continue
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            n += 1
    return n


def count_dialogdata(path: Path) -> int:
    """The library: stream typed `Dialogue`s out of the file."""
    import dialogdata as dd

    return sum(1 for _ in dd.read(path))


def peak_rss_bytes() -> int:
    """This process's peak resident set size (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def preload(case: str) -> None:
    """Import what a case needs before the clock starts, so timings compare loops, not imports."""
    if case == "bare":
        import orjson  # noqa: F401
    else:
        import dialogdata  # noqa: F401


def run_child(case: str, path: Path, profile: bool) -> dict[str, Any]:
    """Time one case in this process and return its measurements."""
    count: Callable[[Path], int] = count_bare if case == "bare" else count_dialogdata
    start = time.perf_counter()
    preload(case)
    import_s = time.perf_counter() - start
    import_rss = peak_rss_bytes()
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        start = time.perf_counter()
        records = profiler.runcall(count, path)
        seconds = time.perf_counter() - start
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(PROFILE_TOP)
    else:
        start = time.perf_counter()
        records = count(path)
        seconds = time.perf_counter() - start
    return {
        "case": case,
        "records": records,
        "seconds": seconds,
        "import_seconds": import_s,
        "import_rss_bytes": import_rss,
        "peak_rss_bytes": peak_rss_bytes(),
    }


# --- parent side: corpus, runs, report ------------------------------------------------------


def warm(path: Path) -> int:
    """Read the file once so every case starts from the page cache; return its non-blank lines."""
    lines = 0
    with path.open("rb") as stream:
        for line in stream:
            lines += bool(line.strip())
    return lines


def spawn(case: str, path: Path, profile: bool = False) -> dict[str, Any]:
    """Run one case in a fresh interpreter and return the measurements it reports."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", case, "--path", str(path)]
    if profile:
        command.append("--profile")
    # The profile goes to our stderr as it is printed; the measurements come back on stdout.
    done = subprocess.run(command, check=False, stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{case} child failed with exit code {done.returncode}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def summarise(runs: list[dict[str, Any]], lines: int, size: int) -> dict[str, Any]:
    """Median time and the rates it gives; peak RSS is the largest over the runs."""
    times = [r["seconds"] for r in runs]
    median = statistics.median(times)
    return {
        "runs_seconds": times,
        "median_seconds": median,
        "records_in": lines,
        "records_out": runs[0]["records"],
        "records_per_second": lines / median,
        "mb_per_second": size / 1e6 / median,
        "peak_rss_mib": max(r["peak_rss_bytes"] for r in runs) / MIB,
        "peak_rss_bytes": max(r["peak_rss_bytes"] for r in runs),
        "import_rss_mib": max(r["import_rss_bytes"] for r in runs) / MIB,
        "import_seconds": statistics.median(r["import_seconds"] for r in runs),
    }


def side_by_side(cases: dict[str, dict[str, Any]], n: int, repeat: int) -> list[dict[str, Any]]:
    """The side-by-side row: the typed read against the bare parse."""
    from common import row

    note = (
        f"the read loop in a fresh process, imports excluded; median of {repeat} interleaved run(s); "
        f"peak RSS {cases['dialogdata']['peak_rss_mib']:.1f} MiB"
    )
    return [
        row(
            f"ingest {n // 1000}k vs bare orjson" if n % 1000 == 0 else f"ingest {n:,} vs bare orjson",
            "dd.read into Dialogue",
            cases["dialogdata"]["median_seconds"],
            "orjson.loads loop",
            cases["bare"]["median_seconds"],
            aim=TARGET_RATIO,
            note=note,
        )
    ]


def checks(cases: dict[str, dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """The two numbers the ingest path is held to, next to their targets."""
    ratio = cases["dialogdata"]["median_seconds"] / cases["bare"]["median_seconds"]
    peak = cases["dialogdata"]["peak_rss_bytes"]
    return [
        {
            "name": f"time dialogdata / bare n={n:,}",
            "measured": f"{ratio:.2f}x",
            "target": f"<= {TARGET_RATIO:g}x",
            "ok": ratio <= TARGET_RATIO,
        },
        {
            "name": "dialogdata peak RSS while streaming",
            "measured": f"{peak / MIB:.1f} MiB",
            "target": f"< {TARGET_PEAK_BYTES / 1e6:.0f} MB ({TARGET_PEAK_BYTES / MIB:.1f} MiB)",
            "ok": peak < TARGET_PEAK_BYTES,
        },
    ]


def markdown(result: dict[str, Any]) -> str:
    """Render the results as Markdown tables."""
    from common import checks_table

    c = result["corpus"]
    dirty = " + uncommitted changes" if result["code"]["dirty"] else ""
    rows = [
        f"Corpus: `{c['path']}`: {c['records']:,} records, {c['bytes'] / 1e6:.1f} MB "
        f"(seed {c['seed']}); {result['repeat']} run(s) per case, median; Python {result['python']}; "
        f"commit {result['code']['commit'][:10]}{dirty} (sources {result['code']['sources_sha256'][:10]})",
        "",
        "| case | median s | records/s | MB/s | peak RSS MiB | RSS after import MiB | dialogues out |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for name, s in result["cases"].items():
        rows.append(
            f"| {name} | {s['median_seconds']:.2f} | {s['records_per_second']:,.0f} | "
            f"{s['mb_per_second']:.1f} | {s['peak_rss_mib']:.1f} | {s['import_rss_mib']:.1f} | "
            f"{s['records_out']:,} |"
        )
    rows += checks_table(result["checks"])
    return "\n".join(rows)


def bench(n: int, repeat: int, workdir: Path, seed: int, profile: bool) -> dict[str, Any]:
    """Generate or reuse the corpus, run every case `repeat` times, and collect the results."""
    from common import code_state, corpus

    path, truth = corpus(workdir, n, seed)
    lines = warm(path)
    size = path.stat().st_size
    runs: dict[str, list[dict[str, Any]]] = {case: [] for case in CASES}
    # Interleave the cases so drift in machine load lands on both, not on whichever ran last.
    for i in range(repeat):
        for case in CASES:
            run = spawn(case, path)
            runs[case].append(run)
            print(f"run {i + 1}/{repeat} {case}: {run['seconds']:.2f} s", file=sys.stderr)
    result: dict[str, Any] = {
        "corpus": {"path": str(path), "truth": str(truth), "records": n, "seed": seed, "bytes": size},
        "repeat": repeat,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "code": code_state(),
        "cases": {case: summarise(runs[case], lines, size) for case in CASES},
    }
    result["rows"] = side_by_side(result["cases"], n, repeat)
    result["checks"] = checks(result["cases"], n)
    if profile:
        # A separate run: profiling slows the loop down, so it never feeds the timings above.
        print(f"\ncProfile of dialogdata, top {PROFILE_TOP} by cumulative time:", file=sys.stderr)
        result["profiled_run_seconds"] = spawn("dialogdata", path, profile=True)["seconds"]
    return result


def main(argv: list[str] | None = None) -> int:
    """Command line; `--child` is the internal entry point of one measured process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="dialogues in the corpus")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the median is reported")
    parser.add_argument("--workdir", type=Path, default=Path(".bench"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true", help="also profile dialogdata (top 25 to stderr)")
    parser.add_argument("--child", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_child(args.child, args.path, args.profile)))
        return 0
    if args.n < 1 or args.repeat < 1:
        parser.error("--n and --repeat must be >= 1")
    result = bench(args.n, args.repeat, args.workdir, args.seed, args.profile)
    from common import write_result

    out = write_result(args.workdir, "ingest", result)
    print(markdown(result))
    print(f"\nresults: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
