"""Containers: bytes of one file -> raw records, each with its 1-based line and index."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import orjson

from dialogdata.ingest.records import RawRecord

_BOM = b"\xef\xbb\xbf"
# Strings first, so brackets and commas inside them are skipped; the rest is structure.
_JSON_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},]', re.DOTALL)
_CLOSER = {b"[": b"]", b"{": b"}"}

CONTAINERS = ("jsonl", "json")
SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}


def container_of(path: Path) -> str | None:
    """Return the container name for `path` by its suffix, or None when unsupported."""
    return SUFFIXES.get(path.suffix.lower())


def iter_jsonl(path: Path) -> Iterator[RawRecord]:
    """Yield one record per non-blank line; a bad line becomes an error record, not a stop."""
    with path.open("rb") as stream:
        index = 0
        for number, raw in enumerate(stream, start=1):
            if number == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM) :]
            if not raw.strip():
                continue
            yield _parse(raw.rstrip(b"\r\n"), index=index, line=number)
            index += 1


def iter_json(path: Path) -> Iterator[RawRecord]:
    """Yield the records of a JSON file: an array, an object keyed by id, or JSON Lines."""
    data = path.read_bytes()
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    body = data.lstrip()
    if not body:
        return
    if body[:1] == b"[":
        yield from _iter_array(data)
        return
    try:
        whole = orjson.loads(data)
    except orjson.JSONDecodeError:
        # Not one document: JSON Lines saved as .json is the common case.
        yield from iter_jsonl(path)
        return
    yield from _iter_object(whole, data)


def _iter_object(whole: object, data: bytes) -> Iterator[RawRecord]:
    """Yield a single record, or one record per value of an object keyed by id."""
    if _is_keyed_by_id(whole):
        assert isinstance(whole, dict)
        for index, (key, value) in enumerate(whole.items()):
            yield RawRecord(index=index, line=None, key=str(key), raw=orjson.dumps(value), data=value)
        return
    yield RawRecord(index=0, line=1, raw=data, data=whole)


def _is_keyed_by_id(whole: object) -> bool:
    """Tell an object keyed by id (every value an object, none a turn list) from a single record."""
    if not isinstance(whole, dict) or not whole:
        return False
    return all(isinstance(v, dict) for v in whole.values()) and not _looks_like_record(whole)


def _looks_like_record(obj: dict[str, object]) -> bool:
    """Tell a single dialogue record from an object keyed by id: records hold turn lists."""
    return any(isinstance(v, list) for v in obj.values())


def _iter_array(data: bytes) -> Iterator[RawRecord]:
    """Yield each element of a top-level JSON array, parsed alone so one bad element stays alone."""
    for index, (start, end) in enumerate(_array_spans(data)):
        element = data[start:end]
        # The line of the element's first byte, not of the comma before it.
        first = start + len(element) - len(element.lstrip())
        line = data.count(b"\n", 0, first) + 1
        yield _parse(element.strip(), index=index, line=line)


def _array_spans(data: bytes) -> Iterator[tuple[int, int]]:
    """Yield (start, end) byte spans of the top-level array's elements.

    A closer that does not match the innermost opener closes every opener up to its match, so one
    element with unbalanced brackets does not swallow the elements after it.
    """
    stack: list[bytes] = []
    start = -1
    for match in _JSON_TOKEN.finditer(data):
        token = match.group()
        if token in (b"[", b"{"):
            stack.append(_CLOSER[token])
            if len(stack) == 1:
                start = match.end()
        elif token in (b"]", b"}"):
            if token in stack:
                del stack[len(stack) - 1 - stack[::-1].index(token) :]
            if not stack:
                yield from _last_spans(data, start, match)
                return
        elif token == b"," and len(stack) == 1:
            yield start, match.start()
            start = match.end()
    if start >= 0 and data[start:].strip():
        # Unterminated array (a truncated file): what is left is one last, broken element.
        yield start, len(data)


def _last_spans(data: bytes, start: int, close: re.Match[bytes]) -> Iterator[tuple[int, int]]:
    """Yield the last element before the array's closing bracket, and any trailing junk after it."""
    if data[start : close.start()].strip():
        yield start, close.start()
    if data[close.end() :].strip():
        yield close.end(), len(data)


def _parse(raw: bytes, *, index: int, line: int | None) -> RawRecord:
    """Parse one JSON value; errors become an error record with a stable code."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        message = f"expected UTF-8 text, found byte 0x{raw[exc.start]:02x} at offset {exc.start}"
        return RawRecord(index=index, line=line, raw=raw, error=("encoding.invalid", message))
    try:
        return RawRecord(index=index, line=line, raw=raw, data=orjson.loads(text))
    except orjson.JSONDecodeError as exc:
        return RawRecord(index=index, line=line, raw=raw, error=("json.invalid", f"expected JSON: {exc}"))
