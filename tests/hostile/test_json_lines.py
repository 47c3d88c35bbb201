"""Malformed JSON: each case puts hostile JSON among good records and names the fate the contract gives it."""

from __future__ import annotations

import codecs
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest

from dialogdata.ingest.records import Limits
from tests.hostile.harness import (
    NEIGHBOURS,
    Outcome,
    assert_neighbours_survive,
    good_line,
    good_lines,
    good_record,
    run_case,
    with_neighbours,
)

GOOD = 2 * NEIGHBOURS  # good lines around the bad block of a line case
BAD_LINE = NEIGHBOURS + 1  # the physical line where the bad block starts


def _record(question: str, answer: str = "That is a fair point, thank you.", **extra: Any) -> dict[str, Any]:
    """A ShareGPT dialogue with these texts (and extra top-level fields, which become meta)."""
    turns = [{"from": "human", "value": question}, {"from": "gpt", "value": answer}]
    return {"conversations": turns, **extra}


def _line(record: Any) -> bytes:
    """One compact JSON line."""
    return orjson.dumps(record)


def _question(tag: str, n: int) -> str:
    """The user text of a harness good record, as it is written."""
    return str(good_record(tag, n)["conversations"][0]["value"])


def _nested(depth: int) -> bytes:
    """A record whose meta nests lists so that the whole record is `depth` levels deep."""
    lists = depth - 1  # the record object itself is the first level
    return _line(_record(f"How deep can this go, {depth} levels?"))[:-1] + (
        b', "extra": ' + b"[" * lists + b"]" * lists + b"}"
    )


def _too_large() -> bytes:
    """A well-formed record a few bytes over the record size limit (built on demand: it is 16 MiB)."""
    head, tail = _line(_record("")).split(b'""', 1)
    filler = Limits().max_record_bytes - len(head) - len(tail) + 8
    return head + b'"' + b"a" * filler + b'"' + tail


@dataclass(frozen=True)
class Case:
    """A bad block of lines between good lines of one .jsonl file, and the fate the contract gives it.

    `records` is how many records the block makes; `texts` are user texts it must yield (when part of it is
    read), and `source` fields the parquet `source` of those dialogues must hold.
    """

    name: str
    bad: bytes | Callable[[], bytes]
    codes: dict[str, int]
    records: int = 1
    texts: tuple[str, ...] = ()
    source: Mapping[str, Any] = field(default_factory=dict)

    def block(self) -> bytes:
        """The bad block's bytes (a large one is built only when its case runs)."""
        return self.bad() if callable(self.bad) else self.bad


# NaN and the infinities are JavaScript, not JSON: RFC 8259 has no literal for them.
_NON_FINITE = b"\n".join(
    [
        _line(_record("x")).replace(b'"x"', b"NaN"),
        _line(_record("Infinity in meta?", score="INF")).replace(b'"INF"', b"Infinity"),
        b'{"id": -Infinity, ' + _line(_record("-Infinity as id?"))[1:],
    ]
)
_NOT_OBJECTS = b'[1, 2, 3]\n"just a string"\n42\nnull\ntrue'
_PRETTY = orjson.dumps(good_record("pretty", 0), option=orjson.OPT_INDENT_2)
_LONE_SURROGATES = b"\n".join(
    [
        _line(_record("lone high SURROGATE here")).replace(b"SURROGATE", b"\\ud800"),
        _line(_record("lone low surrogate in meta", note="x")).replace(b'"x"', b'"\\udc00"'),
    ]
)
_PAIRED = _line(_record("A paired escape EMOJI is one character, fine?")).replace(b"EMOJI", b"\\ud83d\\ude00")
_NUL_ESCAPE = _line(_record("An escaped NUL here should vanish.")).replace(b"NUL here", b"NUL\\u0000 here")
_DUPLICATE = (
    b'{"conversations": [{"from": "human", "value": "Dropped first copy of the turns?"}, '
    b'{"from": "gpt", "value": "Never written."}], '
    b'"conversations": [{"from": "human", "value": "Which copy of duplicated keys wins?"}, '
    b'{"from": "gpt", "value": "The last one, as in every mainstream JSON parser."}]}'
)
_BIG_ID = 123456789012345678901234567891  # past 64 bits: no float can hold it exactly

CASES = [
    Case("a line that is not JSON", b"{not json", {"json.invalid": 1}),
    # .jsonl is one record per physical line: each line of a pretty-printed object is a broken record.
    Case(
        "a pretty-printed object spread over lines",
        _PRETTY,
        {"json.invalid": _PRETTY.count(b"\n") + 1},
        records=_PRETTY.count(b"\n") + 1,
    ),
    Case(
        "NaN, Infinity and -Infinity in content, meta and id",
        _NON_FINITE,
        {"json.invalid": _NON_FINITE.count(b"\n") + 1},
        records=_NON_FINITE.count(b"\n") + 1,
    ),
    # 1e400 overflows every double: keeping it would mean writing infinity, which JSON cannot hold.
    Case(
        "a number past the double range (1e400)",
        _line(_record("1e400 in meta?", score="BIG")).replace(b'"BIG"', b"1e400"),
        {"json.invalid": 1},
    ),
    Case(
        "an id past 64 bits",
        _line(_record("Is a 30-digit id kept exactly as the source gave it?", id=0)).replace(
            b'"id":0', b'"id":' + str(_BIG_ID).encode()
        ),
        {},
        texts=("Is a 30-digit id kept exactly as the source gave it?",),
        source={"source_id": str(_BIG_ID)},
    ),
    Case(
        "nesting exactly at the depth limit", _nested(100), {}, texts=("How deep can this go, 100 levels?",)
    ),
    Case("nesting one level past the depth limit", _nested(101), {"record.too_deep": 1}),
    Case("nesting past the parser's own depth limit", _nested(5000), {"record.too_deep": 1}),
    # RFC 8259 leaves duplicate names to the parser and no reject code covers them: the record is read as
    # JavaScript, Python and orjson read it, the last name winning.
    Case(
        "duplicate conversations keys: the last wins",
        _DUPLICATE,
        {},
        texts=("Which copy of duplicated keys wins?",),
    ),
    Case(
        r"lone surrogate escapes: \ud800 in content, \udc00 in meta",
        _LONE_SURROGATES,
        {"text.surrogate": 2},
        records=2,
    ),
    Case(
        "a paired surrogate escape is one emoji",
        _PAIRED,
        {},
        texts=("A paired escape \U0001f600 is one character, fine?",),
    ),
    # Only utterance formats take a bare list; this file is ShareGPT, whose records are objects.
    Case(
        "non-object lines: array, string, number, null, true",
        _NOT_OBJECTS,
        {"record.not_object": _NOT_OBJECTS.count(b"\n") + 1},
        records=_NOT_OBJECTS.count(b"\n") + 1,
    ),
    Case("a record over the record size limit", _too_large, {"record.too_large": 1}),
    # Blank and whitespace-only lines are no records at all, with or without a carriage return.
    Case("blank and whitespace-only lines", b"\n   \n\t \t\n\r\n \x0b\x0c ", {}, records=0),
    # JSON forbids raw control characters in strings; the escaped form is valid and the policy drops it.
    Case(
        "a raw NUL byte inside a string",
        _line(_record("NUL here")).replace(b"NUL here", b"NUL\x00here"),
        {"json.invalid": 1},
    ),
    Case(
        r"an escaped NUL (\u0000) inside a string",
        _NUL_ESCAPE,
        {},
        texts=("An escaped NUL here should vanish.",),
        source={"normalizations": ["nul_removed"]},
    ),
    Case("an empty object", b"{}", {"format.missing_field": 1}),
    Case(
        "trailing garbage after a valid object", good_line("garbage", 0) + b" trailing", {"json.invalid": 1}
    ),
    Case("an empty turn list", b'{"conversations": []}', {"format.no_turns": 1}),
    Case("content that is not a string", _line(_record("x")).replace(b'"x"', b"42"), {"format.bad_type": 1}),
    Case("an unknown role", _line(_record("hi")).replace(b'"human"', b'"robot"'), {"format.unknown_role": 1}),
]


def _write_lines(path: Path, lines: list[bytes]) -> None:
    """Write lines one by one, so a 16 MiB record is never copied into a joined buffer."""
    with path.open("wb") as f:
        for line in lines:
            f.write(line)
            f.write(b"\n")


def _sources(outcome: Outcome, path: str) -> list[dict[str, Any]]:
    """The parquet `source` of every written dialogue read from `path`."""
    sources = pq.read_table(outcome.out / "dialogues.parquet", columns=["source"]).column("source")
    return [s for s in sources.to_pylist() if s["path"] == path]


def _assert_sources(outcome: Outcome, path: str, lines: range, expected: Mapping[str, Any]) -> None:
    """The dialogues read from `lines` of `path` carry the expected source fields."""
    if expected:
        found = [s for s in _sources(outcome, path) if s["line"] in lines]
        assert found, f"no dialogue read from lines {lines} of {path}"
        for source in found:
            assert {k: source[k] for k in expected} == dict(expected)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_line_among_good_ones(tmp_path, case):
    """A bad line gets its fate; the good lines around it in the same file and the other files survive."""
    raw = tmp_path / "raw"
    tags = with_neighbours(raw)
    bad = case.block()
    _write_lines(raw / "case.jsonl", [*good_lines("first"), bad, *good_lines("last")])
    outcome = run_case(raw, tmp_path / "out")
    assert dict(outcome.reject_codes("case.jsonl")) == case.codes
    block = range(BAD_LINE, BAD_LINE + bad.count(b"\n") + 1)
    assert all(r["source"]["line"] in block for r in outcome.rejects), outcome.rejects
    entry = outcome.input("case.jsonl")
    assert (entry["records"], entry["fates"]["kept"]) == (GOOD + case.records, GOOD + len(case.texts))
    assert set(case.texts) <= set(outcome.written)
    _assert_sources(outcome, "case.jsonl", block, case.source)
    assert_neighbours_survive(outcome, [*tags, "first", "last"])


@dataclass(frozen=True)
class FileCase:
    """A whole hostile file and its fate: reject codes at lines (or keys), records, the texts it yields."""

    name: str
    file: str
    body: bytes
    codes: dict[str, int]
    records: int
    texts: tuple[str, ...]
    where: tuple[int | str | None, ...] = ()  # each reject's line, or key when it has one
    encoding: str = "utf-8"
    keys: tuple[str, ...] = ()  # the keys of the written dialogues, for an object keyed by id


def _array(*elements: bytes) -> bytes:
    """A pretty .json array, one element per line."""
    return b"[\n  " + b",\n  ".join(elements) + b"\n]\n"


def _keyed(**values: bytes) -> bytes:
    """A .json object keyed by id."""
    return b"{" + b", ".join(_line(k) + b": " + v for k, v in values.items()) + b"}"


_DEEP = _nested(150)
_TRUNCATED = b'{"conversations": [{"from": "human", "value": "cut off'


def _keyed_case(what: str, bad: bytes, code: str) -> FileCase:
    """A .json object keyed by id whose value `b` is bad and is rejected alone with `code`."""
    return FileCase(
        f"a .json object keyed by id with {what}",
        "case.json",
        _keyed(a=good_line("key", 0), b=bad, c=good_line("key", 1)),
        {code: 1},
        records=3,
        texts=(_question("key", 0), _question("key", 1)),
        where=("b",),
        keys=("a", "c"),
    )


FILE_CASES = [
    FileCase(
        "a truncated last line without its final newline",
        "case.jsonl",
        b"\n".join([*good_lines("first"), *good_lines("last"), _TRUNCATED]),
        {"json.invalid": 1},
        records=GOOD + 1,
        texts=tuple(_question(t, n) for t in ("first", "last") for n in range(NEIGHBOURS)),
        where=(GOOD + 1,),
    ),
    # A BOM is not content: the first record is read like the others.
    FileCase(
        "a UTF-8 BOM at the start of a .jsonl",
        "case.jsonl",
        codecs.BOM_UTF8 + b"\n".join(good_lines("bom")) + b"\n",
        {},
        records=NEIGHBOURS,
        texts=tuple(_question("bom", n) for n in range(NEIGHBOURS)),
        encoding="utf-8-sig",
    ),
    FileCase(
        "a .json array truncated in its last element",
        "case.json",
        _array(good_line("arr", 0), good_line("arr", 1), _TRUNCATED),
        {"json.invalid": 1},
        records=3,
        texts=(_question("arr", 0), _question("arr", 1)),
        where=(4,),
    ),
    FileCase(
        "a .json array with a number among objects",
        "case.json",
        _array(good_line("arr", 0), b"42", good_line("arr", 1)),
        {"record.not_object": 1},
        records=3,
        texts=(_question("arr", 0), _question("arr", 1)),
        where=(3,),
    ),
    _keyed_case("a value of the wrong shape", b'{"title": "no turns"}', "format.missing_field"),
    _keyed_case("a value that is not an object", b"42", "record.not_object"),
    _keyed_case("a value nested past the depth limit", _DEEP, "record.too_deep"),
]


@pytest.mark.parametrize("case", FILE_CASES, ids=lambda c: c.name)
def test_hostile_file(tmp_path, case):
    """A hostile file gets its fate, its good records are written, and the files around it survive."""
    raw = tmp_path / "raw"
    tags = with_neighbours(raw)
    (raw / case.file).write_bytes(case.body)
    outcome = run_case(raw, tmp_path / "out")
    assert dict(outcome.reject_codes(case.file)) == case.codes
    where = [r["source"]["key"] or r["source"]["line"] for r in outcome.rejects]
    assert where == list(case.where)
    entry = outcome.input(case.file)
    assert (entry["encoding"], entry["records"]) == (case.encoding, case.records)
    assert entry["fates"]["kept"] == len(case.texts)
    assert set(case.texts) <= set(outcome.written)
    if case.keys:
        # The key of a value in an object keyed by id is its place in the source.
        assert sorted(s["key"] for s in _sources(outcome, case.file)) == list(case.keys)
    assert_neighbours_survive(outcome, tags)
