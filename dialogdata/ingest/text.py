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
"""

from __future__ import annotations

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
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
        applied.add("nfc")
    stripped = text.strip()
    if stripped != text:
        applied.add("trim")
    return stripped


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
