import contextlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest

import dialogdata as dd
from dialogdata.errors import ConfigError, InputError
from dialogdata.options import GateOptions
from dialogdata.reports.gx import (
    ExpectationSpec,
    build_result_format,
    expectations_for,
    gate_thresholds,
    metric_tables,
    run_expectations,
    validate_tables,
)
from dialogdata.testing import XSS_PAYLOADS, assert_no_payloads, find_unescaped

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "raw"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A build of the examples with both augmenters, validated once by GX with the default gate."""
    out = tmp_path_factory.mktemp("gx") / "out"
    dd.build(EXAMPLES, out, augment=["role_swap", "adversarial"])
    return out, run_expectations(out, {})


@pytest.fixture
def demo_copy(demo, tmp_path):
    """A private copy of the demo build, for runs that rewrite reports/gx."""
    return Path(shutil.copytree(demo[0], tmp_path / "out"))


def test_gx_run_expectations_passes_on_the_examples_and_writes_suites_results_and_docs(demo):
    out, outcome = demo
    gx = out / "reports" / "gx"
    assert outcome.success, [e.to_dict() for e in outcome.failed]
    assert outcome.statistics == {
        "evaluated": len(outcome.expectations),
        "successful": 13,
        "unsuccessful": 0,
        "warnings": 0,
    }
    assert all(path.is_file() and gx in path.parents for path in outcome.paths)
    assert {p.name for p in outcome.suites} == {"dialogues.json", "turns.json", "corpus.json"}
    results = json.loads(outcome.results.read_text(encoding="utf-8"))
    assert results["success"] is True and len(results["validations"]) == 3
    suite = json.loads((gx / "suites" / "dialogues.json").read_text(encoding="utf-8"))
    names = [e["meta"]["name"] for e in suite["expectations"]]
    assert "role order valid" in names and "assistant reply length" in names
    assert outcome.docs == gx / "docs" / "index.html"
    assert len(list((gx / "docs" / "validations").rglob("*.html"))) == 3
    assert len({e.name for e in outcome.expectations}) == len(outcome.expectations)
    reject = next(e for e in outcome.expectations if e.name == "reject share")
    assert reject.observed == pytest.approx(3 / 33) and reject.column == "reject_share"


@pytest.mark.parametrize(
    ("thresholds", "failing", "observed"),
    [
        ({"min_consistency": 0.999}, ["mean consistency"], 0.991667),
        ({"max_duplicate_share": 0.0}, ["duplicate share"], 1 / 33),
        ({"require_coverage": True}, ["coverage cell counts", "coverage cell shares"], None),
    ],
)
def test_gx_strict_thresholds_fail_and_name_the_expectation(demo_copy, thresholds, failing, observed):
    outcome = run_expectations(demo_copy, thresholds)
    assert not outcome.success
    assert [e.name for e in outcome.failed] == failing
    assert outcome.failed[0].observed == (None if observed is None else pytest.approx(observed))
    assert outcome.statistics["unsuccessful"] == len(failing)
    assert json.loads(outcome.results.read_text(encoding="utf-8"))["success"] is False


def test_gx_recipe_sets_the_reply_bound_and_the_adversarial_band(demo_copy):
    recipe = {"consistency": {"max_reply_chars": 100}, "conflict": {"adversarial_band": [0.05, 0.2]}}
    outcome = run_expectations(demo_copy, {}, recipe=recipe)
    failed = {e.name: e for e in outcome.failed}
    assert set(failed) == {"assistant reply length", "adversarial share"}
    assert failed["adversarial share"].observed == pytest.approx(18 / 62)
    long = failed["assistant reply length"]
    assert (long.unexpected_count, long.element_count, long.severity) == (25, 62, "critical")


def _long_reply_corpus(path: Path) -> Path:
    """Write nine short chats and one whose answer passes the default bound of 8000 characters."""
    chats = [(f"Question {i}?", f"Answer {i}.") for i in range(9)] + [("Tell me all.", "All. " * 2000)]
    lines = [
        json.dumps({"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]})
        for q, a in chats
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_gx_default_reply_bound_only_warns_while_long_replies_are_kept(tmp_path):
    dd.build(_long_reply_corpus(tmp_path / "chats.jsonl"), tmp_path / "out")
    outcome = run_expectations(tmp_path / "out", {})
    assert outcome.success and not outcome.failed
    (long,) = outcome.warnings
    assert (long.name, long.unexpected_count, long.severity) == ("assistant reply length", 1, "warning")
    assert outcome.statistics["warnings"] == 1 and outcome.statistics["unsuccessful"] == 1
    assert json.loads(outcome.results.read_text(encoding="utf-8"))["success"] is True
    strict = run_expectations(tmp_path / "out", {}, recipe={"filter": {"drop": ["consistency.long_reply"]}})
    assert [e.name for e in strict.failed] == ["assistant reply length"]


def test_gx_expectations_follow_gate_and_mode():
    gate = GateOptions(max_filtered_share=0.2, min_consistency=0.9, require_coverage=True)
    build = {s.name: s for s in expectations_for(gate, {}, mode="build")}
    assert build["assistant reply length"].kwargs["max_value"] == 8000
    assert build["role order valid"].kwargs == {"column": "n_role_order", "max_value": 0, "mostly": 0.99}
    assert build["filtered share"].kwargs == {"column": "filtered_share", "max_value": 0.2}
    assert {"mean consistency", "coverage cell counts", "coverage cell shares", "dialogues written"} <= set(
        build
    )
    assert "duplicate share" not in build and "adversarial share" not in build
    validate = {s.name for s in expectations_for(gate, {}, mode="validate", has_consistency=False)}
    assert not validate & {"dialogues written", "groups across splits", "mean consistency"}
    # The filter's promises are critical; what it keeps (long replies by default) only warns.
    severities = {name: spec.severity for name, spec in build.items()}
    promises = {"unique dialogue ids", "role order valid", "no empty turns"}
    assert {severities[name] for name in promises} == {"critical"}
    assert severities["assistant reply length"] == "warning"
    keep_all = expectations_for(gate, {"filter": {"drop": ["consistency.long_reply"], "dedup": "none"}})
    assert {s.name for s in keep_all if s.severity == "warning"} == promises
    assert next(s for s in keep_all if s.name == "assistant reply length").severity == "critical"


def test_gx_thresholds_mapping_goes_over_the_manifest_gate():
    merged = gate_thresholds(
        {"max_duplicate_share": 0.1}, {"max_reject_share": 0.3, "max_duplicate_share": 0.5}
    )
    assert (merged.max_reject_share, merged.max_duplicate_share) == (0.3, 0.1)
    given = GateOptions(max_reject_share=0.9)
    assert gate_thresholds(given, {"max_reject_share": 0.1}) is given
    with pytest.raises(ConfigError, match="max_rejects_share"):
        gate_thresholds({"max_rejects_share": 0.1}, {})


def test_gx_metric_tables_hold_numbers_codes_and_hashes(demo):
    out, _ = demo
    tables = metric_tables(out)
    dialogues, turns = tables["dialogues"], tables["turns"]
    assert len(dialogues) == 62 and len(turns) == dialogues["n_turns"].sum()
    assert dialogues["augmented"].sum() == 36 and dialogues["is_adversarial"].sum() == 18
    assert set(dialogues["adversarial"]) - {"none"} <= set(dd.augmenters.Adversarial.KINDS)
    assert set(dialogues["language"]) == {"zh", "en"}
    assert set(dialogues["split"]) == {"train", "validation"}
    assert dialogues["source"].str.fullmatch("[0-9a-f]{16}").all()
    assert dialogues["consistency"].notna().sum() == 26
    assert set(turns["role"]) <= {"system", "user", "assistant", "tool"}
    assert tables["corpus"]["reject_share"].tolist() == [pytest.approx(3 / 33)]
    assert len(tables["coverage"]) == 29
    text_columns = [c for t in tables.values() for c in t.columns if t[c].dtype == object]
    assert sorted(set(text_columns)) == ["adversarial", "id_hash", "language", "role", "source", "split"]


def test_gx_writes_only_under_reports_gx(demo_copy, tmp_path, monkeypatch):
    cwd, home, temp = (tmp_path / name for name in ("cwd", "home", "temp"))
    for folder in (cwd, home, temp):
        folder.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GX_ANALYTICS_ENABLED", "True")
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    before = {p for p in demo_copy.rglob("*") if "gx" not in p.relative_to(demo_copy).parts}
    run_expectations(demo_copy, {})
    after = {p for p in demo_copy.rglob("*") if "gx" not in p.relative_to(demo_copy).parts}
    assert after == before
    assert not any(cwd.iterdir()) and not any(home.iterdir()) and not any(temp.iterdir())
    assert os.environ["GX_ANALYTICS_ENABLED"] == "False"


def test_gx_paths_stay_under_the_folder_as_given(demo_copy, monkeypatch):
    monkeypatch.chdir(demo_copy.parent)
    outcome = run_expectations(Path("out"), {})
    assert all(not p.is_absolute() and p.parts[:3] == ("out", "reports", "gx") for p in outcome.paths)
    assert outcome.docs.is_file()


def test_gx_rerun_replaces_the_earlier_results(demo_copy):
    first = run_expectations(demo_copy, {"max_duplicate_share": 0.0})
    second = run_expectations(demo_copy, {})
    assert not first.success and second.success
    assert len(list((demo_copy / "reports" / "gx" / "docs" / "validations").rglob("*.html"))) == 3


def test_gx_missing_metrics_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"metrics\.json"):
        run_expectations(tmp_path, {})


def test_gx_broken_issue_line_is_an_input_error_with_its_line(demo_copy):
    with (demo_copy / "issues.jsonl").open("ab") as stream:
        stream.write(b'{"id": "x", "code"\n')
    with pytest.raises(InputError, match=r"issues\.jsonl:12: expected a JSON issue"):
        metric_tables(demo_copy)


def _xss_corpus(root: Path) -> list[Path]:
    """Write raw files whose texts, tool arguments, metadata, ids and names carry every payload."""
    lines = []
    for n, payload in enumerate(XSS_PAYLOADS):
        call = {
            "id": f"c{n}",
            "type": "function",
            "function": {"name": "lookup", "arguments": json.dumps({"q": payload})},
        }
        messages = [
            {"role": "system", "content": f"system {payload}"},
            {"role": "user", "content": f"question {n} {payload}"},
            {"role": "assistant", "content": "", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": f"c{n}", "content": f"result {payload}"},
            {"role": "assistant", "content": f"answer {n} {payload}"},
        ]
        lines.append({"id": payload, "messages": messages, "meta": {"note": payload}})
        lines.append(
            {
                "messages": [
                    {"role": "user", "content": f"empty {n} {payload}"},
                    {"role": "assistant", "content": " "},
                ]
            }
        )
        lines.append(
            {
                "messages": [
                    {"role": "user", "content": f"a {n} {payload}"},
                    {"role": "user", "content": payload},
                ]
            }
        )
        lines.append({"messages": [{"role": payload, "content": "x"}]})
    text = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    paths = []
    for name in ("plain.jsonl", "<img src=x onerror=alert(1)>.jsonl", '"><svg onload=alert(1)>.jsonl'):
        paths.append(root / name)
        try:
            paths[-1].write_text(f'{text}\n{{"messages": "{XSS_PAYLOADS[0]}\n', encoding="utf-8")
        except OSError:  # a filesystem that refuses these names still tests the texts
            paths.pop()
    return paths


def test_gx_outputs_carry_no_payload_from_texts_or_file_names(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    _xss_corpus(raw)
    out = tmp_path / "out"
    with contextlib.suppress(OSError):  # the output folder's own name is untrusted too
        (tmp_path / XSS_PAYLOADS[2]).mkdir()
        out = tmp_path / XSS_PAYLOADS[2] / "out"
    result = dd.build(raw, out, augment=["adversarial"], drop=[], dedup="none", max_reject_share=1.0)
    assert result.fates["written"] > 0
    planted = {payload for path, payload in find_unescaped(out) if "reports" not in path.parts}
    assert planted == set(XSS_PAYLOADS)  # the build's own files do carry them, so GX could have too
    # A recipe that promised to drop what was kept, so failing expectations have unexpected rows.
    outcome = run_expectations(
        out, {"require_coverage": True}, recipe={"consistency": {"max_reply_chars": 10}}
    )
    failing = {"no empty turns", "role order valid", "unique dialogue ids", "assistant reply length"}
    assert failing <= {e.name for e in outcome.failed}
    assert_no_payloads(out / "reports" / "gx")
    for table in metric_tables(out).values():  # parquet compresses, so check the tables' cells too
        cells = table.select_dtypes(include="object").to_numpy().ravel().tolist()
        assert all(cell is None or re.fullmatch("[a-z0-9_]+", cell) for cell in cells)


def _leak_tables(folder: Path, fmt):
    """Run GX over a column of payloads with a regex expectation that every payload fails."""
    tables = {"texts": pd.DataFrame({"text": [*XSS_PAYLOADS, "plain words"]})}
    spec = ExpectationSpec(
        "plain text", "texts", "ExpectColumnValuesToMatchRegex", {"column": "text", "regex": "^[a-z ]*$"}
    )
    outcome = validate_tables(folder, tables, [spec], result_format=fmt)
    assert not outcome.success and outcome.failed[0].unexpected_count == len(XSS_PAYLOADS)
    return find_unescaped(folder / "docs") + find_unescaped(outcome.results)


def test_gx_scanner_catches_a_result_format_that_leaks_values(tmp_path):
    leaky = build_result_format(exclude_unexpected_values=False, partial_unexpected_count=20)
    leaked = _leak_tables(tmp_path / "leaky", leaky)
    assert {payload for _, payload in leaked} == set(XSS_PAYLOADS)
    assert any(path.suffix == ".html" for path, _ in leaked) and any(
        path.name == "results.json" for path, _ in leaked
    )
    # The same untrusted column under our result format leaves no trace in results or Data Docs.
    assert _leak_tables(tmp_path / "safe", build_result_format()) == []


def test_payloads_find_unescaped_flags_raw_escaped_and_named_payloads(tmp_path):
    folder = tmp_path / "gx"
    (folder / "docs").mkdir(parents=True)
    (folder / "docs" / "raw.html").write_text("<td><img src=x onerror=alert(1)></td>", encoding="utf-8")
    (folder / "docs" / "escaped.html").write_text("&lt;script&gt;alert(1)&lt;/script&gt;", encoding="utf-8")
    (folder / "quoted.json").write_text(json.dumps({"v": XSS_PAYLOADS[2]}), encoding="utf-8")
    (folder / "clean.html").write_text("<td>0.25</td><script src=app.js></script>", encoding="utf-8")
    strict = {(path.name, payload) for path, payload in find_unescaped(folder)}
    assert strict == {
        ("raw.html", XSS_PAYLOADS[1]),
        ("escaped.html", XSS_PAYLOADS[0]),
        ("quoted.json", XSS_PAYLOADS[2]),
    }
    assert {path.name for path, _ in find_unescaped(folder, decode=False)} == {"raw.html", "quoted.json"}
    named = folder / "<img src=x onerror=alert(1)>.txt"
    try:
        named.write_text("", encoding="utf-8")
    except OSError:
        pytest.skip("the filesystem refuses markup in file names")
    assert (named, XSS_PAYLOADS[1]) in find_unescaped(folder)
    with pytest.raises(AssertionError, match="onerror"):
        assert_no_payloads(folder)
