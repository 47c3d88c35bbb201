"""Publishing: one run per OUT at a time, and a killed run leaves the previous output or the new one."""

import hashlib
import importlib.util
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dialogdata.errors import OutputError, UsageError
from dialogdata.export.publish import SUCCESS, Staging, lock_output, recover

ROOT = Path(__file__).resolve().parents[2]
HEX = "0123456789ab"
# A process that holds the lock on argv[1] until its stdin closes (or it is killed).
HOLDER = """
import sys
from pathlib import Path
from dialogdata.export.publish import lock_output
with lock_output(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.read()
"""
# A publish that is SIGKILLed between "OUT renamed away" and "staging renamed to OUT".
KILLED_MID_SWAP = """
import os, signal, sys
from pathlib import Path
from dialogdata.export.publish import Staging
staging = Staging(Path(sys.argv[1]))
(staging.path / "train.jsonl").write_text("new\\n")
rename = Path.rename
def rename_or_die(self, target):
    if self == staging.path:
        os.kill(os.getpid(), signal.SIGKILL)
    return rename(self, target)
Path.rename = rename_or_die
staging.publish()
"""
# Sized so a build takes 1.5-2 s here (mostly start-up): long enough to be killed while writing,
# short enough for eleven runs in about 15 s.
N_DIALOGUES = 300
N_KILLS = 8


def _write_tree(folder: Path, files: dict[str, str]) -> dict[str, str]:
    """Create `folder` with text files and return them, for comparing later."""
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return files


def _read_tree(folder: Path) -> dict[str, str]:
    """Return every file under `folder` as text, by relative path."""
    return {
        p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _siblings(out: Path) -> list[str]:
    """Return the names of everything beside `out` that belongs to it, except the lock file."""
    return sorted(
        p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.") and p.suffix != ".lock"
    )


def _start_holder(out: Path) -> subprocess.Popen[str]:
    """Start a process that holds the lock on `out` and wait until it does."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(out)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline() == "locked\n"
    return holder


def test_publish_lock_refuses_a_second_holder_in_this_process(tmp_path):
    out = tmp_path / "out"
    with lock_output(out), pytest.raises(UsageError) as raised, lock_output(out):
        pass
    message = str(raised.value)
    assert raised.value.path == str(out) and message.startswith(f"{out}: another dialogdata run")
    assert f"(pid {os.getpid()})" in message and "\n" not in message
    assert (tmp_path / ".out.lock").is_file() and not out.exists()


def test_publish_lock_is_released_when_the_block_exits_or_raises(tmp_path):
    out = tmp_path / "out"
    with lock_output(out):
        pass
    with pytest.raises(RuntimeError), lock_output(out):
        raise RuntimeError("the build failed")
    with lock_output(out):
        assert (tmp_path / ".out.lock").read_text() == f"{os.getpid()}\n"
    assert (tmp_path / ".out.lock").read_text() == ""


def test_publish_lock_held_by_another_process_names_it_until_it_exits(tmp_path):
    out = tmp_path / "out"
    holder = _start_holder(out)
    with (
        pytest.raises(
            UsageError, match=rf"^{re.escape(str(out))}: another dialogdata run \(pid {holder.pid}\)"
        ),
        lock_output(out),
    ):
        pass
    holder.communicate("")
    with lock_output(out):
        pass


def test_publish_lock_is_released_when_its_holder_is_killed(tmp_path):
    out = tmp_path / "out"
    holder = _start_holder(out)
    with pytest.raises(UsageError), lock_output(out):
        pass
    holder.kill()
    holder.communicate()
    assert holder.returncode == -signal.SIGKILL
    with lock_output(out):
        pass


def test_publish_lock_of_another_out_does_not_conflict(tmp_path):
    with lock_output(tmp_path / "a"), lock_output(tmp_path / "b"), lock_output(tmp_path / "sub" / "a"):
        pass


def test_publish_recover_removes_the_leftovers_of_this_out_only(tmp_path):
    out = tmp_path / "out"
    current = _write_tree(out, {"train.jsonl": "current\n", SUCCESS: ""})
    for kind in ("staging", "old", "trash"):
        _write_tree(tmp_path / f".out.{kind}-{HEX}", {"train.jsonl": f"{kind}\n", "reports/x": ""})
    foreign = [".out2.staging-" + HEX, ".out.staging-foo.staging-" + HEX, ".out.old-notours"]
    for name in foreign:
        (tmp_path / name).mkdir()
    recover(out)
    assert _read_tree(out) == current
    assert _siblings(out) == sorted(foreign[1:])
    assert (tmp_path / foreign[0]).is_dir()


def test_publish_recover_restores_the_previous_output_when_out_is_missing(tmp_path):
    out = tmp_path / "out"
    _write_tree(tmp_path / ".out.old-aaaaaaaaaaaa", {"train.jsonl": "older\n", SUCCESS: ""})
    time.sleep(0.05)  # ctime has the kernel clock's tick as resolution
    previous = _write_tree(tmp_path / ".out.old-bbbbbbbbbbbb", {"train.jsonl": "previous\n", SUCCESS: ""})
    _write_tree(tmp_path / f".out.staging-{HEX}", {"train.jsonl": "half"})
    recover(out)
    assert _read_tree(out) == previous
    assert _siblings(out) == []


def test_publish_recover_without_leftovers_or_parent_does_nothing(tmp_path):
    recover(tmp_path / "missing" / "out")
    assert not (tmp_path / "missing").exists()


def test_publish_killed_between_the_renames_leaves_the_previous_output_to_restore(tmp_path):
    out = tmp_path / "out"
    previous = _write_tree(out, {"train.jsonl": "previous\n", SUCCESS: ""})
    killed = subprocess.run([sys.executable, "-c", KILLED_MID_SWAP, str(out)], check=False)
    assert killed.returncode == -signal.SIGKILL
    assert not out.exists()
    assert [name.split("-")[0] for name in _siblings(out)] == [".out.old", ".out.staging"]
    with lock_output(out):
        assert _read_tree(out) == previous
        assert _siblings(out) == []


def test_publish_replaces_out_and_leaves_nothing_beside_it(tmp_path):
    out = tmp_path / "out"
    _write_tree(out, {"train.jsonl": "previous\n", "extra.jsonl": "", SUCCESS: ""})
    staging = Staging(out)
    new = _write_tree(staging.path, {"train.jsonl": "new\n", SUCCESS: ""})
    staging.publish()
    assert _read_tree(out) == new
    assert _siblings(out) == []


def test_publish_failing_swap_puts_the_previous_output_back(tmp_path, monkeypatch):
    out = tmp_path / "out"
    previous = _write_tree(out, {"train.jsonl": "previous\n", SUCCESS: ""})
    staging = Staging(out)
    rename = Path.rename

    def refuse_staging(self: Path, target: Path) -> Path:
        if self == staging.path:
            raise OSError(28, "No space left on device")
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", refuse_staging)
    with pytest.raises(OutputError, match="cannot publish the output folder: No space left on device"):
        staging.publish()
    assert _read_tree(out) == previous


# --- a real build, killed at random moments ---------------------------------------------------------


def _generate(n: int, path: Path) -> None:
    """Write a synthetic ShareGPT corpus with the benchmarks' generator (stdlib only)."""
    spec = importlib.util.spec_from_file_location("_dialogdata_generate", ROOT / "benchmarks" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the module runs.
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        module.generate(n, path, seed=11)
    finally:
        del sys.modules[spec.name]


def _build_command(raw: Path, out: Path, seed: int) -> list[str]:
    """Return the real CLI's build command."""
    cli = [sys.executable, "-m", "dialogdata.cli", "build"]
    return [*cli, str(raw), str(out), "--overwrite", "--seed", str(seed)]


def _build(raw: Path, out: Path, seed: int) -> float:
    """Run a whole build to the end and return how long it took."""
    start = time.monotonic()
    done = subprocess.run(_build_command(raw, out, seed), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return time.monotonic() - start


def _killed_build(raw: Path, out: Path, seed: int, after: float) -> int:
    """Start a build, SIGKILL it `after` seconds unless it ended first, and return its exit status."""
    build = subprocess.Popen(
        _build_command(raw, out, seed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        return build.wait(timeout=after)
    except subprocess.TimeoutExpired:
        build.kill()
        return build.wait()


def _hashes(folder: Path) -> dict[str, str]:
    """Return the sha256 of every file under `folder`, by relative path."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _is_whole(hashes: dict[str, str], folder: Path) -> bool:
    """Tell a complete output: `_SUCCESS`, and exactly the files its manifest lists, with those hashes."""
    if SUCCESS not in hashes or "manifest.json" not in hashes:
        return False
    listed = {o["path"]: o["sha256"] for o in json.loads((folder / "manifest.json").read_bytes())["outputs"]}
    # GX's files carry run times, so the manifest names their folder without hashing them.
    gx = [k for k in hashes if k.startswith("reports/gx/")]
    if gx and listed.pop("reports/gx/", "missing") is not None:
        return False
    return listed == {k: v for k, v in hashes.items() if k not in (SUCCESS, "manifest.json", *gx)}


def _data(hashes: dict[str, str]) -> dict[str, str]:
    """Keep the data files: everything but the manifest, the marker and the reports."""
    return {
        k: v
        for k, v in hashes.items()
        if k not in (SUCCESS, "manifest.json") and not k.startswith("reports/")
    }


def _state(out: Path, old: dict[str, str], new: dict[str, str]) -> str:
    """Name what OUT holds, "absent", "old" or "new"; anything else fails the test."""
    if not out.exists():
        return "absent"
    hashes = _hashes(out)
    if hashes == old:
        return "old"
    assert _is_whole(hashes, out) and _data(hashes) == _data(new), (
        f"OUT is neither the old output nor the new one: {sorted(hashes)}"
    )
    return "new"


def test_publish_killed_build_leaves_the_old_output_or_the_new_one(tmp_path):
    raw, out, reference = tmp_path / "raw", tmp_path / "out", tmp_path / "reference"
    raw.mkdir()
    _generate(N_DIALOGUES, raw / "corpus.jsonl")
    _build(raw, reference, seed=2)
    duration = _build(raw, out, seed=1)
    old, new = _hashes(out), _hashes(reference)
    assert _is_whole(old, out) and _is_whole(new, reference)
    assert old["train.jsonl"] != new["train.jsonl"]
    rng = random.Random(20240611)
    mid_write = 0
    for slot in range(N_KILLS):
        # One kill in each eighth of a build's duration, so start, middle and end are all hit.
        status = _killed_build(raw, out, seed=2, after=(slot + rng.random()) * duration / N_KILLS)
        state = _state(out, old, new)
        leftovers = _siblings(out)
        mid_write += any(".staging-" in name for name in leftovers)
        assert state != "absent" or any(".old-" in name for name in leftovers), leftovers
        assert status == -signal.SIGKILL or state == "new"
        with lock_output(out):
            assert _state(out, old, new) in ("old", "new")
            assert _siblings(out) == []
    assert mid_write >= 1, "no kill landed while the build was writing; the test proved nothing"
    _build(raw, out, seed=2)
    assert _data(_hashes(out)) == _data(new)
    assert _siblings(out) == []
