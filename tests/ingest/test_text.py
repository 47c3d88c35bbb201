import json
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

import dialogdata as dd
from dialogdata.ingest import Reader
from dialogdata.ingest.text import TextPolicyError, _run_patterns, normalize_text


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


CGJ = "\u034f"


def _uax15(text):
    """The Stream-Safe Text Process of UAX #15 (section 13), step by step over the whole text."""
    out, count = [], 0
    for char in text:
        classes = [unicodedata.combining(c) for c in unicodedata.normalize("NFKD", char)]
        leading = next((i for i, c in enumerate(classes) if not c), len(classes))
        if count + leading > 30:
            out.append(CGJ)
            count = 0
        out.append(char)
        trailing = next((i for i, c in enumerate(reversed(classes)) if not c), len(classes))
        count = count + len(classes) if all(classes) else trailing
    return "".join(out)


@pytest.mark.parametrize(
    ("text", "expected", "flags"),
    [
        ("a" + "\u0301" * 30, "\u00e1" + "\u0301" * 29, {"nfc"}),
        ("a" + "\u0301" * 31, "\u00e1" + "\u0301" * 29 + CGJ + "\u0301", {"nfc", "stream_safe"}),
        ("x" + "\u0316" * 61, "x" + ("\u0316" * 30 + CGJ) * 2 + "\u0316", {"stream_safe"}),
        # U+01D6 decomposes to u and two marks: they count towards the 30.
        ("\u01d6" + "\u0301" * 29, "\u01d6" + "\u0301" * 28 + CGJ + "\u0301", {"stream_safe"}),
        # U+0344 is two non-starters (NFKD), and U+FF9E one (its NFKD is U+3099).
        (
            "x" + "\u0344" * 16,
            "\u1e8d\u0301" + "\u0308\u0301" * 14 + CGJ + "\u0308\u0301",
            {"nfc", "stream_safe"},
        ),
        ("x" + "\uff9e" * 31, "x" + "\uff9e" * 30 + CGJ + "\uff9e", {"stream_safe"}),
        # Out of canonical order: NFC sorts each run between the CGJs (U+0316 before U+0301) and composes é.
        (
            "e" + "\u0301\u0316" * 16,
            "\u00e9" + "\u0316" * 15 + "\u0301" * 14 + CGJ + "\u0316\u0301",
            {"nfc", "stream_safe"},
        ),
    ],
)
def test_text_policy_makes_long_runs_of_marks_stream_safe(text, expected, flags):
    applied: set[str] = set()
    out = normalize_text(text, applied)
    assert (out, applied) == (expected, flags)
    assert normalize_text(out, set()) == out


MARKS = [
    "a",
    "\u01d6",
    "\u0301",
    "\u0316",
    "\u0344",
    "\u0f73",
    "\uff9e",
    CGJ,
    "\U0001d15e",
    "\U0001e000",
    "😀",
]
MARKY = st.lists(st.tuples(st.sampled_from(MARKS), st.integers(1, 40)), max_size=12).map(
    lambda runs: "".join(char * n for char, n in runs)
)
"""Texts made of runs of starters, marks, characters that decompose into marks, and CGJ."""


@given(MARKY)
def test_stream_safe_matches_the_uax15_process(text):
    applied: set[str] = set()
    out = normalize_text(text, applied)
    assert out == unicodedata.normalize("NFC", _uax15(text)).strip()
    assert ("stream_safe" in applied) == (_uax15(text) != text)


@given(st.text(max_size=200))
def test_stream_safe_leaves_ordinary_text_as_nfc_made_it(text):
    """Without a run of more than 30 non-starters, the policy gives exactly the NFC of the text."""
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text) or _uax15(text) != text:
        return
    applied: set[str] = set()
    out = normalize_text(text, applied)
    assert "stream_safe" not in applied
    assert (
        out
        == unicodedata.normalize(
            "NFC", text.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "")
        ).strip()
    )


def test_stream_safe_patterns_cover_every_non_starter():
    """The gate scans planes 0, 1 and 14 only; check that no other plane holds a non-starter."""
    pairs, runs, stride = _run_patterns()
    for code in (*range(0x20000, 0xE0000), *range(0xE1000, 0x110000)):
        char = chr(code)
        if unicodedata.combining(char) or unicodedata.decomposition(char):
            assert not unicodedata.combining(unicodedata.normalize("NFKD", char)[0]), hex(code)
    assert stride * 2 <= 14 and pairs.fullmatch("\u0301\u0316")
    assert runs.fullmatch("\u0301" * 14) and runs.fullmatch("\U0001d165" * 14)
