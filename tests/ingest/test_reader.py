import json

import pytest

import dialogdata as dd
from dialogdata.errors import InputError
from dialogdata.ingest import Reader

GOOD = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}


def test_reader_accounts_for_every_record(examples):
    reader = Reader([examples])
    dialogues = list(reader)
    assert sum(r.records for r in reader.reports) == len(dialogues) + reader.n_rejected
    assert {r.format for r in reader.reports} == {"openai", "sharegpt"}
    for reject in reader.rejects:
        assert reject.path in {r.path for r in reader.reports}
        assert reject.line is not None and reject.line >= 1


def test_reader_rejects_name_file_line_and_reason(examples):
    reader = Reader([examples])
    list(reader)
    by_code = {r.code: r for r in reader.rejects}
    broken = by_code["json.invalid"]
    assert (broken.path, broken.line) == ("clinic_openai.jsonl", 7)
    assert by_code["format.unknown_role"].message.endswith("found 'customer'")
    assert "conversations" in by_code["format.missing_field"].message


def test_reader_sources_point_at_the_physical_line(examples):
    for dialogue in dd.read(examples):
        source = dialogue.source
        path = examples / source.path
        line = path.read_text(encoding="utf-8").splitlines()[source.line - 1]
        assert line.strip() in ("{",) or line.startswith("{")


def test_reader_unsupported_and_undetected_files_do_not_stop_others(tmp_path):
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    (tmp_path / "other.jsonl").write_text(json.dumps({"foo": "x", "bar": "y"}) + "\n", encoding="utf-8")
    (tmp_path / "zgood.jsonl").write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    reader = Reader([tmp_path])
    dialogues = list(reader)
    assert len(dialogues) == 1
    assert [r.code for r in reader.rejects] == ["format.undetected"]
    assert [(s.path, "mapping" in s.reason) for s in reader.skipped] == [("notes.txt", True)]
    assert sum(r.records for r in reader.reports) == 2


def test_reader_skips_hidden_files_and_sorts(tmp_path):
    for name in ("b.jsonl", "a.jsonl", ".hidden.jsonl", "sub/c.jsonl"):
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    reader = Reader([tmp_path])
    assert [f.rel for f in reader.files] == ["a.jsonl", "b.jsonl", "sub/c.jsonl"]
    assert [s.path for s in reader.skipped] == [".hidden.jsonl"]


def test_reader_format_override_and_unknown_format(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    reader = Reader([path], format="sharegpt")
    assert list(reader) == []
    assert [r.code for r in reader.rejects] == ["format.missing_field"]
    with pytest.raises(dd.errors.UsageError):
        Reader([path], format="nope")


def test_reader_missing_path_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        Reader([tmp_path / "missing"])


def test_identical_dialogues_from_different_formats_share_an_id(tmp_path):
    share = {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]}
    (tmp_path / "a.jsonl").write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps([share]), encoding="utf-8")
    a, b = dd.read(tmp_path)
    assert a.id == b.id
    assert (a.source.format, b.source.format) == ("openai", "sharegpt")


CSV_TEXT = (
    "department,title,ask,answer\n"
    '内科,高血压能吃党参吗,"我有高血压，可以吃党参吗？",高血压病人可以口服党参，请遵医嘱。\n'
    "儿科,孩子发烧,孩子发烧 38.5 度怎么办？,先物理降温，持续不退请就诊。\n"
)
TWIN_TURNS = [
    {"from": "human", "value": "請問信用卡額度如何調整？"},
    {"from": "gpt", "value": "可在手機銀行申請。"},
]
JSONL_TEXT = json.dumps({"conversations": TWIN_TURNS}, ensure_ascii=False) + "\n"


@pytest.mark.parametrize(
    ("name", "text", "codec", "detected"),
    [
        ("a.csv", CSV_TEXT, "gbk", "gb18030"),
        ("a.csv", CSV_TEXT, "utf-16", "utf-16"),
        ("a.csv", CSV_TEXT, "utf-16-le", "utf-16-le"),
        ("a.csv", CSV_TEXT, "utf-16-be", "utf-16-be"),
        ("a.csv", CSV_TEXT, "utf-8-sig", "utf-8-sig"),
        ("a.jsonl", JSONL_TEXT, "big5", "big5"),
        ("a.jsonl", JSONL_TEXT, "utf-16", "utf-16"),
        ("a.json", "[" + JSONL_TEXT + "]", "utf-16-le", "utf-16-le"),
    ],
)
def test_reader_encoded_twins_give_identical_dialogues(tmp_path, name, text, codec, detected):
    (tmp_path / "utf8").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "utf8" / name).write_bytes(text.encode("utf-8"))
    (tmp_path / "other" / name).write_bytes(text.encode(codec))
    reference = list(dd.read(tmp_path / "utf8"))
    twins = list(dd.read(tmp_path / "other"))
    assert len(reference) == (2 if name.endswith(".csv") else 1)
    assert [d.to_dict() | {"source": None} for d in twins] == [
        d.to_dict() | {"source": None} for d in reference
    ]
    assert {d.source.encoding for d in twins} == {detected}
    assert [d.source.line for d in twins] == [d.source.line for d in reference]


def test_detached_reader_reads_each_input_as_the_whole_reader_does(examples, tmp_path):
    # What a Ray read task does: a picklable copy without inputs reads one input and reports back.
    import pickle
    import zipfile

    raw = tmp_path / "raw"
    raw.mkdir()
    for path in sorted(examples.iterdir()):
        (raw / path.name).write_bytes(path.read_bytes())
    with zipfile.ZipFile(raw / "more.zip", "w") as archive:
        archive.write(examples / "clinic_openai.jsonl", "inner/clinic.jsonl")
        archive.writestr("inner/notes.txt", "no mapping: skipped")
    whole = Reader([raw])
    dialogues = list(whole)
    parts = Reader([raw])
    apart, rejects, reports, skipped = [], [], [], list(parts.skipped)
    for item in parts.files:
        reader = pickle.loads(pickle.dumps(parts.detached()))
        apart.extend(reader.read_input(pickle.loads(pickle.dumps(item))))
        rejects.extend(reader.rejects)
        reports.extend(reader.reports)
        skipped.extend(reader.skipped)
    assert apart == dialogues and len(dialogues) > 30
    assert rejects == whole.rejects and rejects
    assert reports == whole.reports and skipped == whole.skipped and skipped
    assert parts.reports == [] and parts.rejects == []
