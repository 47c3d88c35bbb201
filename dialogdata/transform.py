"""File-to-file jobs: `dialogdata augment` (and `convert`), one JSONL file out, written atomically."""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dialogdata._io import dumps
from dialogdata.augmenters import Augmenter
from dialogdata.errors import OutputError, UsageError
from dialogdata.ingest import Reader, Reject
from dialogdata.schemas import Dialogue

CANONICAL = "dialogdata"
"""The `--to` name for the canonical schema (`Dialogue.to_dict()`), lineage and scores included."""


@dataclass
class FileJobResult:
    """What a file job read and wrote, for the summary line and for scripts."""

    out: Path
    read: int = 0
    rejected: int = 0
    augmented: int = 0
    written: int = 0
    not_written: int = 0
    losses: Counter[str] = field(default_factory=Counter)
    skipped: dict[str, dict[str, int]] = field(default_factory=dict)
    rejects_file: Path | None = None


def augment(
    raw: str | Path | Sequence[str | Path],
    out: str | Path,
    augmenters: Sequence[Augmenter],
    *,
    to: str = "openai",
    format: str = "auto",
    mapping: str | Path | None = None,
    keep_originals: bool = True,
    overwrite: bool = False,
) -> FileJobResult:
    """Read RAW..., write each dialogue (unless `keep_originals=False`) followed by its augmented ones.

    Rejected input records go to `<out>.rejects.jsonl`; the output order follows the input order.
    """
    if not augmenters:
        raise UsageError("name at least one augmenter with --op (role_swap, entities, adversarial)")
    reader = _reader(raw, format, mapping)
    result = FileJobResult(out=Path(out))

    def dialogues() -> Iterator[Dialogue]:
        for dialogue in reader:
            result.read += 1
            if keep_originals:
                yield dialogue
            for augmenter in augmenters:
                for child in augmenter.augment(dialogue):
                    result.augmented += 1
                    yield child

    _write(dialogues(), result, to, overwrite)
    _finish(reader, result)
    result.skipped = {a.name: dict(sorted(a.skipped.items())) for a in augmenters}
    return result


def convert(
    raw: str | Path | Sequence[str | Path],
    out: str | Path,
    *,
    to: str,
    format: str = "auto",
    mapping: str | Path | None = None,
    overwrite: bool = False,
) -> FileJobResult:
    """Read RAW... in any supported format and write one JSONL file in format `to`."""
    reader = _reader(raw, format, mapping)
    result = FileJobResult(out=Path(out))

    def dialogues() -> Iterator[Dialogue]:
        for dialogue in reader:
            result.read += 1
            yield dialogue

    _write(dialogues(), result, to, overwrite)
    _finish(reader, result)
    return result


def _reader(raw: str | Path | Sequence[str | Path], format: str, mapping: str | Path | None) -> Reader:
    """Open the inputs, refusing none at all."""
    reader = Reader([raw] if isinstance(raw, str | Path) else list(raw), format=format, mapping=mapping)
    if not reader.files:
        raise UsageError("no input files found (hidden, junk and unknown files are skipped)", path=str(raw))
    return reader


def _write(dialogues: Iterable[Dialogue], result: FileJobResult, to: str, overwrite: bool) -> None:
    """Write the records to a temporary file beside `out`, then rename it into place."""
    record = _record_function(to, result)
    out = result.out
    if out.exists() and (out.is_dir() or not overwrite):
        what = "is a folder" if out.is_dir() else "exists; pass --overwrite to replace it"
        raise UsageError(f"the output file {what}", path=str(out))
    temporary = out.parent / f".{out.name}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with temporary.open("wb") as stream:
            for dialogue in dialogues:
                line = record(dialogue)
                if line is not None:
                    stream.write(line)
                    result.written += 1
            stream.flush()
            os.fsync(stream.fileno())
        temporary.replace(out)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise OutputError(f"cannot write the output file: {exc.strerror or exc}", path=str(out)) from exc
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _record_function(to: str, result: FileJobResult) -> Any:
    """Return dialogue -> JSON line (or None when the format cannot carry it), counting losses."""
    if to == CANONICAL:
        return lambda dialogue: dumps(dialogue.to_dict())
    from dialogdata.export import get_exporter

    exporter = get_exporter(to)

    def record(dialogue: Dialogue) -> bytes | None:
        losses = exporter.losses(dialogue)
        result.losses.update(loss.code for loss in losses)
        if any(loss.code == "export.unrepresentable" for loss in losses):
            result.not_written += 1
            return None
        return dumps(exporter.record(dialogue))

    return record


def _finish(reader: Reader, result: FileJobResult) -> None:
    """Count rejects and write their ledger beside the output (removing a stale one when there are none)."""
    rejects: list[Reject] = reader.rejects
    result.rejected = len(rejects)
    ledger = result.out.with_name(result.out.name + ".rejects.jsonl")
    if not rejects:
        ledger.unlink(missing_ok=True)
        return
    try:
        with ledger.open("wb") as stream:
            for reject in rejects:
                stream.write(dumps(reject.to_dict()))
    except OSError as exc:
        raise OutputError(f"cannot write the rejects ledger: {exc.strerror}", path=str(ledger)) from exc
    result.rejects_file = ledger
