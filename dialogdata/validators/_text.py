"""Text helpers shared by the consistency checks: code stripping, scripts, normalised comparison."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

FENCE = re.compile(r"^[ \t]*(```|~~~)", re.MULTILINE)
# A fenced block runs to its closing fence, or to the end of a text cut inside it.
_FENCED_BLOCK = re.compile(r"^[ \t]*(```|~~~).*?(?:^[ \t]*\1[^\n]*$|\Z)", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_URL = re.compile(
    r"(?:https?://|ftp://|www\.)[^\s<>\"'，。；）)\]】]+|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII
)

# The code point ranges of the scripts told apart (Latin includes full-width Latin letters).
_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x005A, "latin"),
    (0x0061, 0x007A, "latin"),
    (0x00C0, 0x00D6, "latin"),
    (0x00D8, 0x00F6, "latin"),
    (0x00F8, 0x024F, "latin"),
    (0x0370, 0x03FF, "greek"),
    (0x0400, 0x052F, "cyrillic"),
    (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"),
    (0x0900, 0x097F, "devanagari"),
    (0x0E00, 0x0E7F, "thai"),
    (0x1100, 0x11FF, "hangul"),
    (0x1E00, 0x1EFF, "latin"),
    (0x3040, 0x30FF, "kana"),
    (0x3130, 0x318F, "hangul"),
    (0x31F0, 0x31FF, "kana"),
    (0x3400, 0x4DBF, "han"),
    (0x4E00, 0x9FFF, "han"),
    (0xAC00, 0xD7AF, "hangul"),
    (0xF900, 0xFAFF, "han"),
    (0xFF21, 0xFF3A, "latin"),
    (0xFF41, 0xFF5A, "latin"),
    (0xFF66, 0xFF9F, "kana"),
    (0x20000, 0x3134F, "han"),
)
# Scripts written without spaces count one unit per character; the others count one unit per word.
_CHARACTER_SCRIPTS = frozenset({"han", "kana", "hangul", "thai"})


def _class(scripts: set[str] | None = None) -> str:
    """Return the regex class body of the code point ranges of `scripts` (all of them for None)."""
    ranges = [(lo, hi) for lo, hi, script in _RANGES if scripts is None or script in scripts]
    return "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in ranges)


# One pattern per script: a character of a spaceless script, or a word of any other. Letters outside the
# listed ranges count, word by word, as "other".
_SCRIPT_UNITS = {
    script: re.compile(f"[{_class({script})}]" + ("" if script in _CHARACTER_SCRIPTS else "+"))
    for script in dict.fromkeys(script for _, _, script in _RANGES)
}
_SCRIPT_UNITS["other"] = re.compile(f"[^\\W\\d_{_class()}]+")
_CJK = re.compile(f"[{_class({'han', 'kana', 'hangul'})}]")
_NOT_ALNUM = re.compile(r"[\W_]+")


def has_cjk(text: str) -> bool:
    """Return whether `text` holds a Han, kana or Hangul character."""
    return _CJK.search(text) is not None


def strip_code(text: str) -> str:
    """Return `text` with fenced code blocks and inline code replaced by a space."""
    return _INLINE_CODE.sub(" ", _FENCED_BLOCK.sub(" ", text))


def strip_urls(text: str) -> str:
    """Return `text` with URLs and e-mail addresses replaced by a space."""
    return _URL.sub(" ", text)


def n_fences(text: str) -> int:
    """Return the number of lines that open or close a fenced code block."""
    return len(FENCE.findall(text))


def comparable(text: str) -> str:
    """Return `text` folded for comparison: NFKC, casefolded, punctuation dropped, spaces collapsed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _NOT_ALNUM.sub(" ", folded).strip()


def size(text: str) -> int:
    """Return the letters and digits of `text`, a CJK character counting double (it carries a word)."""
    return len(_NOT_ALNUM.sub("", text)) + len(_CJK.findall(text))


def script_counts(text: str) -> Counter[str]:
    """Return words (or characters, for Han, kana, Hangul, Thai) per script in `text`."""
    counts: Counter[str] = Counter()
    for script, pattern in _SCRIPT_UNITS.items():
        n = len(pattern.findall(text))
        if n:
            counts[script] = n
    return counts
