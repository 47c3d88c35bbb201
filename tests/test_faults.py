"""Faults: a stage raising on one dialogue, a full disk, an unwritable OUT, broken accounting, SIGKILL."""

from __future__ import annotations

import errno
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

import dialogdata as dd
from dialogdata import _io
from dialogdata._run import Run
from dialogdata.augmenters import Adversarial
from dialogdata.errors import AccountingError, OutputError
from dialogdata.export.formats.openai import OpenAIExporter
from dialogdata.testing import assert_fates_add_up
from dialogdata.validators import Consistency
from tests.hostile.harness import good_lines

DATA_FILES = ("train.jsonl", "validation.jsonl", "dialogues.parquet", "rejects.jsonl", "filtered.jsonl",
              "issues.jsonl", "losses.jsonl", "dataset_info.json")  # fmt: skip


def _raw(tmp_path: Path) -> Path:
    """Ten good dialogues in one file, the sixth carrying the word BOOM that the faulty stage trips on."""
    raw = tmp_path / "raw"
    raw.mkdir()
    lines = good_lines("fault", 10)
    lines[5] = lines[5].replace(b"Question fault-5", b"Question fault-5 BOOM")
    (raw / "talks.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    return raw


def _booms(dialogue: dd.Dialogue) -> bool:
    return any("BOOM" in turn.content for turn in dialogue.turns)


def _fail_on_boom(monkeypatch, owner: type, name: str) -> None:
    """Make the method `owner.name` raise on the BOOM dialogue (its first argument) and work otherwise."""
    plain = getattr(owner, name)

    def faulty(self, dialogue, *args):
        if _booms(dialogue):
            raise RuntimeError("kaboom\nsecond line is not quoted")
        return plain(self, dialogue, *args)

    monkeypatch.setattr(owner, name, faulty)


def _lines(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


def _assert_one_op_error(out: Path, stage: str) -> None:
    """The BOOM dialogue is rejected with op_error naming the stage; the nine others are written."""
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    assert_fates_add_up(manifest)
    rejects = _lines(out / "rejects.jsonl")
    assert [(r["code"], r["source"]["path"], r["source"]["line"]) for r in rejects] == [
        ("op_error", "talks.jsonl", 6)
    ]
    assert rejects[0]["message"].startswith(f"{stage} failed on this dialogue: RuntimeError: kaboom")
    assert "BOOM" in rejects[0]["excerpt"]
    assert manifest["fates"]["rejected"] == 1 and manifest["fates"]["kept"] == 9
    assert manifest["inputs"][0]["reject_codes"] == {"op_error": 1}
    written = [m["content"] for name in ("train.jsonl", "validation.jsonl") for r in _lines(out / name)
               for m in r["messages"] if m["role"] == "user"]  # fmt: skip
    assert not any("BOOM" in text for text in written)
    assert sum("Question fault-" in text for text in written) >= 9
    assert (out / "_SUCCESS").exists()


def test_a_validator_raising_on_one_dialogue_rejects_it_with_op_error(tmp_path, monkeypatch):
    _fail_on_boom(monkeypatch, Consistency, "__call__")
    result = dd.build(_raw(tmp_path), tmp_path / "out")
    assert result.exit_code == 0
    _assert_one_op_error(tmp_path / "out", "consistency")
    assert "second line" not in (tmp_path / "out" / "rejects.jsonl").read_text()


def test_an_augmenter_raising_on_one_dialogue_rejects_it_with_op_error(tmp_path, monkeypatch):
    clean = dd.build(_raw(tmp_path), tmp_path / "clean", augment=["adversarial"])
    _fail_on_boom(monkeypatch, Adversarial, "_augment")
    result = dd.build(tmp_path / "raw", tmp_path / "out", augment=["adversarial"])
    _assert_one_op_error(tmp_path / "out", "augmenter adversarial")
    # The failed dialogue's children are not written; every other dialogue's are.
    children = _lines(tmp_path / "clean" / "train.jsonl") + _lines(tmp_path / "clean" / "validation.jsonl")
    assert 0 < result.fates["augmented"] < clean.fates["augmented"] <= len(children)


def test_an_exporter_raising_on_one_dialogue_rejects_it_with_op_error(tmp_path, monkeypatch):
    _fail_on_boom(monkeypatch, OpenAIExporter, "_build")
    dd.build(_raw(tmp_path), tmp_path / "out")
    _assert_one_op_error(tmp_path / "out", "export to openai")


def test_op_errors_give_the_same_data_files_with_workers(tmp_path, monkeypatch):
    # A fault in a spawned worker process cannot be patched in; the same fault in this process is
    # compared across batch sizes instead: the ledger order must not depend on when results arrive.
    _fail_on_boom(monkeypatch, Consistency, "__call__")
    raw = _raw(tmp_path)
    (raw / "broken.jsonl").write_bytes(b"{not json\n" + b"\n".join(good_lines("other", 3)) + b"\n")
    dd.build(raw, tmp_path / "one")
    monkeypatch.setattr("dialogdata._run.BATCH", 3)
    dd.build(raw, tmp_path / "two")
    for name in DATA_FILES:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
    codes = [r["code"] for r in _lines(tmp_path / "one" / "rejects.jsonl")]
    assert codes == ["json.invalid", "op_error"]


def test_a_full_disk_exits_3_with_a_clear_line_and_publishes_nothing(tmp_path, monkeypatch, capsys):
    from dialogdata.cli import main

    plain = _io.JsonlWriter.write
    calls = {"n": 0}

    def full(self, record):
        calls["n"] += 1
        if calls["n"] > 5:
            raise OSError(errno.ENOSPC, "No space left on device")
        return plain(self, record)

    out = tmp_path / "out"
    dd.build(_raw(tmp_path), out)  # a previous good output must survive the failed run
    before = (out / "train.jsonl").read_bytes()
    monkeypatch.setattr(_io.JsonlWriter, "write", full)
    monkeypatch.setattr(sys, "argv", ["dialogdata", "build", str(tmp_path / "raw"), str(out), "--overwrite"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {out}: cannot write the output (No space left on device); nothing was published: "
                   "free some space, or choose another OUT"]  # fmt: skip
    assert (out / "train.jsonl").read_bytes() == before and (out / "_SUCCESS").exists()
    assert [p.name for p in tmp_path.iterdir() if "staging" in p.name] == []


def test_an_unwritable_output_folder_exits_3(tmp_path):
    parent = tmp_path / "not-a-folder"
    parent.write_text("a file where OUT's parent folder should be")
    done = subprocess.run(
        [sys.executable, "-m", "dialogdata", "build", str(_raw(tmp_path)), str(parent / "out")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in done.stderr
    assert not (parent / "out").exists()


def test_counts_that_do_not_add_up_stop_the_run_before_publishing(tmp_path, monkeypatch):
    plain = Run._count

    def forgetful(self, dialogue, fate):
        if fate != "filtered":
            plain(self, dialogue, fate)

    monkeypatch.setattr(Run, "_count", forgetful)
    raw = tmp_path / "raw"
    raw.mkdir()
    # A dialogue that ends on the user's turn is filtered by default: its fate is the one forgotten.
    user_last = {"conversations": [{"from": "human", "value": "Hello, is anyone there at the bank?"}]}
    (raw / "a.jsonl").write_bytes(b"\n".join([*good_lines("acc", 3), orjson.dumps(user_last)]) + b"\n")
    with pytest.raises(AccountingError, match=r"a.jsonl: 4 records but 3 fates"):
        dd.build(raw, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert AccountingError.exit_code == 3 and OutputError.exit_code == 3


def _data(out: Path) -> dict[str, bytes]:
    names = (*DATA_FILES, "manifest.json")
    return {name: (out / name).read_bytes() for name in names if (out / name).exists()}


@pytest.mark.slow
def test_sigkill_at_random_points_then_a_rerun_gives_the_same_outputs(generated_corpus, tmp_path):
    raw = generated_corpus(3000)
    command = [sys.executable, "-m", "dialogdata", "build", str(raw)]
    options = ["--augment", "role_swap,adversarial", "--overwrite"]
    started = time.monotonic()
    reference = subprocess.run(
        [*command, str(tmp_path / "reference"), *options], capture_output=True, check=False
    )
    took = time.monotonic() - started
    assert reference.returncode == 0, reference.stderr
    expected = _data(tmp_path / "reference")
    out = tmp_path / "out"
    rng = random.Random(20261128)
    # Early (reading), middle (the passes) and late (reports and publishing), each at a random moment.
    for low, high in ((0.1, 0.3), (0.3, 0.7), (0.7, 1.0)):
        process = subprocess.Popen(
            [*command, str(out), *options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(low, high) * took)
        process.send_signal(signal.SIGKILL)
        process.wait()
        if out.exists():  # the killed run published, or an earlier run did: either is complete
            assert (out / "_SUCCESS").exists() and _data(out) == expected
        rerun = subprocess.run([*command, str(out), *options], capture_output=True, check=False)
        assert rerun.returncode == 0, rerun.stderr
        assert _data(out) == expected
        leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.") and p.suffix != ".lock"]
        assert leftovers == []
    assert os.listdir(out)
