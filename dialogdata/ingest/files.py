"""Finding input files (deterministic, safe) and opening them, through compression and zip archives."""

from __future__ import annotations

import fnmatch
import gzip
import io
import os
import stat
import zipfile
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
    with zipfile.ZipFile(item.path) as archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            yield _member(item, info)


def _member(item: InputFile, info: zipfile.ZipInfo) -> InputFile | Skipped:
    """Return a zip member as an input, or why it is skipped (folder, junk, unsafe name, nested archive)."""
    name = info.filename
    rel = f"{item.rel}/{name}"
    parts = PurePosixPath(name).parts
    if info.is_dir():
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
    if item.member is not None:
        archive = zipfile.ZipFile(item.path)
        closers.append(archive)
        raw: IO[bytes] = archive.open(item.member)
    else:
        raw = item.path.open("rb")
    closers.append(raw)
    if item.compression == "gzip":
        raw = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
    elif item.compression == "zstd":
        import zstandard

        raw = zstandard.ZstdDecompressor().stream_reader(raw)
    closers.append(raw)
    return io.BufferedReader(_Limited(raw, max_bytes, closers), buffer_size=buffer_size)


class _Limited(io.RawIOBase):
    """A raw stream that refuses to yield more than `limit` bytes (decompression bombs)."""

    def __init__(self, inner: IO[bytes], limit: int, closers: list[IO[bytes] | zipfile.ZipFile]) -> None:
        self.inner = inner
        self.left = limit
        self.limit = limit
        self.closers = closers

    def readable(self) -> bool:
        """Always readable."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill `buffer` from the inner stream, counting against the limit."""
        data = self.inner.read(min(len(buffer), self.left + 1))
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
