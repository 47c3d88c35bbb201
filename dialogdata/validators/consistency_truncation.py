"""Consistency check for replies cut short: mid-sentence, inside a code block or a bracket."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from dialogdata.schemas import Dialogue, Role
from dialogdata.validators._text import FENCE, n_fences, strip_code, strip_urls
from dialogdata.validators.issues import Issue

TRUNCATED = "consistency.truncated"

_TERMINAL = frozenset("。．.!！?？…‥」』”’\"')）]】》〉>}~～")
_DANGLING = frozenset("，,、；;：:")
_PAIRS = {"(": ")", "（": "）", "[": "]", "【": "】", "{": "}", "《": "》", "「": "」", "『": "』", "“": "”"}
_CLOSERS = frozenset(_PAIRS.values())
# Words that cannot end an English sentence, and Chinese connectives that announce more to come.
_OPEN_WORDS = frozenset({
    "the", "a", "an", "and", "or", "but", "nor", "of", "your", "our", "their", "its", "because", "than",
    "whose",
})  # fmt: skip
_LAST_WORD = re.compile(r"(?<![A-Za-z'])[a-z]+$")
_OPEN_ZH = (
    "以及", "并且", "而且", "但是", "因为", "所以", "如果", "比如", "例如", "包括", "或者", "由于",
    "虽然", "即使", "除了", "根据", "通过", "以便", "然后",
)  # fmt: skip
# Sentence-final particles close a Chinese sentence in chat, where the 。 is often left out.
_PARTICLES = frozenset("呢吧啊呀哦啦嘛吗哈嗯哇噢咯喔")
_LIST_ITEM = re.compile(
    r"\s*(?:[-*+•·]\s|\d{1,3}[.)、．]\s?|[（(]\d{1,3}[)）]|[一二三四五六七八九十]{1,3}、|[a-z][.)]\s)"
)
# Headings, bold titles, table rows and results ("x = 2", "余额：1,250元") need no closing punctuation.
_TITLE_OR_RESULT = re.compile(
    r"\s*(?:#{1,6}\s|\||\*\*)|.*=|[^:：，。,.!?！？]{1,30}[:：][^，。,.!?！？]{0,30}\d[^，。,!?！？]*$"
)
# Sentence ends: 。！？!?, a period before a space, or a colon that ends a line (before a list or code).
_SENTENCE_END = re.compile(r"[。！？!?]|(?<=[^\s.])\.(?=\s|$)|[:：](?=[ \t]*\n)")
# A period after these, after an initial ("C.S. Lewis") or a list number ("1. ") ends no sentence.
_ABBREVIATION = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|vs|etc|No|approx|e\.g|i\.e)|\b[A-Z])$")
_LIST_NUMBER = re.compile(r"^[ \t]*\d{1,3}(?=\.)", re.MULTILINE)
# A quotation may end on its attribution: '"…" - Paul Rand', "」——鲁迅".
_ATTRIBUTION = re.compile(r"[\"”'’」』]\s*[-—–~]{1,2}\s*[^\s\"”]+(?:\s\S+){0,4}$")
_EMOTICON_END = re.compile(r"(?:[:;=][-^'o]?[()\[\]DPp|/\\3]|\^[_-]?\^|T_T)$")
# An emoticon is at most three characters, so only the end of a line (and a final newline) is searched.
_EMOTICON_LONGEST = 3
_EMOTICON = re.compile(r"[:;=][-^'o]?[()\[\]DPp|/\\3]|\^[_-]?\^|\(\s*[^\s()（）\w]{1,6}\s*\)")
# The last word, where a word stops at spaces and at CJK characters and punctuation.
_WORD_BREAK = re.compile(r"[\s\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
# URLs, e-mail addresses, paths and dotted names ("config.yaml", "np.mean"), but not "150/95" or "2.5".
_LINK_OR_NAME = re.compile(r"://|www\.|@\w|[A-Za-z_]/|/[A-Za-z_~.]|\\|[A-Za-z_]\.[A-Za-z_]")
_SIGN_OFF_CHARS = 24


def check_truncated(dialogue: Dialogue) -> Iterator[Issue]:
    """Yield assistant replies that look cut short."""
    for i, turn in enumerate(dialogue.turns):
        if turn.role is Role.ASSISTANT:
            problem = truncation(turn.content)
            if problem:
                yield Issue(code=TRUNCATED, turn=i, message=f"the reply looks cut short: {problem}")


def truncation(text: str) -> str | None:
    """Return why `text` looks cut short, or None when it looks complete."""
    text = text.rstrip()
    if not text:
        return None
    if n_fences(text) % 2:
        return "a ``` code block is never closed"
    lines = text.splitlines()
    tail = _judged_tail(lines[-1])
    if tail is None:
        return None
    end = _last_char(tail)
    if end in _DANGLING:
        return f"it ends with {end!r}"
    if end in _PAIRS:
        return f"it ends with an opening {end!r}"
    if end in _TERMINAL or _is_symbol(end):
        return None
    opened = _unclosed(_EMOTICON.sub(" ", strip_urls(strip_code(text))))
    if opened:
        return f"{opened!r} is never closed and the last sentence never ends"
    return _open_end(tail, lines[:-1], text)


def _judged_tail(line: str) -> str | None:
    """Return the last line as judged, or None when it needs no closing punctuation: a code fence, a
    heading, a result, inline code, an emoticon, or no letters at all ("150/95")."""
    if FENCE.match(line) or _TITLE_OR_RESULT.match(line) or line.lstrip().startswith("`"):
        return None
    tail = line.strip().rstrip("*_")
    if tail.count("`") % 2:
        tail = tail.rstrip("`").rstrip()
    emoticon = _EMOTICON_END.search(tail, max(0, len(tail) - _EMOTICON_LONGEST - 1))
    if tail.endswith("`") or emoticon or not any(ch.isalpha() for ch in tail):
        return None
    return tail


def _open_end(tail: str, before: list[str], text: str) -> str | None:
    """Return why a last line without closing punctuation ends mid-sentence, or None."""
    token = _WORD_BREAK.split(tail)[-1]
    if token and _is_link_or_name(token):
        return None
    word = _LAST_WORD.search(tail)
    if word and word.group() in _OPEN_WORDS:
        return f"it ends on {word.group()!r}"
    connective = next((c for c in _OPEN_ZH if tail.endswith(c)), None)
    if connective:
        return f"it ends on {connective!r}"
    if tail[-1] in _PARTICLES or _is_sign_off(tail, before):
        return None
    if _LIST_ITEM.match(tail):
        return _list_end(before)
    return _unfinished_sentence(text)


def _last_char(tail: str) -> str:
    """Return the last character that is not a combining mark or format control (emoji selectors)."""
    for char in reversed(tail):
        if unicodedata.category(char) not in ("Mn", "Me", "Cf"):
            return char
    return tail[-1]


def _is_symbol(char: str) -> bool:
    """Return whether `char` is an emoji or another symbol, which often ends a chat reply."""
    return unicodedata.category(char) in ("So", "Sk", "Sm", "Co")


def _is_link_or_name(token: str) -> bool:
    """Return whether the last token is a URL, path, file or code name, hashtag or mention."""
    return token[0] in "#@" or _LINK_OR_NAME.search(token) is not None


def _unclosed(text: str) -> str | None:
    """Return the innermost bracket left open in `text`, or None; stray closers (as in "1)") are fine."""
    stack: list[str] = []
    for char in text:
        if char in _PAIRS:
            stack.append(char)
        elif char in _CLOSERS and stack and _PAIRS[stack[-1]] == char:
            stack.pop()
    return stack[-1] if stack else None


def _is_sign_off(tail: str, before: list[str]) -> bool:
    """Return whether the last line is a short name or greeting under a line ending in a comma."""
    previous = next((line.strip() for line in reversed(before) if line.strip()), "")
    return len(tail) <= _SIGN_OFF_CHARS and previous[-1:] in (",", "，")


def _list_end(before: list[str]) -> str | None:
    """Return a problem when the last list item lacks the closing punctuation its siblings all have."""
    siblings: list[str] = []
    for line in reversed(before):
        if not _LIST_ITEM.match(line):
            break
        siblings.append(line.rstrip())
    if len(siblings) >= 2 and all(s[-1] in _TERMINAL for s in siblings):
        return "the last list item lacks the closing punctuation of the others"
    return None


def _unfinished_sentence(text: str) -> str | None:
    """Return a problem when the reply closes earlier sentences but not its last one."""
    prose = strip_code(text)
    numbers = {m.end() for m in _LIST_NUMBER.finditer(prose)}
    ends = [
        m.end()
        for m in _SENTENCE_END.finditer(prose)
        if m.start() not in numbers and not _ABBREVIATION.search(prose[max(0, m.start() - 8) : m.start()])
    ]
    if not ends:
        return None
    fragment = prose[ends[-1] :].strip()
    if _ATTRIBUTION.search(fragment):
        return None
    return f"the last sentence never ends ('…{fragment[-24:]}')"
