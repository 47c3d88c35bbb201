import os
from pathlib import Path

import orjson
import pytest

import dialogdata as dd
from dialogdata.errors import UsageError
from dialogdata.export import Exporter, dataset_info, get_exporter
from dialogdata.export.formats.base import TRAINER_ONLY
from dialogdata.ingest import parse_record
from dialogdata.ingest.formats import RecordError
from dialogdata.registry import EXPORTERS

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
FORMATS = ["openai", "sharegpt", "chatglm3", "alpaca"]
FILES = {"train": "train.jsonl", "validation": "validation.jsonl", "test": "test.jsonl"}
# Which golden dialogues (by line) each format carries without loss; the others say what they lose.
LOSSLESS = {"openai": [0, 1, 2, 4], "sharegpt": [0], "chatglm3": [0, 3], "alpaca": [0]}
# The dataset_info.json keys LLaMA-Factory reads (its data/README.md).
ENTRY_KEYS = {"file_name", "formatting", "columns", "tags", "ranking", "subset", "split", "num_samples"}
COLUMN_KEYS = {"prompt", "query", "response", "history", "messages", "system", "tools"}
TAG_KEYS = {
    "role_tag",
    "content_tag",
    "user_tag",
    "assistant_tag",
    "observation_tag",
    "function_tag",
    "system_tag",
}


def _canonical() -> list[dd.Dialogue]:
    lines = (GOLDEN / "dialogues.jsonl").read_bytes().splitlines()
    return [dd.Dialogue.from_dict(orjson.loads(line)) for line in lines]


def _read_back(record: dict, fmt: str) -> dd.Dialogue | None:
    try:
        return parse_record(orjson.loads(orjson.dumps(record)), fmt)
    except RecordError:
        return None


def _golden(path: Path, data: bytes) -> bytes:
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_bytes(data)
    return path.read_bytes()


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_matches_golden_bytes(tmp_path, fmt):
    out = tmp_path / f"{fmt}.jsonl"
    assert dd.write(_canonical(), out, format=fmt) == 5
    assert out.read_bytes() == _golden(GOLDEN / f"{fmt}.jsonl", out.read_bytes())


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_then_ingest_gives_back_the_lossless_dialogues(tmp_path, fmt):
    exporter = get_exporter(fmt)
    lossless = [d for d in _canonical() if not exporter.losses(d)]
    assert [_canonical().index(d) for d in lossless] == LOSSLESS[fmt]
    out = tmp_path / f"{fmt}.jsonl"
    dd.write(lossless, out, format=fmt)
    back = list(dd.read(out, format=fmt))
    assert [(d.id, d.turns, d.tools) for d in back] == [(d.id, d.turns, d.tools) for d in lossless]


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_golden_differs_on_reading_back_exactly_when_a_loss_says_so(fmt):
    exporter = get_exporter(fmt)
    for dialogue in _canonical():
        back = _read_back(exporter.record(dialogue), fmt)
        same = back is not None and (back.id, back.turns, back.tools) == (
            dialogue.id,
            dialogue.turns,
            dialogue.tools,
        )
        visible = [loss for loss in exporter.losses(dialogue) if loss.code not in TRAINER_ONLY]
        assert same != bool(visible), (dialogue.id, visible)


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_writes_utf8_without_ascii_escapes(tmp_path, fmt):
    out = tmp_path / "a.jsonl"
    dd.write(_canonical()[:1], out, format=fmt)
    text = out.read_text(encoding="utf-8")
    assert "血压" in text and "\\u" not in text and text.endswith("\n") and text.count("\n") == 1


def test_export_default_format_is_openai(tmp_path):
    dd.write(_canonical()[:1], tmp_path / "a.jsonl")
    assert orjson.loads((tmp_path / "a.jsonl").read_bytes())["messages"][0]["role"] == "system"


def test_get_exporter_unknown_format():
    with pytest.raises(UsageError, match="unknown output format 'llama'; expected one of: alpaca, chatglm3"):
        get_exporter("llama")


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_exporter_returns_the_named_exporter(fmt):
    exporter = get_exporter(fmt)
    assert isinstance(exporter, Exporter) and exporter.name == fmt


def test_registry_lists_every_format():
    assert sorted(EXPORTERS) == sorted(FORMATS)


def test_write_skips_unrepresentable_dialogues(tmp_path):
    lone = dd.Dialogue(turns=(dd.Turn(role=dd.Role.USER, content="anyone there?"),))
    out = tmp_path / "a.jsonl"
    assert dd.write([lone, *_canonical()[:1]], out, format="alpaca") == 1
    assert orjson.loads(out.read_bytes())["output"].startswith("建议")


def test_dataset_info_matches_golden():
    info = {fmt: dataset_info(FILES, fmt) for fmt in FORMATS}
    data = orjson.dumps(info, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    assert data == _golden(GOLDEN / "dataset_info.json", data)


@pytest.mark.parametrize("fmt", FORMATS)
def test_dataset_info_uses_only_keys_llamafactory_reads(fmt):
    for name, entry in dataset_info(FILES, fmt).items():
        assert entry["file_name"] == FILES[name]
        assert set(entry) <= ENTRY_KEYS and entry["formatting"] in ("alpaca", "sharegpt")
        assert set(entry["columns"]) <= COLUMN_KEYS and set(entry.get("tags", {})) <= TAG_KEYS


@pytest.mark.parametrize("fmt", FORMATS)
def test_dataset_info_columns_are_on_every_record(fmt):
    columns = get_exporter(fmt).dataset_info("x.jsonl")["columns"].values()
    for dialogue in _canonical():
        assert set(columns) <= set(get_exporter(fmt).record(dialogue))


@pytest.mark.parametrize("fmt", ["openai", "sharegpt", "chatglm3"])
def test_dataset_info_tags_name_the_roles_written(fmt):
    exporter = get_exporter(fmt)
    tags = exporter.dataset_info("x.jsonl")["tags"]
    turns = [
        turn
        for dialogue in _canonical()
        for turn in exporter.record(dialogue)[exporter.columns["messages"]]
        if "content" in turn or "value" in turn
    ]
    written = {turn[tags["role_tag"]] for turn in turns}
    named = {v for k, v in tags.items() if k not in ("role_tag", "content_tag")}
    assert written <= named | {"tool"} and all(tags["content_tag"] in turn for turn in turns)


def test_sharegpt_writes_llamafactory_function_calls():
    record = get_exporter("sharegpt").record(_canonical()[3])
    call = orjson.loads(record["conversations"][2]["value"])
    assert record["conversations"][0] == {"from": "system", "value": "你是银行客服助手，回答要简洁。"}
    assert call == {"name": "get_balance", "arguments": {"card_suffix": "8832"}}
    assert orjson.loads(record["tools"])[0]["name"] == "get_balance"


def test_chatglm3_writes_finetune_demo_tool_turns():
    record = get_exporter("chatglm3").record(_canonical()[3])
    assert record["conversations"][2] == {
        "role": "tool",
        "name": "get_balance",
        "parameters": {"card_suffix": "8832"},
        "observation": '{"balance": 1520.35, "currency": "CNY"}',
        "loss": True,
    }
    assert record["tools"][0]["name"] == "get_balance"


def test_alpaca_writes_history_pairs_and_system():
    record = get_exporter("alpaca").record(_canonical()[3])
    assert record == {
        "instruction": "谢谢",
        "input": "",
        "output": "不客气，还有其他需要吗？",
        "system": "你是银行客服助手，回答要简洁。",
        "history": [["查一下尾号 8832 的卡余额。", "尾号 8832 的卡余额为 1520.35 元。"]],
    }
