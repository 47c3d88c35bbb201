"""Shared fixtures: the bundled examples and small file writers."""

from __future__ import annotations

import os
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
