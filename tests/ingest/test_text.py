import json
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

import dialogdata as dd
from dialogdata.ingest import Reader
from dialogdata.ingest.text import TextPolicyError, normalize_text


@pytest.mark.parametrize(
    ("text", "expected", "flags"),
    [
        ("plain", "plain", set()),
        ("  padded \n", "padded", {"trim"}),
        ("a\r\nb\rc", "a\nb\nc", {"newlines"}),
        ("Cafe\u0301", "Caf\u00e9", {"nfc"}),
        ("全角，标点！", "全角，标点！", set()),
        ("ﬁ ligature", "ﬁ ligature", set()),
        ("a\x00b", "ab", {"nul_removed"}),
        ("bell\x07", "bell\x07", {"control_chars"}),
        ("abc\u202edef", "abc\u202edef", {"bidi_controls"}),
        ("zero\u200bwidth", "zero\u200bwidth", {"zero_width"}),
        ("👩\u200d💻", "👩\u200d💻", set()),
    ],
)
def test_text_policy_table(text, expected, flags):
    applied: set[str] = set()
    assert normalize_text(text, applied) == expected
    assert applied == flags


def test_text_policy_rejects_lone_surrogates():
    with pytest.raises(TextPolicyError, match="U\\+D800"):
        normalize_text("bad\ud800", set())


@given(st.text())
def test_text_policy_is_idempotent_and_safe(text):
    try:
        once = normalize_text(text, set())
    except TextPolicyError:
        assert any(0xD800 <= ord(c) <= 0xDFFF for c in text)
        return
    assert normalize_text(once, set()) == once
    assert unicodedata.is_normalized("NFC", once)
    assert "\x00" not in once and "\r" not in once
    once.encode("utf-8")


def test_text_policy_in_records_and_counts(tmp_path):
    lines = [
        '{"messages": [{"role": "user", "content": "a\\u0000b"}, {"role": "assistant", "content": "ok"}]}',
        '{"messages": [{"role": "user", "content": "x\\ud800"}, {"role": "assistant", "content": "ok"}]}',
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": "pay \u202e0001"},
                    {"role": "assistant", "content": "ok"},
                ]
            }
        ),
    ]
    (tmp_path / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    reader = Reader([tmp_path])
    dialogues = list(reader)
    assert [d.source.normalizations for d in dialogues] == [("nul_removed",), ("bidi_controls",)]
    assert [(r.code, r.line) for r in reader.rejects] == [("text.surrogate", 2)]
    result = dd.build(tmp_path, tmp_path / "out")
    metrics = json.loads((tmp_path / "out" / "reports" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["normalizations"] == {"bidi_controls": 1, "nul_removed": 1}
    assert result.fates["rejected"] == 1
