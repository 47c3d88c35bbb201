"""Consistency check for numbers that drift: a reply restating the user's 150/95 as 160/95."""

from __future__ import annotations

import bisect
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
_REFERENCE = re.compile(
    r"超过|高于|低于|大于|小于|不超过|不低于|不到|以上|以下|以内|左右|上下|之间|控制|正常|标准|范围|目标|"
    r"建议|应该|应当|最好|可以|最多|最少|至少|至多|升到|升至|降到|降至|增加|减少|提高|降低|调整|改为|"
    r"变成|达到|上限|下限|如果|若|假如|一旦|超出|"
    r"\b(?:above|below|over|under|exceeds?|more|less|fewer|least|most|normal|target|range|should|"
    r"recommend\w*|increase\w*|decrease\w*|raise\w*|lower\w*|reduce\w*|up to|within|if|unless|"
    r"instead|new|between|than)\b",
    re.IGNORECASE,
)
_AFTER_REFERENCE = re.compile(r"\s?(?:以上|以下|以内|左右|上下|之间|or (?:more|less|above|below))")
_STOP_ZH = re.compile(
    r"(?:是|为|有|约|大约|大概|在|了|到|达|共|一共|总共|只有|还有|都|也|就|仅|已经|已|目前|现在|还|才|值"
    r"|[您你我]的?|的)$"
)
_STOP_EN = re.compile(
    r"\b(?:is|are|was|were|be|been|of|at|about|around|approximately|roughly|to|by|only|now|currently|"
    r"just|still|the|a|an|my|your|our|his|her|their|its|it's|it|that|this|with|for|from|reads|"
    r"reading|measured|showed|shows|you|i|in|on|since|during|after|before|per)$",
    re.IGNORECASE,
)
# A restatement speaks to the user ("您的血压", "your balance"); a bare figure may be general knowledge.
_PERSONAL = re.compile(r"[您你]|\byou(?:r|'ve|'re)?\b", re.IGNORECASE)
_KEY_END = " \t:：=＝~～\"'“”‘’"
_KEY_ZH = re.compile(r"[\u4e00-\u9fff]{1,2}$")
_KEY_EN = re.compile(r"[A-Za-z]{2,}$")


@dataclass(frozen=True)
class _Mention:
    """A number in a turn: its normalised value, unit, the word it describes, and how it was written."""

    value: tuple[str, ...]
    shape: tuple[tuple[int, bool], ...]
    unit: str
    key: str
    text: str
    reference: bool
    personal: bool


def check_number_drift(dialogue: Dialogue) -> Iterator[Issue]:
    """Yield replies that restate a number given earlier in a close but different form."""
    facts: dict[str, list[tuple[int, _Mention]]] = {}
    said: set[tuple[str, ...]] = set()
    for i, turn in enumerate(dialogue.turns):
        mentions = list(_mentions(turn.content))
        if turn.role is Role.ASSISTANT:
            drift = _first_drift(mentions, facts, said)
            if drift:
                yield Issue(code=NUMBER_DRIFT, turn=i, message=drift)
        else:
            for m in mentions:
                facts.setdefault(m.key, []).append((i, m))
        said.update(m.value for m in mentions)


def _first_drift(
    mentions: list[_Mention], facts: dict[str, list[tuple[int, _Mention]]], said: set[tuple[str, ...]]
) -> str | None:
    """Return a message for the first mention that changes a figure given before, or None."""
    here = {(m.key, m.value) for m in mentions}
    for m in mentions:
        # A compound figure (150/95) is specific enough alone; a single number must be said to the user.
        if m.reference or not m.key or m.value in said or (len(m.value) == 1 and not m.personal):
            continue
        # A figure without a unit ("血糖7.8") may be restated with one ("7.8mmol/L") and the reverse.
        known = [(i, f) for i, f in facts.get(m.key, []) if not (f.unit and m.unit) or f.unit == m.unit]
        if any((f.key, f.value) in here for _, f in known):
            continue
        close = next(((i, f) for i, f in known if _close(f, m)), None)
        if close:
            return f"the reply says {m.text!r} for {m.key!r} where turn {close[0]} said {close[1].text!r}"
    return None


def _mentions(text: str) -> Iterator[_Mention]:
    """Yield the numbers of `text` with their unit and the word they describe."""
    text = strip_urls(strip_code(text))
    bounds = [0, *(m.end() for m in _CLAUSE.finditer(text))]
    for match in _MENTION.finditer(text):
        num, den = match["num"], match["den"]
        written = (match["unit"] or "").lower()
        unit = _CURRENCIES[match["cur"].strip()] if match["cur"] else _UNITS.get(written, "")
        if unit == "year" and len(num) == 4:
            continue  # "2023年" is a date
        start = bounds[bisect.bisect_right(bounds, match.start()) - 1]
        clause = text[max(start, match.start() - _CONTEXT) : match.start()]
        after = text[match.end() : match.end() + 8]
        reference = bool(_REFERENCE.search(clause) or _AFTER_REFERENCE.match(after))
        personal = bool(_PERSONAL.search(clause))
        parts = [n.replace(",", "") for n in (num, den) if n]
        yield _Mention(
            value=tuple(_normal(n) for n in parts),
            shape=tuple(_shape(n) for n in parts),
            unit=unit,
            key=_key(clause),
            text=match.group().strip(),
            reference=reference,
            personal=personal,
        )


def _key(clause: str) -> str:
    """Return the word a number describes: the last content word before it in its clause."""
    rest = clause.rstrip(_KEY_END)
    while True:
        stripped = _STOP_EN.sub("", _STOP_ZH.sub("", rest)).rstrip(_KEY_END)
        if stripped == rest:
            break
        rest = stripped
    zh = _KEY_ZH.search(rest)
    if zh:
        return zh.group()
    en = _KEY_EN.search(rest)
    return en.group().lower().removesuffix("s") if en else ""


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
