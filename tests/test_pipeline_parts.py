import json

import pyarrow.parquet as pq
import pytest

import dialogdata as dd
from dialogdata._spill import Spill
from dialogdata.build import validate
from dialogdata.config import check_recipe
from dialogdata.errors import ConfigError, UsageError
from dialogdata.filtering import Filter
from dialogdata.testing import assert_fates_add_up
from dialogdata.validators import Consistency, Issue


def test_spill_round_trips_dialogues_and_issues(examples, tmp_path):
    spill = Spill(tmp_path / "spill")
    items = [Consistency()(d) for d in dd.read(examples)]
    for dialogue, issues in items:
        spill.write(dialogue, issues)
    spill.close()
    assert list(spill) == [(d, i) for d, i in items]
    spill.remove()
    assert not (tmp_path / "spill").exists()


def test_filter_rules():
    rule = Filter(drop=["consistency.empty_turn"], min_scores={"consistency": 0.5})
    empty = Issue(code="consistency.empty_turn", message="x", turn=1)
    echo = Issue(code="consistency.echo_reply", message="x", turn=1)
    assert rule.reason({"consistency": 0.9}, [echo]) is None
    assert rule.reason({"consistency": 0.9}, [echo, empty])[0] == "consistency.empty_turn"
    assert rule.reason({"consistency": 0.4}, [echo])[0] == "score.consistency"
    assert Filter(dedup="exact").duplicate_rule("conflict.near_duplicate") is False
    assert Filter(dedup="none").duplicate_rule("conflict.duplicate") is False
    with pytest.raises(UsageError):
        Filter(dedup="fuzzy")
    with pytest.raises(UsageError):
        Filter(min_scores={"consistency": 2})


def test_recipe_unknown_section_and_key_are_named():
    sections = {"filter": Filter}
    with pytest.raises(ConfigError, match=r"unknown section \[filters\]; expected one of: \[filter\]"):
        check_recipe({"filters": {}}, sections)
    with pytest.raises(
        ConfigError, match="unknown key 'dropp' in \\[filter\\]; expected one of: drop, min_scores, dedup"
    ):
        check_recipe({"filter": {"dropp": []}}, sections)
    assert check_recipe({"filter": {"dedup": "exact"}}, sections) == {"filter": {"dedup": "exact"}}


def test_build_with_recipe_and_parquet(examples, tmp_path):
    recipe = tmp_path / "recipe.toml"
    recipe.write_text('[filter]\ndrop = ["consistency.empty_turn"]\n', encoding="utf-8")
    out = tmp_path / "out"
    result = dd.build(examples, out, config=recipe)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert_fates_add_up(manifest)
    assert manifest["config"]["recipe"]["filter"] == {"drop": ["consistency.empty_turn"]}
    filtered = [json.loads(x) for x in (out / "filtered.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {f["issue"] for f in filtered if f["code"] == "filter.issue"} == {"consistency.empty_turn"}
    table = pq.read_table(out / "dialogues.parquet")
    assert table.num_rows == result.fates["written"]
    assert set(table.column("split").to_pylist()) <= {"train", "validation"}
    scores = dict(table.column("scores").to_pylist()[0])
    assert {"consistency", "conflict"} <= set(scores)
    assert not (out / ".spill").exists()


def test_validate_writes_reports_but_no_training_files(examples, tmp_path):
    out = tmp_path / "report"
    result = validate(examples, out)
    assert result.exit_code == 0
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"issues.jsonl", "filtered.jsonl", "rejects.jsonl", "dialogues.parquet", "manifest.json"} <= names
    assert not names & {"train.jsonl", "validation.jsonl"}
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["mode"] == "validate"
    assert_fates_add_up(manifest)
