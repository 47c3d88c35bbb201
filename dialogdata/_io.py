"""Small file helpers shared by the stages: hashing and JSON Lines ledgers."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import orjson


def sha256_file(path: Path) -> str:
    """Return the hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dumps(record: Any) -> bytes:
    """Return canonical JSON: UTF-8, no ASCII escaping, keys in insertion order, one line."""
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


class JsonlWriter:
    """Append JSON records to a file, one per line, counting them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._stream: BinaryIO = path.open("wb")

    def write(self, record: Any) -> None:
        """Write one record as a line."""
        self._stream.write(dumps(record))
        self.count += 1

    def close(self) -> None:
        """Flush and close the file."""
        self._stream.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
