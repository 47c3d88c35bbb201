import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dialogdata.testing import assert_fates_add_up

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = (
    "train.jsonl",
    "validation.jsonl",
    "manifest.json",
    "issues.jsonl",
    "rejects.jsonl",
    "filtered.jsonl",
    "reports/summary.html",
    "reports/metrics.json",
    "_SUCCESS",
)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.skipif(
    Path(sys.prefix).resolve() != (ROOT / ".venv").resolve(), reason="make demo uses the project's .venv"
)
def test_make_demo_builds_the_examples():
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    done = subprocess.run(
        ["make", "-s", "demo"], cwd=ROOT, capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "out/demo/reports/summary.html" in done.stdout
    out = ROOT / "out" / "demo"
    for name in EXPECTED:
        assert (out / name).is_file(), name
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert_fates_add_up(manifest)
    fates = manifest["fates"]
    assert fates["rejected"] >= 3 and fates["filtered"] >= 3 and fates["deduplicated"] >= 1
    html = (out / "reports" / "summary.html").read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and "<script" not in html
