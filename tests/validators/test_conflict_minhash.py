import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogdata.validators.minhash import (
    EMPTY,
    band_pairs,
    densify,
    hash_ngrams,
    is_empty,
    sketch,
    unique_pairs,
)

texts = st.lists(st.text(max_size=30), min_size=1, max_size=6)


def _sketches(items: list[str], *, n: int = 3, k: int = 16) -> np.ndarray:
    grams, rows = hash_ngrams(items, n=n)
    return sketch(grams, rows, n_rows=len(items), k=k)


@given(texts, st.integers(1, 5))
def test_minhash_ngram_hashes_do_not_depend_on_the_batch(items: list[str], n: int) -> None:
    together, rows = hash_ngrams(items, n=n)
    for i, text in enumerate(items):
        alone, _ = hash_ngrams([text], n=n)
        assert np.array_equal(together[rows == i], alone)
        assert len(alone) == len(text)


def test_minhash_ngrams_are_characters_and_seeded() -> None:
    first, _ = hash_ngrams(["高血压高血压"], n=3)
    # One n-gram per character, the last ones padded: 高血压 twice, 血压高, 压高血, 血压_, 压__.
    assert first[0] == first[3] and len(set(first.tolist())) == 5
    other, _ = hash_ngrams(["高血压高血压"], n=3, seed=1)
    assert not np.array_equal(first, other)


@given(st.text(max_size=40), st.text(max_size=40))
def test_minhash_sketch_of_a_union_is_the_minimum(a: str, b: str) -> None:
    grams_a, _ = hash_ngrams([a], n=3)
    grams_b, _ = hash_ngrams([b], n=3)
    both = np.concatenate([grams_a, grams_b])
    union = sketch(both, np.zeros(len(both), np.int64), n_rows=1, k=16)
    assert np.array_equal(union, np.minimum(_sketches([a]), _sketches([b])))


def test_minhash_empty_text_has_an_empty_sketch() -> None:
    sketches = densify(_sketches(["", "ab", "a longer text with many shingles"]))
    assert is_empty(sketches).tolist() == [True, False, False]
    assert not np.any(sketches[1:] == EMPTY)


def test_minhash_densify_borrows_from_the_right_and_keeps_full_rows() -> None:
    row = np.full((1, 6), EMPTY, np.uint16)
    row[0, 2], row[0, 5] = 7, 9
    dense = densify(row)
    assert dense[0, 2] == 7 and dense[0, 5] == 9
    assert dense[0, 3] != dense[0, 4] and dense[0, 0] != dense[0, 1]
    full = np.arange(12, dtype=np.uint16).reshape(2, 6)
    assert np.array_equal(densify(full), full)


def test_minhash_similar_texts_share_a_band_and_different_ones_do_not() -> None:
    base = (
        "医生您好，我今年五十八岁，去年体检时发现血压偏高，现在每天早上吃五毫克氨氯地平。"
        "请问高血压患者饭前还是饭后服用比较好？另外最近偶尔头晕，需要调整剂量吗？"
    )
    items = [base, base.replace("饭前", "饭钱"), "How do I reset the PIN of my debit card online today?"]
    sketches = densify(_sketches(items, n=5, k=128))
    assert band_pairs(sketches, bands=10, window=4).tolist() == [[0, 1]]


def test_minhash_large_buckets_are_compared_within_a_window() -> None:
    sketches = np.zeros((10, 8), np.uint16)
    pairs = band_pairs(sketches, bands=2, window=2)
    assert pairs.tolist() == sorted([[i, i + 1] for i in range(9)] + [[i, i + 2] for i in range(8)])
    assert len(band_pairs(sketches, bands=2, window=9)) == 45


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [([[3, 1], [1, 3], [2, 2], [0, 5]], [[0, 5], [1, 3]]), ([], [])],
)
def test_minhash_unique_pairs(pairs, expected) -> None:
    assert unique_pairs(np.array(pairs, dtype=np.int64).reshape(-1, 2)).tolist() == expected
