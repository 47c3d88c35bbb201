"""The build's export side: every format, several at once, dataset_info, losses, recipes and the gate."""

import tomllib

import orjson
import pytest
from typer.testing import CliRunner

import dialogdata as dd
from dialogdata.cli import app
from dialogdata.export import get_exporter

runner = CliRunner()
FORMATS = ["openai", "sharegpt", "chatglm3", "alpaca"]


def _lines(path):
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


@pytest.mark.parametrize("fmt", FORMATS)
def test_build_to_each_format_reads_back_with_zero_rejects(examples, tmp_path, fmt):
    out = tmp_path / "out"
    result = dd.build(examples, out, to=fmt, augment=["role_swap", "adversarial"], seed=2)
    assert result.exit_code == 0
    back = list(dd.read(out / "train.jsonl", format=fmt))
    written = _lines(out / "train.jsonl") + _lines(out / "validation.jsonl")
    again = list(dd.read([out / "train.jsonl", out / "validation.jsonl"], format=fmt))
    assert len(again) == len(written) and len(back) == len(_lines(out / "train.jsonl"))
    metrics = orjson.loads((out / "reports" / "metrics.json").read_bytes())
    stats = metrics["export"]["formats"][fmt]
    assert sum(stats["written"].values()) + stats["not_written"] == result.fates["written"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_build_output_reader_reports_no_rejects(examples, tmp_path, fmt):
    out = tmp_path / "out"
    dd.build(examples, out, to=fmt)
    from dialogdata.ingest import Reader

    reader = Reader([out / "train.jsonl", out / "validation.jsonl"], format=fmt)
    assert list(reader) and reader.rejects == []


def test_build_to_several_formats_writes_subfolders_and_one_dataset_info(examples, tmp_path):
    out = tmp_path / "out"
    result = dd.build(examples, out, to=["sharegpt", "alpaca"])
    assert result.exit_code == 0
    info = orjson.loads((out / "dataset_info.json").read_bytes())
    assert set(info) == {"sharegpt_train", "sharegpt_validation", "alpaca_train", "alpaca_validation"}
    for name, entry in info.items():
        fmt = name.rsplit("_", 1)[0]
        assert (out / entry["file_name"]).is_file()
        assert entry == get_exporter(fmt).dataset_info(entry["file_name"])
    assert not (out / "train.jsonl").exists()
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    paths = {o["path"] for o in manifest["outputs"]}
    assert {"sharegpt/train.jsonl", "alpaca/validation.jsonl", "dataset_info.json"} <= paths


def test_single_format_dataset_info_names_the_split_files(examples, tmp_path):
    dd.build(examples, tmp_path / "out", to="chatglm3", test=0.2)
    info = orjson.loads((tmp_path / "out" / "dataset_info.json").read_bytes())
    assert {name: entry["file_name"] for name, entry in info.items()} == {
        "train": "train.jsonl",
        "validation": "validation.jsonl",
        "test": "test.jsonl",
    }


def test_what_a_format_cannot_carry_is_reported_per_dialogue_and_counted(examples, tmp_path):
    out = tmp_path / "out"
    dd.build(examples, out, to="alpaca")
    losses = _lines(out / "losses.jsonl")
    assert losses and all(line["format"] == "alpaca" and line["id"] for line in losses)
    assert all(line["code"].startswith("export.") and line["source"]["path"] for line in losses)
    metrics = orjson.loads((out / "reports" / "metrics.json").read_bytes())
    counted = metrics["export"]["formats"]["alpaca"]["losses"]
    assert sum(counted.values()) == len(losses)
    # The clinic's tool-calling dialogue cannot keep its tools in alpaca.
    assert "export.tools_dropped" in counted or "export.tool_calls_dropped" in counted


def test_print_config_shows_file_flags_and_defaults(tmp_path):
    recipe = tmp_path / "recipe.toml"
    recipe.write_text('[conflict]\nnear_threshold = 0.9\n[export]\nto = "sharegpt"\n', encoding="utf-8")
    result = runner.invoke(
        app, ["build", "--config", str(recipe), "--seed", "4", "--to", "alpaca,openai", "--print-config"]
    )
    assert result.exit_code == 0, result.output
    config = tomllib.loads(result.output)
    assert config["conflict"]["near_threshold"] == 0.9  # from the file
    assert config["export"]["to"] == ["alpaca", "openai"]  # the flag wins over the file
    assert config["run"]["seed"] == 4
    assert config["consistency"]["echo_threshold"] == 0.9  # a default
    assert config["splits"] == {"validation": 0.1, "test": 0.0, "stratify": True}
    assert config["augment"] == {}
    # What it prints is itself a valid recipe.
    (tmp_path / "again.toml").write_text(result.output, encoding="utf-8")
    again = runner.invoke(app, ["build", "--config", str(tmp_path / "again.toml"), "--print-config"])
    assert again.exit_code == 0 and again.output == result.output


@pytest.mark.parametrize(
    ("recipe", "message"),
    [
        ("[splits]\nvalidation = 2\n", "bad value in [splits]: validation: expected a share from 0 to 1"),
        ("[export]\nto = []\n", "bad value in [export]: to: expected one or more format names"),
        ("[run]\nworkers = 0\n", "bad value in [run]: workers: expected a whole number from 1 to 256"),
        (
            "[gate]\nmax_rejects = 0.1\n",
            "unknown key 'max_rejects' in [gate]; expected one of: max_reject_share",
        ),
        ("[exports]\n", "unknown section [exports]; expected one of: [run], [ingest]"),
    ],
)
def test_recipe_errors_name_the_section_and_key(examples, tmp_path, recipe, message):
    path = tmp_path / "recipe.toml"
    path.write_text(recipe, encoding="utf-8")
    result = runner.invoke(app, ["build", str(examples), str(tmp_path / "out"), "--config", str(path)])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_gate_thresholds_fail_the_build_with_outputs_but_no_success(examples, tmp_path):
    recipe = tmp_path / "recipe.toml"
    recipe.write_text("[gate]\nmax_duplicate_share = 0.01\nmin_consistency = 0.5\n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", str(examples), str(out), "--config", str(recipe)])
    assert result.exit_code == 1
    assert (out / "train.jsonl").is_file() and (out / "manifest.json").is_file()
    assert not (out / "_SUCCESS").exists()
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    checks = {c["name"]: c for c in manifest["gate"]["checks"]}
    assert checks["duplicate share"]["passed"] is False
    assert checks["mean consistency"]["passed"] is True
    assert checks["reject share"]["passed"] is True
    assert "duplicate share" in result.output


def test_gate_passes_by_default_and_records_every_check(examples, tmp_path):
    result = dd.build(examples, tmp_path / "out")
    assert result.gate_passed and (tmp_path / "out" / "_SUCCESS").exists()
    names = [c["name"] for c in result.gate_checks]
    assert names == ["reject share", "dialogues written", "groups across splits", "failed expectations"]
    assert set(result.scores) >= {"consistency", "conflict"}


DATA_FILES = ("train.jsonl", "validation.jsonl", "test.jsonl", "dialogues.parquet", "rejects.jsonl",
              "filtered.jsonl", "issues.jsonl", "losses.jsonl", "dataset_info.json")  # fmt: skip


def _data(out):
    return {name: (out / name).read_bytes() for name in DATA_FILES if (out / name).exists()}


def test_workers_give_byte_identical_data_files(examples, tmp_path):
    options = {"augment": ["role_swap", "entities", "adversarial"], "seed": 5, "test": 0.1}
    one = dd.build(examples, tmp_path / "one", workers=1, **options)
    two = dd.build(examples, tmp_path / "two", workers=2, **options)
    assert one.fates == two.fates and one.fates["augmented"] > 0
    assert _data(tmp_path / "one") == _data(tmp_path / "two")
    assert len(_data(tmp_path / "one")) == len(DATA_FILES)
    metrics = [orjson.loads((tmp_path / n / "reports" / "metrics.json").read_bytes()) for n in ("one", "two")]
    assert metrics[0]["augmenters"] == metrics[1]["augmenters"]


def test_workers_give_byte_identical_data_files_on_a_generated_corpus(generated_corpus, tmp_path):
    raw = generated_corpus(1200)
    options = {"augment": ["entities", "adversarial"], "seed": 1, "to": ["sharegpt", "chatglm3"]}
    one = dd.build(raw, tmp_path / "one", workers=1, **options)
    two = dd.build(raw, tmp_path / "two", workers=2, **options)
    assert one.fates == two.fates
    assert one.fates["deduplicated"] > 0 and one.fates["filtered"] > 0 and one.fates["augmented"] > 400
    for out in ("one", "two"):
        assert (tmp_path / out / "sharegpt" / "train.jsonl").is_file()
    names = [*DATA_FILES, "sharegpt/train.jsonl", "chatglm3/validation.jsonl"]
    files = {
        n: [(tmp_path / o / n).read_bytes() for o in ("one", "two") if (tmp_path / o / n).exists()]
        for n in names
    }
    assert all(len(pair) in (0, 2) and (not pair or pair[0] == pair[1]) for pair in files.values())
    assert sum(len(pair) == 2 for pair in files.values()) == 8


def _sharegpt_lines(prefix, n, language="en"):
    """Distinct dialogues (no two near duplicates), in English or Chinese."""
    import random

    rng = random.Random(prefix)
    words = (
        list("银行卡账户密码额度转账利息贷款手续费挂失补办开户理财保险基金汇款")
        if language == "zh"
        else [
            "card",
            "account",
            "password",
            "limit",
            "transfer",
            "interest",
            "loan",
            "fee",
            "branch",
            "savings",
            "deposit",
            "mortgage",
            "statement",
            "balance",
            "cheque",
            "currency",
            "pension",
            "insurance",
            "overdraft",
            "salary",
        ]
    )
    joiner = "" if language == "zh" else " "
    lines = []
    for _ in range(n):
        ask = joiner.join(rng.choices(words, k=12))
        answer = joiner.join(rng.choices(words, k=14))
        turns = [{"from": "human", "value": ask + ("？" if language == "zh" else "?")},
                 {"from": "gpt", "value": answer + ("。" if language == "zh" else ".")}]  # fmt: skip
        lines.append(orjson.dumps({"conversations": turns}).decode())
    return lines


def test_splits_are_exact_and_stratified_by_source_and_language(tmp_path, write_lines):
    write_lines("raw/big.jsonl", *_sharegpt_lines("b", 180), *_sharegpt_lines("z", 20, "zh"))
    write_lines("raw/small.jsonl", *_sharegpt_lines("s", 20))
    out = tmp_path / "out"
    dd.build(tmp_path / "raw", out, validation=0.1, test=0.1, dedup="none")
    metrics = orjson.loads((out / "reports" / "metrics.json").read_bytes())
    strata = metrics["export"]["splits"]["strata"]
    assert strata["small.jsonl|latin"] == {"train": 16, "validation": 2, "test": 2}
    assert strata["big.jsonl|han"] == {"train": 16, "validation": 2, "test": 2}
    assert strata["big.jsonl|latin"] == {"train": 144, "validation": 18, "test": 18}
    assert metrics["splits"] == {"train": 176, "validation": 22, "test": 22}
    assert metrics["export"]["leakage"] == {
        "groups_across_splits": 0, "pairs_across_splits": 0, "ids_across_splits": 0, "roots_across_splits": 0
    }  # fmt: skip


def test_relatives_share_a_split(generated_corpus, tmp_path):
    out = tmp_path / "out"
    dd.build(generated_corpus(1200), out, augment=["adversarial"], dedup="none", validation=0.3)
    import pyarrow.parquet as pq

    rows = pq.read_table(out / "dialogues.parquet", columns=["id", "split", "lineage"]).to_pylist()
    split_of = {row["id"]: row["split"] for row in rows}
    for row in rows:
        if row["lineage"]:
            assert row["split"] == split_of[orjson.loads(row["lineage"])["root_id"]]
    metrics = orjson.loads((out / "reports" / "metrics.json").read_bytes())
    assert metrics["conflict"]["near_duplicate"]["pairs"] > 0 or metrics["issues"].get(
        "conflict.near_duplicate"
    )
    assert set(metrics["export"]["leakage"].values()) == {0}


def test_a_second_run_on_a_locked_out_is_a_usage_error(examples, tmp_path):
    from dialogdata.export import lock_output

    out = tmp_path / "out"
    with lock_output(out):
        result = runner.invoke(app, ["build", str(examples), str(out)])
    assert result.exit_code == 2
    assert "another dialogdata run" in result.output and not out.exists()
    assert runner.invoke(app, ["build", str(examples), str(out)]).exit_code == 0
