"""A gazetteer: labelled terms, matched leftmost-longest on exact boundaries by one Aho-Corasick pass."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import ahocorasick
import msgspec

from dialogdata.errors import ConfigError

# Scripts written without spaces between words: a term in them matches anywhere, and a character of
# them next to a Latin term counts as a boundary ("我的credit card额度").
_UNSPACED = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3040, 0x31FF),  # Hiragana, Katakana, Bopomofo, Hangul compatibility Jamo, Kanbun
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA960, 0xA97F),  # Hangul Jamo extended A
    (0xAC00, 0xD7FF),  # Hangul syllables, Jamo extended B
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF00, 0xFFEF),  # half- and full-width forms
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)
_ASCII_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class Span(msgspec.Struct, frozen=True, gc=False):
    """One match: `text[start:end]` is a mention of `term` (as the gazetteer spells it) with `label`."""

    start: int
    end: int
    label: str
    term: str


def is_unspaced(char: str) -> bool:
    """Whether `char` belongs to a script written without spaces between words (CJK, Thai, ...)."""
    point = ord(char)
    return any(low <= point <= high for low, high in _UNSPACED)


@functools.lru_cache(maxsize=4096)
def _is_word_char_slow(char: str) -> bool:
    if is_unspaced(char):
        return False
    return char.isalnum() or char == "_" or unicodedata.category(char).startswith("M")


def is_word_char(char: str) -> bool:
    """Whether `char` continues a spaced-script word: letters, digits, `_` and combining marks."""
    if char < "\x80":
        return char in _ASCII_WORD
    return _is_word_char_slow(char)


def fold(text: str) -> str:
    """Lower-case `text` keeping its length, so offsets into the result are offsets into `text`."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    # A few characters (such as "İ") lower to two; those keep their case rather than shift offsets.
    return "".join(low if len(low := char.lower()) == 1 else char for char in text)


class Gazetteer:
    """Labelled terms and a matcher that finds them in text.

    >>> g = Gazetteer({"DISEASE": ["高血压", "高血压病"], "PRODUCT": ["card", "credit card"]})
    >>> [(s.label, s.term) for s in g.find("高血压病 and my Credit Card, not cardiology")]
    [('DISEASE', '高血压病'), ('PRODUCT', 'credit card')]
    """

    __slots__ = ("_ascii_automaton", "_automaton", "_domains", "_entries", "_terms", "name")

    def __init__(
        self,
        terms: Mapping[str, Iterable[str]],
        *,
        name: str = "custom",
        domains: Mapping[str, str] | None = None,
    ) -> None:
        self._setup(terms, name=name, domains=domains or {})

    def _setup(self, terms: Mapping[str, Iterable[str]], *, name: str, domains: Mapping[str, str]) -> None:
        self.name = name
        self._terms: dict[str, tuple[str, ...]] = {}
        self._entries: dict[str, tuple[str, str, bool, bool]] = {}
        for label, items in terms.items():
            self._add_label(str(label), items)
        self._domains = {label: domains.get(label, name) for label in self._terms}
        self._automaton: Any = None
        self._ascii_automaton: Any = None

    def _add_label(self, label: str, items: Iterable[str]) -> None:
        if not label.strip():
            raise ConfigError(f"gazetteer {self.name!r}: a label is empty; expected a name such as DRUG")
        kept = list(self._terms.get(label, ()))
        for raw in items:
            term = unicodedata.normalize("NFC", str(raw)).strip()
            if not term:
                raise ConfigError(f"gazetteer {self.name!r}: label {label} has an empty term")
            key = fold(term)
            if key in self._entries:
                other = self._entries[key][1]
                if other != label:
                    raise ConfigError(
                        f"gazetteer {self.name!r}: term {term!r} is listed under both {other} and {label};"
                        " give each term one label"
                    )
                continue
            self._entries[key] = (term, label, is_word_char(term[0]), is_word_char(term[-1]))
            kept.append(term)
        self._terms[label] = tuple(kept)

    @property
    def terms(self) -> dict[str, tuple[str, ...]]:
        """Each label's terms, in the order they were given (case variants of a term kept once)."""
        return dict(self._terms)

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels, in the order they were given."""
        return tuple(self._terms)

    @property
    def domains(self) -> dict[str, str]:
        """Each label's domain (the bundled list or file it came from), such as "medical"."""
        return dict(self._domains)

    def label_of(self, term: str) -> str | None:
        """Return the label of `term` (matched case-insensitively), or None when it is not listed."""
        entry = self._entries.get(fold(unicodedata.normalize("NFC", term).strip()))
        return entry[1] if entry else None

    def canonical(self, term: str) -> str | None:
        """Return `term` as the gazetteer spells it ("METFORMIN" -> "metformin"), or None when not listed."""
        entry = self._entries.get(fold(unicodedata.normalize("NFC", term).strip()))
        return entry[0] if entry else None

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Gazetteer(name={self.name!r}, labels={len(self._terms)}, terms={len(self)})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Gazetteer):
            return NotImplemented
        return self._terms == other._terms and self._domains == other._domains

    def __hash__(self) -> int:
        return hash(tuple(self._entries))

    def __or__(self, other: Gazetteer) -> Gazetteer:
        """Return a gazetteer with the terms of both; a term may not change label."""
        merged: dict[str, list[str]] = {label: list(items) for label, items in self._terms.items()}
        for label, items in other._terms.items():
            merged.setdefault(label, []).extend(items)
        domains = {**other._domains, **self._domains}
        return Gazetteer(merged, name=f"{self.name}+{other.name}", domains=domains)

    def __getstate__(self) -> dict[str, Any]:
        # The automaton is rebuilt on first use in the receiving process rather than pickled.
        return {"name": self.name, "terms": self._terms, "domains": self._domains}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._setup(state["terms"], name=state["name"], domains=state["domains"])

    def _build(self, *, ascii_only: bool = False) -> Any:
        automaton = ahocorasick.Automaton(ahocorasick.STORE_ANY)
        for key, (term, label, left, right) in self._entries.items():
            if key.isascii() or not ascii_only:
                automaton.add_word(key, (len(key), term, label, left, right))
        if len(automaton):
            automaton.make_automaton()
        return automaton

    def _automaton_for(self, text: str) -> Any:
        """Return the automaton to search `text` with: the ASCII terms alone when `text` is ASCII."""
        # Only ASCII terms can occur in ASCII text, and the small automaton walks it several times faster.
        if text.isascii():
            if self._ascii_automaton is None:
                self._ascii_automaton = self._build(ascii_only=True)
            return self._ascii_automaton
        if self._automaton is None:
            self._automaton = self._build()
        return self._automaton

    def find(self, text: str) -> list[Span]:
        """Return every non-overlapping mention in `text`, leftmost-longest, sorted by position.

        Latin terms match case-insensitively and only as whole words; terms in CJK and other
        unspaced scripts match anywhere. A term is reported as the gazetteer spells it; the text's
        own spelling is `text[span.start:span.end]`.
        """
        automaton = self._automaton_for(text)
        if not text or not len(automaton):
            return []
        candidates = []
        n = len(text)
        for last, (size, term, label, left, right) in automaton.iter(fold(text)):
            start, end = last + 1 - size, last + 1
            if left and start > 0 and is_word_char(text[start - 1]):
                continue
            if right and end < n and is_word_char(text[end]):
                continue
            candidates.append((start, -size, term, label))
        candidates.sort()
        spans: list[Span] = []
        cursor = 0
        for start, negative_size, term, label in candidates:
            if start >= cursor:
                cursor = start - negative_size
                spans.append(Span(start, cursor, label, term))
        return spans
