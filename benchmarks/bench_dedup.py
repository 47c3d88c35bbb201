"""Near-duplicate and contradiction search: dialogdata's Conflict against datasketch's MinHashLSH, same run.

Run (in `.bench/venv`, which has datasketch): `python benchmarks/bench_dedup.py [--n 20000 200000]`.
Both cases get the same dialogues (read once with `dialogdata.read`, not timed), the same character
n-grams (`dialogdata.validators.minhash.hash_ngrams`), the same LSH bands and rows, and the same
verification, clustering and reporting (the `Conflict` class): only the candidate generation differs.

- dialogdata: one-permutation MinHash in numpy, sketched in `add`, banded with numpy sorts in `finish`.
- datasketch: `MinHash` (affine32 scheme, shared permutations, fed our n-gram hashes) for each context
  and each whole dialogue (context merged with answer), then `MinHashLSH(params=(bands, rows))`,
  queried before each insert.

The truth is the generator's planted defects: a near duplicate there is a dialogue whose human turns
differ from an earlier one's by 1-2 characters and whose final answer differs. Each planted pair is
expected as `conflict.contradiction` when its final answers diverge (similarity under the threshold),
as `conflict.near_duplicate` otherwise; which one is decided by the exact verification run on the pair
alone. Recall: planted pairs reported with their expected code (and with either code). Precision:
reported pairs whose two dialogues are linked in the truth (planted exact or near duplicates of one
original). Reported pairs that were not planted still meet the definition (every pair is verified);
they are counted apart. Prints a Markdown table; writes `<workdir>/bench_dedup.json`.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# Corpus generation and reuse are shared, so every benchmark reads the same files.
from common import checks_table, corpus, write_result  # noqa: E402
from common import row as table_row  # noqa: E402

NEAR, CONTRADICTION = "conflict.near_duplicate", "conflict.contradiction"
TARGET_RECALL = 0.95
TARGET_TIME_RATIO = 0.5
TARGET_GROWTH_EXPONENT = 1.15  # time ~ n^e; 1.0 is linear


def datasketch_conflict() -> type:
    """Return a `Conflict` whose candidate pairs come from datasketch's MinHash and MinHashLSH."""
    from datasketch import MinHash, MinHashLSH

    from dialogdata.validators.conflict import Conflict
    from dialogdata.validators.conflict_pairs import Candidates
    from dialogdata.validators.minhash import hash_ngrams, unique_pairs

    class DatasketchConflict(Conflict):
        """Same rows, n-grams, bands and verification; datasketch sketches and buckets."""

        def _sketch_batch(self, context, answer):
            # datasketch sketches in `_candidate_pairs`; `add` keeps only the texts and hashes.
            empty = np.zeros((len(context), 0), np.uint16)
            return empty, empty

        def _candidate_pairs(self, table, rows):
            lshs = [
                MinHashLSH(num_perm=self.num_perm, params=(bands, self.num_perm // bands))
                for bands in (self.bands, self.whole_bands)
            ]
            permutations = MinHash(num_perm=self.num_perm).permutations
            found: tuple[list[tuple[int, int]], list[tuple[int, int]]] = ([], [])
            for start in range(0, len(rows), 512):
                block = rows[start : start + 512].tolist()
                contexts = self._grams([table.context[i] for i in block])
                answers = self._grams([table.answer[i] for i in block])
                for row, context, answer in zip(block, contexts, answers, strict=True):
                    prompt = MinHash(
                        num_perm=self.num_perm, hashfunc=int, permutations=permutations, scheme="affine32"
                    )
                    prompt.update_batch(context)
                    whole = prompt.copy()
                    whole.update_batch(answer)
                    sketches = ((prompt, context), (whole, context + answer))
                    for lsh, out, (minhash, grams) in zip(lshs, found, sketches, strict=True):
                        if grams:
                            out += [(other, row) for other in lsh.query(minhash)]
                            lsh.insert(row, minhash, check_duplication=False)
            pairs = [unique_pairs(np.array(f, dtype=np.int64).reshape(-1, 2)) for f in found]
            return Candidates(*pairs)

        def _grams(self, texts):
            """Return each text's n-gram hashes as 32-bit ints (datasketch's affine32 input)."""
            grams, rows = hash_ngrams(texts, n=self.ngram, seed=self.seed)
            top = (grams >> np.uint64(32)).astype(np.uint32)
            return [
                part.tolist()
                for part in np.split(top, np.cumsum(np.bincount(rows, minlength=len(texts)))[:-1])
            ]

    return DatasketchConflict


def read_corpus(path: Path) -> tuple[list[Any], dict[str, str]]:
    """Read every dialogue, and map the generator's record ids to dialogue (content) ids."""
    import dialogdata as dd

    dialogues = list(dd.read(path))
    return dialogues, {d.source.source_id: d.id for d in dialogues if d.source and d.source.source_id}


def load_truth(truth: Path, ids: dict[str, str]) -> tuple[set[tuple[str, str]], dict[str, str]]:
    """Return the planted near-duplicate id pairs, and each id's truth group (exact and near links)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    planted: set[tuple[str, str]] = set()
    for line in truth.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["kind"] not in ("exact_duplicate", "near_duplicate"):
            continue
        a, b = ids.get(entry["id"]), ids.get(entry["of"])
        if a is None or b is None or a == b:
            continue
        parent[find(a)] = find(b)
        if entry["kind"] == "near_duplicate":
            planted.add(_pair(a, b))
    return planted, {x: find(x) for x in list(parent)}


def expected_codes(dialogues: list[Any], planted: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Decide each planted pair's code by verifying that pair alone, exactly as Conflict would."""
    from dialogdata.validators.conflict import Conflict
    from dialogdata.validators.conflict_pairs import Candidates, Thresholds, classify, verify
    from dialogdata.validators.conflict_rows import Chunk, to_table

    wanted = {x for pair in planted for x in pair}
    chunk, seen = Chunk(), set()
    for d in dialogues:
        if d.id in wanted and d.id not in seen:
            seen.add(d.id)
            chunk.add(d)
    defaults = Conflict()
    empty = np.zeros((len(chunk), defaults.num_perm), np.uint16)
    chunk.seal(empty, empty)
    table = to_table([chunk], defaults.num_perm)
    row = {key[4]: i for i, key in enumerate(table.keys)}
    pairs = sorted(planted)
    index = np.array([sorted((row[a], row[b])) for a, b in pairs], dtype=np.int64).reshape(-1, 2)
    limits = Thresholds(defaults.near_threshold, defaults.contradiction_prompt, defaults.contradiction_answer)
    near, contradiction = classify(table, verify(table, Candidates(index, index), limits), limits)
    ids = table.ids
    codes = {_pair(ids[a], ids[b]): NEAR for a, b in near.pairs.tolist()}
    codes |= {_pair(ids[a], ids[b]): CONTRADICTION for a, b in contradiction.pairs.tolist()}
    return {pair: codes.get(pair, "none") for pair in pairs}


def _pair(a: str, b: str) -> tuple[str, str]:
    """Return an id pair in a fixed order."""
    return (a, b) if a <= b else (b, a)


def run_case(cls: type, dialogues: list[Any]) -> tuple[Any, dict[str, float]]:
    """Time `add` over every dialogue and `finish`, for one Conflict class."""
    gc.collect()
    conflict = cls()
    start = time.perf_counter()
    for dialogue in dialogues:
        conflict.add(dialogue)
    added = time.perf_counter()
    result = conflict.finish()
    done = time.perf_counter()
    return result, {"add_seconds": added - start, "finish_seconds": done - added, "seconds": done - start}


def score(result: Any, expected: dict[tuple[str, str], str], group: dict[str, str]) -> dict[str, Any]:
    """Recall and precision of the reported pairs against the planted truth."""
    reported = {code: {_pair(*p) for p in result.pairs[code]} for code in (NEAR, CONTRADICTION)}
    either = reported[NEAR] | reported[CONTRADICTION]
    out: dict[str, Any] = {"candidates": sum(result.metrics["n_candidates"].values())}
    planted = set(expected)
    out["any"] = _rates(either, planted, group)
    for code in (NEAR, CONTRADICTION):
        out[code] = _rates(reported[code], {p for p, c in expected.items() if c == code}, group)
    return out


def _rates(
    reported: set[tuple[str, str]], planted: set[tuple[str, str]], group: dict[str, str]
) -> dict[str, Any]:
    """Recall over `planted`, precision over `reported` (a pair is right when the truth links it)."""
    linked = sum(1 for a, b in reported if a in group and b in group and group[a] == group[b])
    return {
        "planted": len(planted),
        "found": len(planted & reported),
        "recall": len(planted & reported) / len(planted) if planted else 1.0,
        "reported": len(reported),
        "linked_in_truth": linked,
        "precision": linked / len(reported) if reported else 1.0,
    }


def bench(n: int, workdir: Path, seed: int) -> dict[str, Any]:
    """Generate or reuse the corpus and run both cases on it."""
    from dialogdata.validators.conflict import Conflict

    path, truth = corpus(workdir, n, seed)
    start = time.perf_counter()
    dialogues, ids = read_corpus(path)
    read_seconds = time.perf_counter() - start
    planted, group = load_truth(truth, ids)
    expected = expected_codes(dialogues, planted)
    cases: dict[str, Any] = {}
    for name, cls in (("dialogdata", Conflict), ("datasketch", datasketch_conflict())):
        result, times = run_case(cls, dialogues)
        cases[name] = {**times, **score(result, expected, group), "metrics": result.metrics}
        print(f"n={n} {name}: {times['seconds']:.1f} s", file=sys.stderr)
        del result
    return {
        "n": n,
        "dialogues": len(dialogues),
        "read_seconds": read_seconds,
        "corpus": str(path),
        "expected_codes": {
            code: sum(1 for c in expected.values() if c == code) for code in (NEAR, CONTRADICTION, "none")
        },
        "cases": cases,
        "time_ratio": cases["dialogdata"]["seconds"] / cases["datasketch"]["seconds"],
    }


def markdown(result: dict[str, Any]) -> str:
    """Render the runs and the checks as Markdown tables."""
    rows = [
        "| n | method | add s | finish s | total s | candidates | recall (either code) | precision | "
        "near dup R / P | contradiction R / P | time vs datasketch |",
        "|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for run in result["runs"]:
        for name, case in run["cases"].items():
            ratio = f"{run['time_ratio']:.2f}x" if name == "dialogdata" else ""
            near, contra, anyc = case[NEAR], case[CONTRADICTION], case["any"]
            rows.append(
                f"| {run['n']:,} | {name} | {case['add_seconds']:.1f} | {case['finish_seconds']:.1f} | "
                f"{case['seconds']:.1f} | {case['candidates']:,} | {anyc['recall']:.4f} "
                f"({anyc['found']}/{anyc['planted']}) | {anyc['precision']:.3f} | "
                f"{near['recall']:.3f} / {near['precision']:.3f} | "
                f"{contra['recall']:.3f} / {contra['precision']:.3f} | {ratio} |"
            )
    rows += checks_table(result["checks"])
    return "\n".join(rows)


def side_by_side(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per corpus size: Conflict's add + finish against the same with datasketch's candidates."""
    out = []
    for run in runs:
        n, cases = run["n"], run["cases"]
        recall = {name: case["any"]["recall"] for name, case in cases.items()}
        out.append(
            table_row(
                f"near-duplicates {n // 1000}k vs datasketch MinHashLSH"
                if n % 1000 == 0
                else f"near-duplicates {n:,} vs datasketch MinHashLSH",
                "dialogdata Conflict",
                cases["dialogdata"]["seconds"],
                "datasketch MinHash + MinHashLSH",
                cases["datasketch"]["seconds"],
                aim=TARGET_TIME_RATIO,
                note=(
                    "add + finish in one process, one run each, same n-grams, bands and verification; "
                    f"recall {recall['dialogdata']:.4f} vs {recall['datasketch']:.4f}"
                ),
            )
        )
    return out


def checks(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The targets: recall, time against datasketch, and growth with n."""
    out = []
    for run in runs:
        case = run["cases"]["dialogdata"]
        recall = case["any"]["recall"]
        out.append(
            {
                "name": f"recall n={run['n']:,}",
                "measured": f"{recall:.4f}",
                "target": f">= {TARGET_RECALL}",
                "ok": recall >= TARGET_RECALL,
            }
        )
        out.append(
            {
                "name": f"time / datasketch n={run['n']:,}",
                "measured": f"{run['time_ratio']:.2f}x",
                "target": f"<= {TARGET_TIME_RATIO}x",
                "ok": run["time_ratio"] <= TARGET_TIME_RATIO,
            }
        )
    if len(runs) >= 2:
        small, large = runs[0], runs[-1]
        t0, t1 = small["cases"]["dialogdata"]["seconds"], large["cases"]["dialogdata"]["seconds"]
        exponent = math.log(t1 / t0) / math.log(large["n"] / small["n"])
        out.append(
            {
                "name": f"growth {small['n']:,} -> {large['n']:,} (time ~ n^e)",
                "measured": f"e = {exponent:.2f} ({t1 / t0:.1f}x time for {large['n'] / small['n']:.0f}x n)",
                "target": f"e <= {TARGET_GROWTH_EXPONENT}",
                "ok": exponent <= TARGET_GROWTH_EXPONENT,
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n", type=int, nargs="+", default=[20_000, 200_000], help="corpus sizes, smallest first"
    )
    parser.add_argument("--workdir", type=Path, default=Path(".bench"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if min(args.n) < 1:
        parser.error("--n must be >= 1")
    runs = [bench(n, args.workdir, args.seed) for n in sorted(args.n)]
    result = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "runs": runs,
        "rows": side_by_side(runs),
        "checks": checks(runs),
    }
    out = write_result(args.workdir, "dedup", result)
    print(markdown(result))
    print(f"\nresults: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
