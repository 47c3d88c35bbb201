"""Atomic publishing: build the output in a staging folder beside it, then swap it into place."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from dialogdata.errors import OutputError, UsageError

SUCCESS = "_SUCCESS"


def check_output(out: Path, *, overwrite: bool) -> None:
    """Refuse a non-empty output folder unless `overwrite`, before any work is done."""
    if out.exists() and not out.is_dir():
        raise UsageError("the output path exists and is not a folder; choose another OUT", path=str(out))
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise UsageError("the output folder is not empty; pass --overwrite to replace it", path=str(out))


class Staging:
    """A staging folder next to `out`; `publish` renames it into place, `discard` removes it."""

    def __init__(self, out: Path) -> None:
        self.out = out
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            self.path = out.parent / f".{out.name}.staging-{uuid.uuid4().hex[:12]}"
            self.path.mkdir()
        except OSError as exc:
            raise OutputError(f"cannot create the output folder: {exc.strerror}", path=str(out)) from exc

    def publish(self) -> None:
        """Replace `out` with the staging folder; a crash leaves the old output or the new one."""
        _fsync_tree(self.path)
        old = self.out.parent / f".{self.out.name}.old-{uuid.uuid4().hex[:12]}"
        try:
            if self.out.exists():
                self.out.rename(old)
            self.path.rename(self.out)
        except OSError as exc:
            raise OutputError(
                f"cannot publish the output folder: {exc.strerror}", path=str(self.out)
            ) from exc
        _fsync_dir(self.out.parent)
        shutil.rmtree(old, ignore_errors=True)

    def discard(self) -> None:
        """Remove the staging folder."""
        shutil.rmtree(self.path, ignore_errors=True)


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
