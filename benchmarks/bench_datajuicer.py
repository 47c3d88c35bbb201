"""The whole default `dialogdata build` against py-data-juicer (length and character filters, MinHash dedup).

Run (in `.bench/venv`): `python benchmarks/bench_datajuicer.py [--n 20000] [--repeat 3] [--workdir .bench]`.
Both sides get the same generated ShareGPT corpus; each run is a fresh process timed from start to exit,
imports included (the figure a user sees), and the two cases take turns so drift hits both alike.

- dialogdata: `python -m dialogdata.cli build CORPUS OUT --overwrite`, the default build: ingest with
  format detection, Consistency, Conflict (exact and MinHash near duplicates, contradictions), Coverage,
  filters, OpenAI-format export with leak-free splits, rejects and issues ledgers, parquet, HTML and
  Markdown reports, Great Expectations. Exit 1 (gate failed) still counts as a finished build.
- py-data-juicer: `dj-process --config recipe.yaml` with `text_length_filter`, `alphanumeric_filter` and
  `document_minhash_deduplicator` (its defaults, but character 5-gram shingles so Chinese gets shingles),
  `np: 1` as dialogdata uses one worker by default, the default executor and HF datasets cache (fresh per
  run), tracer, op fusion, checkpoints and cache compression off.

data-juicer reads a flat `text` key and has no ShareGPT reader, so the corpus is flattened once, untimed,
into `{"id", "text"}` lines (turn values joined by newlines), dropping the lines that are not valid JSON.
That work is done for it and not counted: the comparison leans in its favour.

Its venv pre-installs what it would otherwise install by itself at run time with uv (ray when the
executor starts, torch at the first operator; the unpinned torch would be the multi-GB CUDA build):
ray, and torch pinned to the CPU wheel. A run that installs anything anyway stops the benchmark.
Prints a Markdown table; writes `<workdir>/bench_datajuicer.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import (  # noqa: E402
    MIB,
    PEERS,
    Timing,
    check,
    checks_table,
    corpus,
    median,
    peer_python,
    row,
    run_timed,
    warm,
    write_result,
)

PEER = "data-juicer"
DJ_VERSION = "1.6.1"
# aiohttp: imported by data-juicer's core file utilities, yet not among its declared requirements.
# scipy: the MinHash op's band/row optimiser loads it lazily. ray and torch: every job loads them at
# run time and has uv install them if absent (unpinned torch: the CUDA build); torch pinned to CPU here.
REQUIREMENTS = [f"py-data-juicer=={DJ_VERSION}", "aiohttp", "scipy", "ray", "torch==2.13.0"]
AIM = 0.1
MINHASH_TOKENIZATION = "character"
MINHASH_WINDOW = 5


def flatten(source: Path, target: Path) -> dict[str, Any]:
    """Write data-juicer's input: one `{"id", "text"}` line per parseable dialogue, turns newline-joined."""
    lines = broken = shapeless = written = 0
    with source.open("rb") as stream, target.open("w", encoding="utf-8") as out:
        for line in stream:
            if not line.strip():
                continue
            lines += 1
            try:
                record = json.loads(line)
            except ValueError:
                broken += 1
                continue
            turns = record.get("conversations") if isinstance(record, dict) else None
            if not isinstance(turns, list):
                shapeless += 1
                continue
            text = "\n".join(str(t.get("value", "")) for t in turns if isinstance(t, dict))
            out.write(json.dumps({"id": record.get("id"), "text": text}, ensure_ascii=False) + "\n")
            written += 1
    return {
        "path": str(target),
        "source_lines": lines,
        "written": written,
        "skipped_broken_json": broken,
        "skipped_no_conversations": shapeless,
        "timed": False,
    }


def recipe(flat: Path, run: Path) -> str:
    """The data-juicer recipe; JSON-quoted strings keep the paths valid YAML whatever they contain."""
    paths = {
        "dataset_path": flat.resolve(),
        "export_path": (run / "out" / "export.jsonl").resolve(),
        "work_dir": (run / "work").resolve(),
    }
    head = "\n".join(f"{key}: {json.dumps(str(value))}" for key, value in paths.items())
    return f"""project_name: dialogdata-bench
{head}
np: 1
text_keys: text
open_tracer: false
op_fusion: false
use_checkpoint: false
cache_compress: null
process:
  - text_length_filter:
      min_len: 10
      max_len: 100000
  - alphanumeric_filter:
      tokenization: false
      min_ratio: 0.25
  - document_minhash_deduplicator:
      tokenization: {MINHASH_TOKENIZATION}
      window_size: {MINHASH_WINDOW}
"""


def site_packages(python: Path) -> Path:
    """The peer venv's site-packages folder."""
    return next((python.parent.parent / "lib").glob("python*/site-packages"))


def installed(python: Path) -> set[str]:
    """The distributions in the peer venv, to catch data-juicer installing packages while it runs."""
    return {p.name for p in site_packages(python).glob("*.dist-info")}


def tree_bytes(path: Path) -> int:
    """The size of the files under a folder."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def peer_versions(python: Path) -> dict[str, str]:
    """Versions of data-juicer and the packages that shape its speed."""
    code = (
        "import importlib.metadata as m, json;"
        "print(json.dumps({d: m.version(d) for d in "
        "('py-data-juicer', 'datasets', 'pyarrow', 'numpy', 'scipy', 'ray', 'torch', 'aiohttp')}))"
    )
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    versions: dict[str, str] = json.loads(done.stdout)
    return versions


def fresh(path: Path) -> None:
    """Remove a folder so a run starts from nothing its predecessor left."""
    shutil.rmtree(path, ignore_errors=True)


def run_ours(source: Path, out: Path) -> tuple[Timing, dict[str, Any]]:
    """One default build in a fresh process; returns its timing and its manifest's record fates."""
    fresh(out)
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "False"}
    argv = [sys.executable, "-m", "dialogdata.cli", "build", str(source), str(out), "--overwrite"]
    timing = run_timed(argv, env=env)
    # Exit 1 is a finished build whose quality gate failed: still the full work, so still a figure.
    if timing.returncode != 1:
        check(timing, "dialogdata build")
    fates: dict[str, Any] = json.loads((out / "manifest.json").read_text())["fates"]
    return timing, fates


def run_peer(python: Path, config: Path, run: Path) -> tuple[Timing, int]:
    """One `dj-process` job in a fresh process, with fresh caches; returns its timing and its output count."""
    for part in ("out", "work", "cache"):
        fresh(run / part)
    cache = run / "cache"
    env = {
        **os.environ,
        # Its own cache per run: dialogdata keeps none between runs either.
        "HF_HOME": str(cache / "hf"),
        "HF_DATASETS_CACHE": str(cache / "hf" / "datasets"),
        "DATA_JUICER_CACHE_HOME": str(cache / "data_juicer"),
        # The operators chosen need no model; offline makes any attempt to fetch one fail loudly.
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
    }
    before = installed(python)
    timing = check(run_timed([str(python.parent / "dj-process"), "--config", str(config)], env=env), PEER)
    added = installed(python) - before
    if added:
        raise SystemExit(f"{PEER} installed packages while it ran, so the run is no figure: {sorted(added)}")
    with (run / "out" / "export.jsonl").open("rb") as stream:
        return timing, sum(1 for line in stream if line.strip())


def markdown(payload: dict[str, Any]) -> str:
    """Render the comparison, the runs and the checks as Markdown tables."""
    lines = [
        "| benchmark | ours | s | reference | s | ratio | aim | met |",
        "|---|---|--:|---|--:|--:|--:|---|",
    ]
    for r in payload["rows"]:
        met = "yes" if r["ok"] else "no"
        lines.append(
            f"| {r['benchmark']} | {r['ours']} | {r['ours_s']:.1f} | {r['reference']} | "
            f"{r['reference_s']:.1f} | {r['ratio']:.3f}x | <= {r['aim']}x | {met} |"
        )
    lines += [
        "",
        "| run | case | s | peak RSS MiB | exit | docs in | docs out |",
        "|--:|---|--:|--:|--:|--:|--:|",
    ]
    for r in payload["runs"]:
        lines.append(
            f"| {r['run']} | {r['case']} | {r['seconds']:.1f} | {r['peak_rss_mib']:.0f} | "
            f"{r['returncode']} | {r['documents_in']:,} | {r['documents_out']:,} |"
        )
    lines += checks_table(payload["checks"])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="dialogues in the corpus")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each case, interleaved")
    parser.add_argument("--workdir", type=Path, default=Path(".bench"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.n < 1 or args.repeat < 1:
        parser.error("--n and --repeat must be >= 1")
    started = time.perf_counter()
    workdir: Path = args.workdir
    source, _ = corpus(workdir, args.n, args.seed)

    home = PEERS / PEER
    reused = (home / ".requirements").exists() and (home / ".requirements").read_text() == "\n".join(
        REQUIREMENTS
    )
    clock = time.perf_counter()
    python = peer_python(PEER, REQUIREMENTS)
    install_seconds = None if reused else time.perf_counter() - clock
    versions = peer_versions(python)

    run = workdir / f"{PEER}-run"
    run.mkdir(parents=True, exist_ok=True)
    flat = run / f"flat-n{args.n}-s{args.seed}.jsonl"
    flattening = flatten(source, flat)
    text = recipe(flat, run)
    config = run / "recipe.yaml"
    config.write_text(text, encoding="utf-8")
    ours_out = workdir / f"datajuicer-ours-n{args.n}"
    warm(source)
    warm(flat)

    runs: list[dict[str, Any]] = []
    for i in range(1, args.repeat + 1):
        timing, fates = run_ours(source, ours_out)
        runs.append(
            {
                "run": i,
                "case": "dialogdata",
                "seconds": timing.seconds,
                "peak_rss_mib": timing.peak_rss_bytes / MIB,
                "returncode": timing.returncode,
                "documents_in": fates["source_records"],
                "documents_out": fates["written"],
                "fates": fates,
            }
        )
        print(f"run {i}/{args.repeat} dialogdata: {timing.seconds:.1f} s", file=sys.stderr)
        timing, written = run_peer(python, config, run)
        runs.append(
            {
                "run": i,
                "case": PEER,
                "seconds": timing.seconds,
                "peak_rss_mib": timing.peak_rss_bytes / MIB,
                "returncode": timing.returncode,
                "documents_in": flattening["written"],
                "documents_out": written,
            }
        )
        print(f"run {i}/{args.repeat} {PEER}: {timing.seconds:.1f} s", file=sys.stderr)

    ours_s = median([r["seconds"] for r in runs if r["case"] == "dialogdata"])
    peer_s = median([r["seconds"] for r in runs if r["case"] == PEER])
    note = (
        f"same {args.n:,}-record ShareGPT corpus, median of {args.repeat}, whole-command wall time with "
        f"imports; one worker each (data-juicer np: 1); data-juicer reads a flat text file prepared "
        f"untimed in its favour ({flattening['skipped_broken_json']} broken JSON lines dropped for it); "
        f"MinHash with {MINHASH_TOKENIZATION} {MINHASH_WINDOW}-gram shingles, other settings its defaults"
    )
    rows = [
        row(
            f"build {args.n // 1000}k vs py-data-juicer",
            "dialogdata build (default)",
            ours_s,
            "py-data-juicer (length + character filters, MinHash dedup)",
            peer_s,
            aim=AIM,
            note=note,
        )
    ]
    ratio = rows[0]["ratio"]
    checks = [
        {
            "name": f"time / py-data-juicer n={args.n:,}",
            "measured": f"{ratio:.3f}x",
            "target": f"<= {AIM}x",
            "ok": ratio <= AIM,
        }
    ]
    payload: dict[str, Any] = {
        "benchmark": "datajuicer",
        "n": args.n,
        "seed": args.seed,
        "repeat": args.repeat,
        "corpus": str(source),
        "ours": {"command": "python -m dialogdata.cli build CORPUS OUT --overwrite", "workers": 1},
        "peer": {
            "command": "dj-process --config recipe.yaml",
            "requirements": REQUIREMENTS,
            "versions": versions,
            "venv_bytes": tree_bytes(home),
            "install_seconds": install_seconds,
            "venv_reused": reused,
        },
        "flattening": flattening,
        "recipe": text,
        "runs": runs,
        "medians": {"dialogdata_s": ours_s, "py_data_juicer_s": peer_s},
        "rows": rows,
        "checks": checks,
        "script_seconds": time.perf_counter() - started,
    }
    out = write_result(workdir, "datajuicer", payload)
    print(markdown(payload))
    print(f"\nresults: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
