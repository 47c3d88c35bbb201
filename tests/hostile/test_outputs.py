"""Security of outputs: hostile names and texts never become markup, paths or formulas in OUT."""

from __future__ import annotations

import orjson

from tests.hostile.harness import assert_neighbours_survive, good_record, run_case, with_neighbours

PAYLOAD = '<img src=x onerror="alert(1)">'
SCRIPT = "<script>alert(2)</script>"
# What OUT may hold, whatever the inputs are called: fixed names, and GX's own generated paths.
FIXED = {
    "train.jsonl", "validation.jsonl", "test.jsonl", "dataset_info.json", "dialogues.parquet",
    "rejects.jsonl", "filtered.jsonl", "issues.jsonl", "losses.jsonl", "manifest.json", "_SUCCESS",
}  # fmt: skip


def _hostile_raw(tmp_path):
    """Files whose names and texts carry markup, formulas, control characters and traversal-looking parts."""
    raw = tmp_path / "raw"
    tags = with_neighbours(raw)
    record = good_record("evil", 0)
    record["conversations"][0]["value"] += f' {PAYLOAD} {SCRIPT} =HYPERLINK("http://x") \u202e'
    names = [f"{PAYLOAD}.jsonl", "..evil..jsonl", "=cmd|' -C calc'!A0.jsonl", "-rf --overwrite.jsonl"]
    for name in names:
        (raw / name).write_bytes(orjson.dumps(record) + b"\n{broken " + SCRIPT.encode() + b"\n")
    return raw, tags, names


def test_hostile_names_and_texts_stay_data(tmp_path):
    raw, tags, names = _hostile_raw(tmp_path)
    outcome = run_case(raw, tmp_path / "out")
    assert_neighbours_survive(outcome, tags)
    out = tmp_path / "out"
    # No output path comes from an input name.
    for path in out.rglob("*"):
        relative = path.relative_to(out)
        if relative.parts[0] != "reports":
            assert str(relative) in FIXED, relative
        assert "evil" not in path.name and "onerror" not in path.name and "calc" not in path.name
    # Every input is accounted for under its own name, and its bad line is a reject with a bounded excerpt.
    read = [name for name in names if not name.startswith(".")]
    assert {i["path"] for i in outcome.manifest["inputs"]} >= set(read)
    assert all(outcome.reject_codes(name) == {"json.invalid": 1} for name in read)
    # A name starting with a dot is a hidden file: skipped, and said so.
    assert "..evil..jsonl" in outcome.skipped()
    # No HTML output holds the payloads as markup.
    for page in out.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert PAYLOAD not in html and SCRIPT not in html, page
        # Escaped, the attribute's quote becomes an entity; raw, it would run.
        assert 'onerror="' not in html and "<script>alert" not in html, page


def test_the_dialogue_text_is_written_as_given(tmp_path):
    raw, _, _ = _hostile_raw(tmp_path)
    run_case(raw, tmp_path / "out")
    out = tmp_path / "out"
    lines = (out / "train.jsonl").read_bytes() + (out / "validation.jsonl").read_bytes()
    # The training data keeps the user's text (it is data, not markup): only reports escape it.
    assert PAYLOAD.encode() in lines or orjson.dumps(PAYLOAD)[1:-1] in lines
