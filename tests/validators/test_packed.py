"""Packed text columns give back exactly the texts put in, by row, through any order."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from dialogdata.validators.packed import PackedTexts, pack, unpack

# Any code point, lone surrogates included: canonical texts keep whatever the source held.
TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=40)
BATCHES = st.lists(st.lists(TEXT, max_size=6), min_size=1, max_size=5)


@given(st.lists(TEXT, max_size=20))
def test_a_block_round_trips(texts: list[str]) -> None:
    assert unpack(pack(texts)) == texts


@given(BATCHES, st.randoms(use_true_random=False))
def test_a_column_reads_rows_in_its_order(batches: list[list[str]], rng: object) -> None:
    flat = [text for batch in batches for text in batch]
    order = np.arange(len(flat), dtype=np.int64)
    rng.shuffle(order)  # type: ignore[attr-defined]
    column = PackedTexts([pack(batch) for batch in batches], order)
    expected = [flat[i] for i in order.tolist()]
    assert len(column) == len(expected)
    assert [column[row] for row in range(len(column))] == expected
    assert column.lengths().tolist() == [len(text) for text in expected]
    rows = list(range(0, len(column), 2))
    assert column.take(rows) == {row: expected[row] for row in rows}


def test_a_corpus_shrinks_when_packed() -> None:
    """The point of packing: far fewer bytes than the strings it replaces."""
    line = "患者{}号：我最近头痛，需要做什么检查？ The patient {} asks about a headache."
    texts = [line.format(i, i) for i in range(512)]
    block = pack(texts)
    as_strings = sum(len(text.encode("utf-16-le")) for text in texts)
    assert block.nbytes < as_strings / 2
