import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

import dialogdata as dd
from dialogdata.cli import app
from dialogdata.testing import assert_fates_add_up

runner = CliRunner()


def test_cli_help_says_what_it_does():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "fine-tuning-ready JSONL" in result.output
    for command in ("build", "schema"):
        assert command in result.output


def test_cli_build_help_lists_options_and_exit_codes():
    result = runner.invoke(app, ["build", "--help"])
    assert result.exit_code == 0
    for option in ("--to", "--format", "--augment", "--seed", "--overwrite", "Exit codes"):
        assert option in result.output


def test_cli_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"dialogdata {dd.__version__}"


def test_cli_schema_prints_the_json_schema():
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    jsonschema.Draft202012Validator.check_schema(schema)
    turn = dd.Dialogue(turns=(dd.Turn(role=dd.Role.USER, content="x"),))
    jsonschema.validate(turn.to_dict(), schema)


def test_cli_build_examples_exit_zero(examples, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", str(examples), str(out), "--augment", "role_swap"])
    assert result.exit_code == 0, result.output
    assert "gate passed" in result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert_fates_add_up(manifest)
    assert manifest["fates"]["augmented"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["build", "missing_dir", "OUT"], "missing_dir: no such file or folder"),
        (["build", "EXAMPLES", "OUT", "--format", "sharegtp"], "unknown format 'sharegtp'"),
        (["build", "EXAMPLES", "OUT", "--to", "llama"], "unknown output format 'llama'"),
        (["build", "EXAMPLES", "OUT", "--augment", "shuffle"], "unknown augmenter 'shuffle'"),
        (["build", "EXAMPLES", "OUT", "--validation", "1.5"], "validation: expected a share from 0 to 1"),
        (["build", "EXAMPLES"], "needs at least one RAW input and an OUT folder"),
    ],
)
def test_cli_usage_errors_are_one_line_exit_two(examples, tmp_path, args, message):
    args = [str(examples) if a == "EXAMPLES" else str(tmp_path / "out") if a == "OUT" else a for a in args]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_cli_non_empty_output_needs_overwrite(examples, tmp_path):
    out = tmp_path / "out"
    assert runner.invoke(app, ["build", str(examples), str(out)]).exit_code == 0
    again = runner.invoke(app, ["build", str(examples), str(out)])
    assert again.exit_code == 2 and "--overwrite" in again.output
    assert runner.invoke(app, ["build", str(examples), str(out), "--overwrite"]).exit_code == 0


def test_cli_failed_gate_exits_one(tmp_path):
    raw = tmp_path / "raw.jsonl"
    raw.write_text("{not json\n", encoding="utf-8")
    result = runner.invoke(app, ["build", str(raw), str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "gate FAILED" in result.output
    assert not (tmp_path / "out" / "_SUCCESS").exists()


def _console_script() -> Path:
    return Path(sys.executable).parent / "dialogdata"


@pytest.mark.skipif(not _console_script().exists(), reason="the dialogdata console script is not installed")
def test_cli_console_script_runs_as_a_user_runs_it(examples, tmp_path):
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(
        [_console_script(), "build", examples, tmp_path / "out"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "report:" in done.stderr
    bad = subprocess.run(
        [_console_script(), "build", tmp_path / "nope", tmp_path / "o2"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr


def test_cli_module_entry_point_help():
    done = subprocess.run(
        [sys.executable, "-m", "dialogdata", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and "build" in done.stdout


def test_cli_inspect_table_and_json(examples):
    table = runner.invoke(app, ["inspect", str(examples)])
    assert table.exit_code == 0, table.output
    assert "clinic_openai.jsonl" in table.output and "sharegpt" in table.output
    assert "json.invalid" in table.output
    as_json = runner.invoke(app, ["inspect", str(examples), "--json"])
    found = json.loads(as_json.output)
    by_path = {f["path"]: f for f in found["files"]}
    clinic = by_path["clinic_openai.jsonl"]
    assert (clinic["container"], clinic["encoding"], clinic["format"]) == ("jsonl", "utf-8", "openai")
    assert clinic["evidence"].endswith("look like openai")
    assert clinic["first_rejects"][0]["source"]["line"] == 7
    assert clinic["sample"][0]["role"] in ("system", "user")


def test_cli_readme_mapping_commands(tmp_path):
    folder = Path(__file__).resolve().parent.parent / "examples" / "mappings"
    shown = runner.invoke(
        app,
        [
            "inspect",
            str(folder / "clinic_export.json"),
            "--mapping",
            str(folder / "clinic_export.toml"),
            "--json",
        ],
    )
    assert json.loads(shown.output)["files"][0]["dialogues"] == 2
    built = runner.invoke(
        app,
        [
            "build",
            str(folder / "dailydialog.txt"),
            str(tmp_path / "daily"),
            "--mapping",
            str(folder / "dailydialog.toml"),
        ],
    )
    assert built.exit_code == 0, built.output
    assert "written 2" in built.output


def test_cli_bad_mapping_is_one_line(tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text('turnz = "x"\n', encoding="utf-8")
    result = runner.invoke(app, ["inspect", str(tmp_path), "--mapping", str(mapping)])
    assert result.exit_code == 2
    assert "unknown key 'turnz'" in result.output and "Traceback" not in result.output


def test_cli_validate_writes_reports_only(examples, tmp_path):
    report = tmp_path / "report"
    result = runner.invoke(app, ["validate", str(examples), "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert (report / "issues.jsonl").is_file() and (report / "reports" / "summary.html").is_file()
    assert not (report / "train.jsonl").exists()
    codes = {
        json.loads(x)["code"] for x in (report / "issues.jsonl").read_text(encoding="utf-8").splitlines()
    }
    assert {"consistency.empty_turn", "consistency.ends_with_user", "consistency.role_order"} <= codes


def test_cli_build_drop_and_dedup_flags(examples, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", str(examples), str(out), "--drop", "none", "--dedup", "none"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["fates"]["filtered"] == 0 and manifest["fates"]["deduplicated"] == 0
    bad = runner.invoke(app, ["build", str(examples), str(tmp_path / "o2"), "--dedup", "fuzzy"])
    assert bad.exit_code == 2 and "dedup must be one of" in bad.output
