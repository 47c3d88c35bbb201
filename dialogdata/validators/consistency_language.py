"""Consistency check for replies in another language than the question, told apart by script."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterator

from dialogdata.schemas import Dialogue, Role
from dialogdata.validators._text import has_cjk, script_counts, strip_code, strip_urls
from dialogdata.validators.issues import Issue

LANGUAGE_MISMATCH = "consistency.language_mismatch"

# The question must be clearly in one script (at least this share of its words) and the reply hardly use
# it (at most the low share), so mixed text such as "你的 credit card 额度" never trips the check.
_CLEAR_SHARE = 0.6
_LOW_SHARE = 0.2
_MIN_WORDS = 2
# A translation task makes a reply in another script legitimate, as does a user turn naming a language.
_TRANSLATION = re.compile(r"翻译|译成|译为|translat", re.IGNORECASE)
_LANGUAGE_WORDS = (
    "english", "chinese", "mandarin", "cantonese", "japanese", "korean", "french", "german", "spanish",
    "russian", "pinyin", "language",
)  # fmt: skip
_NAMES_LANGUAGE = re.compile(
    r"翻译|译成|译为|[中英日韩法德俄外]文|外语|[英汉日韩法德俄粤]语|西班牙语|普通话|拼音|"
    rf"translat|\b(?:{'|'.join(_LANGUAGE_WORDS)})\b",
    re.IGNORECASE,
)
# In ASCII text only the English names can match, and case-blind matching is matching the lowered text.
_NAMES_LANGUAGE_LOWERED = re.compile(rf"translat|\b(?:{'|'.join(_LANGUAGE_WORDS)})\b")
# A system prompt naming one language ("请用中文回答", "Answer in English") sets the script of every reply.
_SYSTEM_LANGUAGES = (
    (re.compile(r"中文|汉语|普通话|\b(?:chinese|mandarin)\b", re.IGNORECASE), "han"),
    (
        re.compile(r"英文|英语|\b(?:english|french|german|spanish)\b|[法德]语|西班牙语", re.IGNORECASE),
        "latin",
    ),
    (re.compile(r"日语|日文|\bjapanese\b", re.IGNORECASE), "kana"),
    (re.compile(r"韩语|韩文|\bkorean\b", re.IGNORECASE), "hangul"),
    (re.compile(r"俄语|俄文|\brussian\b", re.IGNORECASE), "cyrillic"),
)
# Tokens that are no evidence of the language spoken: identifiers, numbers with units, acronyms, units.
# A token is a run of `[A-Za-z0-9_]` with `.`, `/` or `\` joining more such runs and an optional `()`;
# the lookahead keeps the tokens with a digit, `_`, a joint or `()`, and the all-letter ones that are
# camelCase, 2-5 capitals (plus an "s") or a unit, so one pass blanks them with no callback per token.
_NOT_A_WORD = re.compile(
    r"(?<![A-Za-z0-9_])(?=[A-Za-z0-9_])"
    r"(?=[A-Za-z]*+(?:[0-9_]|[./\\][A-Za-z0-9_]|\(\))|[a-z]++[A-Z]"
    r"|(?:[A-Z]{2,5}+s?+|mg|ml|kg|km|cm|mm|mmHg|mmol|ok|OK|Ok)(?![A-Za-z]))"
    r"[A-Za-z0-9_]+(?:[./\\][A-Za-z0-9_]+)*(?:\(\))?"
)
# Quotations and titles are mentions, not the language the speaker writes in.
_QUOTED = re.compile(r"“[^”\n]{0,80}”|\"[^\"\n]{0,80}\"|[《「『‘][^》」』’\n]{0,80}[》」』’]")
# Every quotation opens with one of these; most turns have none, and `_QUOTED` is slow to find nothing.
_QUOTE_OPENER = re.compile(r"[“\"《「『‘]")
# Beside CJK text, or alone in a short reply ("Mike Shinoda"), capitalised Latin words are names. The
# capital comes before the look back at the letter ahead of it, so the search skips to capitals.
_NAME = re.compile(r"[A-Z](?<![A-Za-z][A-Z])[a-z]*(?![A-Za-z])")
_MAX_NAME_WORDS = 5


def check_language(dialogue: Dialogue) -> Iterator[Issue]:
    """Yield assistant replies in another script than the question (or than the system prompt asks for)."""
    system = " ".join(t.content for t in dialogue.turns if t.role is Role.SYSTEM)
    translating, wanted = _system_language(system)
    if translating:
        return
    question: tuple[int, str] | None = None
    for i, turn in enumerate(dialogue.turns):
        if turn.role is Role.USER:
            question = None if _names_language(turn.content) else (i, turn.content)
        elif turn.role is Role.ASSISTANT and question is not None:
            message = _mismatch(turn.content, question, wanted)
            if message:
                yield Issue(code=LANGUAGE_MISMATCH, turn=i, message=message)


def _mismatch(reply: str, question: tuple[int, str], wanted: str | None) -> str | None:
    """Return why `reply` is in another script than the question or the system prompt, or None."""
    # ASCII text has Latin words or too few to tell, so an ASCII reply can only differ from another
    # script, which neither a Latin system prompt nor (without one) an ASCII question can ask for.
    if reply.isascii() and (wanted == "latin" or (wanted is None and question[1].isascii())):
        return None
    expected = wanted or _main_script_of(question[1])
    said = _words(reply)
    answered = _main_script(said)
    if expected and answered and answered != expected and said[expected] <= _LOW_SHARE * said.total():
        where = "the system prompt asks for" if wanted else f"user turn {question[0]} is in"
        return f"the reply is in {answered} script; {where} {expected}"
    return None


@functools.lru_cache(maxsize=256)
def _system_language(system: str) -> tuple[bool, str | None]:
    """Return whether the system prompt sets a translation task or several languages, and its script."""
    # Cached: a corpus has few distinct system prompts, and these case-blind searches are slow.
    if _TRANSLATION.search(system):
        return True, None
    required = {script for pattern, script in _SYSTEM_LANGUAGES if pattern.search(system)}
    return len(required) > 1, next(iter(required), None)


def _names_language(text: str) -> bool:
    """Return whether a user turn names a language or asks for a translation."""
    if text.isascii():
        lowered = text.lower()
        # A match holds one of these words; looking for them as substrings first is much faster.
        if not any(word in lowered for word in _LANGUAGE_WORDS) and "translat" not in lowered:
            return False
        return _NAMES_LANGUAGE_LOWERED.search(lowered) is not None
    return _NAMES_LANGUAGE.search(text) is not None


@functools.lru_cache(maxsize=64)
def _main_script_of(question: str) -> str | None:
    """Return the main script of a user turn (cached: several replies may answer it)."""
    return _main_script(_words(question))


def _words(text: str) -> Counter[str]:
    """Return the words per script of a turn's natural-language text."""
    return script_counts(_prose(text))


def _prose(text: str) -> str:
    """Return the words that tell the language of `text`: no code, URL, quotation, name or number."""
    text = strip_urls(strip_code(text))
    if _QUOTE_OPENER.search(text):
        text = _QUOTED.sub(" ", text)
    text = _NOT_A_WORD.sub(" ", text)
    if has_cjk(text):
        return _NAME.sub(" ", text)
    if len(text.split()) <= _MAX_NAME_WORDS:
        names = _NAME.sub(" ", text)
        if not script_counts(names):
            return names
    return text


def _main_script(counts: Counter[str]) -> str | None:
    """Return the script that clearly dominates `counts`, or None when the text is short or mixed."""
    total = counts.total()
    if total < _MIN_WORDS:
        return None
    if counts["kana"] and counts["kana"] >= 0.15 * (counts["kana"] + counts["han"]):
        # Japanese mixes kana with Han characters; the kana tell it from Chinese.
        counts = counts.copy()
        counts["kana"] += counts.pop("han", 0)
    script, n = counts.most_common(1)[0]
    return script if n >= _CLEAR_SHARE * total else None
