"""Build a folder holding one hostile input beside good neighbours, and check what every run must hold.

Each case of the malformed-input suite writes its files, runs the real `dd.build` on them with good
neighbour files around (a JSONL file before and after the hostile one in path order, and, for line
cases, good lines around the bad one), and asserts the expected fate. `run_case` checks the
invariants that hold for any input: every source record has one fate, written = kept + augmented,
the neighbours' dialogues are all written, and the ledgers are well-formed JSON lines.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

import dialogdata as dd
from dialogdata.ingest.records import EXCERPT_BYTES
from dialogdata.testing import assert_fates_add_up

NEIGHBOURS = 3
"""Good dialogues in each neighbour file."""


def good_record(tag: str, n: int) -> dict[str, Any]:
    """A distinct, clean ShareGPT dialogue whose texts carry `tag` and `n` (never a near duplicate)."""
    rng = random.Random(f"{tag}-{n}")
    question = " ".join(rng.sample(_WORDS, 10))
    answer = " ".join(rng.sample(_WORDS, 14))
    return {
        "conversations": [
            {"from": "human", "value": f"Question {tag}-{n}: what about {question}?"},
            {"from": "gpt", "value": f"Answer {tag}-{n}: {answer}."},
        ]
    }


# Plain words from the two domains the examples cover; a good record mixes a few of them.
_WORD_TEXT = (
    "account balance transfer limit statement branch savings deposit loan card interest rate "
    "fee mortgage overdraft pension insurance cheque currency exchange wire swift routing "
    "password login fraud dispute refund charge merchant receipt tax invoice payroll salary "
    "budget credit debit premium policy claim clinic doctor fever cough tablet dose allergy "
    "blood pressure sugar diet exercise sleep headache nurse appointment vaccine"
)
_WORDS = _WORD_TEXT.split()


def good_line(tag: str, n: int) -> bytes:
    """One good JSONL line."""
    return orjson.dumps(good_record(tag, n))


def good_lines(tag: str, count: int = NEIGHBOURS) -> list[bytes]:
    """`count` good JSONL lines."""
    return [good_line(tag, n) for n in range(count)]


@dataclass
class Outcome:
    """What a build of one case left: the result, manifest and ledgers, and the written user texts."""

    result: Any
    out: Path
    manifest: dict[str, Any]
    rejects: list[dict[str, Any]]
    filtered: list[dict[str, Any]]
    issues: list[dict[str, Any]]
    written: list[str] = field(default_factory=list)

    def reject_codes(self, path: str | None = None) -> Counter[str]:
        """Count the rejects by code (of one input path when given)."""
        return Counter(r["code"] for r in self.rejects if path is None or r["source"]["path"] == path)

    def input(self, path: str) -> dict[str, Any]:
        """The manifest entry of one input."""
        found = [i for i in self.manifest["inputs"] if i["path"] == path]
        assert found, f"{path} not among inputs {[i['path'] for i in self.manifest['inputs']]}"
        return found[0]

    def skipped(self) -> dict[str, str]:
        """Skipped paths and their reasons."""
        return {s["path"]: s["reason"] for s in self.manifest["skipped"]}

    def kept_tags(self, tag: str) -> set[str]:
        """The `tag-n` markers of good dialogues written."""
        return {t.split(":")[0].split(" ")[1] for t in self.written if t.startswith("Question ") and tag in t}


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    # Every ledger line must be one JSON object: a torn or multi-line record would break readers.
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"", f"{path.name} does not end with a newline"
    return [json.loads(line) for line in lines[:-1]]


def run_case(raw: Path, out: Path, **options: Any) -> Outcome:
    """Build `raw` into `out` and check the invariants that hold for any input."""
    result = dd.build(raw, out, **options)
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    assert_fates_add_up(manifest)
    outcome = Outcome(
        result,
        out,
        manifest,
        _jsonl(out / "rejects.jsonl"),
        _jsonl(out / "filtered.jsonl"),
        _jsonl(out / "issues.jsonl"),
    )
    for name in ("train.jsonl", "validation.jsonl", "test.jsonl"):
        for record in _jsonl(out / name):
            outcome.written.extend(m["content"] for m in record["messages"] if m["role"] == "user")
    fates = manifest["fates"]
    records = sum(len(_jsonl(out / n)) for n in ("train.jsonl", "validation.jsonl", "test.jsonl"))
    assert records == fates["written"] - _not_written(out), (records, fates)
    assert len(outcome.rejects) == fates["rejected"], (len(outcome.rejects), fates)
    for reject in outcome.rejects:
        assert len(reject["excerpt"]) <= 4 * EXCERPT_BYTES, "a reject's excerpt must stay bounded"
    return outcome


def _not_written(out: Path) -> int:
    """Dialogues the openai format could not hold (counted in the metrics, absent from the files)."""
    metrics = orjson.loads((out / "reports" / "metrics.json").read_bytes())
    return int(metrics["export"]["formats"]["openai"]["not_written"])


def with_neighbours(raw: Path) -> list[str]:
    """Write good neighbour files sorting before and after any case file; return their tags."""
    raw.mkdir(parents=True, exist_ok=True)
    tags = []
    for name in ("0000-before.jsonl", "zzzz-after.jsonl"):
        tag = name.split("-")[1].split(".")[0]
        (raw / name).write_bytes(b"\n".join(good_lines(tag)) + b"\n")
        tags.append(tag)
    return tags


def assert_neighbours_survive(outcome: Outcome, tags: list[str]) -> None:
    """Every good neighbour dialogue was written and none of them was rejected."""
    for tag in tags:
        assert outcome.kept_tags(tag) == {f"{tag}-{n}" for n in range(NEIGHBOURS)}, tag
