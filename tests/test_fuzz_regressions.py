"""Replay every input the fuzzers crashed on (tests/fuzz_regressions/<harness>/*.bin), and the seeds.

Each goes through the harness's own `TestOneInput` (fuzz/fuzz_<harness>.py), which raises on any
broken contract; atheris is not needed to replay (`make fuzz` installs it to find new ones).
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REGRESSIONS = ROOT / "tests" / "fuzz_regressions"
SEEDS = ROOT / "fuzz" / "seeds"
HARNESSES = ("jsonl", "json", "csv", "yaml", "encoding", "formats", "reader")


def _cases(folder: Path) -> list[Path]:
    return sorted(folder.glob("*/*.bin"))


def _replay(path: Path) -> None:
    harness = path.parent.name
    assert harness in HARNESSES, f"{path}: no harness called {harness!r}"
    module = importlib.import_module(f"fuzz.fuzz_{harness}")
    module.TestOneInput(path.read_bytes())


@pytest.mark.parametrize("path", _cases(REGRESSIONS), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fuzz_regression_does_not_crash(path: Path) -> None:
    _replay(path)


@pytest.mark.parametrize("path", _cases(SEEDS), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fuzz_seed_does_not_crash(path: Path) -> None:
    _replay(path)


def test_every_harness_has_regressions_or_seeds() -> None:
    assert {p.parent.name for p in _cases(SEEDS)} == set(HARNESSES)
    assert {p.parent.name for p in _cases(REGRESSIONS)} <= set(HARNESSES)


def test_harnesses_import_without_atheris() -> None:
    # atheris may be installed here (make fuzz): hide it, as on a machine with only the dev extra.
    code = (
        "import sys; sys.modules['atheris'] = None\n"
        f"for name in {HARNESSES!r}:\n"
        "    module = __import__(f'fuzz.fuzz_{name}', fromlist=['TestOneInput'])\n"
        "    module.TestOneInput(b'')\n"
    )
    command = [sys.executable, "-c", code]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
