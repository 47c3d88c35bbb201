import os
from pathlib import Path

import orjson
import pytest

import dialogdata as dd
from dialogdata.errors import UsageError
from dialogdata.export import get_exporter

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


def _canonical() -> list[dd.Dialogue]:
    lines = (GOLDEN / "dialogues.jsonl").read_bytes().splitlines()
    return [dd.Dialogue.from_dict(orjson.loads(line)) for line in lines]


@pytest.mark.parametrize("fmt", ["openai"])
def test_export_matches_golden_bytes(tmp_path, fmt):
    out = tmp_path / f"{fmt}.jsonl"
    assert dd.write(_canonical(), out, format=fmt) == 3
    golden = GOLDEN / f"{fmt}.jsonl"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_bytes(out.read_bytes())
    assert out.read_bytes() == golden.read_bytes()


@pytest.mark.parametrize("fmt", ["openai"])
def test_export_then_ingest_gives_back_the_dialogue(tmp_path, fmt):
    out = tmp_path / f"{fmt}.jsonl"
    dd.write(_canonical(), out, format=fmt)
    back = list(dd.read(out, format=fmt))
    assert [d.turns for d in back] == [d.turns for d in _canonical()]
    assert [d.tools for d in back] == [d.tools for d in _canonical()]
    assert [d.id for d in back] == [d.id for d in _canonical()]


def test_export_writes_utf8_without_ascii_escapes(tmp_path):
    out = tmp_path / "a.jsonl"
    dd.write(_canonical()[:1], out)
    text = out.read_text(encoding="utf-8")
    assert "血压" in text and "\\u" not in text and text.endswith("\n")


def test_get_exporter_unknown_format():
    with pytest.raises(UsageError, match="unknown output format 'llama'"):
        get_exporter("llama")
