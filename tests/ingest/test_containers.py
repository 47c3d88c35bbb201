import json
import random
import re

import orjson
import pytest

from dialogdata.ingest import containers
from dialogdata.ingest.records import Limits, excerpt

GOOD = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}


def iter_jsonl(path):
    with path.open("rb") as stream:
        yield from containers.iter_jsonl(stream, "utf-8", Limits())


def iter_json(path):
    with path.open("rb") as stream:
        yield from containers.iter_json(stream, "utf-8", Limits())


def _line(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)


def test_iter_jsonl_broken_line_keeps_neighbours(write_lines):
    path = write_lines("a.jsonl", _line(GOOD), '{"messages": [{"role": "user", "content": "cut', _line(GOOD))
    records = list(iter_jsonl(path))
    assert [r.line for r in records] == [1, 2, 3]
    assert [r.error[0] if r.error else None for r in records] == [None, "json.invalid", None]
    assert records[0].data == GOOD and records[2].data == GOOD


def test_iter_jsonl_skips_blank_lines_and_counts_physical_lines(write_lines):
    path = write_lines("a.jsonl", _line(GOOD), "", "   ", _line(GOOD))
    assert [(r.index, r.line) for r in iter_jsonl(path)] == [(0, 1), (1, 4)]


def test_iter_jsonl_strips_bom_and_crlf(write_lines):
    path = write_lines("a.jsonl", b"\xef\xbb\xbf" + _line(GOOD).encode(), _line(GOOD), newline=b"\r\n")
    assert [r.data for r in iter_jsonl(path)] == [GOOD, GOOD]


def test_iter_jsonl_invalid_utf8_line_is_an_error_record(write_lines):
    path = write_lines("a.jsonl", _line(GOOD), b'{"messages": "\xb8\xdf"}', _line(GOOD))
    records = list(iter_jsonl(path))
    assert records[1].error is not None and records[1].error[0] == "encoding.invalid"
    assert "0xb8" in records[1].error[1]


def test_iter_json_array_gives_element_lines(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps([GOOD, GOOD, GOOD], indent=2), encoding="utf-8")
    lines = [r.line for r in iter_json(path)]
    text = path.read_text().splitlines()
    assert len(lines) == 3
    assert all(text[n - 1].strip() == "{" for n in lines)


def test_iter_json_array_bad_element_stays_alone(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(f'[\n{_line(GOOD)},\n{{"messages": [1, }},\n{_line(GOOD)}\n]\n', encoding="utf-8")
    records = list(iter_json(path))
    assert [r.error[0] if r.error else None for r in records] == [None, "json.invalid", None]
    assert [r.line for r in records] == [2, 3, 4]


def test_iter_json_array_brackets_inside_strings(tmp_path):
    tricky = {"messages": [{"role": "user", "content": 'a ] , } [ { "quoted \\" ]'}]}
    path = tmp_path / "a.json"
    path.write_text(json.dumps([tricky, GOOD]), encoding="utf-8")
    assert [r.data for r in iter_json(path)] == [tricky, GOOD]


def test_iter_json_truncated_array_keeps_complete_elements(tmp_path):
    path = tmp_path / "a.json"
    text = json.dumps([GOOD, GOOD, GOOD], indent=2)
    path.write_text(text[: len(text) - 30], encoding="utf-8")
    records = list(iter_json(path))
    assert [r.data for r in records[:2]] == [GOOD, GOOD]
    assert records[2].error is not None and records[2].error[0] == "json.invalid"


def test_iter_json_object_keyed_by_id(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"d1": GOOD, "d2": GOOD}), encoding="utf-8")
    records = list(iter_json(path))
    assert [(r.key, r.index, r.data) for r in records] == [("d1", 0, GOOD), ("d2", 1, GOOD)]


def test_iter_json_single_record_object(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps(GOOD), encoding="utf-8")
    assert [r.data for r in iter_json(path)] == [GOOD]


def test_iter_json_sniffs_json_lines_saved_as_json(write_lines):
    path = write_lines("a.json", _line(GOOD), _line(GOOD), "{broken")
    records = list(iter_json(path))
    assert [r.line for r in records] == [1, 2, 3]
    assert records[2].error is not None


def test_iter_json_empty_file_has_no_records(tmp_path):
    path = tmp_path / "a.json"
    path.write_bytes(b"  \n")
    assert list(iter_json(path)) == []


@pytest.mark.parametrize(
    ("number", "kept"),
    [
        (123456789012345678901234567890, "123456789012345678901234567890"),
        (-123456789012345678901234567890, "-123456789012345678901234567890"),
        (2**64, "18446744073709551616"),  # the first integer orjson reads as a float
        (-(2**63) - 1, "-9223372036854775809"),  # 19 digits after a minus: already past int64
        (2**64 - 1, 2**64 - 1),
        (-(2**63), -(2**63)),
    ],
)
def test_parse_json_keeps_integers_past_64_bits_exact_as_digits(number, kept):
    raw = f'{{"id": {number}, "score": 0.5, "meta": {{"n": [{number}, 7]}}}}'.encode()
    record = containers.parse_json(raw, index=0, line=1, limits=Limits())
    assert record.error is None
    assert record.data == {"id": kept, "score": 0.5, "meta": {"n": [kept, 7]}}
    # What the record holds must be writable: no output carries an integer past 64 bits.
    assert orjson.loads(orjson.dumps(record.data)) == record.data


@pytest.mark.parametrize(
    "raw",
    [
        b'{"card": "123456789012345678901234", "ts": 1700000000000000000}',
        b'{"pi": 3.14159265358979323846264338327950288, "big": 1.5e300}',
        rb'{"deep": [[[1]]], "text": "\u00e9\ud83d\ude00"}',
    ],
)
def test_parse_json_long_digit_runs_read_the_same_as_orjson(raw):
    record = containers.parse_json(raw, index=0, line=1, limits=Limits())
    assert record.data == orjson.loads(raw)


def test_parse_json_digit_runs_are_found_in_any_slice(monkeypatch):
    monkeypatch.setattr(containers, "_SCAN_BYTES", 16)
    runs = re.compile(rb"[0-9]{20}|-[0-9]{19}")
    rng = random.Random(7)
    for _ in range(5000):
        raw = bytes(rng.choice(b"0000000009-a ") for _ in range(rng.randint(0, 80)))
        assert containers._has_long_digit_run(raw) == bool(runs.search(raw)), raw


def test_iter_json_document_keeps_integers_past_64_bits_exact(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"d1": {**GOOD, "id": 2**70}, "d2": GOOD}), encoding="utf-8")
    assert [r.data.get("id") for r in iter_json(path)] == [str(2**70), None]


def test_parse_json_nesting_past_the_parsers_own_limit_is_too_deep():
    raw = b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    record = containers.parse_json(raw, index=0, line=1, limits=Limits())
    assert record.error is not None and record.error[0] == "record.too_deep"


def test_iter_json_keyed_by_id_keeps_values_around_a_non_object(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"a": GOOD, "b": 42, "c": GOOD, "d": None, "e": GOOD}), encoding="utf-8")
    records = list(iter_json(path))
    assert [(r.key, r.data) for r in records] == [
        ("a", GOOD),
        ("b", 42),
        ("c", GOOD),
        ("d", None),
        ("e", GOOD),
    ]


@pytest.mark.parametrize(
    "document",
    [
        {"instruction": "hi", "input": "", "output": "hello"},
        {**GOOD, "meta": {"a": 1}, "extra": {"b": 2}},  # a turn list: one record, even among objects
        {"a": GOOD, "b": 42},  # objects are no majority
    ],
)
def test_iter_json_single_record_is_not_taken_for_keyed_by_id(tmp_path, document):
    path = tmp_path / "a.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert [(r.key, r.data) for r in iter_json(path)] == [(None, document)]


def test_excerpt_is_bounded_and_cut_on_character_boundary():
    raw = ("高血压" * 200).encode()
    text = excerpt(raw, limit=512)
    assert len(text.encode()) <= 512 + len("…".encode())
    assert text.endswith("…")
    assert set(text[:-1]) <= set("高血压")
    assert excerpt(b"short") == "short"
