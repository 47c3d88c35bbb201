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
    lines = iter_raw_lines(stream, encoding, limits, text=True)
    feed = _CsvFeed(lines)
    first = list(itertools.islice(feed.texts(), 64))
    dialect = delimiter or _sniff_delimiter(first)
    reader = csv.reader(itertools.chain(first, feed.texts()), delimiter=dialect, strict=False)
    csv.field_size_limit(limits.max_record_bytes)
    header: list[str] | None = None
    index = 0
    for row in _rows(reader, feed, limits):
        if isinstance(row, RawRecord):
            yield msgspec.structs.replace(row, index=index)
            index += 1
            continue
        line, cells = row
        if header is None:
            header = cells if _is_header(cells, first) else [f"column{i + 1}" for i in range(len(cells))]
            if header is cells:
                continue
        yield _row_record(header, cells, index=index, line=line)
        index += 1


class _CsvFeed:
    """Feed decoded lines to csv.reader while remembering physical line numbers and bad lines."""

    def __init__(self, lines: Iterator[Line]) -> None:
        self.lines = lines
        self.pending: deque[tuple[int, str]] = deque()  # (physical line, text) given but not yet parsed
        self.errors: list[RawRecord] = []

    def texts(self) -> Iterator[str]:
        """Yield each line's text with its newline; bad lines are set aside as error records.

        A lone CR ends a row too, as when Python's csv reads a file opened with newline='' (old Mac
        files): the csv module refuses one inside an unquoted field, and keeps one in a quoted field.
        """
        for number, raw, error in self.lines:
            if error is not None:
                self.errors.append(RawRecord(index=0, line=number, raw=raw, error=error))
                continue
            text = raw.decode("utf-8")
            if "\r" in text:
                *parts, text = text.split("\r")
                for part in parts:
                    self.pending.append((number, part + "\r"))
                    yield part + "\r"
            self.pending.append((number, text + "\n"))
            yield text + "\n"

    def take(self, count: int) -> tuple[int | None, str]:
        """Forget the next `count` texts, which the reader has parsed; return their first line and text."""
        taken = [self.pending.popleft() for _ in range(min(count, len(self.pending)))]
        return (taken[0][0] if taken else None), "".join(text for _, text in taken)


def _rows(reader: Any, feed: _CsvFeed, limits: Limits) -> Iterator[tuple[int, list[str]] | RawRecord]:
    """Yield (start line, cells) per row, and the bad lines and rows met on the way, in order.

    A row that the csv module refuses (a field past the size limit) is an error record; the reader
    goes on with the next line.
    """
    consumed = 0
    while True:
        problem = None
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if "field limit" not in str(exc):
                raise ValueError(f"cannot read the CSV: {exc}") from exc
            cells, problem = [], f"expected fields of at most {limits.max_record_bytes:,} characters"
        yield from feed.errors
        feed.errors.clear()
        start, text = feed.take(reader.line_num - consumed)
        line = consumed + 1 if start is None else start
        consumed = reader.line_num
        if problem is not None:
            raw = text.encode("utf-8")[:1024]
            yield RawRecord(index=0, line=line, raw=raw, error=("record.too_large", problem))
        elif cells and any(c.strip() for c in cells):
            yield line, cells
    yield from feed.errors


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


def iter_parquet(path: Path) -> Iterator[RawRecord]:
    """Yield one record per Parquet row, batch by batch."""
    import pyarrow.parquet as pq

    rows = (
        row for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS) for row in batch.to_pylist()
    )
    yield from _row_records(rows)


def iter_arrow(path: Path) -> Iterator[RawRecord]:
    """Yield one record per row of an Arrow file (stream or file format, as `datasets` writes them)."""
    import pyarrow as pa

    with pa.memory_map(str(path)) as source:
        try:
            reader: Any = pa.ipc.open_stream(source)
        except pa.ArrowInvalid:
            source.seek(0)
            reader = pa.ipc.open_file(source)
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
