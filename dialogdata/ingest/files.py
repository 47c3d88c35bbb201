"""Finding input files (deterministic, safe) and opening them, through compression and zip archives."""

from __future__ import annotations

import fnmatch
import gzip
import io
import lzma
import os
import stat
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import IO, Any, cast

import msgspec

from dialogdata.errors import InputError

COMPRESSIONS = {".gz": "gzip", ".zst": "zstd"}
CONTAINERS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".arrow": "arrow",
    ".txt": "text",
}
# Dataset metadata that sits beside data files (Hugging Face, LLaMA-Factory): described, never dialogues.
METADATA = ("dataset_info.json", "dataset_infos.json", "dataset_dict.json", "state.json")
JUNK = ("Thumbs.db", "desktop.ini", "__MACOSX", "~$*", "*~", "*.swp", "*.tmp", ".*")


class InputFile(msgspec.Struct, frozen=True):
    """A file (or Hugging Face dataset folder) to read, with its path relative to the input root."""

    path: Path
    rel: str
    container: str | None = None
    compression: str | None = None
    member: str | None = None


class Skipped(msgspec.Struct, frozen=True):
    """A path that was not read, and why (hidden, junk, link outside the root, not a regular file...)."""

    path: str
    reason: str


class LimitError(Exception):
    """A decompressed stream grew past the configured limit."""


class CorruptArchiveError(OSError):
    """Compressed data (gzip, zstd, a zip member) that does not decompress: the archive is corrupt."""


# What each decompressor raises on bad data; zstandard's own error is added when a zstd file is opened.
_DECOMPRESSION_ERRORS: tuple[type[Exception], ...] = (
    zlib.error,
    gzip.BadGzipFile,
    zipfile.BadZipFile,
    lzma.LZMAError,
)


def container_of(name: str) -> tuple[str | None, str | None]:
    """Return (container, compression) for a file name, by its suffixes."""
    lower = name.lower()
    compression = next((c for s, c in COMPRESSIONS.items() if lower.endswith(s)), None)
    if compression:
        lower = lower[: lower.rfind(".")]
    if lower.endswith(".zip"):
        return "zip", None
    return CONTAINERS.get(PurePosixPath(lower).suffix), compression


def discover(paths: Sequence[str | Path]) -> tuple[list[InputFile], list[Skipped]]:
    """List the input files under `paths` in sorted order, and what was skipped with the reason.

    With several roots, each relative path starts with its root's name so that they stay apart.
    """
    found: list[InputFile] = []
    skipped: list[Skipped] = []
    for given in paths:
        root = Path(given)
        if not root.exists() and not root.is_symlink():
            raise InputError(
                "no such file or folder; give a file or a folder of raw dialogues", path=str(given)
            )
        prefix = f"{root.name}/" if len(paths) > 1 else ""
        if root.is_dir() and not _is_hf_dataset(root):
            _walk(root, prefix, found, skipped)
        else:
            _add(root, prefix + root.name, found, skipped)
    return found, skipped


def _walk(root: Path, prefix: str, found: list[InputFile], skipped: list[Skipped]) -> None:
    """Walk `root` without following links into folders, in sorted order."""
    real_root = root.resolve()
    for folder, dirs, files in os.walk(root, followlinks=False):
        here = Path(folder)
        dirs.sort()
        for name in list(dirs):
            path = here / name
            rel = prefix + path.relative_to(root).as_posix()
            if _is_junk(name):
                skipped.append(Skipped(rel, "hidden or junk folder"))
                dirs.remove(name)
            elif path.is_symlink():
                skipped.append(Skipped(rel, "link to a folder (not followed)"))
                dirs.remove(name)
            elif _is_hf_dataset(path):
                found.append(InputFile(path, rel, "hf_dataset"))
                dirs.remove(name)
        for name in sorted(files):
            path = here / name
            rel = prefix + path.relative_to(root).as_posix()
            if _is_junk(name):
                skipped.append(Skipped(rel, "hidden or junk file"))
            elif name in METADATA:
                skipped.append(
                    Skipped(rel, "dataset metadata (Hugging Face or LLaMA-Factory), not dialogues")
                )
            elif path.is_symlink() and not path.resolve().is_relative_to(real_root):
                skipped.append(Skipped(rel, "link pointing outside the input folder (not opened)"))
            else:
                _add(path, rel, found, skipped)


def _add(path: Path, rel: str, found: list[InputFile], skipped: list[Skipped]) -> None:
    """Add one file, or say why it is skipped."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        skipped.append(Skipped(rel, f"cannot be read: {exc.strerror or exc}"))
        return
    if path.is_dir() and _is_hf_dataset(path):
        found.append(InputFile(path, rel, "hf_dataset"))
    elif not stat.S_ISREG(mode):
        skipped.append(Skipped(rel, "not a regular file (folder, FIFO, device or socket; not opened)"))
    else:
        container, compression = container_of(path.name)
        if container is None:
            skipped.append(
                Skipped(
                    rel,
                    "not a dialogue container (expected .jsonl, .json, .csv, .tsv, .parquet, "
                    ".yaml, .arrow, .txt, optionally .gz/.zst, or .zip)",
                )
            )
        else:
            found.append(InputFile(path, rel, container, compression))


def _is_junk(name: str) -> bool:
    """Tell hidden files and OS or editor junk (Thumbs.db, __MACOSX, ~$x.csv, x.swp) by name."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in JUNK)


def _is_hf_dataset(path: Path) -> bool:
    """Tell a Hugging Face `save_to_disk` folder: state.json beside Arrow files."""
    return path.is_dir() and (path / "state.json").is_file() and any(path.glob("*.arrow"))


def iter_members(item: InputFile) -> Iterator[InputFile | Skipped]:
    """Yield the readable members of a zip archive (or the file itself), each with its own container."""
    if item.container != "zip":
        yield item
        return
    with _open_zip(item.path) as archive:
        infos = sorted(archive.infolist(), key=lambda i: i.filename)
    for info in infos:
        yield _member(item, info)


def _open_zip(path: Path) -> zipfile.ZipFile:
    """Open a zip archive; what zipfile cannot read at all is a `BadZipFile`, as a corrupt archive is.

    zipfile says some of it with NotImplementedError (a "zip file version" past what it knows, from a
    hostile or damaged central directory), which no caller expects.
    """
    try:
        return zipfile.ZipFile(path)
    except NotImplementedError as exc:
        raise zipfile.BadZipFile(f"cannot read the archive: {exc}") from exc


def _member(item: InputFile, info: zipfile.ZipInfo) -> InputFile | Skipped:
    """Return a zip member as an input, or why it is skipped (folder, junk, unsafe name, nested archive)."""
    name = info.filename
    rel = f"{item.rel}/{name}"
    parts = PurePosixPath(name).parts
    if not name:
        # A hostile central directory can hold an empty name (ZipInfo.is_dir() raises IndexError on it).
        return Skipped(rel, "member without a name; not read")
    if name.endswith("/"):
        return Skipped(rel, "folder")
    if name.startswith("/") or ".." in parts or "\\" in name:
        return Skipped(rel, "unsafe member name (absolute or with ..); not read")
    if any(_is_junk(part) for part in parts):
        return Skipped(rel, "hidden or junk file")
    if info.flag_bits & 0x1:
        return Skipped(rel, "encrypted member; not read")
    container, compression = container_of(name)
    if container in (None, "zip", "hf_dataset", "arrow", "parquet"):
        return Skipped(rel, "not a container that can be read from inside a zip")
    return InputFile(item.path, rel, container, compression, member=name)


def open_input(item: InputFile, *, max_bytes: int, buffer_size: int = 1 << 16) -> io.BufferedReader:
    """Open an input for reading its decompressed bytes; past `max_bytes` reading raises `LimitError`."""
    if item.member is None and item.compression is None:
        return cast(io.BufferedReader, open(item.path, "rb", buffering=buffer_size))
    closers: list[IO[bytes] | zipfile.ZipFile] = []
    errors = _DECOMPRESSION_ERRORS
    if item.member is not None:
        archive = _open_zip(item.path)
        closers.append(archive)
        try:
            raw: IO[bytes] = archive.open(item.member)
        except BaseException as exc:
            archive.close()
            if isinstance(exc, NotImplementedError | RuntimeError):
                # A compression method zipfile lacks (Deflate64, PPMd), or encryption only the header says.
                raise OSError(f"cannot read the zip member: {exc}") from exc
            raise
    else:
        raw = item.path.open("rb")
    closers.append(raw)
    if item.compression == "gzip":
        raw = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
    elif item.compression == "zstd":
        import zstandard

        raw = zstandard.ZstdDecompressor().stream_reader(raw)
        errors = (*errors, zstandard.ZstdError)
    closers.append(raw)
    return io.BufferedReader(_Limited(raw, max_bytes, closers, errors), buffer_size=buffer_size)


class _Limited(io.RawIOBase):
    """A raw stream that refuses to yield more than `limit` bytes (decompression bombs)."""

    def __init__(
        self,
        inner: IO[bytes],
        limit: int,
        closers: list[IO[bytes] | zipfile.ZipFile],
        errors: tuple[type[Exception], ...] = _DECOMPRESSION_ERRORS,
    ) -> None:
        self.inner = inner
        self.left = limit
        self.limit = limit
        self.closers = closers
        self.errors = errors

    def readable(self) -> bool:
        """Always readable."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill `buffer` from the inner stream, counting against the limit.

        Whatever a decompressor raises on bad data becomes one `CorruptArchiveError` (each library has
        its own: zlib.error, BadGzipFile, BadZipFile for a bad CRC, LZMAError, ZstdError).
        """
        try:
            data = self.inner.read(min(len(buffer), self.left + 1))
        except self.errors as exc:
            raise CorruptArchiveError(f"the compressed data is corrupt: {exc}") from exc
        if len(data) > self.left:
            raise LimitError(f"decompressed data exceeds the limit of {self.limit:,} bytes")
        self.left -= len(data)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        """Close the inner streams and the archive, innermost last."""
        for closer in reversed(self.closers):
            closer.close()
        super().close()
