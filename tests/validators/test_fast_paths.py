"""The validators' fast paths agree with the plain code they stand in for, on any text.

Each `_reference_*` function below is the straightforward version the fast path replaced (one regex
pass per script, a callback per token, a case-blind search over the whole text...); the properties
compare both on random text drawn from the characters the shortcuts branch on.
"""

import re
import unicodedata
from collections import Counter

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dialogdata.gazetteers import Gazetteer, load_gazetteer
from dialogdata.validators import _text, consistency_language, consistency_numbers, coverage

# ASCII letters, digits and the punctuation the patterns look at, next to CJK, kana, Greek, Cyrillic,
# full-width forms, combining marks and the letters that match ASCII ones only when case is ignored.
_PIECES = (
    "a", "b", "e", "i", "k", "l", "n", "o", "s", "t", "u", "y", "A", "B", "I", "K", "O", "S", "T", "Y",
    "0", "1", "2", "5", "9", "_", ".", ",", "/", "\\", "(", ")", "()", " ", "  ", "\n", "\t", "'", '"',
    "-", ":", "=", "$", "%", "@", "#", "`", "```", "~~~", "{", "}", "[", "]", "<", ">", "?", "!", ";",
    "mg", "ml", "mmHg", "OK", "Ok", "ok", "ABC", "ABCs", "iPhone", "np.mean", "f()", "x1", "1,250.00",
    "150/95", "2023", "you", "your", "You've", "is", "the", "of", "about", "approximately", "it's",
    "above", "than", "recommend", "English", "language", "translat", "Chinese", "how come", "why",
    "what", "or", "please", "https://", "www.", "a@b.co", "中", "文", "血压", "您的", "你", "是", "的",
    "大约", "已经", "超过", "建议", "以上", "翻译", "英文", "吗", "还是", "为什么", "怎么", "什么", "不",
    "请", "元", "岁", "第", "年", "，", "。", "？", "！", "：", "（", "）", "“", "”", "《", "》", "「",
    "」", "\u3000", "Ａ", "ｂ", "１", "＄", "ｶ", "か", "カ", "한", "Ω", "ж", "ש", "ع", "क", "ก", "é",
    "e\u0301", "\u0301", "ſ", "K", "İ", "ı", "ß", "Σ", "ﬁ", "½", "™", "①", "٣", "𠀀", "🙂",
)  # fmt: skip
texts = st.lists(st.sampled_from(_PIECES), max_size=30).map("".join) | st.text(max_size=30)


def _reference_words(text: str) -> str:
    """Blank identifiers, numbers, acronyms and units token by token, as `_prose` used to."""
    token = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z0-9_]+(?:[./\\][A-Za-z0-9_]+)*(?:\(\))?", re.ASCII)
    not_a_word = re.compile(
        r".*[0-9_./\\(]|[a-z]+[A-Z]|[A-Z]{2,5}s?$|(?:mg|ml|kg|km|cm|mm|mmHg|mmol|ok|OK|Ok)$"
    )
    return token.sub(lambda m: " " if not_a_word.match(m.group()) else m.group(), text)


def _reference_script_counts(text: str) -> Counter[str]:
    """Count each script with its own pattern, one character at a time for the spaceless ones."""
    counts: Counter[str] = Counter()
    for script in dict.fromkeys(script for _, _, script in _text._RANGES):
        plus = "" if script in _text._CHARACTER_SCRIPTS else "+"
        n = len(re.findall(f"[{_text._class({script})}]{plus}", text))
        if n:
            counts[script] = n
    n = len(re.findall(f"[^\\W\\d_{_text._class()}]+", text))
    if n:
        counts["other"] = n
    return counts


def _reference_key(clause: str) -> str:
    """Strip stop words off the end with `sub` until nothing changes, as `_key` used to."""
    n = consistency_numbers
    rest = clause.rstrip(n._KEY_END)
    while True:
        stripped = n._STOP_EN.sub("", n._STOP_ZH.sub("", rest)).rstrip(n._KEY_END)
        if stripped == rest:
            break
        rest = stripped
    zh = n._KEY_ZH.search(rest)
    if zh:
        return zh.group()
    en = n._KEY_EN.search(rest)
    return en.group().lower().removesuffix("s") if en else ""


def _reference_language(text: str) -> str:
    """Classify by counting single Han and kana characters over the whole text."""
    han = len(re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]", text))
    kana = len(re.findall(r"[\u3040-\u30ff\u31f0-\u31ff]", text))
    latin = len(coverage._LATIN_WORD.findall(text))
    other = len(coverage._OTHER_WORD.findall(text))
    if kana and kana >= 0.1 * (han + kana):
        han, other = 0, other + han
    total = han + latin + other
    if not total:
        return "other"
    return next(
        (name for name, units in (("zh", han), ("en", latin), ("other", other)) if units >= 0.75 * total),
        "mixed",
    )


def _reference_sentence_type(sentence: str) -> str | None:
    """Classify a sentence trying the Chinese cue words whatever the script."""
    asked = sentence.endswith(("?", "？")) or sentence.rstrip("?？").endswith(("吗", "呢"))
    if asked and (
        ("还是" in sentence and not sentence.rstrip("?？").endswith("吗")) or coverage._EN_OR.search(sentence)
    ):
        return "choice"
    for kind in ("why", "how", "what"):
        if coverage._ZH[kind].search(sentence) or coverage._EN[kind].search(sentence):
            return kind
        if asked and coverage._EN_ANYWHERE[kind].search(sentence):
            return kind
    if coverage._ZH["request"].search(sentence) or coverage._EN["request"].search(sentence):
        return "request"
    if asked or coverage._ZH["yes_no"].search(sentence) or coverage._EN["yes_no"].search(sentence):
        return "yes_no"
    return None


@given(texts)
@example("iPhone x1 f() np.mean ABCs ABCDEFs mmHg mmHgx OK okay a.b. ()")
def test_fast_paths_non_word_tokens_blanked_in_one_pass(text):
    assert consistency_language._NOT_A_WORD.sub(" ", text) == _reference_words(text)


@given(texts)
def test_fast_paths_names_found_from_the_capital(text):
    assert consistency_language._NAME.sub(" ", text) == re.sub(
        r"(?<![A-Za-z])[A-Z][a-z]*(?![A-Za-z])", " ", text
    )


@given(texts)
@example("Γειά ж 中文 カナ 한 ก ｶ 𠀀 abc")
@example("Ωμέγα and 中文")
def test_fast_paths_script_counts_match_one_pattern_per_script(text):
    assert list(_text.script_counts(text).items()) == list(_reference_script_counts(text).items())


@given(texts)
@example("Ｈｅｌｌｏ，ｗｏｒｌｄ！\u3000ﬁ e\u0301")
def test_fast_paths_comparable_and_size_match_nfkc_and_regexes(text):
    folded = re.sub(r"[\W_]+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()
    assert _text.comparable(text) == folded
    assert _text.size(text) == len(re.sub(r"[\W_]+", "", text)) + len(_text._CJK.findall(text))


def test_fast_paths_full_width_forms_narrow_to_their_nfkd():
    for char, narrow in _text._NARROW.items():
        assert narrow == unicodedata.normalize("NFKD", char) and narrow.isascii()


@given(texts)
@example("see www.example.org now")
@example("ftp://f.net or a.b@c.com; `x` ```\ncode\n```")
def test_fast_paths_skipped_patterns_would_find_nothing(text):
    assert _text.strip_code(text) == _text._INLINE_CODE.sub(" ", _text._FENCED_BLOCK.sub(" ", text))
    assert _text.strip_urls(text) == _text._URL.sub(" ", text)
    assert _text.n_fences(text) == len(_text.FENCE.findall(text))
    assert _text.has_cjk(text) == (_text._CJK.search(text) is not None)


@given(texts)
def test_fast_paths_lowered_searches_match_case_blind_ones(text):
    n = consistency_numbers
    assert consistency_language._names_language(text) == bool(
        consistency_language._NAMES_LANGUAGE.search(text)
    )
    assert n._is_reference(text) == bool(n._REFERENCE.search(text))
    if text.isascii():
        assert bool(n._PERSONAL_LOWERED.search(text.lower())) == bool(n._PERSONAL.search(text))


@given(texts)
@example("血压是 大约 about approximately\n")
def test_fast_paths_stop_words_dropped_from_the_end_only(text):
    n = consistency_numbers
    for pattern, longest in ((n._STOP_ZH, n._STOP_ZH_LONGEST), (n._STOP_EN, n._STOP_EN_LONGEST)):
        assert n._drop_end(pattern, text, longest) == pattern.sub("", text)
    assert n._key(text[-40:]) == _reference_key(text[-40:])


@given(texts)
@example("ID 71479480, 163/81 on 2023-05-17 at 10:30; $119,100 第3 x2 ¥ 5")
@example("K5 ſ3 İ2 ı1 k9")  # letters that match [A-Za-z] only when case is ignored
def test_fast_paths_mentions_tried_only_where_one_can_start(text):
    found = [m.span() for m in consistency_numbers._iter_mentions(text)]
    assert found == [m.span() for m in consistency_numbers._MENTION.finditer(text)]


@given(texts)
@example("Is it 中文 or English? カナ")
def test_fast_paths_coverage_language_and_question_type(text):
    assert coverage.language(text) == _reference_language(text)
    assert coverage._sentence_type(text.lower().strip()) == _reference_sentence_type(text.lower().strip())


@pytest.fixture(scope="module")
def gazetteers():
    custom = Gazetteer({"X": ["ab", "a b", "b", "ab_c", "中文", "é", "1型", "K"]}, name="x")
    return [load_gazetteer("default"), custom]


@settings(deadline=None)
@given(texts)
@example("my credit card, cardiology CT ENT and ab_c a b")
def test_fast_paths_ascii_text_searched_with_ascii_terms_only(gazetteers, text):
    # A trailing ideographic space (in no term, and no word character) makes the text non-ASCII, so
    # `find` then uses the automaton of every term; the spans must be the same.
    for gazetteer in gazetteers:
        assert gazetteer.find(text) == gazetteer.find(text + "\u3000")
