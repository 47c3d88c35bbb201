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


def _touch(root, *names):
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(GOOD) + "\n", encoding="utf-8")


def test_reader_walks_a_folder_before_its_subfolders_in_sorted_order(tmp_path):
    # The order os.walk gave (top-down, sorted): a folder's files, then each subfolder's whole tree.
    _touch(tmp_path, "c/z.jsonl", "b.jsonl", "a/b/y.jsonl", "a/x.jsonl", "a.jsonl", "a/c.jsonl")
    reader = Reader([tmp_path])
    assert [f.rel for f in reader.files] == [
        "a.jsonl",
        "b.jsonl",
        "a/c.jsonl",
        "a/x.jsonl",
        "a/b/y.jsonl",
        "c/z.jsonl",
    ]


def test_reader_skips_a_folder_whose_name_is_not_utf8_once_with_its_bytes_escaped(tmp_path):
    import os

    _touch(tmp_path / os.fsdecode(b"caf\xe9"), "a.jsonl", "sub/b.jsonl")
    _touch(tmp_path, "ok.jsonl")
    reader = Reader([tmp_path])
    assert [f.rel for f in reader.files] == ["ok.jsonl"]
    assert [(s.path, "not valid UTF-8" in s.reason) for s in reader.skipped] == [("caf\\xe9", True)]


def test_reader_skips_an_unreadable_folder_with_a_reason(tmp_path):
    _touch(tmp_path, "locked/a.jsonl", "ok.jsonl")
    (tmp_path / "locked").chmod(0)
    try:
        if os_can_list(tmp_path / "locked"):
            pytest.skip("chmod 000 does not stop listing here (running as root)")
        reader = Reader([tmp_path])
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert [f.rel for f in reader.files] == ["ok.jsonl"]
    assert [(s.path, s.reason.startswith("folder cannot be read")) for s in reader.skipped] == [
        ("locked", True)
    ]


def os_can_list(path):
    import os

    try:
        os.listdir(path)
    except PermissionError:
        return False
    return True


def _zstd_frames(*parts):
    import zstandard

    return b"".join(zstandard.ZstdCompressor(write_checksum=checksum).compress(p) for p, checksum in parts)


def test_zstd_stream_cut_anywhere_but_between_frames_is_corrupt(tmp_path):
    from dialogdata.ingest.files import CorruptArchiveError, InputFile, open_input

    line = json.dumps(GOOD).encode() + b"\n"
    skippable = b"\x50\x2a\x4d\x18" + (3).to_bytes(4, "little") + b"abc"
    # (frame, what it holds): with and without checksum, a skippable frame, an empty frame.
    frames = [
        (_zstd_frames((line * 2, True)), line * 2),
        (skippable, b""),
        (_zstd_frames((line * 300, False)), line * 300),
    ]
    frames.append((_zstd_frames((b"", False)), b""))
    ends = {
        sum(len(f) for f, _ in frames[:n]): b"".join(t for _, t in frames[:n]) for n in range(len(frames) + 1)
    }
    data = b"".join(f for f, _ in frames)
    path = tmp_path / "a.jsonl.zst"
    for cut in range(len(data) + 1):
        path.write_bytes(data[:cut])
        try:
            with open_input(InputFile(path, "a.jsonl.zst", "jsonl", "zstd"), max_bytes=1 << 20) as stream:
                read = stream.read()
        except CorruptArchiveError:
            assert cut not in ends, cut
        else:
            assert read == ends[cut], cut


def test_reader_reads_every_frame_of_a_zstd_file(tmp_path):
    line = json.dumps(GOOD).encode() + b"\n"
    (tmp_path / "a.jsonl.zst").write_bytes(_zstd_frames((line, False), (line * 2, True)))
    reader = Reader([tmp_path])
    assert len(list(reader)) == 3 and reader.rejects == []


def test_reader_keeps_the_records_read_before_a_stop_in_the_sample(tmp_path):
    import gzip

    lines = [json.dumps({**GOOD, "id": n}).encode() for n in range(5)]
    (tmp_path / "cut.jsonl.gz").write_bytes(gzip.compress(b"\n".join(lines) + b"\n")[:-8])
    reader = Reader([tmp_path])
    assert len(list(reader)) == 5
    assert [(r.code, r.index) for r in reader.rejects] == [("file.unreadable", None)]
    assert reader.rejects[0].message.startswith("reading stopped after 5 records:")
    assert (reader.reports[0].records, reader.reports[0].format) == (6, "openai")


def _table_bytes(kind, rows=3):
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"question": [f"q{n}?" for n in range(rows)], "answer": [f"a{n}." for n in range(rows)]})
    buffer = io.BytesIO()
    if kind == "parquet":
        pq.write_table(table, buffer)
    else:
        with pa.ipc.new_stream(buffer, table.schema) as writer:
            writer.write_table(table)
    return buffer.getvalue()


def test_reader_reads_compressed_and_zipped_tables(tmp_path):
    import gzip
    import zipfile

    import zstandard

    (tmp_path / "a.parquet.zst").write_bytes(zstandard.ZstdCompressor().compress(_table_bytes("parquet")))
    (tmp_path / "b.arrow.gz").write_bytes(gzip.compress(_table_bytes("arrow")))
    with zipfile.ZipFile(tmp_path / "c.zip", "w") as archive:
        archive.writestr("t.parquet", _table_bytes("parquet"))
        archive.writestr("t.arrow.gz", gzip.compress(_table_bytes("arrow")))
    reader = Reader([tmp_path])
    assert len(list(reader)) == 12 and reader.rejects == [] and reader.skipped == []
    assert [(r.path, r.format, r.records) for r in reader.reports] == [
        ("a.parquet.zst", "qa", 3),
        ("b.arrow.gz", "qa", 3),
        ("c.zip/t.arrow.gz", "qa", 3),
        ("c.zip/t.parquet", "qa", 3),
    ]


def test_reader_bounds_a_compressed_table_by_the_document_limit(tmp_path):
    import gzip

    from dialogdata.ingest.records import Limits

    data = _table_bytes("parquet", rows=2000)
    (tmp_path / "a.parquet.gz").write_bytes(gzip.compress(data))
    reader = Reader([tmp_path], limits=Limits(max_document_bytes=len(data) - 1))
    assert list(reader) == []
    assert [(r.code, r.index) for r in reader.rejects] == [("file.too_large", None)]


@pytest.mark.parametrize("name", ["empty.parquet", "empty.arrow", "empty.parquet.gz"])
def test_reader_an_empty_table_file_is_an_input_with_zero_records(tmp_path, name):
    import gzip

    (tmp_path / name).write_bytes(gzip.compress(b"") if name.endswith(".gz") else b"")
    reader = Reader([tmp_path])
    assert list(reader) == [] and reader.rejects == []
    assert [(r.path, r.records) for r in reader.reports] == [(name, 0)]


def test_reader_roots_that_share_a_name_keep_distinct_paths(tmp_path):
    _touch(tmp_path, "a/raw/x.jsonl", "b/raw/x.jsonl", "c/x.jsonl", "d/x.jsonl")
    roots = [tmp_path / "a/raw", tmp_path / "b/raw", tmp_path / "c/x.jsonl", tmp_path / "d/x.jsonl"]
    reader = Reader(roots)
    assert [f.rel for f in reader.files] == ["raw/x.jsonl", "raw~2/x.jsonl", "x.jsonl", "x.jsonl~2"]


def test_build_reads_roots_that_share_a_name_without_an_accounting_error(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder / "raw").mkdir(parents=True)
        (tmp_path / folder / "raw" / "x.jsonl").write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    result = dd.build([tmp_path / "a/raw", tmp_path / "b/raw"], tmp_path / "out")
    inputs = json.loads((result.out / "manifest.json").read_text())["inputs"]
    assert sorted(i["path"] for i in inputs) == ["raw/x.jsonl", "raw~2/x.jsonl"]
