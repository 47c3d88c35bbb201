"""dialogdata validate against a datatrove pipeline (JSONL reader, two filters, JSONL writer), same file.

Run (in `.bench/venv`): `python benchmarks/bench_datatrove.py [--n 20000] [--repeat 3] [--workdir .bench]`.

- dialogdata: `python -m dialogdata.cli validate CORPUS --report OUT --overwrite` (1 worker, the default):
  typed ingest, Consistency, Conflict, Coverage, the issues ledger, dialogues.parquet, the reports and
  the Great Expectations suite. Exit code 1 (quality gate failed) is a completed run too.
- datatrove (in a venv of its own, `.bench/peers/datatrove`, never in the project's dependencies):
  `LocalPipelineExecutor(tasks=1, workers=1)` running `JsonlReader` (an adapter turns each ShareGPT
  record into a Document whose text is the turns' values joined by newlines) -> `LambdaFilter` on the
  length in characters -> `LambdaFilter` on the share of letters -> `JsonlWriter` (uncompressed).

Each run is a fresh process timed from start to exit (imports included on both sides: the wall time a
user waits for). The corpus is read once first so both start from the page cache; one untimed run of
each warms the interpreters' imports and is checked, then the cases alternate (ours, peer, ours, ...)
so machine noise lands on both; medians are reported. Output folders are emptied before every run.
Nothing downloads at run time (datatrove's language-id, tokenizer and word-list filters would).
Prints a Markdown table; writes `<workdir>/bench_datatrove.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import (  # noqa: E402
    MIB,
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

DATATROVE = "datatrove==0.10.1"
# orjson: JsonlReader and JsonlWriter need it, but datatrove lists it only in its "io" extra (with pyarrow,
# datasets, warcio, ...). regex: `datatrove.pipeline.filters` imports `datatrove.utils.text`, which needs
# it, but it is listed only in the "processing" extra (with nltk, fasttext, trafilatura, tokenizers, ...).
PEER_REQUIREMENTS = [DATATROVE, "orjson", "regex"]
TARGET_RATIO = 1.0
# The two filters: character counts and str.isalpha mean the same for English and Chinese text, where
# datatrove's word-based heuristics (Gopher, FineWeb, C4) need a per-language word tokenizer or an nltk
# download. isalpha is true for Latin letters and Han characters alike; spaces, digits and punctuation
# count against the share. 0.6 keeps prose in both scripts and drops texts made mostly of numbers/symbols.
MIN_CHARS, MAX_CHARS, MIN_ALPHA = 50, 100_000, 0.6

PIPELINE = '''\
"""datatrove: JsonlReader (ShareGPT adapter) -> length filter -> letter-share filter -> JsonlWriter."""

import sys
from pathlib import Path

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.filters import LambdaFilter
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter


def sharegpt(self, data, path, id_in_file):
    """One ShareGPT record as a Document: the turns' values joined by newlines, other fields as metadata."""
    turns = data.pop("conversations", None)
    if not isinstance(turns, list):
        turns = []
    text = "\\n".join(t["value"] for t in turns if isinstance(t, dict) and isinstance(t.get("value"), str))
    return {"text": text, "id": str(data.pop("id", f"{path}/{id_in_file}")), "metadata": data}


def letter_share(text):
    """The share of characters that are letters (str.isalpha: Latin letters and Han characters alike)."""
    return sum(c.isalpha() for c in text) / len(text)


if __name__ == "__main__":
    corpus, output, logs = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    min_chars, max_chars, min_alpha = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
    LocalPipelineExecutor(
        pipeline=[
            # Only the corpus file: its folder holds other corpora too.
            JsonlReader(
                str(corpus.parent),
                glob_pattern=corpus.name,
                recursive=False,
                compression=None,
                adapter=sharegpt,
            ),
            LambdaFilter(lambda doc: min_chars <= len(doc.text) <= max_chars),
            LambdaFilter(lambda doc: letter_share(doc.text) >= min_alpha),
            JsonlWriter(output, compression=None),
        ],
        tasks=1,
        workers=1,
        logging_dir=logs,
        skip_completed=False,
    ).run()
'''

OURS_DID = [
    "ingest: format detection, typed Dialogue schema, content ids, rejects for broken records",
    "Consistency (role order, empty / repeated / echo turns, ...)",
    "Conflict: exact and MinHash near duplicates, contradictions, reused answers",
    "Coverage",
    "issues ledger (issues.jsonl), fates, rejects.jsonl, filtered.jsonl",
    "dialogues.parquet",
    "HTML and Markdown reports, metrics.json, manifest",
    "Great Expectations suite results and the quality gate",
]


def peer_did() -> list[str]:
    """What the datatrove pipeline does, in order."""
    return [
        "LocalPipelineExecutor(tasks=1, workers=1): stats, logs, completion markers in a logging folder",
        "JsonlReader with a ShareGPT adapter: text = the turns' values joined by newlines; broken JSON "
        "lines logged and skipped",
        f"LambdaFilter: {MIN_CHARS} <= characters <= {MAX_CHARS:,}",
        f"LambdaFilter: share of letters (str.isalpha) >= {MIN_ALPHA}",
        "JsonlWriter, uncompressed: id, text, metadata per kept document",
    ]


def clear(*folders: Path) -> None:
    """Empty the output folders so no run finds (or is slowed by) a previous run's files."""
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def folder_bytes(folder: Path) -> int:
    """The total size of the files under a folder."""
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink())


def peer_versions(python: Path) -> dict[str, str]:
    """The installed versions of datatrove and the two packages added for it, asked of the peer's venv."""
    code = (
        "import json, platform; from importlib import metadata as m; print(json.dumps("
        "{p: m.version(p) for p in ('datatrove', 'orjson', 'regex')}"
        " | {'python': platform.python_version()}))"
    )
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    versions: dict[str, str] = json.loads(done.stdout)
    return versions


def run_ours(path: Path, out: Path) -> Timing:
    """One dialogdata validate run; exit 1 (gate failed) completes too, anything else stops the benchmark."""
    clear(out)
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "False"}
    argv = [sys.executable, "-m", "dialogdata.cli", "validate", str(path)]
    argv += ["--report", str(out), "--overwrite"]
    timing = run_timed(argv, env=env)
    # An uncaught exception also exits 1, so a completed run is told by its metrics file, not its code.
    if timing.returncode not in (0, 1) or not (out / "reports" / "metrics.json").exists():
        raise SystemExit(
            f"dialogdata validate failed with exit code {timing.returncode}:\n{timing.stderr_tail}"
        )
    return timing


def run_peer(python: Path, program: Path, path: Path, out: Path, logs: Path) -> Timing:
    """One datatrove pipeline run."""
    clear(out, logs)
    # Offline: nothing in this pipeline should reach the Hub, and a run must not depend on it.
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    argv = [str(python), str(program), str(path), str(out), str(logs)]
    argv += [str(MIN_CHARS), str(MAX_CHARS), str(MIN_ALPHA)]
    timing = check(run_timed(argv, env=env), "datatrove pipeline")
    if not (logs / "stats.json").exists():
        raise SystemExit(f"datatrove wrote no stats.json:\n{timing.stderr_tail}")
    return timing


def ours_counts(out: Path) -> dict[str, Any]:
    """What dialogdata read, kept and flagged, from its metrics."""
    metrics = json.loads((out / "reports" / "metrics.json").read_text(encoding="utf-8"))
    return {
        "fates": metrics["fates"],
        "dialogues_scored": metrics["dialogues_scored"],
        "issues": sum(metrics["issues"].values()),
        "gate_passed": (out / "_SUCCESS").exists(),
    }


def peer_counts(out: Path, logs: Path) -> dict[str, Any]:
    """What datatrove read, kept and dropped, from its stats, its task log and its output lines."""
    steps = json.loads((logs / "stats.json").read_text(encoding="utf-8"))
    reader, *filters, writer = steps
    task_logs = "".join(f.read_text(encoding="utf-8") for f in sorted((logs / "logs").glob("*.log")))
    written = 0
    for part in out.glob("*.jsonl"):
        with part.open("rb") as stream:
            written += sum(1 for _ in stream)
    return {
        "documents_read": reader["stats"]["documents"]["total"],
        "broken_lines_skipped": task_logs.count("Error when reading"),
        "filters": [
            {"forwarded": f["stats"].get("forwarded", 0), "dropped": f["stats"].get("dropped", 0)}
            for f in filters
        ],
        "documents_written": writer["stats"]["total"],
        "output_lines": written,
        # datatrove's own step timers: the in-pipeline share of the process's wall time.
        "pipeline_seconds": sum(step["time_stats"]["total"] for step in steps),
    }


def run_record(timing: Timing) -> dict[str, Any]:
    """One timed run as stored in the result."""
    return {
        "seconds": timing.seconds,
        "peak_rss_mib": timing.peak_rss_bytes / MIB,
        "returncode": timing.returncode,
    }


def bench(n: int, repeat: int, workdir: Path, seed: int) -> dict[str, Any]:
    """Install the peer, write its program, warm both sides, then time them interleaved."""
    workdir = workdir.resolve()
    path, _ = corpus(workdir, n, seed)
    start = time.perf_counter()
    python = peer_python("datatrove", PEER_REQUIREMENTS)
    install_seconds = time.perf_counter() - start
    program = workdir / "datatrove_pipeline.py"
    program.write_text(PIPELINE, encoding="utf-8")
    base = workdir / "bench-datatrove"
    ours_out, peer_out, peer_logs = base / "dialogdata", base / "datatrove-out", base / "datatrove-logs"
    size = warm(path)
    # Untimed: the first run of each compiles and caches its imports; its counts are the ones reported.
    run_ours(path, ours_out)
    counts = {"dialogdata": ours_counts(ours_out)}
    run_peer(python, program, path, peer_out, peer_logs)
    counts["datatrove"] = peer_counts(peer_out, peer_logs)
    runs: dict[str, list[dict[str, Any]]] = {"dialogdata": [], "datatrove": []}
    for i in range(repeat):
        ours = run_record(run_ours(path, ours_out))
        runs["dialogdata"].append(ours)
        print(f"run {i + 1}/{repeat} dialogdata: {ours['seconds']:.2f} s", file=sys.stderr)
        peer = run_record(run_peer(python, program, path, peer_out, peer_logs))
        peer["pipeline_seconds"] = peer_counts(peer_out, peer_logs)["pipeline_seconds"]
        runs["datatrove"].append(peer)
        print(f"run {i + 1}/{repeat} datatrove: {peer['seconds']:.2f} s", file=sys.stderr)
    medians = {case: median([r["seconds"] for r in case_runs]) for case, case_runs in runs.items()}
    note = (
        f"whole command, process start to exit, imports included; median of {repeat} interleaved runs; "
        "1 worker each"
    )
    rows = [
        row(
            f"validate {n // 1000}k vs datatrove",
            "dialogdata validate",
            medians["dialogdata"],
            "datatrove reader + 2 filters + writer",
            medians["datatrove"],
            aim=TARGET_RATIO,
            note=note,
        )
    ]
    return {
        "corpus": {"path": str(path), "records": n, "seed": seed, "bytes": size},
        "repeat": repeat,
        "versions": {"dialogdata": metadata.version("dialogdata"), **peer_versions(python)},
        "peer_install": {
            "requirements": PEER_REQUIREMENTS,
            "seconds": install_seconds,
            "venv_mib": folder_bytes(python.parent.parent) / MIB,
        },
        "did": {"dialogdata": OURS_DID, "datatrove": peer_did()},
        "filters": {"min_chars": MIN_CHARS, "max_chars": MAX_CHARS, "min_alpha": MIN_ALPHA},
        "runs": runs,
        "median_seconds": medians,
        "counts": counts,
        "rows": rows,
        "checks": checks(rows[0], counts, n),
    }


def checks(timing: dict[str, Any], counts: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """The aim (no slower than datatrove) and a sanity check that both read the same records."""
    fates = counts["dialogdata"]["fates"]
    ours_read = fates["source_records"] - fates["rejected"]
    peer_read = counts["datatrove"]["documents_read"]
    return [
        {
            "name": f"time / datatrove n={n:,}",
            "measured": f"{timing['ratio']:.2f}x",
            "target": f"<= {TARGET_RATIO}x",
            "ok": timing["ok"],
        },
        {
            "name": "valid records read, datatrove = dialogdata (source records - rejected)",
            "measured": f"{peer_read:,} / {ours_read:,}",
            "target": "equal",
            "ok": peer_read == ours_read,
        },
    ]


def markdown(result: dict[str, Any]) -> str:
    """Render the timing row, the runs, the counts and the checks as Markdown tables."""
    c, v, r = result["corpus"], result["versions"], result["rows"][0]
    ours, peer = result["counts"]["dialogdata"], result["counts"]["datatrove"]
    lines = [
        f"Corpus: `{c['path']}`: {c['records']:,} records, {c['bytes'] / 1e6:.1f} MB (seed {c['seed']}); "
        f"{result['repeat']} run(s) per case, interleaved, median; dialogdata {v['dialogdata']}, datatrove "
        f"{v['datatrove']} (orjson {v['orjson']}, regex {v['regex']}).",
        "",
        "| benchmark | ours | ours s | reference | reference s | ours / reference | aim | met |",
        "|---|---|--:|---|--:|--:|--:|---|",
        f"| {r['benchmark']} | {r['ours']} | {r['ours_s']:.2f} | {r['reference']} | {r['reference_s']:.2f} | "
        f"{r['ratio']:.2f}x | <= {r['aim']}x | {'yes' if r['ok'] else 'no'} |",
        "",
        f"Timing: {r['note']}.",
        "",
        "| run | dialogdata s | peak RSS MiB | datatrove s | peak RSS MiB | datatrove in-pipeline s |",
        "|--:|--:|--:|--:|--:|--:|",
    ]
    for i, (a, b) in enumerate(zip(result["runs"]["dialogdata"], result["runs"]["datatrove"], strict=True)):
        lines.append(
            f"| {i + 1} | {a['seconds']:.2f} | {a['peak_rss_mib']:.0f} | {b['seconds']:.2f} | "
            f"{b['peak_rss_mib']:.0f} | {b['pipeline_seconds']:.2f} |"
        )
    fates = ours["fates"]
    dropped = " + ".join(str(f["dropped"]) for f in peer["filters"])
    lines += [
        "",
        f"- dialogdata: {fates['source_records']:,} records, {fates['rejected']} rejected (broken), "
        f"{ours['dialogues_scored']:,} scored, {ours['issues']:,} issues, {fates['filtered']} filtered, "
        f"{fates['deduplicated']} deduplicated, {fates['kept']:,} kept; gate "
        f"{'passed' if ours['gate_passed'] else 'failed'}.",
        f"- datatrove: {peer['documents_read']:,} documents read, "
        f"{peer['broken_lines_skipped']} broken lines skipped, dropped by the filters {dropped}, "
        f"{peer['documents_written']:,} written "
        f"({peer['output_lines']:,} output lines).",
    ]
    lines += checks_table(result["checks"])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="dialogues in the corpus")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the median is reported")
    parser.add_argument("--workdir", type=Path, default=Path(".bench"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.n < 1 or args.repeat < 1:
        parser.error("--n and --repeat must be >= 1")
    start = time.perf_counter()
    result = bench(args.n, args.repeat, args.workdir, args.seed)
    result["script_seconds"] = time.perf_counter() - start
    out = write_result(args.workdir, "datatrove", result)
    print(markdown(result))
    print(f"\nresults: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
