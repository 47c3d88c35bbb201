import re
import runpy
from pathlib import Path

import pytest

from dialogdata.codes import FILTER_CODES, ISSUE_CODES, REJECT_CODES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SNIPPETS = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


def test_readme_opens_with_demo_and_test():
    first_block = README.split("```")[1]
    assert [line.split("#")[0].strip() for line in first_block.strip().splitlines()] == [
        "make demo",
        "make test",
    ]


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[f"snippet{i}" for i in range(len(SNIPPETS))])
def test_readme_python_snippets_run(snippet, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    script = tmp_path / "snippet.py"
    script.write_text(snippet, encoding="utf-8")
    runpy.run_path(str(script))


def test_readme_documents_every_code():
    table = dict(re.findall(r"^\| `([a-z_.]+)` \| (.+?) \|$", README, flags=re.MULTILINE))
    assert table == {**REJECT_CODES, **ISSUE_CODES, **FILTER_CODES}
