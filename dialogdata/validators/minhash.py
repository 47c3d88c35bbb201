"""Sketches for near-duplicate search: character n-gram hashes, one-permutation MinHash, LSH banding.

Everything here is numpy over whole batches, never a Python loop per shingle or per permutation:

- `hash_ngrams` hashes every character n-gram of many texts in one pass (a polynomial rolling hash
  over UTF-32 code points, then the splitmix64 finaliser). Characters, not words, so Chinese works.
- `sketch` is one-permutation hashing (OPH): each n-gram hash picks one of `k` bins and the bin keeps
  its smallest value. The sketch of a union is the element-wise minimum of the sketches of its parts,
  so a whole dialogue's sketch comes free from its prompt's and its answer's.
- `densify` fills empty bins (short texts) by rotation, as in Shrivastava and Li (2014).
- `band_pairs` cuts sketches into bands; rows that agree on a whole band become candidate pairs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

U16 = npt.NDArray[np.uint16]
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

EMPTY = 0xFFFF
"""The value of a bin that no n-gram fell into."""

_BASE = np.uint64(0x100000001B3)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
# Added per step of a borrowed (densified) bin, so a borrowed value rarely equals an owned one.
_ROTATE = 0x9E37
_DENSIFY_BLOCK = 8192


def hash_ngrams(texts: Sequence[str], *, n: int, seed: int = 0) -> tuple[U64, I64]:
    """Return the 64-bit hash of every character n-gram of `texts`, and the index of its text.

    A text shorter than `n` still yields one n-gram per character (padded at the end), so no
    non-empty text goes without a sketch.
    """
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    pad = "\x00" * (n - 1)
    joined = pad.join(texts) + pad
    points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    span = len(points) - n + 1
    grams = points[:span].copy()
    for j in range(1, n):
        grams *= _BASE
        grams += points[j : j + span]
    rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    starts = np.cumsum(lengths + (n - 1)) - (lengths + (n - 1))
    positions = np.arange(total, dtype=np.int64) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return _mix(grams[positions], seed), rows


def _mix(values: U64, seed: int) -> U64:
    """Return the splitmix64 finaliser of `values` xor a seed-derived constant."""
    x = values ^ np.uint64(((seed + 1) * int(_GOLDEN)) & 0xFFFFFFFFFFFFFFFF)
    x ^= x >> np.uint64(30)
    x *= _MIX1
    x ^= x >> np.uint64(27)
    x *= _MIX2
    x ^= x >> np.uint64(31)
    return x


def sketch(hashes: U64, rows: I64, *, n_rows: int, k: int) -> U16:
    """Return the one-permutation MinHash of each row: `(n_rows, k)`, `EMPTY` where no n-gram fell."""
    bins = ((hashes >> np.uint64(32)) * np.uint64(k)) >> np.uint64(32)
    values = (hashes & np.uint64(0xFFFF)).astype(np.uint16)
    out = np.full(n_rows * k, EMPTY, dtype=np.uint16)
    np.minimum.at(out, rows * k + bins.astype(np.int64), values)
    return out.reshape(n_rows, k)


def densify(sketches: U16) -> U16:
    """Fill each empty bin from the next non-empty bin to its right (circularly), offset by the distance.

    Rows with no n-gram at all stay empty; `is_empty` finds them.
    """
    out = sketches.copy()
    holes = np.flatnonzero(np.any(sketches == EMPTY, axis=1) & ~is_empty(sketches))
    # In blocks of rows, so the temporaries stay small next to the sketches themselves.
    for start in range(0, len(holes), _DENSIFY_BLOCK):
        rows = holes[start : start + _DENSIFY_BLOCK]
        out[rows] = _fill(sketches[rows])
    return out


def _fill(part: U16) -> U16:
    """Densify rows that have at least one empty and one owned bin."""
    k = part.shape[1]
    columns = np.arange(k, dtype=np.int16)
    owned = np.where(part != EMPTY, columns, np.int16(2 * k))
    following = np.minimum.accumulate(owned[:, ::-1], axis=1)[:, ::-1]
    first = owned.min(axis=1, keepdims=True)
    following = np.where(following == 2 * k, first + k, following)
    source = np.take_along_axis(part, following % k, axis=1)
    offset = ((following - columns).astype(np.uint32) * _ROTATE) & 0xFFFF
    filled: U16 = np.where(part == EMPTY, (source + offset) & 0xFFFF, part).astype(np.uint16)
    return filled


def is_empty(sketches: U16) -> npt.NDArray[np.bool_]:
    """Tell, per row, whether no n-gram fell into any bin (an empty text)."""
    empty: npt.NDArray[np.bool_] = np.all(sketches == EMPTY, axis=1)
    return empty


def band_keys(sketches: U16, *, bands: int) -> U64:
    """Return one 64-bit key per (row, band): `(n_rows, bands)`; equal keys mean an equal band."""
    n_rows, k = sketches.shape
    width = k // bands
    keys = np.zeros((n_rows, bands), dtype=np.uint64)
    for j in range(width):
        keys ^= sketches[:, j : bands * width : width]
        keys *= _MIX1
        keys ^= keys >> np.uint64(29)
    return keys


def band_pairs(sketches: U16, *, bands: int, window: int, rows: I64 | None = None) -> I64:
    """Return the sorted, distinct candidate pairs `(i, j)`, `i < j`, that share at least one band.

    Only `rows` take part (all by default). A bucket of more than `window + 1` rows is not expanded
    into all its pairs: each row is paired with the `window` rows after it in row order, which keeps
    the work linear when thousands of rows share a band, yet still chains them into one cluster.
    """
    chosen = np.arange(len(sketches), dtype=np.int64) if rows is None else rows
    keys = band_keys(sketches[chosen], bands=bands)
    found: list[I64] = []
    for band in range(bands):
        order = np.argsort(keys[:, band], kind="stable")
        ordered = keys[order, band]
        for step in range(1, window + 1):
            same = ordered[:-step] == ordered[step:]
            if not same.any():
                break
            found.append(np.stack([order[:-step][same], order[step:][same]], axis=1))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = chosen[np.concatenate(found)]
    return unique_pairs(pairs)


def unique_pairs(pairs: I64) -> I64:
    """Return `pairs` with each pair as `(min, max)`, sorted and without repeats or self-pairs."""
    low, high = pairs.min(axis=1), pairs.max(axis=1)
    keep = low != high
    low, high = low[keep], high[keep]
    if not len(low):
        return np.zeros((0, 2), dtype=np.int64)
    size = int(high.max()) + 1
    codes = np.unique(low * size + high)
    return np.stack([codes // size, codes % size], axis=1)
