"""Text helpers shared by the consistency checks: code stripping, scripts, normalised comparison."""

from __future__ import annotations

import functools
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


# One pattern per script, for runs of its characters: a spaceless script counts each character of its runs,
# the others count each run as a word. Letters outside the listed ranges count, word by word, as "other".
_SCRIPT_UNITS = {
    script: re.compile(f"[{_class({script})}]+")
    for script in dict.fromkeys(script for _, _, script in _RANGES)
}
_SCRIPT_UNITS["other"] = re.compile(f"[^\\W\\d_{_class()}]+")
_LATIN_AND_HAN = {script: _SCRIPT_UNITS[script] for script in ("latin", "han")}
_CJK = re.compile(f"[{_class({'han', 'kana', 'hangul'})}]")
_CJK_RUN = re.compile(f"[{_class({'han', 'kana', 'hangul'})}]+")
_NOT_ALNUM = re.compile(r"[\W_]+")
# In ASCII text the only script is Latin (every ASCII letter is in its ranges), and `[\W_]` is exactly
# the characters that are not letters or digits, so byte tables give the regexes' results.
_ASCII_LETTERS = re.compile(r"[A-Za-z]+")
_ASCII_NOT_ALNUM = bytes(code for code in range(128) if not chr(code).isalnum())
_ASCII_FOLD = bytes(ord(chr(code).lower()) if chr(code).isalnum() else 32 for code in range(256))
# NFKC turns the full-width forms of Chinese punctuation into ASCII. Replacing them first by their own
# decomposition gives the same NFKC (it decomposes them to exactly that), and most text is then already
# normalised, which `normalize` sees at once instead of rebuilding the string.
_FULL_WIDTH = re.compile("[\u3000\uff01-\uff5e]")
_NARROW = {chr(c): unicodedata.normalize("NFKD", chr(c)) for c in (0x3000, *range(0xFF01, 0xFF5F))}
# Text with none of these holds only Latin words and Han characters among the scripts counted.
_RARE_SCRIPT = re.compile(
    f"[{_class(_SCRIPT_UNITS.keys() - {'latin', 'han', 'other'})}]|[^\\W\\d_{_class()}]"
)


def has_cjk(text: str) -> bool:
    """Return whether `text` holds a Han, kana or Hangul character."""
    return not text.isascii() and _CJK.search(text) is not None


def strip_code(text: str) -> str:
    """Return `text` with fenced code blocks and inline code replaced by a space."""
    # Both patterns need a backtick or a ~~~ fence; most turns have neither.
    if "`" not in text and "~~~" not in text:
        return text
    return _INLINE_CODE.sub(" ", _FENCED_BLOCK.sub(" ", text))


def strip_urls(text: str) -> str:
    """Return `text` with URLs and e-mail addresses replaced by a space."""
    # Every URL has "://" or "www." and every address an "@"; the pattern is slow to find nothing.
    if "@" not in text and "://" not in text and "www." not in text:
        return text
    return _URL.sub(" ", text)


def n_fences(text: str) -> int:
    """Return the number of lines that open or close a fenced code block."""
    if "```" not in text and "~~~" not in text:
        return 0
    return len(FENCE.findall(text))


@functools.lru_cache(maxsize=128)
def comparable(text: str) -> str:
    """Return `text` folded for comparison: NFKC, casefolded, punctuation dropped, spaces collapsed."""
    # Cached for the turns of a dialogue or two: the repeated-turn and echo checks fold the same turns.
    if text.isascii():
        # NFKC leaves ASCII as it is and casefold is lower(); the blanked punctuation splits the words.
        return b" ".join(text.encode("ascii").translate(_ASCII_FOLD).split()).decode("ascii")
    narrowed = _FULL_WIDTH.sub(_narrow, text)
    folded = unicodedata.normalize("NFKC", narrowed).casefold()
    return _NOT_ALNUM.sub(" ", folded).strip()


def _narrow(match: re.Match[str]) -> str:
    """Return the compatibility decomposition of a full-width character."""
    return _NARROW[match.group()]


def size(text: str) -> int:
    """Return the letters and digits of `text`, a CJK character counting double (it carries a word)."""
    if text.isascii():
        # No CJK, and deleting every character but letters and digits leaves the count.
        return len(text.encode("ascii").translate(None, _ASCII_NOT_ALNUM))
    return len(_NOT_ALNUM.sub("", text)) + sum(map(len, _CJK_RUN.findall(text)))


def script_counts(text: str) -> Counter[str]:
    """Return words (or characters, for Han, kana, Hangul, Thai) per script in `text`."""
    counts: Counter[str] = Counter()
    if text.isascii():
        # Only Latin words can occur, as runs of ASCII letters.
        n = len(_ASCII_LETTERS.findall(text))
        if n:
            counts["latin"] = n
        return counts
    # Without a letter of another script, only these two patterns can find anything (in this order).
    scripts = _SCRIPT_UNITS if _RARE_SCRIPT.search(text) else _LATIN_AND_HAN
    for script, pattern in scripts.items():
        runs = pattern.findall(text)
        # Counting the characters of runs is counting characters, with one string per run, not per character.
        n = sum(map(len, runs)) if script in _CHARACTER_SCRIPTS else len(runs)
        if n:
            counts[script] = n
    return counts
