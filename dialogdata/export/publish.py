"""Atomic publishing: build the output in a staging folder beside it, then swap it into place.

Everything a run keeps beside OUT is a hidden sibling in OUT's parent, named after OUT:
`.<out>.lock` (the run lock, left in place), `.<out>.staging-<hex>` (the output being written),
`.<out>.old-<hex>` (the previous output during the swap) and `.<out>.trash-<hex>` (being deleted).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from dialogdata.errors import OutputError, UsageError

SUCCESS = "_SUCCESS"
_Kind = Literal["staging", "old", "trash"]


def check_output(out: Path, *, overwrite: bool) -> None:
    """Refuse a non-empty output folder unless `overwrite`, before any work is done."""
    if out.exists() and not out.is_dir():
        raise UsageError("the output path exists and is not a folder; choose another OUT", path=str(out))
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise UsageError("the output folder is not empty; pass --overwrite to replace it", path=str(out))


@contextlib.contextmanager
def lock_output(out: Path) -> Iterator[None]:
    """Hold the exclusive lock on `out` for the block, after `recover`-ing what a killed run left.

    The lock is a non-blocking `flock` on `.<out>.lock` beside OUT; the kernel drops it when the
    holder dies, however it dies. A second holder, in this process or another, gets a `UsageError`.

    >>> with lock_output(Path("out/demo")):  # doctest: +SKIP
    ...     ...  # check, stage and publish out/demo
    """
    fd = _open_lock(out)
    try:
        _acquire(fd, out)
        try:
            recover(out)
            yield
        finally:
            # Clear our pid so it is never quoted after we are gone (a killed holder's stays, harmlessly).
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # the only descriptor of this open file: closing it releases the lock


def recover(out: Path) -> None:
    """Put `out` back in a state a run may start from; call it only while holding `lock_output(out)`.

    A run killed between "OUT renamed to .<out>.old-*" and "staging renamed to OUT" leaves no OUT and
    the previous output in `.<out>.old-*`: when OUT is absent, that folder (the newest, if several) is
    renamed back to OUT, so the next run finds the previous output or the new one, never a gap.
    Every other `.<out>.staging-*`, `.<out>.old-*` and `.<out>.trash-*` is garbage and is removed.
    """
    leftovers = sorted(_leftovers(out), key=lambda item: _ctime(item[1]))
    olds = [path for kind, path in leftovers if kind == "old" and _is_folder(path)]
    if olds and not os.path.lexists(out):
        try:
            olds.pop().rename(out)
        except OSError as exc:
            raise OutputError(f"cannot restore the previous output: {exc.strerror}", path=str(out)) from exc
        _fsync_dir(out.parent)
    for _, path in leftovers:
        if os.path.lexists(path):
            _remove(out, path)


class Staging:
    """A staging folder next to `out`; `publish` renames it into place, `discard` removes it."""

    def __init__(self, out: Path) -> None:
        self.out = out
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            self.path = _sibling(out, "staging")
            self.path.mkdir()
        except OSError as exc:
            raise OutputError(f"cannot create the output folder: {exc.strerror}", path=str(out)) from exc

    def publish(self) -> None:
        """Replace `out` with the staging folder; a kill leaves the old output or the new one."""
        _fsync_tree(self.path)
        old = _sibling(self.out, "old")
        try:
            if self.out.exists():
                self.out.rename(old)
            self.path.rename(self.out)
        except OSError as exc:
            _restore(old, self.out)
            raise OutputError(
                f"cannot publish the output folder: {exc.strerror}", path=str(self.out)
            ) from exc
        _fsync_dir(self.out.parent)
        if old.exists():
            _remove(self.out, old)

    def discard(self) -> None:
        """Remove the staging folder."""
        shutil.rmtree(self.path, ignore_errors=True)


def _lock_path(out: Path) -> Path:
    """Return the lock file of `out`: beside it, never inside, so publishing never moves it."""
    return out.parent / f".{out.name}.lock"


def _open_lock(out: Path) -> int:
    """Open (creating if needed) the lock file of `out` without truncating a holder's pid."""
    path = _lock_path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise OutputError(f"cannot create the lock file {path.name}: {exc.strerror}", path=str(out)) from exc


def _acquire(fd: int, out: Path) -> None:
    """Take the lock on `fd` without waiting and record our pid in it, or say who holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise OutputError(f"cannot lock the output folder: {exc.strerror}", path=str(out)) from exc
        holder = _holder(fd)
        raise UsageError(
            f"another dialogdata run{holder} is writing this output folder; "
            "wait for it to finish or choose another OUT",
            path=str(out),
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)


def _holder(fd: int) -> str:
    """Return " (pid N)" from the lock file, or "" while the holder has not written it yet."""
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return f" (pid {text})" if text.isdigit() else ""


def _sibling(out: Path, kind: _Kind) -> Path:
    """Return a fresh hidden sibling of `out` of one kind, matched by `_leftovers`."""
    return out.parent / f".{out.name}.{kind}-{uuid.uuid4().hex[:12]}"


def _leftovers(out: Path) -> list[tuple[str, Path]]:
    """Return the kind and path of each staging, old and trash sibling of `out` (of no other OUT)."""
    # The exact suffix keeps OUT "a" from claiming the siblings of an OUT named "a.staging-x".
    pattern = re.compile(rf"\.{re.escape(out.name)}\.(staging|old|trash)-[0-9a-f]{{12}}")
    try:
        with os.scandir(out.parent) as entries:
            found = [(pattern.fullmatch(entry.name), Path(entry.path)) for entry in entries]
    except FileNotFoundError:
        return []
    return [(match[1], path) for match, path in found if match]


def _ctime(path: Path) -> int:
    """Return when `path` was last renamed or changed, 0 if it vanished."""
    try:
        return path.lstat().st_ctime_ns
    except FileNotFoundError:
        return 0


def _is_folder(path: Path) -> bool:
    """Tell a real folder from a file or a symlink."""
    return path.is_dir() and not path.is_symlink()


def _restore(old: Path, out: Path) -> None:
    """Put the previous output back after a failed swap, if it was moved away."""
    if old.exists() and not os.path.lexists(out):
        with contextlib.suppress(OSError):
            old.rename(out)


def _remove(out: Path, path: Path) -> None:
    """Delete a leftover of `out`, renamed to trash first so a half-deleted folder is never restored."""
    trash = _sibling(out, "trash")
    with contextlib.suppress(OSError):
        path.rename(trash)
        if _is_folder(trash):
            shutil.rmtree(trash, ignore_errors=True)
        else:
            trash.unlink()


def _fsync_tree(root: Path) -> None:
    """Flush every file and folder under `root` to disk, so a rename publishes complete data."""
    for folder, _, files in os.walk(root):
        for name in files:
            fd = os.open(Path(folder) / name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(folder))


def _fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (names, renames) to disk."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
