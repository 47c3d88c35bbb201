"""Tabular containers: CSV/TSV rows, Parquet and Arrow rows, Hugging Face datasets saved to disk."""

from __future__ import annotations

import csv
import itertools
import re
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import msgspec
import msgspec.structs

from dialogdata.ingest.containers import Line, iter_raw_lines
from dialogdata.ingest.formats.columns import KNOWN_COLUMNS, normalise
from dialogdata.ingest.records import Limits, RawRecord

BATCH_ROWS = 1024
_HEADER_CELL = re.compile(r"^[\w\s./()#-]{1,64}$", re.UNICODE)


def iter_csv(
    stream: IO[bytes], encoding: str, limits: Limits, *, delimiter: str | None
) -> Iterator[RawRecord]:
    """Yield one record per CSV row as {column: text}, with the physical line the row starts on."""
    feed = _CsvFeed(iter_raw_lines(stream, encoding, limits, text=True), limits.max_record_bytes)
    first = feed.sample(64)
    feed.delimiter = delimiter or _sniff_delimiter(first)
    reader = csv.reader(feed, delimiter=feed.delimiter, strict=False)
    csv.field_size_limit(limits.max_record_bytes)
    header: list[str] | None = None
    index = 0
    for row in _rows(reader, feed):
        if isinstance(row, RawRecord):
            yield msgspec.structs.replace(row, index=index)
            index += 1
            continue
        line, cells = row
        if header is None:
            header = cells if _is_header(cells, first) else [f"column{i + 1}" for i in range(len(cells))]
            feed.width = len(header)
            if header is cells:
                continue
        yield _row_record(header, cells, index=index, line=line)
        index += 1


class _RunawayQuoteError(Exception):
    """The row's quoted field has no closing quote where one is needed: the message says what was found."""


class _RowTooLargeError(Exception):
    """The row grew past the record limit over several physical lines."""


class _CsvFeed:
    """Feed decoded lines to csv.reader one by one, keeping the physical lines of the row being read.

    Resync rule, so that a quote that never closes cannot swallow the rest of the file: a row whose
    quoted field runs over several lines is a runaway quote, rejected as `csv.invalid` at the line where
    the row (and so the quote) starts, when
    - the file ends inside the quoted field, or
    - the row is rejected anyway (a field count other than the header's, or past the record limit) and
      at least half of the lines its quote swallowed read alone as complete rows of the header's width.
    Reading then resumes at the line after the row's first: the swallowed lines are read again, marked
    replayed. The first reading left the quote open across each of them, so a row that starts on a
    replayed line and runs past it would swallow the same lines again: it is a runaway at once, which
    keeps the work linear. A row is held only up to the record limit; a quoted field past it that is not
    a runaway is `record.too_large`, and its lines are skipped, unparsed, up to its closing quote. A
    legitimate multi-line field (closed, with the header's field count) is never touched.
    """

    def __init__(self, lines: Iterator[Line], limit: int) -> None:
        self.source = self._texts(lines)
        self.limit = limit
        self.delimiter = ","
        self.width: int | None = None  # the header's field count, once known
        self.replay: deque[tuple[int, str, bool]] = deque()  # (line, text, replayed) to give before new ones
        self.row: list[tuple[int, str]] = []  # (physical line, text) given for the row being read
        self.row_replayed = False
        self.size = 0
        self.errors: list[RawRecord] = []

    def _texts(self, lines: Iterator[Line]) -> Iterator[tuple[int, str]]:
        """Yield each line's number and text with its newline; bad lines are set aside as error records.

        A lone CR ends a row too, as when Python's csv reads a file opened with newline='' (old Mac
        files): the csv module refuses one inside an unquoted field, and keeps one in a quoted field.
        """
        for number, raw, error in lines:
            if error is not None:
                self.errors.append(RawRecord(index=0, line=number, raw=raw, error=error))
                continue
            text = raw.decode("utf-8")
            if "\r" in text:
                *parts, text = text.split("\r")
                for part in parts:
                    yield number, part + "\r"
            yield number, text + "\n"

    def sample(self, count: int) -> list[str]:
        """Read the first `count` lines ahead (the reader still gets them); return their texts."""
        self.replay.extend((number, text, False) for number, text in itertools.islice(self.source, count))
        return [text for _, text, _ in self.replay]

    def __iter__(self) -> _CsvFeed:
        return self

    def __next__(self) -> str:
        """Give the reader its next line, or stop the row being read (see the class's resync rule)."""
        row = self.row
        if row and self.row_replayed:
            raise _RunawayQuoteError("found none on the lines an earlier runaway quote swallowed")
        if self.replay:
            number, text, replayed = self.replay.popleft()
        else:
            item = next(self.source, None)
            if item is None:
                if row:
                    raise _RunawayQuoteError("found the end of the file")
                raise StopIteration
            (number, text), replayed = item, False
        if not row:
            self.size, self.row_replayed = len(text), replayed
        else:
            self.size += len(text)
            if self.size > self.limit:
                self.replay.appendleft((number, text, replayed))
                raise _RowTooLargeError
        row.append((number, text))
        return text

    def take(self) -> list[tuple[int, str]]:
        """Return the lines of the row just read (or stopped) and start the next row."""
        lines, self.row = self.row, []
        return lines

    def reject_runaway(self, lines: list[tuple[int, str]], found: str) -> RawRecord:
        """Reject a runaway quote's row at its first line and give the lines it swallowed again."""
        self.replay.extendleft((number, text, True) for number, text in reversed(lines[1:]))
        message = f"expected a closing quote for the quoted field opened on this line, {found}"
        return RawRecord(index=0, line=lines[0][0], raw=_excerpt(lines[:1]), error=("csv.invalid", message))

    def reject_too_large(self, message: str) -> RawRecord:
        """Reject the row stopped past the record limit, and skip the rest of its quoted field, if open."""
        lines = self.take()
        if _row_ends_quoted(lines, self.delimiter):
            if self.holds_rows(lines[1:]):
                found = "found none within the record limit, over lines that read as rows"
                return self.reject_runaway(lines, found)
            self.skip_quoted()
        return RawRecord(index=0, line=lines[0][0], raw=_excerpt(lines), error=("record.too_large", message))

    def holds_rows(self, lines: list[tuple[int, str]]) -> bool:
        """Tell whether at least half of `lines`, each read alone, are complete rows of the header's width."""
        rows = sum(1 for _, text in lines if _is_row(text[:-1], self.width, self.delimiter))
        return rows > 0 and 2 * rows >= len(lines)

    def skip_quoted(self) -> None:
        """Drop lines, unparsed and unkept, until the quoted field open at the end of the last one closes."""
        while True:
            item = self.replay.popleft()[:2] if self.replay else next(self.source, None)
            if item is None or not _ends_quoted(item[1][:-1], quoted=True, delimiter=self.delimiter):
                return


def _rows(reader: Any, feed: _CsvFeed) -> Iterator[tuple[int, list[str]] | RawRecord]:
    """Yield (start line, cells) per row, and the bad lines and rows met on the way, in order.

    A row that cannot be read (a runaway quote, a field or row past the record limit) is an error record,
    and reading goes on as _CsvFeed's resync rule says.
    """
    too_large = f"expected fields and multi-line rows of at most {feed.limit:,} characters, found more"
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except _RunawayQuoteError as runaway:
            record = feed.reject_runaway(feed.take(), str(runaway))
        except (_RowTooLargeError, csv.Error) as exc:
            if isinstance(exc, csv.Error) and "field limit" not in str(exc):
                raise ValueError(f"cannot read the CSV: {exc}") from exc
            record = feed.reject_too_large(too_large)
        else:
            lines = feed.take()
            if len(lines) > 1 and len(cells) != feed.width and feed.width and feed.holds_rows(lines[1:]):
                record = feed.reject_runaway(lines, "found one only after lines that read as rows")
            else:
                if feed.errors:
                    yield from feed.errors
                    feed.errors.clear()
                if cells and any(c.strip() for c in cells):
                    yield lines[0][0], cells
                continue
        if feed.errors:
            yield from feed.errors
            feed.errors.clear()
        yield record
    yield from feed.errors


def _ends_quoted(text: str, *, quoted: bool, delimiter: str) -> bool:
    """Tell whether a line (without its newline) ends inside a quoted field, read as csv.reader(strict=False).

    `quoted` says whether the line starts inside a quoted field (else it starts a row). Past a closing
    quote the field goes on unquoted up to the next delimiter, and a quote there is text.
    """
    at = 0
    while True:
        if quoted:
            close = text.find('"', at)
            if close < 0:
                return True
            if text.startswith('"', close + 1):
                at = close + 2
                continue
            quoted, at = False, close + 1
        elif text.startswith('"', at):
            quoted, at = True, at + 1
            continue
        end = text.find(delimiter, at)
        if end < 0:
            return False
        at = end + len(delimiter)


def _row_ends_quoted(lines: list[tuple[int, str]], delimiter: str) -> bool:
    """Tell whether a row's lines end inside a quoted field."""
    quoted = False
    for _, text in lines:
        quoted = _ends_quoted(text[:-1], quoted=quoted, delimiter=delimiter)
    return quoted


def _is_row(text: str, width: int | None, delimiter: str) -> bool:
    """Tell whether a line read alone is a complete row of `width` fields (of two or more when unknown)."""
    if _ends_quoted(text, quoted=False, delimiter=delimiter):
        return False
    cells = next(csv.reader([text], delimiter=delimiter, strict=False), [])
    return len(cells) == width if width is not None else len(cells) > 1


def _excerpt(lines: list[tuple[int, str]]) -> bytes:
    """The first KiB of the lines' text, as the source gave it."""
    parts: list[str] = []
    size = 0
    for _, text in lines:
        parts.append(text[:1024])
        size += len(parts[-1])
        if size >= 1024:
            break
    return "".join(parts).encode("utf-8")[:1024]


def _row_record(header: list[str], cells: list[str], *, index: int, line: int) -> RawRecord:
    """Return a row as a record, or an error record when its field count differs from the header's."""
    raw = ",".join(cells).encode("utf-8")
    if len(cells) != len(header):
        message = f"expected {len(header)} fields as in the header, found {len(cells)}"
        return RawRecord(index=index, line=line, raw=raw, error=("csv.field_count", message))
    return RawRecord(index=index, line=line, raw=raw, data=dict(zip(header, cells, strict=True)))


def _sniff_delimiter(lines: list[str]) -> str:
    """Pick the delimiter (comma, tab, semicolon, bar) that splits the first lines most consistently."""
    sample = "".join(lines[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        return ","


def _is_header(cells: list[str], lines: list[str]) -> bool:
    """Tell a header row: distinct label-like cells that name known columns or differ from the rows below."""
    stripped = [c.strip() for c in cells]
    if len(set(stripped)) != len(stripped) or not all(stripped):
        return False
    if not all(_HEADER_CELL.match(c) and not _is_number(c) for c in stripped):
        return False
    if any(normalise(c) in KNOWN_COLUMNS for c in stripped):
        return True
    try:
        return csv.Sniffer().has_header("".join(lines[:20]))
    except csv.Error:
        return False


def _is_number(text: str) -> bool:
    """Tell whether a cell is a number."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def iter_parquet(source: Path | bytes) -> Iterator[RawRecord]:
    """Yield one record per row of a Parquet file (or its bytes); an empty file has none."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if _is_empty(source):
        return
    with pq.ParquetFile(source if isinstance(source, Path) else pa.BufferReader(source)) as parquet:
        yield from _row_records(_parquet_rows(parquet))


def _parquet_rows(parquet: Any) -> Iterator[dict[str, Any]]:
    """Yield the rows batch by batch, one row group at a time.

    A batch never spans two row groups, so the rows of the groups before a damaged one are all read
    before its error stops the file.
    """
    for group in range(parquet.num_row_groups):
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS, row_groups=[group]):
            yield from batch.to_pylist()


def iter_arrow(source: Path | bytes) -> Iterator[RawRecord]:
    """Yield one record per row of an Arrow file or its bytes (stream or file format, as `datasets` writes).

    An empty file has no rows.
    """
    import pyarrow as pa

    if _is_empty(source):
        return
    opened = pa.memory_map(str(source)) if isinstance(source, Path) else pa.BufferReader(source)
    with opened:
        try:
            reader: Any = pa.ipc.open_stream(opened)
        except pa.ArrowInvalid:
            opened.seek(0)
            reader = pa.ipc.open_file(opened)
            batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
        else:
            batches = iter(reader)
        yield from _row_records(row for batch in batches for row in batch.to_pylist())


def iter_hf_dataset(path: Path) -> Iterator[RawRecord]:
    """Yield the rows of a Hugging Face `save_to_disk` folder (read as data; no code is run)."""
    import datasets

    dataset = datasets.load_from_disk(str(path))
    if isinstance(dataset, datasets.DatasetDict):
        raise ValueError("expected one split's folder; point at a split inside the DatasetDict folder")
    yield from _row_records(row for batch in dataset.iter(batch_size=BATCH_ROWS) for row in _unbatch(batch))


def _unbatch(batch: Any) -> Iterator[dict[str, Any]]:
    """Turn a columnar batch {column: [values]} into rows."""
    columns = list(batch)
    for values in zip(*(batch[c] for c in columns), strict=True):
        yield dict(zip(columns, values, strict=True))


def _row_records(rows: Iterator[dict[str, Any]]) -> Iterator[RawRecord]:
    """Number rows as records (rows have no lines; the index is the 0-based row)."""
    for index, row in enumerate(rows):
        yield RawRecord(index=index, line=None, key=f"row {index + 1}", data=row)


def _is_empty(source: Path | bytes) -> bool:
    """Tell an empty file (an input with zero records, as for every container), which pyarrow refuses."""
    return (source.stat().st_size if isinstance(source, Path) else len(source)) == 0
