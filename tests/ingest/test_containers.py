import json

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


def test_excerpt_is_bounded_and_cut_on_character_boundary():
    raw = ("高血压" * 200).encode()
    text = excerpt(raw, limit=512)
    assert len(text.encode()) <= 512 + len("…".encode())
    assert text.endswith("…")
    assert set(text[:-1]) <= set("高血压")
    assert excerpt(b"short") == "short"
