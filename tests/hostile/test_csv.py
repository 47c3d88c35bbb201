"""Malformed CSV utterance logs: each case puts one hostile table among good dialogues and names its fate.

The layout is the README's `utterance_table`: one row per turn with a dialogue id, a speaker and a text
column; rows sharing an id form one dialogue, so a file's source records are its dialogues plus the rows
rejected on their own. Cases that need a field past the record limit lower the limit for the run.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import orjson
import pytest

import dialogdata.ingest.reader as reader_module
from dialogdata.ingest.records import Limits
from tests.hostile.harness import Outcome, assert_neighbours_survive, good_record, run_case, with_neighbours

HEADER = "dialogue_id,speaker,text\n"
LIMIT = 64 << 10
"""The record limit of the cases that cross it: 64 KiB, so a field past it stays cheap to build."""
INJECTION = "=cmd|' /C calc'!A0"
HYPERLINK = '=HYPERLINK("http://example.invalid/x","click me")'
_HYPERLINK_FIELD = '"' + HYPERLINK.replace('"', '""') + '"'  # quoted as RFC 4180 says


def _texts(n: int) -> tuple[str, str]:
    """The question and answer of good dialogue `n` (distinct words: never near duplicates)."""
    turns = good_record("csv", n)["conversations"]
    return str(turns[0]["value"]), str(turns[1]["value"])


def _question(n: int) -> str:
    return _texts(n)[0]


def _rows(*ns: int, sep: str = ",") -> str:
    """The user and assistant rows of good dialogues `ns`, with ids `d<n>`."""
    return "".join(f"d{n}{sep}user{sep}{q}\nd{n}{sep}assistant{sep}{a}\n" for n in ns for q, a in [_texts(n)])


def _limited(max_record_bytes: int | None) -> AbstractContextManager[object]:
    """Give the build's Reader a lower record limit (the build has no option for it)."""
    if max_record_bytes is None:
        return contextlib.nullcontext()
    limits = functools.partial(Limits, max_record_bytes=max_record_bytes)
    return mock.patch.object(reader_module, "Limits", limits)


@dataclass(frozen=True)
class Case:
    """A hostile CSV file and its fate: reject codes (at lines), records, user texts written, filter rules.

    `texts` are all the user texts the file's kept dialogues must write, no more; `lines` are the rejects'
    physical lines in order (None: not checked); `filtered` the (code, issue) of each filtered dialogue.
    """

    name: str
    body: str | Callable[[], str]
    codes: dict[str, int]
    records: int
    texts: tuple[str, ...]
    lines: tuple[int | None, ...] | None = ()
    filtered: tuple[tuple[str, str | None], ...] = ()
    file: str = "case.csv"
    encoding: str = "utf-8"
    format: str | None = "utterance_table"
    limit: int | None = None
    answers: tuple[str, ...] = ()  # assistant texts that must be written as they are

    def text(self) -> str:
        return self.body() if callable(self.body) else self.body


def _huge_line() -> str:
    """A row on one physical line whose text is past the (lowered) record limit."""
    return HEADER + _rows(1) + "d9,user," + "x" * (LIMIT + 16) + "\n" + _rows(3)


def _huge_quoted() -> str:
    """A quoted field spread over many short lines that adds up to more than the (lowered) record limit."""
    field = ("y" * 999 + "\n") * (LIMIT // 1000 + 8)
    return HEADER + _rows(1) + f'd9,user,"{field}"\nd9,assistant,Never mind.\n' + _rows(3)


_QUOTED = 'First line, with a comma\nHe said ""hi"", then left'

CASES = [
    Case(
        "a row with too many fields",
        HEADER + _rows(1) + "d9,user,too,many,fields\n" + _rows(3),
        {"csv.field_count": 1},
        records=3,
        texts=(_question(1), _question(3)),
        lines=(4,),
    ),
    # The short row is rejected alone; what is left of its dialogue (an answer with no question) is filtered.
    Case(
        "a row with too few fields inside a dialogue",
        HEADER + _rows(1) + "d2,user\nd2,assistant,An answer to a lost question.\n" + _rows(3),
        {"csv.field_count": 1},
        records=4,
        texts=(_question(1), _question(3)),
        lines=(4,),
        filtered=(("filter.issue", "consistency.no_user"),),
    ),
    # A quote that never closes, as in a cut-off export, is `csv.invalid` at the line it opens on, never a
    # turn of text; reading resumes on the next line, so the rows the quote swallowed survive.
    Case(
        "an unterminated quote at the end of the file",
        HEADER + _rows(1, 2) + 'd3,user,"cut off in the middle of a sent\n',
        {"csv.invalid": 1},
        records=3,
        texts=(_question(1), _question(2)),
        lines=(6,),
    ),
    Case(
        "an unterminated quote in the middle of the file",
        HEADER + _rows(1) + 'd2,user,"never closed\n' + _rows(3, 4),
        {"csv.invalid": 1},
        records=4,
        texts=(_question(1), _question(3), _question(4)),
        lines=(4,),
    ),
    Case(
        "quoted fields with embedded newlines, commas and doubled quotes",
        HEADER + _rows(1) + f'd2,user,"{_QUOTED}"\nd2,assistant,"Noted, thanks."\n' + _rows(3),
        {},
        records=3,
        texts=(_question(1), 'First line, with a comma\nHe said "hi", then left', _question(3)),
        answers=("Noted, thanks.",),
    ),
    Case(
        "a field on one line past the record limit",
        _huge_line,
        {"record.too_large": 1},
        records=3,
        texts=(_question(1), _question(3)),
        lines=(4,),
        limit=LIMIT,
    ),
    # The field is rejected whole and reading resumes after its closing quote: what is left of d9 (an answer
    # with no question) is filtered.
    Case(
        "a quoted multi-line field past the record limit",
        _huge_quoted,
        {"record.too_large": 1},
        records=4,
        texts=(_question(1), _question(3)),
        lines=(4,),
        filtered=(("filter.issue", "consistency.no_user"),),
        limit=LIMIT,
    ),
    # Without a text column no format claims the rows: each row is rejected, none is guessed at.
    Case(
        "a header missing the text column",
        "dialogue_id,speaker\nd1,user\nd1,assistant\n",
        {"format.undetected": 2},
        records=2,
        texts=(),
        lines=(2, 3),
        format=None,
    ),
    # Header cells must be distinct to be a header: this header line is read as a row of column1..4, so
    # it counts as a record, and no format claims any row.
    Case(
        "a header with a duplicate column name",
        "dialogue_id,speaker,text,text\n" + _rows(1, 2).replace("\n", ",x\n"),
        {"format.undetected": 5},
        records=5,
        texts=(),
        lines=(1, 2, 3, 4, 5),
        format=None,
    ),
    Case("a header and no rows", HEADER, {}, records=0, texts=(), format=None),
    Case(
        "a UTF-8 BOM before the header",
        "\ufeff" + HEADER + _rows(1, 2),
        {},
        records=2,
        texts=(_question(1), _question(2)),
        encoding="utf-8-sig",
    ),
    # Commas inside the texts must not win over the tab that the .tsv extension names.
    Case(
        "a TSV whose texts hold commas",
        (HEADER + _rows(1, 2)).replace(",", "\t").replace("what about", "what, about"),
        {},
        records=2,
        texts=tuple(_question(n).replace("what about", "what, about") for n in (1, 2)),
        file="case.tsv",
    ),
    Case(
        "a semicolon-delimited .csv",
        HEADER.replace(",", ";") + _rows(1, 2, sep=";"),
        {},
        records=2,
        texts=(_question(1), _question(2)),
    ),
    # Spreadsheet formulas are data here: nothing evaluates them, and they are written unchanged.
    Case(
        "spreadsheet formula injection in texts",
        HEADER + _rows(1) + f"d2,user,{INJECTION}\nd2,assistant,{_HYPERLINK_FIELD}\n",
        {},
        records=2,
        texts=(_question(1), INJECTION),
        answers=(HYPERLINK,),
    ),
]


def _is_neighbour(text: str) -> bool:
    return text.startswith(("Question before-", "Question after-"))


def _answers(outcome: Outcome) -> set[str]:
    """Every assistant text written to the split files."""
    found: set[str] = set()
    for name in ("train.jsonl", "validation.jsonl", "test.jsonl"):
        path = outcome.out / name
        for line in path.read_bytes().splitlines() if path.exists() else []:
            found.update(m["content"] for m in orjson.loads(line)["messages"] if m["role"] == "assistant")
    return found


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hostile_csv(tmp_path: Path, case: Case) -> None:
    """A hostile CSV gets its fate, its good dialogues are written, and the files around it survive."""
    raw = tmp_path / "raw"
    tags = with_neighbours(raw)
    (raw / case.file).write_bytes(case.text().encode("utf-8"))
    with _limited(case.limit):
        outcome = run_case(raw, tmp_path / "out")
    assert dict(outcome.reject_codes(case.file)) == case.codes
    if case.lines is not None:
        assert tuple(r["source"]["line"] for r in outcome.rejects) == case.lines
    entry = outcome.input(case.file)
    assert (entry["encoding"], entry["format"]) == (case.encoding, case.format)
    # Each kept dialogue of these cases has one user turn, so its texts count the dialogues kept.
    assert (entry["records"], entry["fates"]["kept"]) == (case.records, len(case.texts))
    assert sorted(t for t in outcome.written if not _is_neighbour(t)) == sorted(case.texts)
    assert set(case.answers) <= _answers(outcome)
    filtered = [(f["code"], f.get("issue")) for f in outcome.filtered if f["source"]["path"] == case.file]
    assert filtered == list(case.filtered)
    assert_neighbours_survive(outcome, tags)
