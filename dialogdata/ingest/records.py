"""Raw records (what containers yield) and rejects (what could not become a dialogue)."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import orjson

EXCERPT_BYTES = 512


class RawRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One source record as a container found it: parsed data, or the error that stopped it."""

    index: int
    line: int | None
    raw: bytes = b""
    data: Any = None
    key: str | None = None
    error: tuple[str, str] | None = None
    context: dict[str, Any] | None = None
    group: bool = False

    def excerpt(self) -> str:
        """Return a bounded excerpt of the record as the source gave it (or as JSON when it had no text)."""
        if self.raw or self.data is None:
            return excerpt(self.raw)
        try:
            shown = orjson.dumps(self.data, default=str, option=orjson.OPT_NON_STR_KEYS)
        except orjson.JSONEncodeError:
            # What orjson refuses (lone surrogates, integers past 64 bits, deep nesting) is shown escaped.
            try:
                shown = json.dumps(self.data, default=str).encode()
            except (TypeError, ValueError, RecursionError):
                shown = f"<{type(self.data).__name__} that cannot be shown as JSON>".encode()
        return excerpt(shown)


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    """Resource limits: past any of them a record or file is rejected with a clear code, never a crash."""

    max_record_bytes: int = 16 << 20
    max_document_bytes: int = 2 << 30
    max_decompressed_bytes: int = 8 << 30
    max_yaml_aliases: int = 100
    max_depth: int = 100


class Reject(msgspec.Struct, frozen=True, kw_only=True):
    """A source record (or whole file) that could not become a dialogue, with the reason."""

    code: str
    message: str
    path: str
    line: int | None
    index: int | None
    key: str | None = None
    excerpt: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the ledger line: `source` (path, line, index, key), `code`, `message`, `excerpt`."""
        return {
            "source": {"path": self.path, "line": self.line, "index": self.index, "key": self.key},
            "code": self.code,
            "message": self.message,
            "excerpt": self.excerpt,
        }


def writable(text: str) -> str:
    """Return `text` as it can be written as UTF-8: a lone surrogate becomes its escape (`\\ud800`)."""
    if text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def excerpt(raw: bytes, limit: int = EXCERPT_BYTES) -> str:
    """Return at most `limit` bytes of `raw` as UTF-8 text, cut on a character boundary."""
    end = min(limit, len(raw))
    while 0 < end < len(raw) and raw[end] & 0xC0 == 0x80:
        end -= 1
    # Invalid bytes show as \x escapes so the excerpt says exactly what was there.
    text = raw[:end].decode("utf-8", errors="backslashreplace")
    while len(text.encode("utf-8", "surrogatepass")) > limit:
        text = text[:-1]
    return text + "…" if end < len(raw) else text
