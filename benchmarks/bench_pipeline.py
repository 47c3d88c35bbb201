"""Whole commands: `dialogdata validate` against a bare parse, `build` at two sizes and on both engines.

Run (in `.bench/venv`): `python benchmarks/bench_pipeline.py [--only validate|scaling|engines]
[--sizes 20000 200000] [--repeat 3] [--repeat-large 1] [--engine NAME] [--build-arg ARG ...]
[--engine-workers 2] [--workdir .bench]`.

1. validate vs bare parse, on the larger corpus: `python -m dialogdata.cli validate CORPUS --report DIR
   --overwrite` against a fresh interpreter running `bench_ingest.py --child bare` (read the lines, skip
   blank ones, `orjson.loads` each, skip the undecodable): the floor any JSONL reader pays.
2. scaling: the full default `python -m dialogdata.cli build CORPUS OUT --overwrite` on both corpora;
   wall time and peak RSS of each. `--engine` and `--build-arg` are appended to the build command only.
3. engines: `build` on the larger corpus with `--engine local` and with `--engine ray` (a local Ray
   instance), both with `--engine-workers` workers: Ray's overhead on one machine, and a check that
   the data files of the two are byte-identical.

Every run is a fresh process timed from start to exit with imports (the time a user waits), its peak
RSS taken from wait4. The corpora are read once first so every run starts from the page cache; the
cases alternate so drift in machine load lands on all of them; medians are reported, and the largest
peak RSS of a case's runs. A build or validate exiting 1 (quality gate failed) finished its work and
counts; 2 or more stops the benchmark. Prints Markdown tables; writes `<workdir>/bench_pipeline.json`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import MIB, Timing, check, checks_table, corpus, median, row, run_timed, warm, write_result  # noqa: E402

PARTS = ("validate", "scaling", "engines")
VALIDATE_AIM = 10.0
# Build work is linear in the dialogues (every stage streams or sorts/bands in n log n with small logs),
# while imports, Great Expectations and the reports are fixed costs that a larger corpus amortises:
# 10x the dialogues should take close to 10x the time. Within 30% either way: above means something
# grows faster than linearly, far below means fixed costs still dominate the smaller run.
TIME_BAND = 0.3
MEMORY_RATIO_AIM = 3.0  # streaming stages: memory should grow far slower than the corpus
PEAK_BYTES_AIM = 1_000_000_000  # "1 GB", compared in bytes so the MiB column cannot flatter it
ENV = {**os.environ, "GX_ANALYTICS_ENABLED": "False"}


def size_label(n: int) -> str:
    """20000 -> 20k; sizes that are not whole thousands stay as they are."""
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else f"{n:,}"


def cli(*args: str) -> list[str]:
    """The dialogdata command line, run with this interpreter."""
    return [sys.executable, "-m", "dialogdata.cli", *args]


def finished(timing: Timing, out: Path, what: str) -> Timing:
    """Exit 0 or 1 with metrics written is a completed run; anything else stops the benchmark."""
    # An uncaught exception also exits 1, so a completed run is told by its metrics file, not its code.
    if timing.returncode not in (0, 1) or not (out / "reports" / "metrics.json").exists():
        raise SystemExit(f"{what} failed with exit code {timing.returncode}:\n{timing.stderr_tail}")
    return timing


def run_validate(path: Path, out: Path) -> Timing:
    """One `dialogdata validate` into an emptied report folder."""
    shutil.rmtree(out, ignore_errors=True)
    argv = cli("validate", str(path), "--report", str(out), "--overwrite")
    return finished(run_timed(argv, env=ENV), out, "dialogdata validate")


def run_bare(path: Path) -> Timing:
    """One bare orjson parse of the file, in the ingest benchmark's child mode (the same loop it times)."""
    argv = [sys.executable, str(HERE / "bench_ingest.py"), "--child", "bare", "--path", str(path)]
    return check(run_timed(argv, env=ENV), "bare parse")


def run_build(path: Path, out: Path, extra: list[str]) -> Timing:
    """One `dialogdata build` into an emptied output folder."""
    shutil.rmtree(out, ignore_errors=True)
    argv = cli("build", str(path), str(out), "--overwrite", *extra)
    return finished(run_timed(argv, env=ENV), out, "dialogdata build")


def record(part: str, case: str, n: int, index: int, timing: Timing) -> dict[str, Any]:
    """One timed run as stored in the result."""
    return {
        "part": part,
        "case": case,
        "n": n,
        "run": index,
        "seconds": timing.seconds,
        "peak_rss_mib": timing.peak_rss_bytes / MIB,
        "peak_rss_bytes": timing.peak_rss_bytes,
        "returncode": timing.returncode,
    }


def log(run: dict[str, Any], repeat: int) -> None:
    """A progress line on stderr."""
    print(
        f"run {run['run']}/{repeat} {run['case']}: {run['seconds']:.1f} s, "
        f"{run['peak_rss_mib']:.0f} MiB, exit {run['returncode']}",
        file=sys.stderr,
    )


def interleave(repeats: list[int]) -> list[tuple[int, int]]:
    """The (case, run) order: round robin, so cases with fewer runs land among the others."""
    return [(case, i) for i in range(max(repeats)) for case, times in enumerate(repeats) if i < times]


def bench_validate(path: Path, n: int, base: Path, repeat: int, repeat_large: int) -> dict[str, Any]:
    """Alternate the bare parse and validate on one corpus; return runs, rows and checks."""
    out = base / "validate"
    runs: list[dict[str, Any]] = []
    cases = ("bare orjson parse", "dialogdata validate")
    # Bare first: with one validate among three parses, the validate run lands between them.
    for case, i in interleave([repeat, repeat_large]):
        timing = run_bare(path) if case == 0 else run_validate(path, out)
        runs.append(record("validate", cases[case], n, i + 1, timing))
        log(runs[-1], repeat if case == 0 else repeat_large)
    bare = median([r["seconds"] for r in runs if r["case"] == cases[0]])
    ours = median([r["seconds"] for r in runs if r["case"] == cases[1]])
    note = (
        f"whole command, process start to exit, imports included; medians of {repeat_large} validate and "
        f"{repeat} bare run(s), interleaved; 1 worker"
    )
    result = row(
        f"validate {size_label(n)} vs bare orjson",
        "dialogdata validate",
        ours,
        "orjson.loads loop",
        bare,
        aim=VALIDATE_AIM,
        note=note,
    )
    aim = {
        "name": f"time validate / bare orjson parse n={n:,}",
        "measured": f"{result['ratio']:.1f}x",
        "target": f"<= {VALIDATE_AIM:g}x",
        "ok": result["ok"],
    }
    return {"runs": runs, "rows": [result], "checks": [aim], "medians": {"bare": bare, "validate": ours}}


def bench_scaling(
    paths: list[Path], sizes: list[int], base: Path, repeats: list[int], extra: list[str]
) -> dict[str, Any]:
    """Alternate the build on both corpora; return runs, rows and checks."""
    small, large = sizes
    suffix = f" ({' '.join(extra)})" if extra else ""
    cases = [f"build {size_label(n)}{suffix}" for n in sizes]
    runs: list[dict[str, Any]] = []
    for case, i in interleave(repeats):
        timing = run_build(paths[case], base / f"build-n{sizes[case]}", extra)
        runs.append(record("scaling", cases[case], sizes[case], i + 1, timing))
        log(runs[-1], repeats[case])
    seconds = [median([r["seconds"] for r in runs if r["case"] == case]) for case in cases]
    peaks = [max(r["peak_rss_bytes"] for r in runs if r["case"] == case) for case in cases]
    factor = large / small
    time_ratio, memory_ratio = seconds[1] / seconds[0], peaks[1] / peaks[0]
    low, high = (1 - TIME_BAND) * factor, (1 + TIME_BAND) * factor
    note = (
        f"{factor:g}x the dialogues: {time_ratio:.1f}x the time, {memory_ratio:.2f}x the peak RSS "
        f"({peaks[0] / MIB:.0f} -> {peaks[1] / MIB:.0f} MiB); whole command with imports; medians of "
        f"{repeats[1]} and {repeats[0]} run(s)"
    )
    label_s, label_l = size_label(small), size_label(large)
    result = row(
        f"scaling {label_s} → {label_l}{suffix}",
        cases[1],
        seconds[1],
        cases[0],
        seconds[0],
        aim=None,
        note=note,
    )
    checks = [
        {
            "name": f"build time {label_l} / {label_s}{suffix} ({factor:g}x the dialogues)",
            "measured": f"{time_ratio:.1f}x",
            "target": f"{low:g}x to {high:g}x",
            "ok": low <= time_ratio <= high,
        },
        {
            "name": f"build peak RSS {label_l} / {label_s}{suffix}",
            "measured": f"{memory_ratio:.2f}x ({peaks[1] / MIB:,.0f} / {peaks[0] / MIB:,.0f} MiB)",
            "target": f"<= {MEMORY_RATIO_AIM:g}x",
            "ok": memory_ratio <= MEMORY_RATIO_AIM,
        },
        {
            "name": f"build peak RSS at {label_l}{suffix}",
            "measured": f"{peaks[1] / 1e6:,.0f} MB ({peaks[1] / MIB:,.0f} MiB)",
            "target": f"< 1 GB ({PEAK_BYTES_AIM:,} bytes)",
            "ok": peaks[1] < PEAK_BYTES_AIM,
        },
    ]
    return {
        "runs": runs,
        "rows": [result],
        "checks": checks,
        "medians": dict(zip(cases, seconds, strict=True)),
        "peak_rss_bytes": dict(zip(cases, peaks, strict=True)),
    }


def bench_engines(path: Path, n: int, base: Path, repeat: int, workers: int) -> dict[str, Any]:
    """Alternate `build --engine local` and `--engine ray` on one corpus; return runs, rows and checks."""
    engines = ("local", "ray")
    cases = [f"build {size_label(n)} --engine {engine} --workers {workers}" for engine in engines]
    outs = [base / f"engine-{engine}-n{n}" for engine in engines]
    runs: list[dict[str, Any]] = []
    for case, i in interleave([repeat, repeat]):
        extra = ["--engine", engines[case], "--workers", str(workers)]
        runs.append(record("engines", cases[case], n, i + 1, run_build(path, outs[case], extra)))
        log(runs[-1], repeat)
    seconds = [median([r["seconds"] for r in runs if r["case"] == case]) for case in cases]
    differ = sorted(name for name in data_files(outs[0]) | data_files(outs[1]) if not same(outs, name))
    note = (
        f"whole command with imports, Ray's start and stop included; a local Ray instance with {workers} "
        f"CPUs against {workers} local worker processes; medians of {repeat} run(s) each, interleaved; "
        "peak RSS of the ray case is the driver's only (Ray's workers are not its children)"
    )
    result = row(
        f"build {size_label(n)}: --engine ray vs local",
        cases[1],
        seconds[1],
        cases[0],
        seconds[0],
        aim=None,
        note=note,
    )
    checks = [
        {
            "name": f"data files of --engine ray = --engine local at {size_label(n)}",
            "measured": "byte-identical" if not differ else f"differ: {', '.join(differ)}",
            "target": "byte-identical",
            "ok": not differ,
        }
    ]
    medians = dict(zip(cases, seconds, strict=True))
    return {"runs": runs, "rows": [result], "checks": checks, "medians": medians}


def data_files(out: Path) -> set[str]:
    """The data files of a build (everything but the reports, which hold timestamps, and the manifest)."""
    skip = {"manifest.json", "_SUCCESS"}
    return {
        str(p.relative_to(out))
        for p in out.rglob("*")
        if p.is_file() and p.name not in skip and "reports" not in p.relative_to(out).parts
    }


def same(outs: list[Path], name: str) -> bool:
    """Tell whether a file exists in both outputs with the same bytes."""
    files = [out / name for out in outs]
    return all(f.is_file() for f in files) and files[0].read_bytes() == files[1].read_bytes()


def warm_imports() -> None:
    """Import the CLI once, untimed, so the first timed run does not pay for cold files on disk."""
    subprocess.run(cli("--help"), env=ENV, stdout=subprocess.DEVNULL, check=True)


def markdown(payload: dict[str, Any]) -> str:
    """Render the rows, the runs and the checks as Markdown tables."""
    lines = [
        "| benchmark | ours | s | reference | s | ours / reference | aim | met |",
        "|---|---|--:|---|--:|--:|--:|---|",
    ]
    for r in payload["rows"]:
        aim = "-" if r["aim"] is None else f"<= {r['aim']:g}x"
        met = "-" if r["ok"] is None else ("yes" if r["ok"] else "no")
        lines.append(
            f"| {r['benchmark']} | {r['ours']} | {r['ours_s']:.1f} | {r['reference']} | "
            f"{r['reference_s']:.1f} | {r['ratio']:.2f}x | {aim} | {met} |"
        )
    lines += [""] + [f"- {r['benchmark']}: {r['note']}." for r in payload["rows"]]
    lines += ["", "| part | case | run | s | peak RSS MiB | exit |", "|---|---|--:|--:|--:|--:|"]
    for r in payload["runs"]:
        lines.append(
            f"| {r['part']} | {r['case']} | {r['run']} | {r['seconds']:.1f} | {r['peak_rss_mib']:.0f} | "
            f"{r['returncode']} |"
        )
    lines += checks_table(payload["checks"])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", choices=PARTS, help="run one part only")
    parser.add_argument(
        "--sizes",
        type=int,
        nargs=2,
        default=[20_000, 200_000],
        metavar=("SMALL", "LARGE"),
        help="corpus sizes for scaling; validate runs on LARGE",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of the cheap cases (bare parse, build on SMALL)"
    )
    parser.add_argument(
        "--repeat-large", type=int, default=1, help="runs of the costly cases (validate, build on LARGE)"
    )
    parser.add_argument("--engine", help="passed to build as `--engine NAME` (default: the CLI's own)")
    parser.add_argument(
        "--build-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="one more argument for build, repeatable (write `--build-arg=--flag` for flags)",
    )
    parser.add_argument(
        "--engine-workers", type=int, default=2, help="workers (CPUs) of each engine in the engines part"
    )
    parser.add_argument("--workdir", type=Path, default=Path(".bench"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    small, large = args.sizes
    if not 1 <= small < large or args.repeat < 1 or args.repeat_large < 1:
        parser.error("--sizes must be 1 <= SMALL < LARGE, and --repeat, --repeat-large >= 1")
    started = time.perf_counter()
    workdir: Path = args.workdir
    extra = (["--engine", args.engine] if args.engine else []) + list(args.build_arg)
    parts = [args.only] if args.only else list(PARTS)
    needed = [large] if "scaling" not in parts else [small, large]
    paths = {n: corpus(workdir, n, args.seed)[0] for n in needed}
    corpora = {str(n): {"path": str(p), "bytes": warm(p)} for n, p in paths.items()}
    warm_imports()
    base = workdir / "bench-pipeline"
    sections: dict[str, dict[str, Any]] = {}
    if "validate" in parts:
        sections["validate"] = bench_validate(paths[large], large, base, args.repeat, args.repeat_large)
    if "scaling" in parts:
        sections["scaling"] = bench_scaling(
            [paths[small], paths[large]], [small, large], base, [args.repeat, args.repeat_large], extra
        )
    if "engines" in parts:
        sections["engines"] = bench_engines(paths[large], large, base, args.repeat_large, args.engine_workers)
    payload: dict[str, Any] = {
        "benchmark": "pipeline",
        "parts": parts,
        "seed": args.seed,
        "sizes": [small, large],
        "repeat": {"cheap": args.repeat, "large": args.repeat_large},
        "build_args": extra,
        "commands": {
            "validate": "python -m dialogdata.cli validate CORPUS --report DIR --overwrite",
            "bare": "python benchmarks/bench_ingest.py --child bare --path CORPUS",
            "build": " ".join(["python -m dialogdata.cli build CORPUS OUT --overwrite", *extra]),
            "engines": "python -m dialogdata.cli build CORPUS OUT --overwrite --engine local|ray --workers N",
        },
        "corpora": corpora,
        "sections": {
            name: {k: v for k, v in s.items() if k not in ("runs", "rows", "checks")}
            for name, s in sections.items()
        },
        "runs": [r for s in sections.values() for r in s["runs"]],
        "rows": [r for s in sections.values() for r in s["rows"]],
        "checks": [c for s in sections.values() for c in s["checks"]],
        "script_seconds": time.perf_counter() - started,
    }
    out = write_result(workdir, "pipeline", payload)
    print(markdown(payload))
    print(f"\nresults: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
