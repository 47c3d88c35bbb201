"""Formats: one raw record -> the turns, tools and meta of a `Dialogue`, detected per file."""

from __future__ import annotations

from collections.abc import Iterable

from dialogdata.ingest.formats.base import Format, Parsed, RecordError
from dialogdata.registry import FORMATS, resolve


def get_format(name: str) -> Format:
    """Return a new instance of the format called `name` (a `UsageError` lists the known ones)."""
    cls: type[Format] = resolve("format", name)
    return cls()


def detect_format(records: Iterable[object]) -> Format | None:
    """Return the format that claims the most of `records`, or None when none claims any."""
    formats = [get_format(name) for name in FORMATS]
    votes = dict.fromkeys(range(len(formats)), 0)
    for record in records:
        for i, fmt in enumerate(formats):
            votes[i] += _claims(fmt, record)
    best = max(votes, key=lambda i: (votes[i], -i))
    return formats[best] if votes[best] else None


def _claims(fmt: Format, record: object) -> bool:
    """Offer an object record to every format, a bare list to `claims_list`."""
    if isinstance(record, dict):
        return fmt.claims(record)
    return isinstance(record, list) and fmt.claims_list(record)


__all__ = ["FORMATS", "Format", "Parsed", "RecordError", "detect_format", "get_format"]
