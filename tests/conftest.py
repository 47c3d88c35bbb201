"""Shared fixtures: the bundled examples and small file writers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "raw"

settings.register_profile("ci", max_examples=200, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def examples() -> Path:
    """The bundled demo corpus."""
    return EXAMPLES


@pytest.fixture
def write_lines(tmp_path: Path):
    """Write lines (str or bytes) into a file under tmp_path and return its path."""

    def write(name: str, *lines: str | bytes, newline: bytes = b"\n") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(newline.join(x if isinstance(x, bytes) else x.encode() for x in lines) + newline)
        return path

    return write


def _generator():
    """Import the benchmark corpus generator (stdlib only) from benchmarks/generate.py."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_dd_generate", ROOT / "benchmarks" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def generated_corpus(tmp_path_factory: pytest.TempPathFactory):
    """Return a function n -> path of a generated ShareGPT JSONL corpus with planted defects (cached)."""
    folder = tmp_path_factory.mktemp("generated")
    made: dict[int, Path] = {}

    def corpus(n: int) -> Path:
        if n not in made:
            made[n] = folder / f"corpus-{n}.jsonl"
            _generator().generate(n, made[n], seed=0)
        return made[n]

    return corpus
