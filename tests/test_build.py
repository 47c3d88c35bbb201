import importlib
import json
import shutil
from pathlib import Path

import pytest

import dialogdata as dd
from dialogdata.augmenters import RoleSwap
from dialogdata.errors import UsageError
from dialogdata.testing import assert_fates_add_up

DATA_FILES = ("train.jsonl", "validation.jsonl", "rejects.jsonl", "filtered.jsonl", "issues.jsonl")
GOOD = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def test_build_examples_writes_every_output_and_accounts_for_records(examples, tmp_path):
    out = tmp_path / "out"
    result = dd.build(examples, out, augment=["role_swap"])
    assert result.exit_code == 0
    for name in (*DATA_FILES, "manifest.json", "_SUCCESS", "reports/summary.html", "reports/metrics.json"):
        assert (out / name).is_file(), name
    manifest = _manifest(out)
    assert_fates_add_up(manifest)
    assert manifest["fates"] == result.fates
    fates = manifest["fates"]
    assert fates["rejected"] == _count_lines(out / "rejects.jsonl")
    assert fates["filtered"] + fates["deduplicated"] == _count_lines(out / "filtered.jsonl")
    written = sum(_count_lines(out / name) for name in ("train.jsonl", "validation.jsonl"))
    assert written == fates["written"] == fates["kept"] + fates["augmented"]
    assert fates["augmented"] > 0 and fates["deduplicated"] >= 1


def test_build_ledgers_name_file_line_and_code(examples, tmp_path):
    out = tmp_path / "out"
    dd.build(examples, out)
    for name in ("rejects.jsonl", "filtered.jsonl", "issues.jsonl"):
        for line in (out / name).read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record.get("id") is None and name == "issues.jsonl":
                assert record["code"].startswith(("coverage.", "conflict."))  # about the corpus, not a record
                continue
            assert record["code"] and record["source"]["path"]
            assert "line" in record["source"]
            assert (examples / record["source"]["path"]).is_file()
    issues = [json.loads(x) for x in (out / "issues.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {i["code"] for i in issues} >= {"consistency.empty_turn", "consistency.ends_with_user"}


def test_build_manifest_hashes_inputs_and_outputs(examples, tmp_path):
    out = tmp_path / "out"
    dd.build(examples, out)
    manifest = _manifest(out)
    import hashlib

    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    for item in manifest["outputs"]:
        if item["path"] == "reports/gx/":  # GX's files carry run times: named, not hashed
            assert item["sha256"] is None and any(p.startswith("reports/gx/") for p in on_disk)
            continue
        assert hashlib.sha256((out / item["path"]).read_bytes()).hexdigest() == item["sha256"]
    listed = {o["path"] for o in manifest["outputs"]}
    assert {p for p in on_disk if not p.startswith("reports/gx/")} - listed == {"manifest.json", "_SUCCESS"}
    for item in manifest["inputs"]:
        assert hashlib.sha256((examples / item["path"]).read_bytes()).hexdigest() == item["sha256"]
    assert "manifest.json" not in {o["path"] for o in manifest["outputs"]}


def test_build_is_byte_identical_for_the_same_seed(examples, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    dd.build(examples, a, augment=["role_swap"], seed=3)
    dd.build(examples, b, augment=["role_swap"], seed=3)
    for name in (*DATA_FILES, "manifest.json", "reports/metrics.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_build_split_groups_children_with_their_original(examples, tmp_path):
    out = tmp_path / "out"
    dd.build(examples, out, augment=["role_swap"], splits={"train": 0.5, "validation": 0.5})
    split_of = {
        _key(d): name
        for name in ("train", "validation")
        for d in dd.read(out / f"{name}.jsonl", format="openai")
    }
    pairs = 0
    for original in dd.read(examples):
        for child in RoleSwap().augment(original):
            if _key(original) in split_of:
                assert split_of[_key(child)] == split_of[_key(original)]
                pairs += 1
    assert pairs >= 10
    assert set(split_of.values()) == {"train", "validation"}


def _key(dialogue):
    return tuple((t.role, t.content) for t in dialogue.turns)


def _count_lines(path: Path) -> int:
    with path.open("rb") as stream:
        return sum(1 for _ in stream)


def test_build_refuses_non_empty_output_without_overwrite(examples, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(UsageError, match="--overwrite"):
        dd.build(examples, out)
    assert (out / "keep.txt").read_text(encoding="utf-8") == "mine"
    dd.build(examples, out, overwrite=True)
    assert not (out / "keep.txt").exists() and (out / "_SUCCESS").exists()


def test_build_leaves_no_staging_folder(examples, tmp_path):
    dd.build(examples, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "out"]


def test_build_failed_gate_writes_outputs_without_success(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.jsonl").write_text(json.dumps(GOOD) + "\n{broken\n{broken\n", encoding="utf-8")
    result = dd.build(raw, tmp_path / "out")
    assert result.exit_code == 1
    assert "rejected" in result.gate_reasons[0]
    assert (tmp_path / "out" / "manifest.json").exists()
    assert not (tmp_path / "out" / "_SUCCESS").exists()
    assert _manifest(tmp_path / "out")["gate"]["passed"] is False


def test_build_error_keeps_previous_output(examples, tmp_path, monkeypatch):
    out = tmp_path / "out"
    dd.build(examples, out)
    before = (out / "manifest.json").read_bytes()

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    # `dialogdata.build` is the function; the module lives in sys.modules under the same name.
    monkeypatch.setattr(importlib.import_module("dialogdata.build"), "write_reports", explode)
    with pytest.raises(RuntimeError):
        dd.build(examples, out, overwrite=True, seed=9)
    assert (out / "manifest.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "out"]


def test_build_multiple_roots_keep_paths_apart(examples, tmp_path):
    other = tmp_path / "more"
    shutil.copytree(examples, other)
    out = tmp_path / "out"
    dd.build([examples, other], out)
    paths = [i["path"] for i in _manifest(out)["inputs"]]
    assert len(paths) == len(set(paths)) == 6
    fates = _manifest(out)["fates"]
    assert fates["deduplicated"] >= fates["kept"]


def test_build_unknown_augmenter_is_a_usage_error(examples, tmp_path):
    with pytest.raises(UsageError, match="unknown augmenter 'shuffle'"):
        dd.build(examples, tmp_path / "out", augment=["shuffle"])
    assert not (tmp_path / "out").exists()
