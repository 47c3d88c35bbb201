"""`dialogdata augment` and `dialogdata convert`, run as a user runs them, and augmenters in recipes."""

import orjson
import pytest
from typer.testing import CliRunner

import dialogdata as dd
from dialogdata.cli import app

runner = CliRunner()


def _lines(path):
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_augment_writes_originals_then_children_and_a_rejects_ledger(examples, tmp_path):
    out = tmp_path / "aug.jsonl"
    result = runner.invoke(
        app, ["augment", str(examples), str(out), "--op", "role_swap,adversarial", "--to", "dialogdata"]
    )
    assert result.exit_code == 0, result.output
    records = [dd.Dialogue.from_dict(r) for r in _lines(out)]
    originals = [d for d in records if d.lineage is None]
    children = [d for d in records if d.lineage is not None]
    assert originals == list(dd.read(examples))
    assert {op.name for c in children for op in c.lineage.operations} == {"role_swap", "adversarial"}
    # Each child follows its parent: order is defined by the input, never by scheduling.
    last = None
    for record in records:
        if record.lineage is None:
            last = record
        else:
            assert record.lineage.parent_id == last.id
    ledger = _lines(tmp_path / "aug.jsonl.rejects.jsonl")
    assert {r["code"] for r in ledger} >= {"json.invalid"}
    assert f"written {len(records)}" in result.output and "rejects:" in result.output


def test_augment_is_reproducible_and_seeded(examples, tmp_path):
    args = ["--op", "adversarial", "--seed", "7"]
    for name in ("a.jsonl", "b.jsonl"):
        assert runner.invoke(app, ["augment", str(examples), str(tmp_path / name), *args]).exit_code == 0
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    other = tmp_path / "c.jsonl"
    assert runner.invoke(app, ["augment", str(examples), str(other), "--op", "adversarial"]).exit_code == 0
    assert other.read_bytes() != (tmp_path / "a.jsonl").read_bytes()


def test_augment_only_augmented_and_config_options(examples, tmp_path):
    recipe = tmp_path / "recipe.toml"
    recipe.write_text('[augment.adversarial]\nkinds = ["injection"]\np = 0.5\n', encoding="utf-8")
    out = tmp_path / "aug.jsonl"
    result = runner.invoke(
        app,
        ["augment", str(examples), str(out), "--op", "adversarial", "--only-augmented",
         "--config", str(recipe), "--to", "dialogdata"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    children = [dd.Dialogue.from_dict(r) for r in _lines(out)]
    assert children and all(c.tags["adversarial"] == "injection" for c in children)
    assert all(c.lineage.operations[0].params["p"] == 0.5 for c in children)
    assert len(children) < len(list(dd.read(examples)))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--op", "shuffle"], "unknown augmenter 'shuffle'"),
        (["--op", ""], "name at least one augmenter"),
    ],
)
def test_augment_usage_errors(examples, tmp_path, args, message):
    result = runner.invoke(app, ["augment", str(examples), str(tmp_path / "o.jsonl"), *args])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_augment_refuses_to_replace_without_overwrite(examples, tmp_path):
    out = tmp_path / "o.jsonl"
    out.write_text("keep me\n", encoding="utf-8")
    result = runner.invoke(app, ["augment", str(examples), str(out), "--op", "role_swap"])
    assert result.exit_code == 2 and "--overwrite" in result.output
    assert out.read_text(encoding="utf-8") == "keep me\n"
    assert (
        runner.invoke(app, ["augment", str(examples), str(out), "--op", "role_swap", "--overwrite"]).exit_code
        == 0
    )
    assert out.read_text(encoding="utf-8") != "keep me\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_augment_recipe_rejects_unknown_keys(examples, tmp_path):
    recipe = tmp_path / "recipe.toml"
    recipe.write_text("[augment.role_swap]\nratio = 0.5\n", encoding="utf-8")
    result = runner.invoke(
        app,
        ["augment", str(examples), str(tmp_path / "o.jsonl"), "--op", "role_swap", "--config", str(recipe)],
    )
    assert result.exit_code == 2
    assert (
        "unknown key 'ratio' in [augment.role_swap]; expected one of: p, system_prompt, trailing"
        in result.output
    )


def test_build_runs_the_augmenters_of_the_recipe(examples, tmp_path):
    recipe = tmp_path / "recipe.toml"
    recipe.write_text("[augment.role_swap]\np = 1.0\n[augment.adversarial]\np = 0.5\n", encoding="utf-8")
    result = dd.build(examples, tmp_path / "out", config=recipe)
    manifest = orjson.loads((tmp_path / "out" / "manifest.json").read_bytes())
    assert result.fates["augmented"] > 0
    assert manifest["config"]["augment"] == ["role_swap", "adversarial"]
    # --augment names override the recipe's list; the recipe still sets their options.
    only = dd.build(examples, tmp_path / "out2", config=recipe, augment=["adversarial"])
    assert 0 < only.fates["augmented"] < result.fates["augmented"]
    none = dd.build(examples, tmp_path / "out3", config=recipe, augment=[])
    assert none.fates["augmented"] == 0


def test_convert_writes_the_target_format(examples, tmp_path):
    out = tmp_path / "c.jsonl"
    result = runner.invoke(app, ["convert", str(examples), str(out), "--to", "openai"])
    assert result.exit_code == 0, result.output
    back = list(dd.read(out, format="openai"))
    assert [d.id for d in back] == [d.id for d in dd.read(examples)]


def test_build_feeds_coverage_counts_to_prefer_rare(examples, tmp_path):
    recipe = tmp_path / "recipe.toml"
    recipe.write_text('[augment.entities]\nprefer_rare = "coverage"\n', encoding="utf-8")
    dd.build(examples, tmp_path / "out", config=recipe)
    import pyarrow.parquet as pq

    # The table holds every written dialogue, children with their lineage (as JSON text).
    rows = pq.read_table(tmp_path / "out" / "dialogues.parquet").to_pylist()
    lineages = [orjson.loads(r["lineage"]) for r in rows if r["lineage"]]
    assert lineages
    digests = {op["params"]["prefer_rare"] for lin in lineages for op in lin["operations"]}
    assert len(digests) == 1 and next(iter(digests)).startswith("blake2b:")


def test_cli_ner_model_that_is_not_installed_is_a_usage_error(examples, tmp_path):
    result = runner.invoke(
        app,
        [
            "augment",
            str(examples),
            str(tmp_path / "o.jsonl"),
            "--op",
            "entities",
            "--ner-model",
            "xx_no_such_model",
        ],
    )
    assert result.exit_code == 2
    assert "'xx_no_such_model' is not installed" in result.output and "Traceback" not in result.output
