"""Run the fuzz harnesses in turn, splitting a time budget between them (`make fuzz MINUTES=30`).

Each harness runs in its own process with libFuzzer's `-max_total_time`; its seeds come from
fuzz/seeds/<harness>/, the inputs it finds go to out/fuzz/corpus/<harness>/ (kept between runs, never
committed), crashes to fuzz/crashes/<harness>/, its log to out/fuzz/logs/<harness>.log. A line per run
(harness, seconds, executions, result) is appended to out/fuzz/runs.tsv. Exits 1 when any harness crashed.

    python -m fuzz.run --minutes 10            # every harness
    python -m fuzz.run --minutes 5 csv yaml    # some of them
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HARNESSES = ("jsonl", "json", "csv", "yaml", "encoding", "formats", "reader")
SEEDS = ROOT / "fuzz" / "seeds"
CRASHES = ROOT / "fuzz" / "crashes"
WORK = ROOT / "out" / "fuzz"
# Seconds one input may take before it counts as a hang (generous: the machine is shared).
TIMEOUT = 30
_EXECUTED = re.compile(r"stat::number_of_executed_units:\s*(\d+)")
_DONE = re.compile(r"Done (\d+) runs in (\d+) second")


def run_one(harness: str, seconds: int, extra: list[str]) -> tuple[int, int, str]:
    """Fuzz one harness for `seconds`; return (executions, seconds taken, result)."""
    corpus, crashes, logs = WORK / "corpus" / harness, CRASHES / harness, WORK / "logs"
    for folder in (corpus, crashes, logs):
        folder.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        f"fuzz.fuzz_{harness}",
        f"-max_total_time={seconds}",
        f"-timeout={TIMEOUT}",
        "-rss_limit_mb=4096",
        "-print_final_stats=1",
        f"-artifact_prefix={crashes}/",
        *extra,
        str(corpus),
        str(SEEDS / harness),
    ]
    log = logs / f"{harness}.log"
    started = time.monotonic()
    with log.open("w") as out:
        code = subprocess.run(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
    took = round(time.monotonic() - started)
    text = log.read_text(errors="replace")
    found = _EXECUTED.findall(text) or [m[0] for m in _DONE.findall(text)]
    executions = int(found[-1]) if found else 0
    result = "ok" if code == 0 else f"crash (exit {code}, see {log.relative_to(ROOT)})"
    return executions, took, result


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and run the harnesses; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="the budget shared by the harnesses")
    parser.add_argument("harnesses", nargs="*", help=f"default: all ({', '.join(HARNESSES)})")
    parser.add_argument("--libfuzzer", action="append", default=[], help="an extra libFuzzer argument")
    args = parser.parse_args(argv)
    harnesses = args.harnesses or list(HARNESSES)
    unknown = sorted(set(harnesses) - set(HARNESSES))
    if unknown:
        parser.error(f"unknown harness {unknown[0]!r}; expected some of: {', '.join(HARNESSES)}")
    seconds = max(10, int(args.minutes * 60 / len(harnesses)))
    WORK.mkdir(parents=True, exist_ok=True)
    failed = []
    for harness in harnesses:
        print(f"fuzz: {harness} for {seconds} s ...", flush=True)
        executions, took, result = run_one(harness, seconds, args.libfuzzer)
        print(f"fuzz: {harness}: {executions:,} executions in {took} s: {result}", flush=True)
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        with (WORK / "runs.tsv").open("a") as runs:
            runs.write(f"{stamp}\t{harness}\t{took}\t{executions}\t{result}\n")
        if result != "ok":
            failed.append(harness)
    if failed:
        print(f"fuzz: crashes in {', '.join(failed)}: inputs under {CRASHES.relative_to(ROOT)}/", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
