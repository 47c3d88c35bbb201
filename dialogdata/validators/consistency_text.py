"""Consistency checks on what the turns say: replies that echo the question, placeholders left in."""

from __future__ import annotations

import re
from collections.abc import Iterator

from rapidfuzz import fuzz

from dialogdata.schemas import Dialogue, Role
from dialogdata.validators._text import comparable, size, strip_code
from dialogdata.validators.issues import Issue

ECHO_REPLY = "consistency.echo_reply"
PLACEHOLDER = "consistency.placeholder"

_GREETING = re.compile(r"^(?:您好|你好|好的|嗯|hi|hello|hey|sure|ok|okay|yes)\b\s*")

_PLACEHOLDERS = re.compile(
    r"\{\{\s*[^{}\s][^{}\n]{0,40}?\s*\}\}"  # {{name}}: Jinja, Handlebars, LLaMA-Factory's identity.json
    r"|\$\{[A-Za-z_][\w.]{0,40}\}"  # ${name}: shell and JavaScript templates
    r"|%\([A-Za-z_]\w{0,40}\)[sdrf]"  # %(name)s: Python's printf style
    # {name}, {user_name}, {客户姓名}: format fields (a Chinese one names a slot); not LaTeX (x^{ab}).
    r"|(?<![\\^_{}$A-Za-z0-9])\{(?:[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+|[a-z]{2,30}"
    r"|[\u4e00-\u9fff]{0,8}(?:姓名|名字|名称|时间|日期|电话|号码|地址|金额|账号|卡号|编号))\}(?!\})"
    # [NAME], <USER_NAME>: the tokens that anonymisers and form templates leave; not a Markdown link.
    r"|\[[A-Z][A-Z0-9]*(?:[_ ][A-Z0-9]+)*\](?![(:])"
    r"|<[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*>",
)
_PLACEHOLDER_OPENER = re.compile(r"[{\[<%]")
_MIN_CAPS = 3
# Upper-case HTML tags and log or checklist markers look like placeholders but are not.
_NOT_PLACEHOLDERS = frozenset({
    "ABBR", "BODY", "CODE", "DIV", "HEAD", "HTML", "IMG", "PRE", "SPAN", "STRONG", "SUB", "SUP", "TABLE",
    "INFO", "WARN", "WARNING", "ERROR", "DEBUG", "NOTE", "TODO", "FAIL", "PASS", "TRUE", "FALSE", "NULL",
    "NONE", "DONE",
})  # fmt: skip


def check_echo(dialogue: Dialogue, *, threshold: float, min_chars: int) -> Iterator[Issue]:
    """Yield assistant replies that repeat, near-verbatim, the user turn they answer."""
    question: tuple[int, str] | None = None
    for i, turn in enumerate(dialogue.turns):
        if turn.role is Role.USER:
            question = (i, _without_greeting(comparable(turn.content)))
        elif turn.role is Role.ASSISTANT and question is not None and turn.content.strip():
            asked = question[1]
            # Tiny turns ("OK" / "ok?", "你好" / "你好") are greetings and acknowledgements, not echoes.
            if size(asked) < min_chars:
                continue
            reply = _without_greeting(comparable(turn.content))
            # Plain edit similarity: word-set measures call "What is X?" -> "X is Y." an echo.
            similarity = fuzz.ratio(asked, reply) / 100
            if similarity >= threshold:
                message = f"the reply repeats user turn {question[0]} ({similarity:.0%} similar)"
                yield Issue(code=ECHO_REPLY, turn=i, message=message)


def _without_greeting(text: str) -> str:
    """Return folded text without a leading greeting or acknowledgement, which says nothing."""
    return _GREETING.sub("", text, count=1)


def check_placeholders(dialogue: Dialogue) -> Iterator[Issue]:
    """Yield turns that still hold template placeholders such as `{{name}}`, `[NAME]` or `${user}`."""
    for i, turn in enumerate(dialogue.turns):
        if turn.role is Role.TOOL:
            continue
        found = [m for m in _placeholders(turn.content) if _is_placeholder(m)]
        if found:
            shown = ", ".join(dict.fromkeys(found))
            yield Issue(code=PLACEHOLDER, turn=i, message=f"the {turn.role} turn holds placeholders: {shown}")


def _placeholders(text: str) -> list[str]:
    """Return the pattern's matches in `text` outside code."""
    # Every placeholder opens with one of these characters; most turns have none.
    if not _PLACEHOLDER_OPENER.search(text):
        return []
    return _PLACEHOLDERS.findall(strip_code(text))


def _is_placeholder(match: str) -> bool:
    """Return whether a pattern match is a placeholder rather than a short tag or a bracketed acronym."""
    if match[0] in "[<":
        name = match[1:-1]
        return sum(ch.isalpha() for ch in name) >= _MIN_CAPS and name not in _NOT_PLACEHOLDERS
    return True
