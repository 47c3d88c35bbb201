import gzip
import io
import json
import zipfile

import pytest

from dialogdata.errors import ConfigError
from dialogdata.ingest import Reader
from dialogdata.ingest.documents import iter_yaml
from dialogdata.ingest.records import Limits
from dialogdata.ingest.tabular import iter_csv

GOOD = {
    "messages": [
        {"role": "user", "content": "你好"},
        {"role": "assistant", "content": "您好，请问有什么可以帮您？"},
    ]
}
LIMITS = Limits()


def _read(*paths, **options):
    reader = Reader(list(paths), **options)
    return list(reader), reader


def _csv(text: str, **kwargs):
    return list(iter_csv(io.BytesIO(text.encode()), "utf-8", LIMITS, delimiter=kwargs.get("delimiter")))


def test_csv_rows_keep_quoted_newlines_and_physical_lines():
    rows = _csv('question,answer\n"多行\n问题",答案一\nq2,"a, with comma"\n')
    assert [r.data for r in rows] == [
        {"question": "多行\n问题", "answer": "答案一"},
        {"question": "q2", "answer": "a, with comma"},
    ]
    assert [r.line for r in rows] == [2, 4]


def test_csv_bad_field_count_is_rejected_alone():
    rows = _csv("question,answer\nq1,a1\nq2,a2,extra\nq3\nq4,a4\n")
    assert [r.error[0] if r.error else r.data["question"] for r in rows] == [
        "q1",
        "csv.field_count",
        "csv.field_count",
        "q4",
    ]
    assert "expected 2 fields as in the header, found 3" in rows[1].error[1]


def test_csv_without_header_gets_numbered_columns():
    rows = _csv("你好,您好\n再见,再见\n")
    assert rows[0].data == {"column1": "你好", "column2": "您好"}


def test_tsv_and_sniffed_semicolons():
    assert _csv("q\ta\nx\ty\n", delimiter="\t")[0].data == {"q": "x", "a": "y"}
    assert _csv("question;answer\nx;y\n")[0].data == {"question": "x", "answer": "y"}


def test_yaml_scalars_stay_text_and_records_have_lines():
    text = "categories:\n- money\nconversations:\n- - NO\n  - 1984\n- - '2024-01-01'\n  - yes\n"
    records = list(iter_yaml(io.BytesIO(text.encode()), "utf-8", LIMITS))
    assert [r.data for r in records] == [["NO", "1984"], ["2024-01-01", "yes"]]
    assert [r.line for r in records] == [4, 6]
    assert records[0].context == {"categories": ["money"]}


def test_yaml_alias_bomb_is_rejected():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    records = list(iter_yaml(io.BytesIO(bomb.encode()), "utf-8", LIMITS))
    assert [r.error[0] for r in records] == ["yaml.aliases"]


def test_yaml_unsafe_tags_are_not_executed():
    text = "- !!python/object/apply:os.system ['echo pwned']\n- [hi, hello]\n"
    records = list(iter_yaml(io.BytesIO(text.encode()), "utf-8", LIMITS))
    assert records[0].data == ["echo pwned"]
    assert records[1].data == ["hi", "hello"]


def test_yaml_invalid_names_its_line():
    records = list(iter_yaml(io.BytesIO(b"- [a, b]\n- [c, d\n"), "utf-8", LIMITS))
    assert records[0].error[0] == "yaml.invalid"


def test_chatterbot_yaml_ingests_as_utterances(tmp_path):
    (tmp_path / "money.yml").write_text(
        "categories:\n- money\nconversations:\n"
        "- - 你有钱吗\n  - 我没有\n- - how much\n  - '42'\n- just a string\n",
        encoding="utf-8",
    )
    dialogues, reader = _read(tmp_path)
    assert [[t.content for t in d.turns] for d in dialogues] == [["你有钱吗", "我没有"], ["how much", "42"]]
    assert dialogues[0].meta == {"categories": ["money"]}
    assert [r.code for r in reader.rejects] == ["record.not_object"]
    assert reader.reports[0].format == "utterances"


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".jsonl.zst"])
def test_compressed_jsonl(tmp_path, suffix):
    data = (json.dumps(GOOD, ensure_ascii=False) + "\n").encode() * 3
    if suffix.endswith(".gz"):
        payload = gzip.compress(data)
    else:
        import zstandard

        payload = zstandard.ZstdCompressor().compress(data)
    (tmp_path / f"a{suffix}").write_bytes(payload)
    dialogues, reader = _read(tmp_path)
    assert len(dialogues) == 3
    assert reader.reports[0].compression == ("gzip" if suffix.endswith(".gz") else "zstd")


def test_truncated_gzip_keeps_what_was_read_and_rejects_the_rest(tmp_path):
    data = (json.dumps(GOOD) + "\n").encode() * 2000
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(data)[:-200])
    dialogues, reader = _read(tmp_path)
    assert 0 < len(dialogues) < 2000
    assert reader.rejects[-1].code == "file.unreadable"
    assert reader.reports[0].records == len(dialogues) + 1


def test_decompression_bomb_is_stopped(tmp_path):
    (tmp_path / "bomb.jsonl.gz").write_bytes(gzip.compress(b" " * (4 << 20)))
    dialogues, reader = _read(tmp_path, limits=Limits(max_decompressed_bytes=1 << 20))
    assert dialogues == []
    assert [r.code for r in reader.rejects] == ["file.too_large"]


def test_zip_object_keyed_by_id_and_unsafe_members(tmp_path):
    path = tmp_path / "corpus.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data/by_id.json", json.dumps({"d1": GOOD, "d2": GOOD}, ensure_ascii=False))
        archive.writestr("../evil.jsonl", json.dumps(GOOD))
        archive.writestr("__MACOSX/._by_id.json", "junk")
    dialogues, reader = _read(path)
    assert [d.source.key for d in dialogues] == ["d1", "d2"]
    assert dialogues[0].source.path == "corpus.zip/data/by_id.json"
    reasons = {s.path: s.reason for s in reader.skipped}
    assert "unsafe" in reasons["corpus.zip/../evil.jsonl"]
    assert "corpus.zip/__MACOSX/._by_id.json" in reasons


def test_corrupt_zip_is_one_reject(tmp_path):
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "good.jsonl").write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    dialogues, reader = _read(tmp_path)
    assert len(dialogues) == 1
    assert [r.code for r in reader.rejects] == ["archive.corrupt"]


def test_parquet_and_arrow_rows(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {"question": ["血压高怎么办", "how to reset my PIN"], "answer": ["请遵医嘱", "Use the app."]}
    )
    pq.write_table(table, tmp_path / "qa.parquet")
    with pa.OSFile(str(tmp_path / "qa.arrow"), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    dialogues, reader = _read(tmp_path)
    assert [r.format for r in reader.reports] == ["qa", "qa"]
    assert [d.turns[0].content for d in dialogues] == ["血压高怎么办", "how to reset my PIN"] * 2
    assert dialogues[1].source.key == "row 2" and dialogues[1].source.line is None


def test_hf_save_to_disk_folder(tmp_path):
    import datasets

    rows = {"conversations": [[{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]] * 3}
    datasets.Dataset.from_dict(rows).save_to_disk(str(tmp_path / "ds"))
    dialogues, reader = _read(tmp_path)
    assert len(dialogues) == 3
    assert reader.reports[0].container == "hf_dataset" and reader.reports[0].format == "sharegpt"


def test_plain_text_with_turn_separator_mapping(tmp_path):
    (tmp_path / "dialogues.txt").write_text(
        "Hi there __eou__ Hello! How can I help? __eou__ \nThanks __eou__ Bye __eou__\n", encoding="utf-8"
    )
    (tmp_path / "map.toml").write_text('include = ["*.txt"]\nturns = "."\nturn_separator = "__eou__"\n')
    dialogues, _ = _read(tmp_path / "dialogues.txt", mapping=tmp_path / "map.toml")
    assert [[(t.role.value, t.content) for t in d.turns] for d in dialogues] == [
        [("user", "Hi there"), ("assistant", "Hello! How can I help?")],
        [("user", "Thanks"), ("assistant", "Bye")],
    ]


def test_plain_text_without_mapping_is_skipped(tmp_path):
    (tmp_path / "notes.txt").write_text("hello\n", encoding="utf-8")
    dialogues, reader = _read(tmp_path)
    assert dialogues == []
    assert reader.rejects == []
    assert [(s.path, "mapping" in s.reason) for s in reader.skipped] == [("notes.txt", True)]


def test_utterance_table_groups_non_adjacent_rows_in_order(tmp_path):
    (tmp_path / "log.csv").write_text(
        "session_id,turn,speaker,text\n"
        "s2,2,客服,您好，请问哪张卡？\n"
        "s1,1,customer,My card is lost\n"
        "s2,1,客户,我要挂失\n"
        "s1,2,agent,I have blocked it.\n"
        ",1,customer,orphan row\n",
        encoding="utf-8",
    )
    dialogues, reader = _read(tmp_path)
    assert [[(t.role.value, t.content) for t in d.turns] for d in dialogues] == [
        [("user", "我要挂失"), ("assistant", "您好，请问哪张卡？")],
        [("user", "My card is lost"), ("assistant", "I have blocked it.")],
    ]
    assert [d.source.source_id for d in dialogues] == ["s2", "s1"]
    assert [r.code for r in reader.rejects] == ["format.missing_field"]
    assert reader.reports[0].records == 3


def test_utterance_table_infers_two_unknown_speakers(tmp_path):
    (tmp_path / "log.tsv").write_text("conv_id\tfrom\ttext\nc1\tA\tq\nc1\tB\ta\n", encoding="utf-8")
    (dialogue,), _ = _read(tmp_path)
    assert [t.role.value for t in dialogue.turns] == ["user", "assistant"]
    assert "speakers_inferred" in dialogue.source.normalizations


def test_discovery_skips_junk_links_outside_and_fifos(tmp_path):
    import os

    root = tmp_path / "raw"
    root.mkdir()
    (root / "a.jsonl").write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    (root / "Thumbs.db").write_bytes(b"junk")
    (root / "~$draft.csv").write_text("x", encoding="utf-8")
    (root / "README.md").write_text("# notes", encoding="utf-8")
    (root / "empty.jsonl").write_bytes(b"")
    outside = tmp_path / "secret.jsonl"
    outside.write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    (root / "link.jsonl").symlink_to(outside)
    (root / "inside.jsonl").symlink_to(root / "a.jsonl")
    os.mkfifo(root / "pipe.jsonl")
    dialogues, reader = _read(root)
    assert [f.rel for f in reader.files] == ["a.jsonl", "empty.jsonl", "inside.jsonl"]
    reasons = {s.path: s.reason for s in reader.skipped}
    assert set(reasons) == {"Thumbs.db", "~$draft.csv", "README.md", "link.jsonl", "pipe.jsonl"}
    assert "outside" in reasons["link.jsonl"] and "FIFO" in reasons["pipe.jsonl"]
    assert len(dialogues) == 2
    assert [(r.path, r.records) for r in reader.reports if r.path == "empty.jsonl"] == [("empty.jsonl", 0)]


def test_record_size_and_depth_limits(tmp_path):
    deep = {"messages": [{"role": "user", "content": "x", "meta": json.loads("[" * 150 + "]" * 150)}]}
    big = {"messages": [{"role": "user", "content": "x" * 5000}]}
    lines = [json.dumps(GOOD), json.dumps(deep), json.dumps(big), json.dumps(GOOD)]
    (tmp_path / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    dialogues, reader = _read(tmp_path, limits=Limits(max_record_bytes=4096))
    assert len(dialogues) == 2
    assert [(r.code, r.line) for r in reader.rejects] == [("record.too_deep", 2), ("record.too_large", 3)]


def test_mapping_file_with_records_path_roles_and_meta(tmp_path):
    corpus = {
        "data": {
            "dialogs": [
                {"dialog_id": "x1", "topic": "bank", "persona": "You are a teller.",
                 "turns": [{"who": "usr", "utt": "Open account"}, {"who": "sys", "utt": "Sure, bring ID"}]},
                {"dialog_id": "x2", "topic": "bank", "turns": [{"who": "robot", "utt": "?"}]},
            ]
        }
    }  # fmt: skip
    (tmp_path / "corpus.json").write_text(json.dumps(corpus), encoding="utf-8")
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        'records = "data.dialogs"\nturns = "turns"\nrole = "who"\ncontent = "utt"\nid = "dialog_id"\n'
        'system = "persona"\nmeta = ["topic"]\n[roles]\nusr = "user"\nsys = "assistant"\n',
        encoding="utf-8",
    )
    dialogues, reader = _read(tmp_path / "corpus.json", mapping=mapping)
    (d,) = dialogues
    assert [(t.role.value, t.content) for t in d.turns] == [
        ("system", "You are a teller."), ("user", "Open account"), ("assistant", "Sure, bring ID"),
    ]  # fmt: skip
    assert d.meta == {"topic": "bank"} and d.source.source_id == "x1"
    assert d.source.key == "data.dialogs[0]"
    assert [(r.code, r.key) for r in reader.rejects] == [("format.unknown_role", "data.dialogs[1]")]


def test_mapping_turn_without_speaker_or_text_is_a_missing_field(tmp_path):
    turns = [
        [{"who": "usr", "utt": "Open account"}, {"who": "sys", "utt": "Sure"}],
        [{"utt": "Who am I?"}, {"who": "sys", "utt": "Nobody"}],
        [{"who": None, "utt": "Null speaker"}, {"who": "sys", "utt": "Fine"}],
        [{"who": "usr"}, {"who": "sys", "utt": "Nothing asked"}],
    ]
    (tmp_path / "c.json").write_text(json.dumps([{"turns": t} for t in turns]), encoding="utf-8")
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        'turns = "turns"\nrole = "who"\ncontent = "utt"\n[roles]\nusr = "user"\nsys = "assistant"\n',
        encoding="utf-8",
    )
    dialogues, reader = _read(tmp_path / "c.json", mapping=mapping)
    assert [d.turns[0].content for d in dialogues] == ["Open account"]
    assert [(r.code, r.message.split(":")[0]) for r in reader.rejects] == [
        ("format.missing_field", "turn 0")
    ] * 3


def test_mapping_unknown_key_is_a_config_error(tmp_path):
    mapping = tmp_path / "map.toml"
    mapping.write_text('turns = "t"\nrole_key = "who"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown key 'role_key'.*expected one of: include"):
        Reader([tmp_path], mapping=mapping)
