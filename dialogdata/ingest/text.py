"""The text policy applied to every turn: NFC, LF newlines, trimmed; what changed is recorded."""

from __future__ import annotations

import unicodedata


def normalize_text(text: str, applied: set[str]) -> str:
    """Return `text` in NFC with LF newlines and no outer whitespace; add what changed to `applied`."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        applied.add("newlines")
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        # NFC only: NFKC would fold full-width punctuation and ligatures that carry meaning.
        text = unicodedata.normalize("NFC", text)
        applied.add("nfc")
    stripped = text.strip()
    if stripped != text:
        applied.add("trim")
    return stripped
