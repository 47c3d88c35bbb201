"""The compact per-dialogue state of the Conflict validator: canonical texts, hashes and sketches.

A dialogue becomes one row: its id and source order, a 64-bit hash of every prefix of its canonical
turns, the hash of each assistant answer with the hash of the turns before it, the canonical text of
its context (every turn before the final assistant answer) and of that answer, and two sketches.
Rows are gathered in `Chunk`s of plain columns, which concatenate, so partial states merge.
"""

from __future__ import annotations

import hashlib
import unicodedata
from array import array
from collections.abc import MutableSequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dialogdata.schemas import Dialogue, Role, Turn
from dialogdata.validators.minhash import I64, U16, U64
from dialogdata.validators.packed import PackedBlock, PackedTexts, pack

_TAGS = {Role.SYSTEM: "s:", Role.USER: "u:", Role.ASSISTANT: "a:", Role.TOOL: "t:"}
_ANSWER = _TAGS[Role.ASSISTANT]

_PACKED = (
    ("n_turns", "q"),
    ("full", "Q"),
    ("prefix_at", "q"),
    ("prefix", "Q"),
    ("answer_at", "q"),
    ("answer_turn", "q"),
    ("answer_hash", "Q"),
    ("answer_context", "Q"),
)

OrderKey = tuple[int, str, int, int, str, str, str]
"""(no source, path, line, index, id, adversarial kind, lineage root): the total order of rows."""


def canonical(text: str) -> str:
    """Return the canonical form compared for duplicates: NFC, whitespace runs as one space, case-folded."""
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.split()).casefold()


def turn_text(turn: Turn) -> str:
    """Return a turn's canonical text: role tag, content, then each tool call's name and arguments."""
    text = _TAGS[turn.role] + canonical(turn.content)
    for call in turn.tool_calls:
        text += f"\x1f{call.name}\x1f{canonical(call.arguments)}"
    return text


def _hash(data: bytes) -> int:
    """Return a stable 64-bit hash (the same in every process, unlike `hash`)."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def order_key(dialogue: Dialogue) -> OrderKey:
    """Return the key that orders rows: by source (path, line, index), then id; sourceless rows last."""
    kind = dialogue.tags.get("adversarial", "")
    root = dialogue.lineage.root_id if dialogue.lineage else dialogue.id
    source = dialogue.source
    if source is None:
        return (1, "", 0, 0, dialogue.id, kind, root)
    line = -1 if source.line is None else source.line
    return (0, source.path, line, source.index, dialogue.id, kind, root)


@dataclass(slots=True)
class Chunk:
    """Columns for a batch of rows; the `_at` columns index rows within the chunk."""

    keys: list[OrderKey] = field(default_factory=list)
    n_turns: MutableSequence[int] = field(default_factory=list)
    full: MutableSequence[int] = field(default_factory=list)
    context: list[str] = field(default_factory=list)
    answer: list[str] = field(default_factory=list)
    prefix_at: MutableSequence[int] = field(default_factory=list)
    prefix: MutableSequence[int] = field(default_factory=list)
    answer_at: MutableSequence[int] = field(default_factory=list)
    answer_turn: MutableSequence[int] = field(default_factory=list)
    answer_hash: MutableSequence[int] = field(default_factory=list)
    answer_context: MutableSequence[int] = field(default_factory=list)
    sketch_context: U16 | None = None
    sketch_full: U16 | None = None
    packed_context: PackedBlock | None = None
    packed_answer: PackedBlock | None = None

    def __len__(self) -> int:
        return len(self.keys)

    def seal(self, sketch_context: U16, sketch_full: U16) -> None:
        """Store the batch's sketches, its number columns as packed arrays and its texts compressed."""
        self.sketch_context, self.sketch_full = sketch_context, sketch_full
        for name, code in _PACKED:
            setattr(self, name, array(code, getattr(self, name)))
        # The texts are most of a row's size and are read back only for candidate pairs.
        self.packed_context, self.packed_answer = pack(self.context), pack(self.answer)
        self.context, self.answer = [], []

    def add(self, dialogue: Dialogue) -> None:
        """Append one dialogue's row."""
        row = len(self.keys)
        texts = [turn_text(turn) for turn in dialogue.turns]
        chain = self._chain(texts)
        for k, text in enumerate(texts):
            if text.startswith(_ANSWER) and len(text) > len(_ANSWER):
                self.answer_at.append(row)
                self.answer_turn.append(k)
                self.answer_hash.append(_hash(text.encode("utf-8", "surrogatepass")))
                self.answer_context.append(chain[k - 1] if k else 0)
        self.prefix += chain[:-1]
        self.prefix_at += [row] * (len(chain) - 1)
        final = bool(texts) and dialogue.turns[-1].role is Role.ASSISTANT
        self.keys.append(order_key(dialogue))
        self.n_turns.append(len(texts))
        self.full.append(chain[-1] if chain else 0)
        self.context.append("\n".join(texts[:-1] if final else texts))
        self.answer.append(texts[-1] if final else "")

    @staticmethod
    def _chain(texts: list[str]) -> list[int]:
        """Return the hash of each prefix of `texts`: the k-th hashes the first k + 1 turns."""
        out: list[int] = []
        state = b""
        for text in texts:
            state = hashlib.blake2b(state + text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
            out.append(int.from_bytes(state, "little"))
        return out


@dataclass(slots=True)
class Table:
    """Every row of a finished state, in row order (the order of `keys`), as numpy columns."""

    keys: list[OrderKey]
    n_turns: I64
    full: U64
    context: PackedTexts
    answer: PackedTexts
    prefix_at: I64
    prefix: U64
    answer_at: I64
    answer_turn: I64
    answer_hash: U64
    answer_context: U64
    sketch_context: U16
    sketch_full: U16

    @property
    def ids(self) -> list[str]:
        """The dialogue id of each row."""
        return [key[4] for key in self.keys]

    @property
    def kinds(self) -> list[str]:
        """The adversarial kind of each row ("" when untagged)."""
        return [key[5] for key in self.keys]

    @property
    def roots(self) -> list[str]:
        """The lineage root id of each row (its own id when it has no lineage)."""
        return [key[6] for key in self.keys]


def to_table(chunks: list[Chunk], k: int) -> Table:
    """Concatenate `chunks` and sort the rows by their order key, so arrival order never matters."""
    keys = [key for chunk in chunks for key in chunk.keys]
    order = np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order), dtype=np.int64)
    offsets = np.cumsum([0, *(len(chunk) for chunk in chunks)])[:-1]
    # Columns about a row's turns carry its chunk-local row number: shift it, then map it to the sorted row.
    shifted = [
        np.asarray(chunk.prefix_at, np.int64) + offset for chunk, offset in zip(chunks, offsets, strict=True)
    ]
    answers = [
        np.asarray(chunk.answer_at, np.int64) + offset for chunk, offset in zip(chunks, offsets, strict=True)
    ]
    return Table(
        keys=[keys[i] for i in order.tolist()],
        n_turns=_concat(chunks, "n_turns", np.int64)[order],
        full=_concat(chunks, "full", np.uint64)[order],
        context=_texts(chunks, "context", order),
        answer=_texts(chunks, "answer", order),
        prefix_at=rank[np.concatenate(shifted)] if chunks else np.zeros(0, np.int64),
        prefix=_concat(chunks, "prefix", np.uint64),
        answer_at=rank[np.concatenate(answers)] if chunks else np.zeros(0, np.int64),
        answer_turn=_concat(chunks, "answer_turn", np.int64),
        answer_hash=_concat(chunks, "answer_hash", np.uint64),
        answer_context=_concat(chunks, "answer_context", np.uint64),
        sketch_context=_sketches(chunks, "sketch_context", k)[order],
        sketch_full=_sketches(chunks, "sketch_full", k)[order],
    )


def _concat(chunks: list[Chunk], name: str, dtype: Any) -> Any:
    """Concatenate one column of every chunk."""
    parts = [np.asarray(getattr(chunk, name), dtype=dtype) for chunk in chunks]
    return np.concatenate(parts) if parts else np.zeros(0, dtype)


def _sketches(chunks: list[Chunk], name: str, k: int) -> U16:
    """Concatenate one sketch matrix of every chunk."""
    parts = [getattr(chunk, name) for chunk in chunks]
    return np.concatenate(parts) if parts else np.zeros((0, k), np.uint16)


def _texts(chunks: list[Chunk], name: str, order: I64) -> PackedTexts:
    """Join one packed text column of every (sealed) chunk, read in sorted row order."""
    blocks = [getattr(chunk, f"packed_{name}") for chunk in chunks]
    if any(block is None for block in blocks):
        raise ValueError("every chunk must be sealed before its texts are joined")
    return PackedTexts(blocks, order)
