"""Containers: the bytes of one input -> raw records, each with its 1-based line (or row, or key)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import IO, Any, BinaryIO, cast

import msgspec
import msgspec.structs
import orjson

from dialogdata.ingest.encoding import decode_text, iter_lines
from dialogdata.ingest.records import Limits, RawRecord

_BOM = b"\xef\xbb\xbf"
# Strings first, so brackets and commas inside them are skipped; the rest is structure.
_JSON_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{},]', re.DOTALL)
_CLOSER = {b"[": b"]", b"{": b"}"}
# Digits become "0" and minus stays, so one substring search finds every run of digits long enough to be an
# integer past 64 bits, which orjson turns into a float: 20 digits, or 19 after a minus sign.
_DIGIT_RUNS = bytes(48 if 48 <= b <= 57 else 45 if b == 45 else 32 for b in range(256))
_LONG_INTEGER = b"0" * 20
_LONG_NEGATIVE = b"-" + b"0" * 19
_SCAN_BYTES = 16 << 20
_MIN_INT, _MAX_INT = -(2**63), 2**64 - 1


Line = tuple[int, bytes, tuple[str, str] | None]
"""A physical line: its 1-based number, its bytes as UTF-8 (or as found, when bad), and the error if any."""


def iter_raw_lines(stream: IO[bytes], encoding: str, limits: Limits, *, text: bool = False) -> Iterator[Line]:
    """Yield the lines of a stream as UTF-8: raw bytes when it is UTF-8, decoded line by line otherwise.

    UTF-8 lines are passed on unchecked (a JSON parser checks them as it goes); with `text`, for readers
    that decode every line (CSV, plain text), a line that is not valid UTF-8 comes as an
    `encoding.invalid` error instead, so that only valid UTF-8 is ever passed on.
    """
    if encoding in ("utf-8", "utf-8-sig"):
        lines = _utf8_lines(stream, limits)
        return _checked_lines(lines) if text else lines
    return _decoded_lines(stream, encoding)


def utf8_error(raw: bytes) -> tuple[str, str] | None:
    """Return the `encoding.invalid` error of bytes that are not valid UTF-8 (a lone surrogate included)."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        message = f"expected UTF-8 text, found byte 0x{raw[bad.start]:02x} at offset {bad.start}"
        return "encoding.invalid", message
    return None


def _checked_lines(lines: Iterator[Line]) -> Iterator[Line]:
    """Turn the UTF-8 lines that do not decode into `encoding.invalid` errors."""
    for number, raw, error in lines:
        yield number, raw, error or utf8_error(raw)


def iter_jsonl(stream: IO[bytes], encoding: str, limits: Limits) -> Iterator[RawRecord]:
    """Yield one record per non-blank line; a bad line becomes an error record, not a stop."""
    lines = iter_raw_lines(stream, encoding, limits)
    index = 0
    for number, raw, error in lines:
        if error is None and (not raw or raw.isspace()):
            continue
        yield (
            RawRecord(index=index, line=number, raw=raw, error=error)
            if error
            else parse_json(raw, index=index, line=number, limits=limits)
        )
        index += 1


def _utf8_lines(stream: IO[bytes], limits: Limits) -> Iterator[tuple[int, bytes, tuple[str, str] | None]]:
    """Yield (line number, bytes, error) for UTF-8 input, never holding more than one record in memory."""
    number = 0
    while True:
        raw = stream.readline(limits.max_record_bytes + 1)
        if not raw:
            return
        number += 1
        if number == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM) :]
        if len(raw) > limits.max_record_bytes and not raw.endswith(b"\n"):
            size = len(raw) + _skip_line(stream)
            message = f"expected a record of at most {limits.max_record_bytes:,} bytes, found {size:,}"
            yield number, raw[:1024], ("record.too_large", message)
            continue
        yield number, raw.rstrip(b"\r\n"), None


def _skip_line(stream: IO[bytes]) -> int:
    """Read past the rest of an over-long line; return how many bytes were skipped."""
    skipped = 0
    while chunk := stream.readline(1 << 20):
        skipped += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return skipped


def _decoded_lines(stream: IO[bytes], encoding: str) -> Iterator[tuple[int, bytes, tuple[str, str] | None]]:
    """Yield (line number, UTF-8 bytes, error) for input in another encoding, line by line."""
    for line in iter_lines(cast(BinaryIO, stream), encoding):
        if line.text is None:
            yield line.number, line.raw, ("encoding.invalid", line.error or f"expected {encoding} text")
        else:
            yield line.number, line.text.encode("utf-8", "surrogatepass"), None


def read_document(
    stream: IO[bytes], encoding: str, limits: Limits
) -> tuple[bytes | None, tuple[str, str] | None]:
    """Read a whole document as UTF-8 bytes, or return why it cannot be (too large, bad encoding)."""
    data = stream.read(limits.max_document_bytes + 1)
    if len(data) > limits.max_document_bytes:
        return None, ("file.too_large", f"expected a document of at most {limits.max_document_bytes:,} bytes")
    if encoding in ("utf-8", "utf-8-sig"):
        return data.removeprefix(_BOM), None
    text, error = decode_text(data, encoding)
    if text is None:
        return None, ("encoding.invalid", error or f"expected {encoding} text")
    return text.encode("utf-8", "surrogatepass"), None


def iter_json(
    stream: IO[bytes], encoding: str, limits: Limits, *, whole: bool = False
) -> Iterator[RawRecord]:
    """Yield the records of a JSON file: an array, an object keyed by id, one record, or JSON Lines.

    With `whole`, an object is one record however it looks (a mapping's `records` path digs into it).
    """
    data, error = read_document(stream, encoding, limits)
    if data is None:
        yield RawRecord(index=0, line=None, error=error)
        return
    body = data.lstrip()
    if not body:
        return
    if body[:1] == b"[":
        yield from _iter_array(data, limits)
        return
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        # Not one document: JSON Lines saved as .json is the common case.
        yield from iter_jsonl(io.BytesIO(data), "utf-8", limits)
        return
    document = _exact_integers(data, document)
    # Counting brackets in C first: a document with fewer brackets than the limit cannot nest past it.
    deep = data.count(b"[") + data.count(b"{") > limits.max_depth
    for record in _iter_object(document, data, split=not whole):
        yield _within_depth(record, limits) if deep else record


def _iter_object(document: object, data: bytes, *, split: bool) -> Iterator[RawRecord]:
    """Yield a single record, or one record per value of an object keyed by id."""
    if split and isinstance(document, dict) and _is_keyed_by_id(document):
        for index, (key, value) in enumerate(document.items()):
            yield RawRecord(index=index, line=None, key=str(key), data=value)
        return
    yield RawRecord(index=0, line=1, raw=data, data=document)


def _within_depth(record: RawRecord, limits: Limits) -> RawRecord:
    """Return the record, or a `record.too_deep` error in its place when it nests past the limit."""
    if not too_deep(record.data, limits.max_depth):
        return record
    error = ("record.too_deep", f"expected nesting of at most {limits.max_depth} levels")
    return msgspec.structs.replace(record, raw=record.raw[:1024], data=None, error=error)


def _is_keyed_by_id(whole: object) -> bool:
    """Tell an object keyed by id (most values objects, none a turn list) from a single record.

    A value that is not an object then becomes a record of its own, rejected alone, so one bad value
    does not turn the whole file into one unreadable record.
    """
    if not isinstance(whole, dict) or not whole:
        return False
    objects = sum(isinstance(v, dict) for v in whole.values())
    if objects == len(whole):
        return True
    # A single record has a turn list or text fields; values that are mostly objects are records.
    return objects >= 2 and 2 * objects > len(whole) and not any(isinstance(v, list) for v in whole.values())


def _iter_array(data: bytes, limits: Limits) -> Iterator[RawRecord]:
    """Yield each element of a top-level JSON array, parsed alone so one bad element stays alone."""
    line, counted = 1, 0
    for index, (start, end) in enumerate(_array_spans(data)):
        element = data[start:end]
        # The line of the element's first byte, not of the comma before it.
        first = start + len(element) - len(element.lstrip())
        line += data.count(b"\n", counted, first)
        counted = first
        yield parse_json(element.strip(), index=index, line=line, limits=limits)


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


def parse_json(raw: bytes, *, index: int, line: int | None, limits: Limits) -> RawRecord:
    """Parse one JSON value; errors become an error record with a stable code."""
    if len(raw) > limits.max_record_bytes:
        message = f"expected a record of at most {limits.max_record_bytes:,} bytes, found {len(raw):,}"
        return RawRecord(index=index, line=line, raw=raw[:1024], error=("record.too_large", message))
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return RawRecord(index=index, line=line, raw=raw, error=_json_error(raw, exc))
    # Counting brackets in C first: a record with fewer brackets than the limit cannot nest past it.
    if raw.count(b"[") + raw.count(b"{") > limits.max_depth and too_deep(data, limits.max_depth):
        message = f"expected nesting of at most {limits.max_depth} levels"
        return RawRecord(index=index, line=line, raw=raw, error=("record.too_deep", message))
    return RawRecord(index=index, line=line, raw=raw, data=_exact_integers(raw, data))


def loads_exact(text: str | bytes) -> Any:
    """Parse JSON text (as orjson does, raising its error), keeping integers past 64 bits as their digits."""
    data = orjson.loads(text)
    # orjson refuses a lone surrogate in `text`, so what it parsed encodes as UTF-8.
    return _exact_integers(text if isinstance(text, bytes) else text.encode("utf-8"), data)


def _exact_integers(raw: bytes, data: Any) -> Any:
    """Return the parsed value, with every integer past 64 bits as its exact digits instead of a float.

    orjson reads such an integer as a float (an id 123456789012345678901234567890 would become
    1.2345678901234568e+29); the stdlib parses it exactly, and it is kept as text, since nothing
    downstream (the spill, JSON Lines, Parquet) holds an integer past 64 bits. orjson has checked the JSON
    already, so the second parse only runs on the rare record with a long run of digits.
    """
    if not _has_long_digit_run(raw):
        return data
    try:
        return json.loads(raw.decode("utf-8"), parse_int=_int_or_digits)
    except RecursionError:
        # Nesting orjson holds but the stdlib cannot: such a record is past the depth limit anyway.
        return data


def _int_or_digits(digits: str) -> int | str:
    """Return an integer that fits in 64 bits (signed or unsigned, as orjson reads it), else its digits."""
    number = int(digits)
    return number if _MIN_INT <= number <= _MAX_INT else digits


def _has_long_digit_run(raw: bytes) -> bool:
    """Tell whether `raw` holds a run of digits as long as an integer past 64 bits (20, or a minus and 19)."""
    # In slices that overlap by a run's length, so a whole document is never copied at once.
    for start in range(0, len(raw), _SCAN_BYTES):
        part = raw[start : start + _SCAN_BYTES + len(_LONG_INTEGER)]
        # Such a run holds two digits 9 bytes apart at multiples of 9: every ninth byte, looked at first,
        # clears nearly every record at a third of the cost of the exact search.
        if b"00" in part[::9].translate(_DIGIT_RUNS):
            runs = part.translate(_DIGIT_RUNS)
            if _LONG_INTEGER in runs or _LONG_NEGATIVE in runs:
                return True
    return False


def _json_error(raw: bytes, exc: orjson.JSONDecodeError) -> tuple[str, str]:
    """Classify a parse failure: bad UTF-8, nesting past the parser's limit, or bad JSON."""
    if (invalid := utf8_error(raw)) is not None:
        return invalid
    if "surrogate" in str(exc).lower():
        return "text.surrogate", f"expected text without lone surrogates: {exc}"
    # orjson says "depth limit exceeded" past 1024 levels; "recursion" covers other parsers' wording.
    if any(word in str(exc).lower() for word in ("depth limit", "recursion")):
        return "record.too_deep", f"expected nesting the parser can hold: {exc}"
    return "json.invalid", f"expected JSON: {exc}"


def too_deep(data: Any, limit: int) -> bool:
    """Tell whether containers nest deeper than `limit` (iteratively, so a deep value cannot crash us)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        if depth > limit:
            return True
        stack.extend((item, depth + 1) for item in value if isinstance(item, dict | list))
    return False
