"""Read input paths into dialogues, accounting for every source record."""

from __future__ import annotations

import copy
import gzip
import hashlib
import itertools
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec

from dialogdata._io import sha256_file
from dialogdata.ingest.containers import iter_json, iter_jsonl
from dialogdata.ingest.documents import iter_text, iter_yaml
from dialogdata.ingest.encoding import detect_encoding
from dialogdata.ingest.files import (
    CorruptArchiveError,
    InputFile,
    LimitError,
    Skipped,
    discover,
    iter_members,
    open_input,
)
from dialogdata.ingest.formats import Format, RecordError, detect_format, get_format
from dialogdata.ingest.mapping import DialogueMapping, dig, load_mapping
from dialogdata.ingest.records import Limits, RawRecord, Reject, writable
from dialogdata.ingest.tabular import iter_arrow, iter_csv, iter_hf_dataset, iter_parquet
from dialogdata.ingest.text import find_surrogate
from dialogdata.schemas import Dialogue, Source

DETECT_SAMPLE = 64
HEAD_BYTES = 1 << 16
RejectSink = Callable[[Reject], None]
# What a broken or hostile file raises while being read: each ends that file, never the run.
FILE_ERRORS = (OSError, EOFError, LimitError, zipfile.BadZipFile, zlib.error, gzip.BadGzipFile, ValueError)


class FileReport(msgspec.Struct, kw_only=True):
    """What reading one input found: its hash, container, encoding, format (with evidence) and counts."""

    path: str
    sha256: str = ""
    container: str | None = None
    compression: str | None = None
    encoding: str | None = None
    format: str | None = None
    evidence: str = ""
    records: int = 0
    dialogues: int = 0
    rejected: int = 0
    reject_codes: dict[str, int] = {}


class Reader:
    """Iterate the dialogues of input files; rejects go to `on_reject`, counts to `reports`."""

    def __init__(
        self,
        paths: Sequence[str | Path],
        *,
        format: str = "auto",
        mapping: DialogueMapping | str | Path | None = None,
        limits: Limits | None = None,
        on_reject: RejectSink | None = None,
    ) -> None:
        self.files, self.skipped = discover(paths)
        self.format = None if format == "auto" else get_format(format)
        self.mapping = load_mapping(mapping) if isinstance(mapping, str | Path) else mapping
        self.limits = limits or Limits()
        self.rejects: list[Reject] = []
        self.on_reject: RejectSink = on_reject or self.rejects.append
        self.reports: list[FileReport] = []

    def __iter__(self) -> Iterator[Dialogue]:
        """Yield every dialogue of every input, in sorted path order."""
        for item in self.files:
            yield from self.read_input(item)

    def detached(self) -> Reader:
        """Return a reader with this one's format, mapping and limits but no inputs, counts or sink.

        Another process reads one input with it (`read_input`) and sends back its dialogues, rejects
        (`rejects`), reports (`reports`) and skipped members (`skipped`).
        """
        clone = copy.copy(self)
        clone.files, clone.skipped, clone.rejects, clone.reports = [], [], [], []
        clone.on_reject = clone.rejects.append
        return clone

    def read_input(self, item: InputFile) -> Iterator[Dialogue]:
        """Yield the dialogues of one input, or of each member of a zip archive."""
        try:
            members = list(iter_members(item))
        except FILE_ERRORS as exc:
            report = self._report(item)
            self._reject(report, _file_reject(item.rel, "archive.corrupt", f"cannot open the archive: {exc}"))
            return
        if not members:
            # An archive with no members is an input with zero records, as an empty file is.
            self._report(item)
        for member in members:
            if isinstance(member, InputFile) and member.container == "text" and not self._text_mapped(member):
                member = Skipped(
                    member.rel, "plain text: give a mapping with turn_separator or blocks = true"
                )
            if isinstance(member, Skipped):
                self.skipped.append(member)
            else:
                yield from self._read_file(member, self._report(member))

    def _text_mapped(self, item: InputFile) -> bool:
        """Tell whether a plain-text input has a mapping that says how to split it."""
        m = self.mapping
        return m is not None and m.applies_to(item.rel) and bool(m.turn_separator or m.blocks)

    def _report(self, item: InputFile) -> FileReport:
        """Start the report of one input."""
        digest = _sha256(item.path) if item.member is None else ""
        report = FileReport(
            path=item.rel, sha256=digest, container=item.container, compression=item.compression
        )
        self.reports.append(report)
        return report

    def _read_file(self, item: InputFile, report: FileReport) -> Iterator[Dialogue]:
        """Yield one file's dialogues; a failure part-way rejects the rest of the file, never the run."""
        mapping = self.mapping if self.mapping and self.mapping.applies_to(item.rel) else None
        guarded = _Guarded(self._records(item, report, mapping))
        records = iter(guarded)
        try:
            sample = list(itertools.islice(records, DETECT_SAMPLE))
            fmt = self._choose_format(sample, mapping, report)
            stream: Iterator[RawRecord] = itertools.chain(sample, records)
            if fmt is not None and fmt.grouping:
                stream = _grouped(stream, fmt, self, item.rel, report)
            for raw in stream:
                report.records += 1
                dialogue = self._convert(raw, fmt, item.rel, report)
                if dialogue is not None:
                    report.dialogues += 1
                    yield dialogue
        except FILE_ERRORS as exc:
            guarded.error = exc
        if guarded.error is not None:
            code = _stop_code(guarded.error)
            message = f"reading stopped after {report.records} records: {guarded.error}"
            self._reject(report, _file_reject(item.rel, code, message))

    def _records(
        self, item: InputFile, report: FileReport, mapping: DialogueMapping | None
    ) -> Iterator[RawRecord]:
        """Open the input and yield its raw records, expanded by the mapping's `records` path."""
        records = _open_records(item, report, mapping, self.limits)
        if mapping is None or not mapping.records:
            yield from records
            return
        index = 0
        for raw in records:
            for expanded in _expand(raw, mapping.records, index):
                index += 1
                yield expanded

    def _choose_format(
        self, sample: list[RawRecord], mapping: DialogueMapping | None, report: FileReport
    ) -> Format | None:
        """Pick the format: --format, then the mapping, then detection on a sample of records."""
        fmt: Format | None
        if self.format is not None:
            fmt, report.evidence = self.format, "given with --format"
        elif mapping is not None and (mapped := mapping.to_format()) is not None:
            fmt, report.evidence = mapped, "described by the mapping"
        elif mapping is not None and mapping.format:
            fmt, report.evidence = get_format(mapping.format), "named by the mapping"
        else:
            data = [r.data for r in sample if r.error is None]
            fmt = detect_format(data)
            if fmt is not None:
                votes = sum(fmt.claims(d) if isinstance(d, dict) else fmt.claims_list(d) for d in data)
                report.evidence = f"{votes} of {len(data)} sampled records look like {fmt.name}"
        report.format = fmt.name if fmt else None
        return fmt

    def _convert(self, raw: RawRecord, fmt: Format | None, rel: str, report: FileReport) -> Dialogue | None:
        """Turn one raw record into a dialogue, or reject it with its code."""
        try:
            return _to_dialogue(raw, fmt, rel, report.encoding)
        except RecordError as exc:
            reject = Reject(
                code=exc.code,
                message=exc.message,
                path=rel,
                line=raw.line,
                index=raw.index,
                key=raw.key,
                excerpt=raw.excerpt(),
            )
            self._reject(report, reject)
            return None

    def _reject(self, report: FileReport, reject: Reject) -> None:
        """Count a reject against its file and hand it to the sink; a whole-file reject is one record."""
        # Messages and keys quote the record: a lone surrogate in them is escaped, so the ledger is writable.
        if not (reject.message.isascii() and (reject.key or "").isascii()):
            key = None if reject.key is None else writable(reject.key)
            reject = msgspec.structs.replace(reject, message=writable(reject.message), key=key)
        if reject.index is None:
            report.records += 1
        report.rejected += 1
        report.reject_codes[reject.code] = report.reject_codes.get(reject.code, 0) + 1
        self.on_reject(reject)

    @property
    def n_rejected(self) -> int:
        """Number of source records (or files) rejected so far."""
        return sum(r.rejected for r in self.reports)

    def reject_codes(self) -> Counter[str]:
        """Rejects so far, counted by code."""
        return Counter({c: n for r in self.reports for c, n in r.reject_codes.items()})


def read(
    paths: str | Path | Iterable[str | Path],
    *,
    format: str = "auto",
    mapping: DialogueMapping | str | Path | None = None,
) -> Iterator[Dialogue]:
    """Yield the dialogues in `paths` (files or folders); rejects are counted, not raised.

    >>> for dialogue in read("examples/raw"):  # doctest: +SKIP
    ...     print(dialogue.id, len(dialogue.turns))
    """
    given = [paths] if isinstance(paths, str | Path) else list(paths)
    return iter(Reader(given, format=format, mapping=mapping))


class _Guarded:
    """A file's records that end at the first error that stops reading it, kept in `error`.

    The records read before the error are then processed as any others (the sample that detects the
    format included), and the error becomes the file-level reject after them.
    """

    def __init__(self, records: Iterator[RawRecord]) -> None:
        self.records = records
        self.error: BaseException | None = None

    def __iter__(self) -> Iterator[RawRecord]:
        """Yield the records until the end of the file or the first error."""
        try:
            yield from self.records
        except FILE_ERRORS as exc:
            self.error = exc


def _open_records(
    item: InputFile, report: FileReport, mapping: DialogueMapping | None, limits: Limits
) -> Iterator[RawRecord]:
    """Open one input with the reader of its container, detecting its encoding first."""
    if item.container == "parquet":
        yield from iter_parquet(_table_source(item, limits))
        return
    if item.container == "arrow":
        yield from iter_arrow(_table_source(item, limits))
        return
    if item.container == "hf_dataset":
        yield from iter_hf_dataset(item.path)
        return
    with open_input(item, max_bytes=limits.max_decompressed_bytes, buffer_size=HEAD_BYTES) as stream:
        head = stream.peek(HEAD_BYTES)[:HEAD_BYTES]
        complete = item.member is None and item.compression is None and len(head) >= item.path.stat().st_size
        encoding = (mapping.encoding if mapping else None) or detect_encoding(head, complete=complete)
        report.encoding = encoding
        yield from _container_records(item, stream, encoding, mapping, limits)


def _table_source(item: InputFile, limits: Limits) -> Path | bytes:
    """Return a Parquet or Arrow file's path, or its bytes when it is compressed or inside a zip.

    Both need random access, so a compressed table is decompressed into memory, up to the limit of
    one document (`file.too_large` past it).
    """
    if item.member is None and item.compression is None:
        return item.path
    limit = min(limits.max_decompressed_bytes, limits.max_document_bytes)
    with open_input(item, max_bytes=limit) as stream:
        return stream.read()


def _container_records(
    item: InputFile, stream: Any, encoding: str, mapping: DialogueMapping | None, limits: Limits
) -> Iterator[RawRecord]:
    """Dispatch to the container's reader."""
    if item.container == "jsonl":
        yield from iter_jsonl(stream, encoding, limits)
    elif item.container == "json":
        yield from iter_json(stream, encoding, limits, whole=bool(mapping and mapping.records))
    elif item.container in ("csv", "tsv"):
        delimiter = (mapping.delimiter if mapping else None) or ("\t" if item.container == "tsv" else None)
        yield from iter_csv(stream, encoding, limits, delimiter=delimiter)
    elif item.container == "yaml":
        yield from iter_yaml(stream, encoding, limits)
    elif item.container == "text" and mapping is not None:
        yield from iter_text(
            stream, encoding, limits, turn_separator=mapping.turn_separator, blocks=mapping.blocks
        )


def _expand(raw: RawRecord, path: str, start: int) -> Iterator[RawRecord]:
    """Yield the dialogues found at `path` inside one record (a record that lacks it is an error)."""
    if raw.error is not None:
        yield msgspec.structs.replace(raw, index=start)
        return
    try:
        items = dig(raw.data, path)
    except RecordError as exc:
        yield msgspec.structs.replace(raw, index=start, error=(exc.code, exc.message))
        return
    if not isinstance(items, list):
        yield msgspec.structs.replace(
            raw, index=start, error=("format.bad_type", f"{path!r}: expected a list")
        )
        return
    prefix = f"{raw.key}/" if raw.key else ""
    for i, item in enumerate(items):
        yield RawRecord(
            index=start + i, line=raw.line, key=f"{prefix}{path}[{i}]", data=item, context=raw.context
        )


def _grouped(
    records: Iterator[RawRecord], fmt: Format, reader: Reader, rel: str, report: FileReport
) -> Iterator[RawRecord]:
    """Group table rows into dialogues by their dialogue id; a row without one is rejected alone."""
    groups: dict[str, list[RawRecord]] = {}
    for raw in records:
        try:
            if raw.error is not None or not isinstance(raw.data, dict):
                raise RecordError(*(raw.error or ("record.not_object", "expected a table row")))
            groups.setdefault(fmt.group_key(raw.data), []).append(raw)
        except RecordError as exc:
            report.records += 1
            reader._reject(report, Reject(code=exc.code, message=exc.message, path=rel, line=raw.line,
                                          index=raw.index, key=raw.key, excerpt=raw.excerpt()))  # fmt: skip
    for index, (key, rows) in enumerate(groups.items()):
        yield RawRecord(index=index, line=rows[0].line, key=key, data=[r.data for r in rows], group=True)


def parse_record(record: Any, format: str | Format, *, path: str = "") -> Dialogue:
    """Turn one in-memory record (a dict, as a file or a `Dataset` row holds it) into a `Dialogue`.

    Raises `RecordError` (with a stable `code`) when the record cannot become a dialogue.

    >>> parse_record({"messages": [{"role": "user", "content": "hi"}]}, "openai").turns[0].content
    'hi'
    """
    fmt = get_format(format) if isinstance(format, str) else format
    return _to_dialogue(RawRecord(index=0, line=None, data=record), fmt, path, None)


def _to_dialogue(raw: RawRecord, fmt: Format | None, rel: str, encoding: str | None) -> Dialogue:
    """Apply the format to a parsed record and attach its source."""
    if raw.error is not None:
        raise RecordError(*raw.error)
    if fmt is None:
        found = (
            ", ".join(sorted(map(str, raw.data))) if isinstance(raw.data, dict) else type(raw.data).__name__
        )
        raise RecordError(
            "format.undetected",
            f"expected records of a known format ({', '.join(_format_names())}); found {found or 'none'}; "
            "pass --format or --mapping",
        )
    parsed = _parse(raw, fmt)
    meta = {**(raw.context or {}), **parsed.meta} if raw.context else parsed.meta
    _check_writable(parsed, meta, raw.key)
    source = Source(
        path=rel,
        line=raw.line,
        index=raw.index,
        key=raw.key,
        format=fmt.name,
        encoding=encoding,
        source_id=parsed.source_id,
        normalizations=tuple(sorted(parsed.normalizations)) if parsed.normalizations else (),
    )
    return Dialogue(turns=tuple(parsed.turns), tools=parsed.tools, meta=meta, source=source)


def _check_writable(parsed: Any, meta: dict[str, Any], key: str | None) -> None:
    """Reject a record holding a lone surrogate outside its turn texts (meta, tools, names, ids, key).

    The text policy rejects one in a turn's text; anywhere else it would make the dialogue impossible to
    write as UTF-8 (JSON Lines, Parquet), so the record is rejected the same way (`text.surrogate`).
    """
    # Turn texts are screened already: only the other fields of a turn are looked at.
    fields: dict[str, Any] = {"meta": meta, "tools": parsed.tools, "id": parsed.source_id, "key": key}
    for i, t in enumerate(parsed.turns):
        if t.tool_calls or t.meta or t.name is not None or t.tool_call_id is not None:
            fields[f"turns[{i}]"] = {
                "name": t.name,
                "tool_call_id": t.tool_call_id,
                "tool_calls": t.tool_calls,
                "meta": t.meta,
            }
    try:
        msgspec.json.encode(fields)  # the fast check, in C: it fails on a lone surrogate
    except Exception:
        where = find_surrogate(fields, "")
        if where is not None:
            where = where.removeprefix(".").replace(" .", " ")
            raise RecordError("text.surrogate", f"{where}: expected text without lone surrogates") from None


def _parse(raw: RawRecord, fmt: Format) -> Any:
    """Run the format on a record, a list record, or a group of table rows."""
    if raw.group:
        return fmt.parse_group(raw.data)
    if isinstance(raw.data, dict):
        return fmt.parse(raw.data)
    if isinstance(raw.data, list) and fmt.accepts_lists:
        return fmt.parse(raw.data)  # type: ignore[arg-type]
    raise RecordError("record.not_object", f"expected a JSON object, found {type(raw.data).__name__}")


def _format_names() -> list[str]:
    """Names of the built-in formats."""
    from dialogdata.registry import FORMATS

    return list(FORMATS)


def _stop_code(exc: BaseException) -> str:
    """The code of an error that stopped reading a file part-way."""
    if isinstance(exc, LimitError):
        return "file.too_large"
    if isinstance(exc, CorruptArchiveError):
        return "archive.corrupt"
    return "file.unreadable"


def _file_reject(rel: str, code: str, message: str) -> Reject:
    """A reject that stands for a whole file (or the rest of it)."""
    return Reject(code=code, message=message, path=rel, line=None, index=None)


def _sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file (of every file, for a dataset folder), or '' when unreadable."""
    try:
        if path.is_dir():
            digest = hashlib.sha256()
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                digest.update(f"{child.relative_to(path).as_posix()}\0{sha256_file(child)}\n".encode())
            return digest.hexdigest()
        return sha256_file(path)
    except OSError:
        return ""
