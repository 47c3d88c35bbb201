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
DECODER = msgspec.msgpack.Decoder(Item)


class Spill:
    """Length-prefixed msgpack frames on disk, so the corpus never has to fit in memory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._encoder = msgspec.msgpack.Encoder()
        self._stream = path.open("wb")

    def encode(self, dialogue: Dialogue, issues: list[Issue]) -> bytes:
        """Return the frame of one dialogue and its issues."""
        return self._encoder.encode((dialogue, issues))

    def write(self, dialogue: Dialogue, issues: list[Issue]) -> None:
        """Append one dialogue and its issues."""
        self.write_frame(self.encode(dialogue, issues))

    def write_frame(self, frame: bytes) -> None:
        """Append a frame made by `encode` (here or in another process)."""
        self._stream.write(_LENGTH.pack(len(frame)))
        self._stream.write(frame)
        self.count += 1

    def close(self) -> None:
        """Finish writing."""
        self._stream.close()

    def __iter__(self) -> Iterator[Item]:
        """Read every item back, in the order written."""
        decoder = DECODER
        with self.path.open("rb") as stream:
            while header := stream.read(_LENGTH.size):
                (size,) = _LENGTH.unpack(header)
                yield decoder.decode(stream.read(size))

    def remove(self) -> None:
        """Delete the file."""
        self._stream.close()
        self.path.unlink(missing_ok=True)
