"""Consistency check for replies in another language than the question, told apart by script."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from dialogdata.schemas import Dialogue, Role, Turn
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
_NAMES_LANGUAGE = re.compile(
    r"翻译|译成|译为|[中英日韩法德俄外]文|外语|[英汉日韩法德俄粤]语|西班牙语|普通话|拼音|"
    r"translat|\b(?:english|chinese|mandarin|cantonese|japanese|korean|french|german|spanish|russian|"
    r"pinyin|language)\b",
    re.IGNORECASE,
)
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
_TOKEN = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z0-9_]+(?:[./\\][A-Za-z0-9_]+)*(?:\(\))?", re.ASCII)
_NOT_A_WORD = re.compile(r".*[0-9_./\\(]|[a-z]+[A-Z]|[A-Z]{2,5}s?$|(?:mg|ml|kg|km|cm|mm|mmHg|mmol|ok|OK|Ok)$")
# Quotations and titles are mentions, not the language the speaker writes in.
_QUOTED = re.compile(r"“[^”\n]{0,80}”|\"[^\"\n]{0,80}\"|[《「『‘][^》」』’\n]{0,80}[》」』’]")
# Beside CJK text, or alone in a short reply ("Mike Shinoda"), capitalised Latin words are names.
_NAME = re.compile(r"(?<![A-Za-z])[A-Z][a-z]*(?![A-Za-z])")
_MAX_NAME_WORDS = 5


def check_language(dialogue: Dialogue) -> Iterator[Issue]:
    """Yield assistant replies in another script than the question (or than the system prompt asks for)."""
    system = " ".join(t.content for t in dialogue.turns if t.role is Role.SYSTEM)
    if _TRANSLATION.search(system):
        return
    required = {script for pattern, script in _SYSTEM_LANGUAGES if pattern.search(system)}
    if len(required) > 1:
        return
    wanted = next(iter(required), None)
    question: tuple[int, str | None] | None = None
    for i, turn in enumerate(dialogue.turns):
        if turn.role is Role.USER:
            question = None if _NAMES_LANGUAGE.search(turn.content) else (i, _main_script(_words(turn)))
        elif turn.role is Role.ASSISTANT and question is not None:
            expected = wanted or question[1]
            said = _words(turn)
            answered = _main_script(said)
            if expected and answered and answered != expected and said[expected] <= _LOW_SHARE * said.total():
                where = "the system prompt asks for" if wanted else f"user turn {question[0]} is in"
                message = f"the reply is in {answered} script; {where} {expected}"
                yield Issue(code=LANGUAGE_MISMATCH, turn=i, message=message)


def _words(turn: Turn) -> Counter[str]:
    """Return the words per script of a turn's natural-language text."""
    return script_counts(_prose(turn.content))


def _prose(text: str) -> str:
    """Return the words that tell the language of `text`: no code, URL, quotation, name or number."""
    text = _TOKEN.sub(_word_or_blank, _QUOTED.sub(" ", strip_urls(strip_code(text))))
    names = _NAME.sub(" ", text)
    if has_cjk(text) or (len(text.split()) <= _MAX_NAME_WORDS and not script_counts(names)):
        return names
    return text


def _word_or_blank(match: re.Match[str]) -> str:
    """Return an ASCII token if it is a word, or a blank for an identifier, a number or an acronym."""
    return " " if _NOT_A_WORD.match(match.group()) else match.group()


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
