"""What every benchmark shares: the corpus, the code state, peer environments, timed commands, results.

Each benchmark script writes `<workdir>/bench_<name>.json` with a `rows` list (one timing side by side
with its reference) and a `checks` list (each aim, measured against its target); `benchmarks/run.py`
joins them into one table.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import venv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GENERATOR = HERE / "generate.py"
MIB = 1024 * 1024
PEERS = ROOT / ".bench" / "peers"
"""Where peers get their environments: shared by full and quick runs, whatever the workdir."""


def corpus(workdir: Path, n: int, seed: int = 0) -> tuple[Path, Path]:
    """Return the corpus and truth paths for (n, seed), generating them unless a current copy exists."""
    path = workdir / f"corpus-n{n}-s{seed}.jsonl"
    truth = workdir / f"corpus-n{n}-s{seed}.truth.jsonl"
    meta = workdir / f"corpus-n{n}-s{seed}.meta.json"
    # The generator's hash goes in the stamp: a corpus from an older generator is not reused.
    stamp = {"n": n, "seed": seed, "generator_sha256": hashlib.sha256(GENERATOR.read_bytes()).hexdigest()}
    if path.exists() and truth.exists() and meta.exists() and json.loads(meta.read_text()) == stamp:
        print(f"reusing {path}", file=sys.stderr)
        return path, truth
    workdir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, str(GENERATOR), str(n), str(path), "--seed", str(seed), "--truth", str(truth)]
    subprocess.run(command, check=True, stdout=sys.stderr)
    meta.write_text(json.dumps(stamp) + "\n")
    return path, truth


def warm(path: Path) -> int:
    """Read a file once so every case starts from the page cache; return its size."""
    size = 0
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            size += len(chunk)
    return size


def code_state() -> dict[str, Any]:
    """The commit measured, and whether dialogdata/ had uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    # A hash of the package sources tells two uncommitted states apart, which commit + dirty cannot.
    digest = hashlib.sha256()
    for source in sorted((ROOT / "dialogdata").rglob("*.py")):
        digest.update(source.relative_to(ROOT).as_posix().encode() + b"\0" + source.read_bytes())
    return {
        "commit": git("rev-parse", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "dialogdata")),
        "sources_sha256": digest.hexdigest(),
    }


def machine() -> dict[str, Any]:
    """The facts a reader needs to compare figures between machines."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    memory = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory / 1024**3, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def peer_python(name: str, requirements: list[str]) -> Path:
    """A virtual environment of its own for a peer, so peers never enter the project's dependencies."""
    home = PEERS / name
    python = home / "bin" / "python"
    stamp = home / ".requirements"
    wanted = "\n".join(requirements)
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    print(f"installing {name} into {home} ...", file=sys.stderr)
    venv.EnvBuilder(with_pip=True, clear=True).create(home)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *requirements], check=True, stdout=sys.stderr)
    stamp.write_text(wanted)
    return python


@dataclass(frozen=True)
class Timing:
    """One finished command: wall seconds, the peak RSS of its largest process, and its exit code."""

    seconds: float
    peak_rss_bytes: int
    returncode: int
    stderr_tail: str


def run_timed(argv: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> Timing:
    """Run a command and measure it with wait4, so the figure is the child's own."""
    start = time.perf_counter()
    process = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss of a reaped child is the largest of it and its own waited-for children, in KiB.
    return Timing(seconds, usage.ru_maxrss * 1024, process.returncode, stderr[-2000:])


def check(timing: Timing, what: str) -> Timing:
    """Stop the benchmark with the command's own error when it failed; a failed run is no figure."""
    if timing.returncode != 0:
        raise SystemExit(f"{what} failed with exit code {timing.returncode}:\n{timing.stderr_tail}")
    return timing


def median(values: list[float]) -> float:
    """The median, the statistic every table reports (robust to one slow run on a shared machine)."""
    return statistics.median(values)


def row(
    benchmark: str,
    ours: str,
    ours_s: float,
    reference: str,
    reference_s: float,
    *,
    aim: float | None,
    note: str = "",
) -> dict[str, Any]:
    """One table row: our median beside the reference's, the ratio ours/reference and its aim (a maximum)."""
    ratio = ours_s / reference_s if reference_s else float("inf")
    return {
        "benchmark": benchmark,
        "ours": ours,
        "ours_s": ours_s,
        "reference": reference,
        "reference_s": reference_s,
        "ratio": ratio,
        "aim": aim,
        "ok": None if aim is None else ratio <= aim,
        "note": note,
    }


def checks_table(checks: list[dict[str, Any]]) -> list[str]:
    """The Markdown lines of a script's aims: a blank line, then one row per check."""
    lines = ["", "| check | measured | target | met |", "|---|--:|--:|---|"]
    return lines + [
        f"| {k['name']} | {k['measured']} | {k['target']} | {'yes' if k['ok'] else 'no'} |" for k in checks
    ]


def write_result(workdir: Path, name: str, payload: dict[str, Any]) -> Path:
    """Write `bench_<name>.json` with the machine and code state added."""
    payload = {"machine": machine(), "code": code_state(), **payload}
    path = workdir / f"bench_{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    return path
