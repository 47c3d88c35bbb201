"""`--engine ray`: the same data files as the local engine, byte for byte, and clear errors around it.

The builds run the CLI in a subprocess, as a user runs it, each starting a local Ray instance with
2 CPUs and no dashboard. Deselect them with `-m "not ray"` when Ray is not installed locally; CI
installs the `dev` extra, which brings Ray, and runs them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from dialogdata.errors import ConfigError, UsageError

DATA_FILES = ("train.jsonl", "validation.jsonl", "test.jsonl", "dialogues.parquet", "rejects.jsonl",
              "filtered.jsonl", "issues.jsonl", "losses.jsonl", "dataset_info.json")  # fmt: skip
AUGMENT = "role_swap,entities,adversarial"


def _cli(*args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `dialogdata ARGS` in a fresh interpreter."""
    environment = {**os.environ, "NO_COLOR": "1", **(env or {})}
    command = [sys.executable, "-m", "dialogdata", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, env=environment, check=False, timeout=900)


def _data_files(out: Path) -> dict[str, bytes]:
    """Every data file of OUT (the reports and manifest hold timestamps and the engine's name)."""
    found = {
        str(path.relative_to(out)): path.read_bytes()
        for path in sorted(out.rglob("*"))
        if path.is_file() and path.name in DATA_FILES
    }
    assert found, f"no data files in {out}"
    return found


def _manifest(out: Path) -> dict:
    return orjson.loads((out / "manifest.json").read_bytes())


def _build_both(raw: Path, tmp_path: Path, *options: object) -> tuple[Path, Path]:
    """Build RAW with each engine; return both output folders."""
    local, ray = tmp_path / "local", tmp_path / "ray"
    done = _cli("build", raw, local, *options)
    assert done.returncode == 0, done.stderr
    done = _cli("build", raw, ray, *options, "--engine", "ray", "--workers", "2")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return local, ray


def _assert_same_outputs(local: Path, ray: Path) -> None:
    """Data files byte-identical; the manifests differ only in the engine and worker count."""
    assert _data_files(local) == _data_files(ray)
    manifests = [_manifest(local), _manifest(ray)]
    assert [m["config"].pop("engine") for m in manifests] == ["local", "ray"]
    for manifest in manifests:
        manifest["config"].pop("workers")
    assert manifests[0] == manifests[1]
    assert (ray / "_SUCCESS").exists()
    assert (local / "reports" / "summary.md").read_bytes() == (ray / "reports" / "summary.md").read_bytes()


@pytest.mark.ray
def test_ray_engine_matches_local_on_the_examples(examples, tmp_path):
    pytest.importorskip("ray")
    local, ray = _build_both(examples, tmp_path, "--augment", AUGMENT, "--test", "0.1", "--seed", "3")
    fates = _manifest(ray)["fates"]
    assert fates["rejected"] > 0 and fates["augmented"] > 0 and fates["deduplicated"] > 0
    _assert_same_outputs(local, ray)


@pytest.mark.ray
@pytest.mark.slow
def test_ray_engine_matches_local_on_a_generated_corpus(generated_corpus, tmp_path):
    pytest.importorskip("ray")
    raw = generated_corpus(20_000)
    local, ray = _build_both(raw, tmp_path, "--augment", AUGMENT, "--to", "sharegpt,openai")
    fates = _manifest(ray)["fates"]
    # The planted defects are there to be found: duplicates, filtered, broken lines, augmentation.
    assert fates["source_records"] == 20_000
    assert fates["deduplicated"] > 100 and fates["filtered"] > 50 and fates["rejected"] > 0
    assert fates["augmented"] > 20_000
    assert len(_data_files(ray)) >= 10
    _assert_same_outputs(local, ray)


@pytest.mark.ray
def test_ray_engine_reads_several_files_and_archives_in_order(examples, tmp_path):
    pytest.importorskip("ray")
    import zipfile

    raw = tmp_path / "raw"
    raw.mkdir()
    for path in sorted(examples.iterdir()):
        (raw / path.name).write_bytes(path.read_bytes())
    with zipfile.ZipFile(raw / "more.zip", "w") as archive:
        for path in sorted(examples.iterdir()):
            archive.write(path, f"inner/{path.name}")
        archive.writestr("inner/notes.txt", "plain text without a mapping is skipped")
    (raw / "broken.jsonl.gz").write_bytes(b"\x1f\x8b\x08\x00 not really gzip")
    local, ray = _build_both(raw, tmp_path / "builds", "--augment", "role_swap")
    manifest = _manifest(ray)
    assert manifest["skipped"] and len(manifest["inputs"]) > len(list(examples.iterdir()))
    _assert_same_outputs(local, ray)


def test_ray_engine_without_ray_is_one_line_with_the_install_command(examples, tmp_path):
    # A `ray` package that fails to import stands in for a machine without Ray.
    fake = tmp_path / "site"
    (fake / "ray").mkdir(parents=True)
    (fake / "ray" / "__init__.py").write_text("raise ImportError('No module named ray')\n")
    path = os.pathsep.join([str(fake), os.environ.get("PYTHONPATH", "")])
    done = _cli("build", examples, tmp_path / "out", "--engine", "ray", env={"PYTHONPATH": path})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert 'pip install "dialogdata[ray]"' in lines[0]
    assert not (tmp_path / "out").exists()


def test_ray_address_that_nobody_answers_fails_fast(examples, tmp_path):
    pytest.importorskip("ray")
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = _cli("build", examples, tmp_path / "out", "--engine", "ray", "--ray-address", f"127.0.0.1:{port}")
    assert done.returncode == 2
    assert done.stderr.startswith("error: cannot reach the Ray cluster at 127.0.0.1:")
    assert "ray start --head" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("run", "message"),
    [
        ({"engine": "spark"}, "engine: expected one of local, ray; found 'spark'"),
        ({"ray_address": "10.0.0.1:6379"}, "ray_address: only used with engine = ray"),
        ({"engine": "ray", "ray_address": ""}, "ray_address: expected text"),
    ],
)
def test_run_section_checks_engine_options(examples, tmp_path, run, message):
    import dialogdata as dd

    with pytest.raises(ConfigError, match=message):
        dd.build(examples, tmp_path / "out", **run)


def test_worker_errors_come_back_as_the_same_one_line_error():
    from dialogdata.engines.ray import _error, _raise

    try:
        raise ConfigError("bad key 'x'", path="map.toml", line=3)
    except ConfigError as exc:
        sent = _error(exc)
    with pytest.raises(ConfigError) as ours:
        _raise(sent)
    assert str(ours.value) == "map.toml:3: bad key 'x'"
    try:
        raise KeyError("turns")
    except KeyError as exc:
        sent = _error(exc)
    with pytest.raises(RuntimeError, match=r"a Ray worker failed: KeyError: 'turns'") as theirs:
        _raise(sent)
    assert "Traceback" in str(theirs.value)
    assert not isinstance(theirs.value, UsageError)
