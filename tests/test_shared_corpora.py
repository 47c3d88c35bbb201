"""The real public corpora beside the project, ingested as a new user would (skipped when absent)."""

import csv
import io
import json
from collections import Counter
from pathlib import Path

import pytest

import dialogdata as dd
from dialogdata.testing import assert_fates_add_up

CORPORA = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora"
pytestmark = pytest.mark.skipif(
    not CORPORA.is_dir(), reason="../shared/corpora is not beside the project (it is not shipped with it)"
)
MTBENCH = (
    'include = ["*mt_bench/question.jsonl"]\nturns = "turns"\nid = "question_id"\n'
    'alternate = ["user", "user"]\n'
)
TOYHOM_TXT = 'include = ["*.txt"]\nturns = "."\nblocks = true\n'


def _build(name: str, tmp_path: Path, mapping: str | None = None) -> dict:
    options = {}
    if mapping is not None:
        (tmp_path / "map.toml").write_text(mapping, encoding="utf-8")
        options["mapping"] = tmp_path / "map.toml"
    out = tmp_path / "out"
    assert dd.build(CORPORA / name, out, **options).exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert_fates_add_up(manifest)
    manifest["by_path"] = {i["path"]: i for i in manifest["inputs"]}
    manifest["out"] = out
    filtered = [json.loads(x) for x in (out / "filtered.jsonl").read_text(encoding="utf-8").splitlines()]
    manifest["dropped"] = Counter(f["code"] for f in filtered)
    manifest["dropped_by_path"] = Counter((f["source"]["path"], f["code"]) for f in filtered)
    _near_duplicates_point_to_kept(out, filtered)
    return manifest


def _near_duplicates_point_to_kept(out: Path, filtered: list[dict]) -> None:
    """Every dialogue dropped as a near duplicate names one that was kept (no chains of paraphrases)."""
    import pyarrow.parquet as pq

    kept = set(pq.read_table(out / "dialogues.parquet", columns=["id"]).column("id").to_pylist())
    for line in filtered:
        if line["code"] == "conflict.near_duplicate":
            assert line["duplicate_of"]["id"] in kept


def test_llamafactory_alpaca(tmp_path):
    m = _build("llamafactory-alpaca", tmp_path)
    assert m["fates"]["source_records"] == 2090
    assert m["fates"]["rejected"] == 0
    assert m["dropped"]["conflict.duplicate"] == 22
    assert {i["format"] for i in m["inputs"]} == {"alpaca"}
    issues = [json.loads(x) for x in (m["out"] / "issues.jsonl").read_text(encoding="utf-8").splitlines()]
    placeholders = {i["source"]["path"] for i in issues if i["code"] == "consistency.placeholder"}
    assert placeholders == {"identity.json"}
    assert {s["path"] for s in m["skipped"]} == {"LICENSE", "dataset_info.json"}


def test_fastchat_sharegpt_and_mt_bench(tmp_path):
    m = _build("fastchat-sharegpt", tmp_path, MTBENCH)
    assert m["fates"]["source_records"] == 580
    dummy = m["by_path"]["data/dummy_conversation.json"]["fates"]
    # 500 paraphrases of a few identity answers: most are near duplicates of one that is kept.
    assert dummy["kept"] + dummy["deduplicated"] == 500
    assert (
        m["dropped_by_path"][("data/dummy_conversation.json", "conflict.near_duplicate")]
        == dummy["deduplicated"]
    )
    questions = m["by_path"]["fastchat/llm_judge/data/mt_bench/question.jsonl"]
    # Two user questions and no answer, by design: read in full, then filtered as not trainable.
    assert questions["fates"]["filtered"] == 80
    issues = [json.loads(x) for x in (m["out"] / "issues.jsonl").read_text(encoding="utf-8").splitlines()]
    assert Counter(i["code"] for i in issues)["consistency.ends_with_user"] == 80


def test_openai_chat_ft_tool_calls_without_content(tmp_path):
    m = _build("openai-chat-ft", tmp_path)
    assert m["fates"]["source_records"] == 108
    assert m["fates"]["rejected"] == 0
    issues = [json.loads(x) for x in (m["out"] / "issues.jsonl").read_text(encoding="utf-8").splitlines()]
    toy = Counter(i["code"] for i in issues if i["source"]["path"] == "toy_chat_fine_tuning.jsonl")
    assert toy["consistency.no_user"] == 1 and toy["consistency.long_reply"] == 1
    drone = list(dd.read(CORPORA / "openai-chat-ft" / "drone_training.jsonl"))
    assert len(drone) == 103
    call = drone[0].turns[-1]
    assert call.content == "" and call.tool_calls[0].name == "takeoff_drone"
    assert call.tool_calls[0].arguments == '{"altitude": 100}'
    assert drone[0].tools and drone[0].meta == {"parallel_tool_calls": False}


def test_toyhom_medical_gbk(tmp_path):
    m = _build("toyhom-medical", tmp_path, TOYHOM_TXT)
    table = m["by_path"]["样例_内科5000-6000.csv"]
    text = m["by_path"]["Data_数据/IM_内科/内科.txt"]
    assert (table["encoding"], table["format"], text["encoding"]) == ("gb18030", "qa", "gb18030")
    assert table["records"] + text["records"] == 11692
    raw = (CORPORA / "toyhom-medical" / "样例_内科5000-6000.csv").read_bytes().decode("gb18030")
    rows = list(csv.DictReader(io.StringIO(raw)))
    pairs = Counter((r["ask"].strip(), r["answer"].strip()) for r in rows)
    assert table["records"] == len(rows)
    exact = m["dropped_by_path"][("样例_内科5000-6000.csv", "conflict.duplicate")]
    assert exact == sum(n - 1 for n in pairs.values())
    # The CSV is a sample of the same consultations as the TXT (title folded into the question there):
    # whichever comes first in path order is kept, the other is dropped as its near duplicate.
    near = sum(n for (path, code), n in m["dropped_by_path"].items() if code == "conflict.near_duplicate")
    assert near > 3000
    first = next(iter(dd.read(CORPORA / "toyhom-medical" / "样例_内科5000-6000.csv")))
    assert first.turns[0].content == rows[0]["ask"].strip()
    assert first.meta["department"] == rows[0]["department"]


def test_kdconv_utterances(tmp_path):
    m = _build("kdconv", tmp_path)
    assert m["fates"]["source_records"] == 450
    dialogues = list(dd.read(CORPORA / "kdconv"))
    assert sum(len(d.turns) for d in dialogues) == 9321
    assert all(len(d.turns) > 4 for d in dialogues)
    assert dialogues[0].turns[0].role is dd.Role.USER and dialogues[0].turns[1].role is dd.Role.ASSISTANT
    assert any(t.meta.get("attrs") for d in dialogues for t in d.turns)


def test_chatterbot_yaml(tmp_path):
    m = _build("chatterbot-corpus", tmp_path)
    trivia = m["by_path"]["chatterbot_corpus/data/english/trivia.yml"]
    assert trivia["reject_codes"] == {"record.not_object": 1}
    tech = m["by_path"]["chatterbot_corpus/data/english/tech_support.yml"]
    assert tech["records"] == 1050 and tech["fates"]["kept"] <= 10
    assert (
        m["dropped_by_path"][("chatterbot_corpus/data/english/tech_support.yml", "conflict.duplicate")]
        >= 1040
    )
    money = list(
        dd.read(CORPORA / "chatterbot-corpus" / "chatterbot_corpus" / "data" / "english" / "money.yml")
    )
    assert all(isinstance(t.content, str) for d in money for t in d.turns)
    assert money[0].meta == {"categories": ["money"]}
