"""Finding input files (deterministic, safe) and opening them, through compression and zip archives."""

from __future__ import annotations

import errno
import fnmatch
import gzip
import io
import lzma
import os
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
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
LINK_LOOP = "link loop (the link leads back to itself); not opened"
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

    With several roots, each relative path starts with its root's name (numbered when names repeat), so
    that they stay apart; a file given as a root is its name alone.
    """
    found: list[InputFile] = []
    skipped: list[Skipped] = []
    for given in paths:
        root = Path(given)
        if not root.exists() and not root.is_symlink():
            raise InputError(
                "no such file or folder; give a file or a folder of raw dialogues", path=str(given)
            )
    for given, prefix in zip(paths, _prefixes([Path(p) for p in paths]), strict=True):
        root = Path(given)
        if root.is_dir() and not _is_hf_dataset(root):
            if _is_utf8(prefix):
                _walk(root, prefix, found, skipped)
            else:
                skipped.append(_not_utf8(prefix.rstrip("/")))
        else:
            _add(root, prefix.rstrip("/") or root.name, found, skipped)
    return found, skipped


def _prefixes(roots: list[Path]) -> list[str]:
    """Give each root a distinct path prefix: its name, numbered (`raw~2`) when two roots share a name."""
    if len(roots) == 1:
        return [""]
    taken: set[str] = set()
    prefixes = []
    for root in roots:
        # `.` and `/` have no name of their own; their real folder's name stands for them.
        name = root.name or root.resolve().name or "root"
        candidate, n = name, 1
        while candidate in taken:
            n += 1
            candidate = f"{name}~{n}"
        taken.add(candidate)
        prefixes.append(f"{candidate}/")
    return prefixes


def _walk(root: Path, prefix: str, found: list[InputFile], skipped: list[Skipped]) -> None:
    """Walk `root` in sorted order, depth first, a folder's files before its subfolders; links not followed.

    The walk keeps its own stack: a recursive one (os.walk in Python 3.11) fails on folders nested
    deeper than the recursion limit.
    """
    real_root = root.resolve()
    stack = [(root, prefix)]
    while stack:
        folder, rel = stack.pop()
        stack.extend(reversed(_visit(folder, rel, real_root, found, skipped)))


def _visit(
    folder: Path, base: str, real_root: Path, found: list[InputFile], skipped: list[Skipped]
) -> list[tuple[Path, str]]:
    """List one folder's entries in sorted order; return its subfolders to walk, with their paths."""
    try:
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except OSError as exc:
        skipped.append(
            Skipped(base.rstrip("/") or folder.name, f"folder cannot be read: {exc.strerror or exc}")
        )
        return []
    folders = [e for e in entries if _is_folder(e)]
    subfolders = []
    for entry in folders:
        path, rel = Path(entry.path), base + entry.name
        if not _is_utf8(rel):
            skipped.append(_not_utf8(rel))
        elif _is_junk(entry.name):
            skipped.append(Skipped(rel, "hidden or junk folder"))
        elif entry.is_symlink():
            skipped.append(Skipped(rel, "link to a folder (not followed)"))
        elif _is_hf_dataset(path):
            found.append(InputFile(path, rel, "hf_dataset"))
        else:
            subfolders.append((path, rel + "/"))
    for entry in entries:
        if not _is_folder(entry):
            _visit_file(Path(entry.path), base + entry.name, real_root, found, skipped)
    return subfolders


def _visit_file(
    path: Path, rel: str, real_root: Path, found: list[InputFile], skipped: list[Skipped]
) -> None:
    """Add one file met by the walk, or say why it is skipped."""
    if not _is_utf8(rel):
        skipped.append(_not_utf8(rel))
    elif _is_junk(path.name):
        skipped.append(Skipped(rel, "hidden or junk file"))
    elif path.name in METADATA:
        skipped.append(Skipped(rel, "dataset metadata (Hugging Face or LLaMA-Factory), not dialogues"))
    elif not path.is_symlink():
        _add(path, rel, found, skipped)
    elif (target := _link_target(path)) is None:
        skipped.append(Skipped(rel, LINK_LOOP))
    elif not target.is_relative_to(real_root):
        skipped.append(Skipped(rel, "link pointing outside the input folder (not opened)"))
    else:
        _add(path, rel, found, skipped)


def _is_folder(entry: os.DirEntry[str]) -> bool:
    """Tell a folder (or a link to one) as os.walk does: an entry that cannot be looked at is a file."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _link_target(path: Path) -> Path | None:
    """Return where a link leads, or None when it loops."""
    try:
        return path.resolve()
    except RuntimeError:  # Python 3.11 and 3.12 (later ones resolve it as far as they can; stat says ELOOP)
        return None


def _is_utf8(name: str) -> bool:
    """Tell a name that UTF-8 can carry (os.fsdecode turns bytes that are not UTF-8 into lone surrogates)."""
    if name.isascii():
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _not_utf8(rel: str) -> Skipped:
    """Skip a path whose name is not UTF-8, shown with its undecodable bytes escaped (\\xe9).

    Such a name cannot be written to the JSON and Parquet outputs, and an escaped stand-in could
    name another file, so the file is not read.
    """
    try:
        shown = rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that no file name decodes to: shown as its escape
        shown = rel.encode("utf-8", "backslashreplace").decode("utf-8")
    return Skipped(shown, "name is not valid UTF-8; rename it (e.g. with convmv) to read it")


def _add(path: Path, rel: str, found: list[InputFile], skipped: list[Skipped]) -> None:
    """Add one file, or say why it is skipped."""
    if not _is_utf8(rel):
        skipped.append(_not_utf8(rel))
        return
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        reason = LINK_LOOP if exc.errno == errno.ELOOP else f"cannot be read: {exc.strerror or exc}"
        skipped.append(Skipped(rel, reason))
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
        infos = sorted(enumerate(archive.infolist()), key=lambda entry: entry[1].filename)
    # A name opens its last member (zipfile, like unzip extracting over a file, keeps the last one).
    last = {info.filename: info for _, info in infos}
    for n, info in infos:
        if last[info.filename] is info:
            yield _member(item, info)
        else:
            yield Skipped(
                f"{item.rel}/{info.filename}",
                f"duplicate member name (entry {n + 1} of the archive): a later member of that name "
                "is read instead, as extracting the archive would keep it; not read",
            )


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
    if stat.S_ISLNK(info.external_attr >> 16):
        # Its data is the link's target (a path), not a file's content.
        return Skipped(rel, "symbolic link member; not followed or read")
    container, compression = container_of(name)
    if container in (None, "zip", "hf_dataset"):
        return Skipped(rel, "not a container that can be read from inside a zip")
    return InputFile(item.path, rel, container, compression, member=name)


def open_input(item: InputFile, *, max_bytes: int, buffer_size: int = 1 << 16) -> io.BufferedReader:
    """Open an input for reading its decompressed bytes; past `max_bytes` reading raises `LimitError`."""
    if item.member is None and item.compression is None:
        return cast(io.BufferedReader, open(item.path, "rb", buffering=buffer_size))
    closers: list[IO[bytes] | zipfile.ZipFile] = []
    errors = _DECOMPRESSION_ERRORS
    at_end = None
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

        frames = _ZstdFrames(raw)
        raw = zstandard.ZstdDecompressor().stream_reader(cast(IO[bytes], frames), read_across_frames=True)
        errors = (*errors, zstandard.ZstdError)
        at_end = frames.check_ended
    closers.append(raw)
    limited = _Limited(raw, max_bytes, closers, errors, at_end=at_end)
    return io.BufferedReader(limited, buffer_size=buffer_size)


class _Limited(io.RawIOBase):
    """A raw stream that refuses to yield more than `limit` bytes (decompression bombs)."""

    def __init__(
        self,
        inner: IO[bytes],
        limit: int,
        closers: list[IO[bytes] | zipfile.ZipFile],
        errors: tuple[type[Exception], ...] = _DECOMPRESSION_ERRORS,
        *,
        at_end: Callable[[], None] | None = None,
    ) -> None:
        self.inner = inner
        # read1 returns what one step decompressed; read would go on and lose it to an error further on
        # (a gzip cut before its trailer raises EOFError after its last line has been decompressed).
        self.read_some: Callable[[int], bytes] = getattr(inner, "read1", inner.read)
        self.at_end = at_end
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
            data = self.read_some(min(len(buffer), self.left + 1))
        except self.errors as exc:
            raise CorruptArchiveError(f"the compressed data is corrupt: {exc}") from exc
        if not data and buffer and self.at_end is not None:
            self.at_end()
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


_ZSTD_MAGIC = 0xFD2FB528
_ZSTD_SKIPPABLE = 0x184D2A50  # the 16 magic numbers of skippable frames share all but the last 4 bits


class _ZstdFrames:
    """Pass a zstd stream through while following its frames, to tell at its end whether the last one ended.

    python-zstandard's stream reader reads a cut frame as a clean end of data, so a truncated file
    would read as a shorter (or empty) one. Only the frame and block headers are looked at; block
    data is skipped over, so this costs a few steps per block (128 KiB from zstd's compressors).
    """

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.skip = 0  # bytes of block data, skippable frame or checksum still to pass over
        self.head = b""  # the bytes read so far of the header being read
        self.want = 4  # the size of that header
        self.step: Callable[[bytes], None] = self._magic  # what reads it
        self.checksum = False
        self.unknown = b""  # the bytes found where a frame should start, when they start none

    def read(self, size: int = -1) -> bytes:
        """Read from the source, following the frames."""
        data = self.source.read(size)
        if data and not self.unknown:
            self._follow(data)
        return data

    def check_ended(self) -> None:
        """Raise `CorruptArchiveError` unless the data read so far ends with a whole frame."""
        if self.unknown:
            raise CorruptArchiveError(f"expected a zstd frame, found the bytes {self.unknown.hex()}")
        if self.skip or self.head or self.step != self._magic:
            raise CorruptArchiveError("the zstd data ends inside a frame: the file is truncated")

    def _follow(self, data: bytes) -> None:
        """Advance over `data`, reading each header as it completes."""
        at = 0
        while at < len(data) and not self.unknown:
            if self.skip:
                taken = min(self.skip, len(data) - at)
                self.skip -= taken
                at += taken
                continue
            taken = self.want - len(self.head)
            self.head += data[at : at + taken]
            at += taken
            if len(self.head) == self.want:
                head, self.head = self.head, b""
                self.step(head)

    def _expect(self, size: int, step: Callable[[bytes], None]) -> None:
        """Read a header of `size` bytes next, with `step`."""
        self.want, self.step = size, step

    def _magic(self, head: bytes) -> None:
        """A frame starts: a zstd frame, or a skippable one (anything else, the decompressor refuses)."""
        magic = int.from_bytes(head, "little")
        if magic & 0xFFFFFFF0 == _ZSTD_SKIPPABLE:
            self._expect(4, self._skippable)
        elif magic == _ZSTD_MAGIC:
            self._expect(1, self._descriptor)
        else:
            self.unknown = head

    def _descriptor(self, head: bytes) -> None:
        """The frame header descriptor: how long the rest of the header is, and whether a checksum ends it."""
        flags = head[0]
        single_segment = flags >> 5 & 1
        self.checksum = bool(flags >> 2 & 1)
        # Window descriptor, dictionary id and frame content size (RFC 8878, 3.1.1.1).
        size = (1 - single_segment) + (0, 1, 2, 4)[flags & 3] + (single_segment, 2, 4, 8)[flags >> 6]
        if size:
            self._expect(size, self._header)
        else:
            self._expect(3, self._block)

    def _header(self, head: bytes) -> None:
        """The rest of the frame header: blocks follow."""
        self._expect(3, self._block)

    def _block(self, head: bytes) -> None:
        """A block header: its size (one byte for an RLE block), and whether it is the frame's last."""
        header = int.from_bytes(head, "little")
        self.skip = 1 if header >> 1 & 3 == 1 else header >> 3
        if header & 1:
            self.skip += 4 if self.checksum else 0
            self._expect(4, self._magic)

    def _skippable(self, head: bytes) -> None:
        """A skippable frame's size: its data is passed over."""
        self.skip = int.from_bytes(head, "little")
        self._expect(4, self._magic)
