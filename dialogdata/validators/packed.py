"""Texts kept compressed in blocks, so corpus-level state holds no Python string per dialogue.

The Conflict validator needs the canonical text of every dialogue only for the few rows that turn out
to be candidate pairs. Each batch's texts are packed into one zstd block (UTF-8 with `surrogatepass`, so
lone surrogates survive), and rows are decoded a block at a time when they are needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from dialogdata.validators.minhash import I64

_CODEC = "zstd"
_LEVEL = 1  # the fastest level: the block is read back at most a few times, and compresses well anyway


@dataclass(frozen=True, slots=True)
class PackedBlock:
    """One batch of texts: a compressed blob, the end offset of each text in bytes, its length in chars."""

    blob: bytes
    size: int
    ends: np.ndarray
    chars: np.ndarray

    def __len__(self) -> int:
        return len(self.ends)

    @property
    def nbytes(self) -> int:
        """The memory the block holds (blob and offsets)."""
        return len(self.blob) + self.ends.nbytes + self.chars.nbytes


def pack(texts: Sequence[str]) -> PackedBlock:
    """Compress `texts` into one block."""
    encoded = [text.encode("utf-8", "surrogatepass") for text in texts]
    data = b"".join(encoded)
    ends = np.cumsum([len(item) for item in encoded], dtype=np.int64)
    chars = np.fromiter((len(text) for text in texts), np.int64, count=len(texts))
    blob = pa.Codec(_CODEC, compression_level=_LEVEL).compress(data, asbytes=True) if data else b""
    return PackedBlock(blob, len(data), ends, chars)


def unpack(block: PackedBlock) -> list[str]:
    """Return every text of a block, in order."""
    if not block.size:
        return [""] * len(block)
    data = pa.Codec(_CODEC).decompress(block.blob, decompressed_size=block.size, asbytes=True)
    starts = [0, *block.ends[:-1].tolist()]
    return [
        data[start:end].decode("utf-8", "surrogatepass")
        for start, end in zip(starts, block.ends.tolist(), strict=True)
    ]


class PackedTexts:
    """A text column over packed blocks, indexed through `order` (row -> position in block order)."""

    def __init__(self, blocks: list[PackedBlock], order: I64) -> None:
        self.blocks = blocks
        self.order = order
        self._starts = np.cumsum([0, *(len(block) for block in blocks)], dtype=np.int64)
        self._cached: tuple[int, list[str]] = (-1, [])

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, row: int) -> str:
        """Return one row's text (sequential reads decode each block once)."""
        position = int(self.order[row])
        index = int(np.searchsorted(self._starts, position, side="right")) - 1
        if self._cached[0] != index:
            self._cached = (index, unpack(self.blocks[index]))
        return self._cached[1][position - int(self._starts[index])]

    def lengths(self) -> I64:
        """Return every row's length in characters, without decoding."""
        if not self.blocks:
            return np.zeros(0, np.int64)
        return np.concatenate([block.chars for block in self.blocks])[self.order]

    def take(self, rows: Iterable[int]) -> dict[int, str]:
        """Return the texts of `rows`, decoding each block that holds one of them once."""
        wanted = np.unique(np.fromiter(rows, np.int64))
        positions = self.order[wanted]
        blocks = np.searchsorted(self._starts, positions, side="right") - 1
        out: dict[int, str] = {}
        for index in np.unique(blocks).tolist():
            texts = unpack(self.blocks[index])
            start = int(self._starts[index])
            mask = blocks == index
            for row, position in zip(wanted[mask].tolist(), positions[mask].tolist(), strict=True):
                out[row] = texts[position - start]
        return out
