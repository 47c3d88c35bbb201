"""Hostile text inside otherwise good records: invisible, control, decomposed and unusual characters.

The text policy (dialogdata/ingest/text.py, README "Text policy"): NFC, never NFKC (`nfc`); CRLF and CR
become LF (`newlines`); outer whitespace is trimmed (`trim`); NUL is removed (`nul_removed`); other
control characters (C0 but tab and newline, DEL, C1) are kept and flagged (`control_chars`); bidi
controls are kept and flagged (`bidi_controls`); zero-width characters but U+200D are kept and flagged
(`zero_width`); a lone surrogate rejects the record (`text.surrogate`); a run of more than 30 combining
marks gets a CGJ (U+034F) after every 30 (`stream_safe`, UAX #15). Anything else is kept as given.
Each case puts one hostile text in the user turn of a record between good lines, and checks the text
written to the split files, the flags in dialogues.parquet and metrics.json, and the record's fate.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest

from tests.hostile.harness import (
    assert_neighbours_survive,
    good_lines,
    good_record,
    run_case,
    with_neighbours,
)

PREFIX = "Question txt-0: "
"""The user turn's start, which marks the case's dialogue in the written files."""
CASE_LINE = 4
"""The hostile record's line in case.jsonl: after three good lines."""


@dataclass(frozen=True)
class Case:
    """A hostile user text, what must be written for it, and the flags and fate it must get."""

    name: str
    text: str
    written: str | None
    flags: tuple[str, ...] = ()
    codes: dict[str, int] = field(default_factory=dict)
    filtered: str | None = None
    bare: bool = False
    """The text is the whole user turn, without the prefix."""
    escaped: bool = False
    """The JSON line is written ASCII-escaped (a lone surrogate has no UTF-8 bytes)."""


def kept(name: str, text: str, *flags: str) -> Case:
    """A case whose text is written exactly as given, with these flags."""
    return Case(name, text, text, flags)


CASES = [
    kept("bidi controls (RLO, PDF, isolates, LRM, ALM)",
         "pay \u202eredro\u202c now \u2066iso\u2069 \u200ea \u061cb", "bidi_controls"),
    kept("zero-width space, non-joiner and word joiner", "pass\u200bword zw\u200cnj word\u2060joiner",
         "zero_width"),
    kept("U+FEFF inside the text (not a file BOM)", "left\ufeffright", "zero_width"),
    kept("C0 and C1 controls and DEL (tab and newline are not flagged)",
         "bell\x07 esc\x1b[31m red\tnext\x85line csi\x9b del\x7f\nend", "control_chars"),
    Case("NUL inside the text", "nul\x00inside\x00", "nulinside", ("nul_removed",)),
    Case("NFD: decomposed accents and Korean jamo",
         "cafe\u0301 nai\u0308ve \u1112\u1161\u11ab\u1100\u1173\u11af",
         "caf\u00e9 na\u00efve \ud55c\uae00", ("nfc",)),
    kept("lone combining marks after a space", "\u0301 and \u20dd alone"),
    # UAX #15 Stream-Safe Text Format: a CGJ (U+034F) after 30 non-starters keeps NFC linear.
    Case("a run of 40 combining marks", "x" + "\u0316" * 40, "x" + "\u0316" * 30 + "\u034f" + "\u0316" * 10,
         ("stream_safe",)),
    kept("a 1 MiB line of one character", "a" * (1 << 20)),
    kept("emoji ZWJ sequences, VS16 and skin tones (U+200D not flagged)",
         "\U0001f468\u200d\U0001f469\u200d\U0001f467 \U0001f3f3\ufe0f\u200d\U0001f308 \U0001f44d\U0001f3fd"),
    kept("private-use characters", "\ue000\uf8ff \U000f0000\U0010fffd"),
    kept("non-characters U+FFFE, U+FFFF, U+1FFFE, U+10FFFF", "\ufffe\uffff \U0001fffe\U0010ffff"),
    Case("a user turn that is only whitespace (NBSP, ideographic space)", " \t\n\u00a0\u3000 ", None,
         ("trim",), filtered="consistency.empty_turn", bare=True),
    kept("line and paragraph separators stay inside one JSONL line", "para\u2028line\u2029end"),
    Case("lone surrogate (escaped in the JSON)", "\ud800 alone", None, codes={"text.surrogate": 1},
         escaped=True),
]  # fmt: skip


def _case_file(raw: Path, case: Case) -> None:
    """Write case.jsonl: three good lines, the hostile record, three good lines."""
    record = good_record("txt", 0)
    record["conversations"][0]["value"] = case.text if case.bare else PREFIX + case.text
    line = json.dumps(record, ensure_ascii=case.escaped).encode()
    (raw / "case.jsonl").write_bytes(b"\n".join([*good_lines("first"), line, *good_lines("last")]) + b"\n")


def _parquet_row(out: Path, path: str, line: int) -> dict[str, Any] | None:
    """The dialogues.parquet row of one source record, or None when it was not written."""
    rows = pq.read_table(out / "dialogues.parquet", columns=["source", "turns"]).to_pylist()
    found = [r for r in rows if r["source"]["path"] == path and r["source"]["line"] == line]
    assert len(found) <= 1
    return found[0] if found else None


def _metrics(out: Path) -> dict[str, Any]:
    return dict(orjson.loads((out / "reports" / "metrics.json").read_bytes()))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_text_case(tmp_path, case):
    raw = tmp_path / "raw"
    neighbours = with_neighbours(raw)
    _case_file(raw, case)
    outcome = run_case(raw, tmp_path / "out")
    assert dict(outcome.reject_codes("case.jsonl")) == case.codes
    # The user turn is written exactly as the policy leaves it, or not at all.
    written = [t for t in outcome.written if t.startswith(PREFIX)]
    assert written == ([] if case.written is None else [PREFIX + case.written])
    row = _parquet_row(outcome.out, "case.jsonl", CASE_LINE)
    if case.written is not None:
        assert row is not None and row["turns"][0]["content"] == PREFIX + case.written
        assert tuple(row["source"]["normalizations"]) == case.flags
    else:
        assert row is None
    # Neighbours are clean, so every flag counted in the metrics is the case's.
    assert _metrics(outcome.out)["normalizations"] == dict.fromkeys(case.flags, 1)
    filtered = [f["issue"] for f in outcome.filtered if f["source"]["path"] == "case.jsonl"]
    assert filtered == ([case.filtered] if case.filtered else [])
    assert_neighbours_survive(outcome, [*neighbours, "first", "last"])


def _tool_record(arguments: str) -> dict[str, Any]:
    """An OpenAI dialogue whose assistant calls a tool with `arguments`."""
    call = {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": arguments}}
    return {
        "messages": [
            {"role": "user", "content": "Question tool-0: what is the weather in Montreal today?"},
            {"role": "assistant", "content": "", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
            {"role": "assistant", "content": "Answer tool-0: it is sunny."},
        ]
    }


def test_tool_arguments_are_kept_exactly(tmp_path):
    """Tool-call arguments are kept exactly as the source gave them: no NFC, no trimming, no flags."""
    arguments = '{"city": " Mont\u0301real \u202eevil\u202c\u200b ", "n": 1}'
    raw = tmp_path / "raw"
    neighbours = with_neighbours(raw)
    (raw / "tools.jsonl").write_bytes(orjson.dumps(_tool_record(arguments)) + b"\n")
    outcome = run_case(raw, tmp_path / "out")
    assert outcome.input("tools.jsonl")["fates"]["kept"] == 1
    row = _parquet_row(outcome.out, "tools.jsonl", 1)
    assert row is not None and row["turns"][1]["tool_calls"][0]["arguments"] == arguments
    assert tuple(row["source"]["normalizations"]) == ()
    files = [(outcome.out / name).read_bytes() for name in ("train.jsonl", "validation.jsonl")]
    records = [orjson.loads(line) for data in files for line in data.splitlines()]
    calls = [m["tool_calls"][0] for r in records for m in r["messages"] if m.get("tool_calls")]
    assert [c["function"]["arguments"] for c in calls] == [arguments]
    assert_neighbours_survive(outcome, neighbours)


READ_COUNT = "import sys, dialogdata as dd; print(sum(1 for _ in dd.read(sys.argv[1])))"
ZALGO_PAIRS = 200_000
"""Combining marks of two classes in the wrong order: NFC reorders them, quadratic in the run's length.

400,000 marks is an 800 KB record, far under the 16 MiB record limit; NFC of it takes minutes."""


def test_long_run_of_combining_marks_does_not_hang(tmp_path):
    """A "zalgo" text under the record limit is read promptly (in a subprocess: a hang cannot stall us)."""
    raw = tmp_path / "raw"
    with_neighbours(raw)
    _case_file(raw, Case("zalgo", "e" + "\u0301\u0316" * ZALGO_PAIRS, None))
    try:
        done = subprocess.run([sys.executable, "-c", READ_COUNT, str(raw)], capture_output=True, timeout=6)
    except subprocess.TimeoutExpired:
        pytest.fail("reading a record of combining marks did not finish in 6 s")
    # 3 + 3 neighbours, 3 + 3 good lines around it, and the record itself, normalised.
    assert done.returncode == 0 and done.stdout.strip() == b"13", done.stderr[-2000:]
