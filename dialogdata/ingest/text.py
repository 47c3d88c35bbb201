"""The text policy applied to every text: what is changed, flagged or rejected, and recorded.

- CRLF and CR become LF (`newlines`); text becomes NFC, never NFKC (`nfc`); outer whitespace is
  trimmed (`trim`).
- NUL characters are removed (`nul_removed`); other control characters except tab and newline are
  kept and flagged (`control_chars`).
- Bidirectional controls (U+202A-202E, U+2066-2069, U+200E, U+200F, U+061C) are kept and flagged
  (`bidi_controls`): they can make text read differently from what it holds.
- Zero-width characters (U+200B, U+200C, U+2060, U+FEFF) are kept and flagged (`zero_width`); the
  zero-width joiner U+200D is not flagged, since emoji sequences need it.
- A lone surrogate cannot be written as UTF-8: the record is rejected (`text.surrogate`).
- A run of more than 30 combining marks (Zalgo text) gets U+034F COMBINING GRAPHEME JOINER after every 30,
  the Stream-Safe Text Format of UAX #15, before NFC (`stream_safe`): NFC is quadratic in a run's length,
  and no real script stacks that many marks.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

import msgspec

_SUSPECT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b\u200c\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff\ud800-\udfff]"
)
_FLAGS = (
    (re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"), "control_chars"),
    (re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"), "bidi_controls"),
    (re.compile("[\u200b\u200c\u2060\ufeff]"), "zero_width"),
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_CGJ = "\u034f"
"""COMBINING GRAPHEME JOINER: an invisible starter; it ends a run of marks and changes nothing it shows."""
_MAX_NON_STARTERS = 30
"""The longest run of non-starters in the Stream-Safe Text Format (UAX #15, section 13)."""


class TextPolicyError(ValueError):
    """Text that the policy rejects (a lone surrogate); `code` is the reject code."""

    code = "text.surrogate"


def normalize_text(text: str, applied: set[str]) -> str:
    """Return `text` under the policy above, adding what was changed or flagged to `applied`."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        applied.add("newlines")
    # isprintable() is a fast C check that is true for most texts and false for every suspect character.
    if not text.isprintable() and _SUSPECT.search(text):
        text = _screen(text, applied)
    if not text.isascii():
        text = _nfc(text, applied)
    stripped = text.strip()
    if stripped != text:
        applied.add("trim")
    return stripped


def _nfc(text: str, applied: set[str]) -> str:
    """Return `text` in NFC, made Stream-Safe first so that normalising it takes linear time."""
    safe = _stream_safe(text)
    if len(safe) != len(text):
        text = safe
        applied.add("stream_safe")
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
        applied.add("nfc")
    return text


def _stream_safe(text: str) -> str:
    """Return `text` with a CGJ wherever a run of non-starters would pass 30 (UAX #15, section 13)."""
    pairs, runs, stride = _run_patterns()
    # A run long enough to matter covers two consecutive multiples of `stride`: a look at every
    # stride-th character, in C, clears almost every text at a fraction of the cost of a full scan.
    if len(text) < 2 * stride or not pairs.search(text[::stride]):
        return text
    return runs.sub(_split_run, text)


def _split_run(match: re.Match[str]) -> str:
    """Apply the Stream-Safe Text Process to one run of (possible) non-starters."""
    start = match.start()
    # The run is maximal, so the character before it holds a starter: the count starts at its trailing ones.
    count = _non_starters(match.string[start - 1])[1] if start else 0
    out: list[str] = []
    for char in match.group():
        leading, trailing, length = _non_starters(char)
        if count + leading > _MAX_NON_STARTERS:
            out.append(_CGJ)
            count = 0
        out.append(char)
        count = count + length if trailing == length else trailing
    return "".join(out)


@functools.lru_cache(maxsize=4096)
def _non_starters(char: str) -> tuple[int, int, int]:
    """Return the leading and trailing non-starters of `char`'s NFKD decomposition, and its length."""
    classes = [unicodedata.combining(c) for c in unicodedata.normalize("NFKD", char)]
    leading = next((i for i, c in enumerate(classes) if not c), len(classes))
    trailing = next((i for i, c in enumerate(reversed(classes)) if not c), len(classes))
    return leading, trailing, len(classes)


@functools.cache
def _run_patterns() -> tuple[re.Pattern[str], re.Pattern[str], int]:
    """Return the patterns of a pair and of a long run of possible non-starters, and the stride to look at.

    Built on first use from the running Python's Unicode data (planes 0, 1 and 14; the others hold only
    ideographs and private use, all starters). Every astral character is taken as a possible non-starter,
    which keeps the character class one fast table; `_split_run` then counts exactly.
    """
    starts: list[int] = []
    most_added = most_trailing = 1
    for code in (*range(0x20000), *range(0xE0000, 0xE1000)):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF or not (unicodedata.combining(char) or unicodedata.decomposition(char)):
            continue
        leading, trailing, length = _non_starters.__wrapped__(char)
        if leading and code < 0x10000:
            starts.append(code)
        if leading:
            most_added = max(most_added, length if trailing == length else leading)
        if trailing < length:
            most_trailing = max(most_trailing, trailing)
    # r of them after a starter with t trailing non-starters count at most t + r * most_added.
    shortest = (_MAX_NON_STARTERS - most_trailing) // most_added + 1
    one = f"[{_ranges(starts)}\U00010000-\U0010ffff]"
    return re.compile(one * 2), re.compile(f"{one}{{{shortest},}}"), shortest // 2


def _ranges(codes: list[int]) -> str:
    """Write sorted code points as the ranges of a regular-expression character class."""
    parts: list[str] = []
    start = previous = codes[0]
    for code in [*codes[1:], -1]:
        if code != previous + 1:
            first, last = re.escape(chr(start)), re.escape(chr(previous))
            parts.append(first if start == previous else f"{first}-{last}")
            start = code
        previous = code
    return "".join(parts)


def _screen(text: str, applied: set[str]) -> str:
    """Apply the rules for controls, invisible characters and surrogates."""
    match = _SURROGATE.search(text)
    if match:
        at = match.start()
        raise TextPolicyError(
            f"expected text without lone surrogates, found U+{ord(text[at]):04X} at character {at}"
        )
    if "\x00" in text:
        text = text.replace("\x00", "")
        applied.add("nul_removed")
    for pattern, flag in _FLAGS:
        if pattern.search(text):
            applied.add(flag)
    return text


def find_surrogate(value: Any, where: str) -> str | None:
    """Return where a lone surrogate sits in a JSON-like value (a key or a text inside it), or None.

    The text policy screens the texts of turns; this finds one in what it does not see (meta, tools,
    tool calls, names, ids), which no UTF-8 output can carry either. Iterative: depth cannot crash it.
    """
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if not item.isascii() and _SURROGATE.search(item):
                return path
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and not key.isascii() and _SURROGATE.search(key):
                    return f"a key of {path}"
                stack.append((child, f"{path}.{key}"))
        elif isinstance(item, list | tuple):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(item))
        elif isinstance(item, msgspec.Struct):
            stack.extend((getattr(item, f), f"{path}.{f}") for f in item.__struct_fields__)
    return None
