"""Consistency check for numbers that drift: a reply restating the user's 150/95 as 160/95."""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from dialogdata.schemas import Dialogue, Role
from dialogdata.validators._text import strip_code, strip_urls
from dialogdata.validators.issues import Issue

NUMBER_DRIFT = "consistency.number_drift"

_CURRENCIES = {"$": "usd", "¥": "cny", "￥": "cny", "€": "eur", "£": "gbp"}
_UNITS = {
    "%": "%", "％": "%", "percent": "%",
    "元": "cny", "块钱": "cny", "块": "cny", "rmb": "cny", "yuan": "cny", "人民币": "cny",
    "万元": "10k cny", "万": "10k", "亿": "100m", "美元": "usd", "dollars": "usd", "usd": "usd",
    "mmhg": "mmhg", "毫米汞柱": "mmhg", "mmol/l": "mmol/l", "mmol": "mmol/l",
    "mg": "mg", "毫克": "mg", "kg": "kg", "公斤": "kg", "斤": "jin", "ml": "ml", "毫升": "ml", "g": "g",
    "克": "g", "℃": "°c", "°c": "°c", "度": "degree", "cm": "cm", "厘米": "cm", "mm": "mm", "毫米": "mm",
    "岁": "age", "years old": "age", "次/分": "bpm", "bpm": "bpm", "次": "times", "times": "times",
    "天": "day", "days": "day", "day": "day", "周": "week", "weeks": "week", "个月": "month",
    "months": "month", "年": "year", "years": "year", "小时": "hour", "hours": "hour", "分钟": "minute",
    "minutes": "minute", "片": "tablet", "粒": "tablet", "tablets": "tablet", "pills": "tablet",
}  # fmt: skip
_UNIT_PATTERN = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
_MENTION = re.compile(
    r"(?<![A-Za-z0-9.,/:_\-第])(?P<cur>[$¥￥€£]\s?)?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?:\s?/\s?(?P<den>\d+(?:\.\d+)?))?"
    # Not a date, a time, a range or part of a longer code.
    r"(?![\d,.]?\d)(?![:\-/]\d)(?!\s?(?:月|日|号|点|时))"
    rf"(?:\s?(?P<unit>{_UNIT_PATTERN}))?(?![A-Za-z])",
    re.IGNORECASE,
)
# The words before a number, within its clause, that are read for its key, reference words and person.
_CONTEXT = 40
_CLAUSE = re.compile(r"[，。；！？,;!?\n、]|\.\s")
# A number near these words is a reference, a target or a change, not a restatement of the user's figure.
_REFERENCE_ZH = (
    r"超过|高于|低于|大于|小于|不超过|不低于|不到|以上|以下|以内|左右|上下|之间|控制|正常|标准|范围|目标|"
    r"建议|应该|应当|最好|可以|最多|最少|至少|至多|升到|升至|降到|降至|增加|减少|提高|降低|调整|改为|"
    r"变成|达到|上限|下限|如果|若|假如|一旦|超出"
)
_REFERENCE_EN = (
    r"\b(?:above|below|over|under|exceeds?|more|less|fewer|least|most|normal|target|range|should|"
    r"recommend\w*|increase\w*|decrease\w*|raise\w*|lower\w*|reduce\w*|up to|within|if|unless|"
    r"instead|new|between|than)\b"
)
_REFERENCE = re.compile(f"{_REFERENCE_ZH}|{_REFERENCE_EN}", re.IGNORECASE)
# ASCII text can only hold the English words, and lowering it is then the same as ignoring case.
_REFERENCE_LOWERED = re.compile(_REFERENCE_EN)
_AFTER_REFERENCE = re.compile(r"\s?(?:以上|以下|以内|左右|上下|之间|or (?:more|less|above|below))")
_STOP_ZH_WORDS = (
    "是", "为", "有", "约", "大约", "大概", "在", "了", "到", "达", "共", "一共", "总共", "只有",
    "还有", "都", "也", "就", "仅", "已经", "已", "目前", "现在", "还", "才", "值", "[您你我]的?", "的",
)  # fmt: skip
_STOP_ZH = re.compile(f"(?:{'|'.join(_STOP_ZH_WORDS)})$")
_STOP_EN_WORDS = (
    "is", "are", "was", "were", "be", "been", "of", "at", "about", "around", "approximately", "roughly",
    "to", "by", "only", "now", "currently", "just", "still", "the", "a", "an", "my", "your", "our", "his",
    "her", "their", "its", "it's", "it", "that", "this", "with", "for", "from", "reads", "reading",
    "measured", "showed", "shows", "you", "i", "in", "on", "since", "during", "after", "before", "per",
)  # fmt: skip
_STOP_EN = re.compile(rf"\b(?:{'|'.join(_STOP_EN_WORDS)})$", re.IGNORECASE)
_STOP_EN_LOWERED = re.compile(_STOP_EN.pattern)
# A stop word ends the clause, so a match starts at most the length of the longest word (plus a final
# newline) from the end; no word's pattern is shorter than what it matches.
_STOP_ZH_LONGEST = max(map(len, _STOP_ZH_WORDS))
_STOP_EN_LONGEST = max(map(len, _STOP_EN_WORDS))
# A restatement speaks to the user ("您的血压", "your balance"); a bare figure may be general knowledge.
_PERSONAL = re.compile(r"[您你]|\byou(?:r|'ve|'re)?\b", re.IGNORECASE)
_PERSONAL_LOWERED = re.compile(r"\byou(?:r|'ve|'re)?\b")
_KEY_END = " \t:：=＝~～\"'“”‘’"
_KEY_ZH = re.compile(r"[\u4e00-\u9fff]{1,2}$")
_KEY_EN = re.compile(r"[A-Za-z]{2,}$")
_DIGIT = re.compile(r"\d")
# Where a mention can start: a currency sign or a digit that the lookbehind of `_MENTION` lets begin one
# (`_MENTION` still decides). The sign or digit comes first, so the search skips from candidate to
# candidate instead of trying the whole pattern at every position.
_MENTION_START = re.compile(r"[$¥￥€£\d](?<![A-Za-z0-9.,/:_\-第].)", re.IGNORECASE)


class _Text:
    """A turn's text without code or URLs, and where its clauses end (found when first needed)."""

    def __init__(self, text: str) -> None:
        self.text = text

    @functools.cached_property
    def _bounds(self) -> list[int]:
        return [0, *[m.end() for m in _CLAUSE.finditer(self.text)]]

    def clause(self, at: int) -> str:
        """Return the words before position `at` in its clause, at most `_CONTEXT` characters."""
        start = max(self._bounds[bisect.bisect_right(self._bounds, at) - 1], at - _CONTEXT)
        return self.text[start:at]


@dataclass(frozen=True)
class _Mention:
    """A number in a turn: its normalised value, unit, the word it describes, and how it was written.

    Only the value is read at once. The rest (the word, from the clause before the number, above all)
    is read when first asked for: the drift check rules out most numbers by their value alone.
    """

    value: tuple[str, ...]
    match: re.Match[str]
    source: _Text

    @functools.cached_property
    def unit(self) -> str:
        """The normalised unit or currency, or "" for a bare number."""
        return _unit(self.match)

    @functools.cached_property
    def shape(self) -> tuple[tuple[int, bool], ...]:
        """How each part was written: digits before the point, and whether there are any after."""
        return tuple(_shape(n) for n in _parts(self.match))

    @functools.cached_property
    def text(self) -> str:
        """The mention as written."""
        return self.match.group().strip()

    @functools.cached_property
    def _clause(self) -> str:
        return self.source.clause(self.match.start())

    @functools.cached_property
    def key(self) -> str:
        """The word the number describes."""
        return _key(self._clause)

    @functools.cached_property
    def reference(self) -> bool:
        """Whether the number is a reference, a target or a change rather than a restatement."""
        end = self.match.end()
        after = self.source.text[end : end + 8]
        return _is_reference(self._clause) or _AFTER_REFERENCE.match(after) is not None

    @functools.cached_property
    def personal(self) -> bool:
        """Whether the clause speaks to the user ("your balance")."""
        clause = self._clause
        if clause.isascii():
            return _PERSONAL_LOWERED.search(clause.lower()) is not None
        return _PERSONAL.search(clause) is not None


def check_number_drift(dialogue: Dialogue) -> Iterator[Issue]:
    """Yield replies that restate a number given earlier in a close but different form."""
    facts: list[tuple[int, _Mention]] = []
    said: set[tuple[str, ...]] = set()
    for i, turn in enumerate(dialogue.turns):
        mentions = list(_mentions(turn.content))
        if turn.role is Role.ASSISTANT:
            drift = _first_drift(mentions, facts, said)
            if drift:
                yield Issue(code=NUMBER_DRIFT, turn=i, message=drift)
        else:
            facts.extend((i, m) for m in mentions)
        said.update(m.value for m in mentions)


def _first_drift(
    mentions: list[_Mention], facts: list[tuple[int, _Mention]], said: set[tuple[str, ...]]
) -> str | None:
    """Return a message for the first mention that changes a figure given before, or None."""
    here: set[tuple[str, tuple[str, ...]]] | None = None
    for m in mentions:
        # A compound figure (150/95) is specific enough alone; a single number must be said to the user.
        # The cheap tests come first; the clause is read only for the numbers that pass them.
        if m.value in said or (len(m.value) == 1 and not m.personal) or m.reference or not m.key:
            continue
        # A figure without a unit ("血糖7.8") may be restated with one ("7.8mmol/L") and the reverse.
        known = [(i, f) for i, f in facts if f.key == m.key and (not (f.unit and m.unit) or f.unit == m.unit)]
        if here is None:
            here = {(x.key, x.value) for x in mentions}
        if any((f.key, f.value) in here for _, f in known):
            continue
        close = next(((i, f) for i, f in known if _close(f, m)), None)
        if close:
            return f"the reply says {m.text!r} for {m.key!r} where turn {close[0]} said {close[1].text!r}"
    return None


def _mentions(text: str) -> Iterator[_Mention]:
    """Yield the numbers of `text` with their unit and the word they describe."""
    text = strip_urls(strip_code(text))
    # Every mention holds a digit (`num`), so a text without one has none.
    if _DIGIT.search(text) is None:
        return
    source = _Text(text)
    for match in _iter_mentions(text):
        if len(match["num"]) == 4 and _unit(match) == "year":
            continue  # "2023年" is a date
        yield _Mention(value=tuple(_normal(n) for n in _parts(match)), match=match, source=source)


def _unit(match: re.Match[str]) -> str:
    """Return the normalised currency or unit of a mention, or ""."""
    currency, written = match.group("cur", "unit")
    if currency:
        return _CURRENCIES[currency.strip()]
    return _UNITS.get(written.lower(), "") if written else ""


def _parts(match: re.Match[str]) -> tuple[str, ...]:
    """Return the number of a mention, and its denominator if any, without thousands separators."""
    num, den = match.group("num", "den")
    return (num.replace(",", ""),) if den is None else (num.replace(",", ""), den.replace(",", ""))


def _is_reference(clause: str) -> bool:
    """Return whether a clause holds a word that makes the number after it a reference or a target."""
    if clause.isascii():
        return _REFERENCE_LOWERED.search(clause.lower()) is not None
    return _REFERENCE.search(clause) is not None


def _iter_mentions(text: str) -> Iterator[re.Match[str]]:
    """Yield the matches of `_MENTION` in `text`, as `finditer` would, trying only where one can start."""
    position = 0
    while candidate := _MENTION_START.search(text, position):
        match = _MENTION.match(text, candidate.start())
        if match:
            yield match
            position = match.end()
        else:
            position = candidate.start() + 1


def _key(clause: str) -> str:
    """Return the word a number describes: the last content word before it in its clause."""
    if clause.isascii():
        return _key_ascii(clause.lower())
    rest = clause.rstrip(_KEY_END)
    while True:
        stripped = _drop_end(_STOP_EN, _drop_end(_STOP_ZH, rest, _STOP_ZH_LONGEST), _STOP_EN_LONGEST)
        stripped = stripped.rstrip(_KEY_END)
        if stripped == rest:
            break
        rest = stripped
    zh = _KEY_ZH.search(rest)
    if zh:
        return zh.group()
    en = _KEY_EN.search(rest)
    return en.group().lower().removesuffix("s") if en else ""


def _key_ascii(lowered: str) -> str:
    """Return `_key` of an ASCII clause, given lowered: no Chinese can match, and case no longer counts."""
    rest = lowered.rstrip(_KEY_END)
    while True:
        stripped = _drop_end(_STOP_EN_LOWERED, rest, _STOP_EN_LONGEST).rstrip(_KEY_END)
        if stripped == rest:
            break
        rest = stripped
    en = _KEY_EN.search(rest)
    return en.group().removesuffix("s") if en else ""


def _drop_end(pattern: re.Pattern[str], text: str, longest: int) -> str:
    """Return `pattern.sub("", text)` for a pattern of at most `longest` characters anchored at the end."""
    # A match ends at the end or before a final newline, so none starts earlier than this; searching
    # from there (the look back still sees the whole text) finds the one match `sub` would remove.
    match = pattern.search(text, max(0, len(text) - longest - 1))
    return text[: match.start()] + text[match.end() :] if match else text


def _normal(number: str) -> str:
    """Return a number without trailing decimal zeros, so 1250.00 and 1250 are one value."""
    return number.rstrip("0").rstrip(".") if "." in number else number


def _shape(number: str) -> tuple[int, bool]:
    """Return the digits before the decimal point and whether there are any after, as written."""
    whole, _, fraction = number.partition(".")
    return len(whole), bool(fraction)


def _close(given: _Mention, said: _Mention) -> bool:
    """Return whether two figures differ in a close form: 150/95 and 160/95 (a shared part), 38.5 and 39.5
    (one shape); not 7 and 7.8, nor 57.6 and 57, which is a rounding."""
    if len(given.value) != len(said.value) or given.value == said.value:
        return False
    if len(given.value) > 1:
        return any(a == b for a, b in zip(given.value, said.value, strict=True))
    return given.shape == said.shape
