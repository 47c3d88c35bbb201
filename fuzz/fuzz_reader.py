"""Fuzz the whole ingest path: `Reader` on the bytes written to a file, maybe compressed or zipped.

Input: byte 0 picks the file's container (by extension); byte 1 the wrapping (none, gzip, zstd or
zip around the payload, or the payload itself named .gz, .zst or .zip: a corrupt archive); byte 2
the format (detected, or given as --format would) and (bit 7) the limits; the rest is the payload.

Checked: nothing escapes (`list(reader)` finishes), every dialogue and reject can be written out, and
the accounting holds: per file `records == dialogues + rejected`, and the totals match what came out.
"""

from __future__ import annotations

import atexit
import gzip
import io
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import zstandard

from dialogdata.ingest import Reader
from dialogdata.ingest.formats import FORMATS
from dialogdata.ingest.records import Reject
from fuzz._harness import LIMITS, Options, check, check_dialogue, check_reject
from fuzz._harness import main as run

OPTION_BYTES = 3
EXTENSIONS = (".jsonl", ".json", ".csv", ".yaml", ".ndjson", ".tsv", ".yml")
WRAPPINGS = ("", "", "", ".gz", ".zst", ".zip", ".gz raw", ".zst raw", ".zip raw", ".zip two")
FORMAT_CHOICES = ("auto",) * len(FORMATS) + tuple(FORMATS)

_folder: Path | None = None


def TestOneInput(data: bytes) -> None:  # noqa: N802 (the name atheris and libFuzzer expect)
    """Write the payload as an input file and read it with a Reader; the accounting must hold."""
    options = Options(data, OPTION_BYTES)
    extension: str = options.pick(0, EXTENSIONS)
    wrapping: str = options.pick(1, WRAPPINGS)
    fmt: str = options.pick(2, FORMAT_CHOICES)
    limits = LIMITS[options.flag(2, 7)]
    path = _write(options.body, extension, wrapping)
    try:
        rejects: list[Reject] = []
        reader = Reader([path], format=fmt, limits=limits, on_reject=rejects.append)
        dialogues = list(reader)
    finally:
        path.unlink()
    for dialogue in dialogues:
        check_dialogue(dialogue)
    for reject in rejects:
        check_reject(reject)
    for report in reader.reports:
        check(
            report.records == report.dialogues + report.rejected,
            f"{report.path}: {report.records} records != {report.dialogues} dialogues + {report.rejected} "
            f"rejected ({report.reject_codes})",
        )
        check(sum(report.reject_codes.values()) == report.rejected, f"{report.path}: reject codes miscounted")
    check(sum(r.dialogues for r in reader.reports) == len(dialogues), "dialogues miscounted")
    check(sum(r.rejected for r in reader.reports) == len(rejects), "rejects miscounted")


def _write(payload: bytes, extension: str, wrapping: str) -> Path:
    """Write the payload as `input<extension>`, wrapped as asked; return the path."""
    global _folder
    if _folder is None:
        _folder = Path(tempfile.mkdtemp(prefix="dialogdata-fuzz-"))
        atexit.register(shutil.rmtree, _folder, True)
    suffix, _, how = wrapping.partition(" ")
    path = _folder / f"input{extension}{suffix}"
    if how == "raw" or not suffix:
        path.write_bytes(payload)
    elif suffix == ".gz":
        path.write_bytes(gzip.compress(payload, mtime=0))
    elif suffix == ".zst":
        path.write_bytes(zstandard.ZstdCompressor().compress(payload))
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(f"member{extension}", payload)
            if how == "two":
                # A second member: a gzipped copy, and a name that must be skipped.
                archive.writestr(f"nested/member{extension}.gz", gzip.compress(payload, mtime=0))
                archive.writestr("../escape.jsonl", payload)
        path.write_bytes(buffer.getvalue())
    return path


def main() -> None:
    """Run the fuzzer (libFuzzer arguments from the command line)."""
    run(TestOneInput, sys.argv)


if __name__ == "__main__":
    main()
