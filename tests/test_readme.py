import re
import runpy
from pathlib import Path

import pytest

from dialogdata.codes import EXPORT_CODES, FILTER_CODES, ISSUE_CODES, REJECT_CODES

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
    # Codes are group.name, but for op_error (any stage's failure, so it belongs to no group).
    table = dict(re.findall(r"^\| `([a-z_]+\.[a-z_]+|op_error)` \| (.+?) \|$", README, flags=re.MULTILINE))
    assert table == {**REJECT_CODES, **ISSUE_CODES, **FILTER_CODES, **EXPORT_CODES}


def test_readme_mapping_examples_are_the_shipped_files():
    blocks = [b for b in re.findall(r"```toml\n(.*?)```", README, flags=re.DOTALL) if "include =" in b]
    shipped = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "examples" / "mappings").glob("*.toml")}
    assert sorted(blocks) == sorted(shipped.values())


def test_readme_mapping_examples_ingest(tmp_path):
    import dialogdata as dd

    folder = ROOT / "examples" / "mappings"
    clinic = list(dd.read(folder / "clinic_export.json", mapping=folder / "clinic_export.toml"))
    assert [d.source.source_id for d in clinic] == ["c-0001", "c-0002"]
    assert [t.role.value for t in clinic[0].turns] == ["system", "user", "assistant"]
    assert clinic[1].meta == {"department": "儿科"}
    daily = list(dd.read(folder / "dailydialog.txt", mapping=folder / "dailydialog.toml"))
    assert [len(d.turns) for d in daily] == [4, 2]
    assert daily[1].turns[1].content == "请立即在手机银行挂失，补卡费 10 元。"


def test_readme_recipe_example_is_valid(tmp_path, examples):
    import tomllib

    import dialogdata as dd
    from dialogdata.build import SECTIONS
    from dialogdata.config import check_recipe

    block = next(b for b in re.findall(r"```toml\n(.*?)```", README, flags=re.DOTALL) if "[filter]" in b)
    recipe = check_recipe(tomllib.loads(block), SECTIONS)
    assert recipe["filter"]["dedup"] == "exact"
    (tmp_path / "recipe.toml").write_text(block, encoding="utf-8")
    assert dd.build(examples, tmp_path / "out", config=tmp_path / "recipe.toml").exit_code == 0


def test_readme_augment_recipe_runs(tmp_path, examples):
    import orjson

    import dialogdata as dd

    block = next(b for b in re.findall(r"```toml\n(.*?)```", README, flags=re.DOTALL) if "[augment." in b)
    (tmp_path / "recipe.toml").write_text(block, encoding="utf-8")
    result = dd.build(examples, tmp_path / "out", config=tmp_path / "recipe.toml", seed=1)
    assert result.exit_code == 0 and result.fates["augmented"] > 0
    manifest = orjson.loads((tmp_path / "out" / "manifest.json").read_bytes())
    assert manifest["config"]["augment"] == ["role_swap", "entities", "adversarial"]
    assert manifest["config"]["recipe"]["augment"]["adversarial"]["kinds"] == [
        "char_noise",
        "injection",
        "distractor",
    ]
