"""The expectation suite decides the gate, and `dialogdata report OUT` rebuilds the reports."""

import orjson
from typer.testing import CliRunner

from dialogdata.cli import app

runner = CliRunner()


def _corpus(write_lines, long_replies: int):
    """20 distinct chats, `long_replies` of them with an over-long answer (kept: long replies are flagged)."""
    lines = []
    for i in range(20):
        answer = ("This answer goes on and on about fees. " * 8) if i < long_replies else f"Short answer {i}."
        topic = ["card", "loan", "fee", "rate", "branch"][i % 5]
        turns = [{"from": "human", "value": f"Question {i}: {topic} {i * 7}?"},
                 {"from": "gpt", "value": answer}]  # fmt: skip
        lines.append(orjson.dumps({"conversations": turns}).decode())
    return write_lines("raw/chats.jsonl", *lines).parent


def test_a_failing_expectation_fails_the_gate_and_exits_one(write_lines, tmp_path):
    raw = _corpus(write_lines, long_replies=5)
    recipe = tmp_path / "recipe.toml"
    recipe.write_text('[consistency]\nmax_reply_chars = 100\n[filter]\ndedup = "none"\n', encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", str(raw), str(out), "--config", str(recipe)])
    assert result.exit_code == 1, result.output
    assert not (out / "_SUCCESS").exists() and (out / "train.jsonl").is_file()
    metrics = orjson.loads((out / "reports" / "metrics.json").read_bytes())
    failed = [e["name"] for e in metrics["expectations"]["expectations"] if not e["success"]]
    assert failed == ["assistant reply length"]
    checks = {c["name"]: c["passed"] for c in metrics["gate"]["checks"]}
    assert checks == {"reject share": True, "dialogues written": True, "groups across splits": True,
                      "failed expectations": False}  # fmt: skip
    assert "failed expectations" in result.output


def test_the_same_corpus_passes_when_the_expectation_holds(write_lines, tmp_path):
    raw = _corpus(write_lines, long_replies=5)
    result = runner.invoke(app, ["build", str(raw), str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "_SUCCESS").exists()


def test_report_rebuilds_the_reports_of_an_output_folder(write_lines, tmp_path):
    raw = _corpus(write_lines, long_replies=0)
    out = tmp_path / "out"
    assert runner.invoke(app, ["build", str(raw), str(out)]).exit_code == 0
    before = {name: (out / name).read_bytes() for name in ("train.jsonl", "reports/summary.html")}
    for name in ("reports/summary.html", "reports/summary.md", "_SUCCESS"):
        (out / name).unlink()
    import shutil

    shutil.rmtree(out / "reports" / "gx")
    result = runner.invoke(app, ["report", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "_SUCCESS").exists() and (out / "reports" / "summary.md").is_file()
    assert (out / "reports" / "gx" / "results.json").is_file()
    assert {name: (out / name).read_bytes() for name in before} == before


def test_report_on_a_folder_that_is_not_an_output_is_a_usage_error(tmp_path):
    (tmp_path / "folder").mkdir()
    result = runner.invoke(app, ["report", str(tmp_path / "folder")])
    assert result.exit_code == 2
    assert "not a dialogdata output folder" in result.output and "Traceback" not in result.output
