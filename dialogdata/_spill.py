"""A spill file: scored dialogues with their issues, written in pass one and read back in pass two."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import msgspec

from dialogdata.schemas import Dialogue
from dialogdata.validators import Issue

_LENGTH = struct.Struct("<I")
Item = tuple[Dialogue, list[Issue]]


class Spill:
    """Length-prefixed msgpack frames on disk, so the corpus never has to fit in memory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._encoder = msgspec.msgpack.Encoder()
        self._stream = path.open("wb")

    def write(self, dialogue: Dialogue, issues: list[Issue]) -> None:
        """Append one dialogue and its issues."""
        frame = self._encoder.encode((dialogue, issues))
        self._stream.write(_LENGTH.pack(len(frame)))
        self._stream.write(frame)
        self.count += 1

    def close(self) -> None:
        """Finish writing."""
        self._stream.close()

    def __iter__(self) -> Iterator[Item]:
        """Read every item back, in the order written."""
        decoder = msgspec.msgpack.Decoder(tuple[Dialogue, list[Issue]])
        with self.path.open("rb") as stream:
            while header := stream.read(_LENGTH.size):
                (size,) = _LENGTH.unpack(header)
                yield decoder.decode(stream.read(size))

    def remove(self) -> None:
        """Delete the file."""
        self._stream.close()
        self.path.unlink(missing_ok=True)
