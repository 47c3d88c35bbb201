"""Read input paths into dialogues, accounting for every source record."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import msgspec

from dialogdata._io import sha256_file
from dialogdata.errors import InputError
from dialogdata.ingest.containers import container_of, iter_json, iter_jsonl
from dialogdata.ingest.formats import Format, RecordError, detect_format, get_format
from dialogdata.ingest.records import RawRecord, Reject, excerpt
from dialogdata.schemas import Dialogue, Source

DETECT_SAMPLE = 64
RejectSink = Callable[[Reject], None]


class InputFile(msgspec.Struct, frozen=True):
    """A file to read: where it is, and its path relative to the input root (used in reports)."""

    path: Path
    rel: str


class FileReport(msgspec.Struct, kw_only=True):
    """What reading one file found: its hash, container, format and record counts."""

    path: str
    sha256: str = ""
    container: str | None = None
    format: str | None = None
    encoding: str | None = None
    records: int = 0
    dialogues: int = 0
    rejected: int = 0
    reject_codes: dict[str, int] = {}


def discover(paths: Sequence[str | Path]) -> list[InputFile]:
    """List the files under `paths` in sorted order, skipping hidden files and folders.

    With several roots, each relative path starts with its root's name so that they stay apart.
    """
    found: list[InputFile] = []
    for given in paths:
        root = Path(given)
        prefix = f"{root.name}/" if len(paths) > 1 else ""
        if root.is_file():
            found.append(InputFile(root, root.name))
        elif root.is_dir():
            for path in sorted(root.rglob("*")):
                rel = path.relative_to(root)
                if path.is_file() and not any(part.startswith(".") for part in rel.parts):
                    found.append(InputFile(path, prefix + rel.as_posix()))
        else:
            raise InputError(
                "no such file or folder; give a file or a folder of raw dialogues", path=str(given)
            )
    return found


class Reader:
    """Iterate the dialogues of input files; rejects go to `on_reject`, counts to `reports`."""

    def __init__(
        self,
        paths: Sequence[str | Path],
        *,
        format: str = "auto",
        on_reject: RejectSink | None = None,
    ) -> None:
        self.files = discover(paths)
        self.format = None if format == "auto" else get_format(format)
        self.rejects: list[Reject] = []
        self.on_reject: RejectSink = on_reject or self.rejects.append
        self.reports: list[FileReport] = []

    def __iter__(self) -> Iterator[Dialogue]:
        """Yield every dialogue of every file, file by file in sorted order."""
        for item in self.files:
            report = FileReport(path=item.rel, sha256=_sha256(item.path), container=container_of(item.path))
            self.reports.append(report)
            yield from self._read_file(item, report)

    def _read_file(self, item: InputFile, report: FileReport) -> Iterator[Dialogue]:
        """Yield one file's dialogues; a file that cannot be read becomes one reject."""
        records = _iter_records(item.path, report.container)
        try:
            sample = list(itertools.islice(records, DETECT_SAMPLE))
        except OSError as exc:
            self._reject(
                report,
                Reject(code="file.unreadable", message=str(exc), path=item.rel, line=None, index=None),
            )
            return
        if report.container is None:
            message = f"expected one of .json, .jsonl, .ndjson; found {item.path.suffix or 'no extension'!r}"
            self._reject(
                report,
                Reject(code="file.unsupported", message=message, path=item.rel, line=None, index=None),
            )
            return
        fmt = self.format or detect_format(r.data for r in sample if r.error is None)
        report.format = fmt.name if fmt else None
        report.encoding = "utf-8"
        for raw in itertools.chain(sample, records):
            report.records += 1
            dialogue = self._convert(raw, fmt, item.rel, report)
            if dialogue is not None:
                report.dialogues += 1
                yield dialogue

    def _convert(self, raw: RawRecord, fmt: Format | None, rel: str, report: FileReport) -> Dialogue | None:
        """Turn one raw record into a dialogue, or reject it with its code."""
        try:
            return _to_dialogue(raw, fmt, rel)
        except RecordError as exc:
            reject = Reject(
                code=exc.code,
                message=exc.message,
                path=rel,
                line=raw.line,
                index=raw.index,
                key=raw.key,
                excerpt=excerpt(raw.raw),
            )
            self._reject(report, reject)
            return None

    def _reject(self, report: FileReport, reject: Reject) -> None:
        """Count a reject against its file and hand it to the sink; a whole-file reject is one record."""
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


def read(paths: str | Path | Iterable[str | Path], *, format: str = "auto") -> Iterator[Dialogue]:
    """Yield the dialogues in `paths` (files or folders); rejects are counted, not raised.

    >>> for dialogue in read("examples/raw"):  # doctest: +SKIP
    ...     print(dialogue.id, len(dialogue.turns))
    """
    given = [paths] if isinstance(paths, str | Path) else list(paths)
    return iter(Reader(given, format=format))


def _iter_records(path: Path, container: str | None) -> Iterator[RawRecord]:
    """Open `path` with the reader of its container."""
    if container == "jsonl":
        return iter_jsonl(path)
    if container == "json":
        return iter_json(path)
    return iter(())


def _to_dialogue(raw: RawRecord, fmt: Format | None, rel: str) -> Dialogue:
    """Apply the format to a parsed record and attach its source."""
    if raw.error is not None:
        raise RecordError(*raw.error)
    if not isinstance(raw.data, dict):
        raise RecordError("record.not_object", f"expected a JSON object, found {type(raw.data).__name__}")
    if fmt is None:
        keys = ", ".join(sorted(map(str, raw.data))) or "none"
        raise RecordError(
            "format.undetected",
            f"expected 'messages' (openai) or 'conversations' (sharegpt) records, found keys: {keys}; "
            "pass --format",
        )
    parsed = fmt.parse(raw.data)
    source = Source(
        path=rel,
        line=raw.line,
        index=raw.index,
        key=raw.key,
        format=fmt.name,
        encoding="utf-8",
        source_id=parsed.source_id,
        normalizations=tuple(sorted(parsed.normalizations)),
    )
    return Dialogue(turns=tuple(parsed.turns), tools=parsed.tools, meta=parsed.meta, source=source)


def _sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file, or '' when it cannot be read."""
    try:
        return sha256_file(path)
    except OSError:
        return ""
