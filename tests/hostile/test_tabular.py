"""Hostile Parquet and Arrow files: each case writes columnar files beside good neighbours and names the fate
of every one: read, rejected row by row (with the rows' keys) or rejected whole (`file.unreadable`).

Parquet and Arrow rows have no lines: a row's reject names its `row N` key, a whole-file reject neither.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.hostile.harness import assert_neighbours_survive, good_record, run_case, with_neighbours


def _texts(tag: str, n: int) -> tuple[str, str]:
    """The question and answer of a good dialogue (distinct words: never near duplicates)."""
    turns = good_record(tag, n)["conversations"]
    return str(turns[0]["value"]), str(turns[1]["value"])


def _questions(tag: str, count: int = 3) -> tuple[str, ...]:
    return tuple(_texts(tag, n)[0] for n in range(count))


def _qa(tag: str, count: int = 3) -> pa.Table:
    """A question/answer table of good dialogues."""
    pairs = [_texts(tag, n) for n in range(count)]
    return pa.table({"question": [q for q, _ in pairs], "answer": [a for _, a in pairs]})


def _sharegpt(tag: str, count: int = 3) -> pa.Table:
    """A table of ShareGPT rows (a list of {from, value} structs per row)."""
    return pa.Table.from_pylist(
        [{"conversations": good_record(tag, n)["conversations"]} for n in range(count)]
    )


def _parquet(table: pa.Table, **options: Any) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, **options)
    return buffer.getvalue()


def _arrow_file(table: pa.Table) -> bytes:
    """The Arrow IPC file format (magic, batches, footer)."""
    sink = io.BytesIO()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _arrow_stream(table: pa.Table) -> bytes:
    """The Arrow IPC stream format, one batch per row (as `datasets` writes its cache files)."""
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=1):
            writer.write_batch(batch)
    return sink.getvalue()


def _corrupt_last_row_group(table: pa.Table) -> bytes:
    """A Parquet file of one-row row groups whose last row group's page header is overwritten."""
    data = bytearray(_parquet(table, row_group_size=1))
    metadata = pq.ParquetFile(io.BytesIO(bytes(data))).metadata
    start = metadata.row_group(metadata.num_row_groups - 1).column(0).data_page_offset
    data[start : start + 32] = b"\xff" * 32
    return bytes(data)


@dataclass(frozen=True)
class Fate:
    """One file's expected manifest entry: format, source records, kept, reject codes (with their keys)."""

    format: str | None
    records: int
    kept: int
    codes: Mapping[str, int] = field(default_factory=dict)
    keys: tuple[str | None, ...] = ()  # each reject's key, in order: `row N`, or None for the whole file
    filtered: tuple[tuple[str, str | None], ...] = ()  # (code, issue) of each filtered dialogue


@dataclass(frozen=True)
class Case:
    """The columnar files of a case (name -> bytes), the fate of each, and the user texts to be written."""

    name: str
    files: Callable[[], dict[str, bytes]]
    fates: dict[str, Fate]
    texts: tuple[str, ...] = ()


def _rows(count: int) -> tuple[str, ...]:
    return tuple(f"row {n + 1}" for n in range(count))


def _with_answers(tag: str, answers: pa.Array) -> bytes:
    """A question/answer Parquet file whose answer column is replaced by `answers`."""
    return _parquet(_qa(tag, len(answers)).set_column(1, "answer", answers))


_GOOD = _parquet(_qa("pq"))
_UNREADABLE = Fate(None, records=1, kept=0, codes={"file.unreadable": 1}, keys=(None,))

CASES = [
    Case(
        "a truncated parquet file",
        lambda: {"case.parquet": _GOOD[: len(_GOOD) // 2]},
        {"case.parquet": _UNREADABLE},
    ),
    # Both magics in place, nothing sensible between them: the footer length points outside the file.
    Case(
        "parquet magic around garbage",
        lambda: {"case.parquet": b"PAR1" + b"\x00garbage" * 64 + b"PAR1"},
        {"case.parquet": _UNREADABLE},
    ),
    # Formats are detected per file: a renamed column that is a known alias still reads, an unknown one
    # leaves that file's rows to be rejected, and the first file is untouched.
    Case(
        "schema drift: the question column renamed",
        lambda: {
            "a.parquet": _parquet(_qa("pa")),
            "b.parquet": _parquet(_qa("pb").rename_columns(["prompt", "answer"])),
            "c.parquet": _parquet(_qa("pc").rename_columns(["body", "answer"])),
        },
        {
            "a.parquet": Fate("qa", 3, 3),
            "b.parquet": Fate("qa", 3, 3),
            "c.parquet": Fate(None, 3, 0, {"format.undetected": 3}, _rows(3)),
        },
        texts=_questions("pa") + _questions("pb"),
    ),
    Case(
        "schema drift: the question column becomes integers",
        lambda: {
            "a.parquet": _parquet(_qa("pa")),
            "b.parquet": _parquet(_qa("pb").set_column(0, "question", pa.array([1, 2, 3]))),
        },
        {"a.parquet": Fate("qa", 3, 3), "b.parquet": Fate("qa", 3, 0, {"format.bad_type": 3}, _rows(3))},
        texts=_questions("pa"),
    ),
    Case(
        "an Arrow IPC file",
        lambda: {"case.arrow": _arrow_file(_sharegpt("af"))},
        {"case.arrow": Fate("sharegpt", 3, 3)},
        texts=_questions("af"),
    ),
    Case(
        "a truncated Arrow IPC file",
        lambda: {"case.arrow": _arrow_file(_sharegpt("af"))[:-200]},
        {"case.arrow": _UNREADABLE},
    ),
    # The first batches of a stream are whole: a failure part-way rejects the rest, not what came before.
    Case(
        "an Arrow IPC stream cut inside its last batch",
        lambda: {"case.arrow": _arrow_stream(_sharegpt("as"))[:-150]},
        {"case.arrow": Fate("sharegpt", 3, 2, {"file.unreadable": 1}, (None,))},
        texts=_questions("as", 2),
    ),
    Case(
        "a parquet whose last row group is corrupt",
        lambda: {"case.parquet": _corrupt_last_row_group(_qa("rg"))},
        {"case.parquet": Fate("qa", 3, 2, {"file.unreadable": 1}, (None,))},
        texts=_questions("rg", 2),
    ),
    # A null answer is an empty turn, which the default filter drops; the rows around it are kept.
    Case(
        "a content column holding a null",
        lambda: {
            "case.parquet": _with_answers("pn", pa.array([_texts("pn", 0)[1], None, _texts("pn", 2)[1]]))
        },
        {"case.parquet": Fate("qa", 3, 2, filtered=(("filter.issue", "consistency.empty_turn"),))},
        texts=(_texts("pn", 0)[0], _texts("pn", 2)[0]),
    ),
    Case(
        "an empty parquet: a schema and zero rows",
        lambda: {"case.parquet": _parquet(_qa("e").slice(0, 0))},
        {"case.parquet": Fate(None, 0, 0)},
    ),
]


def _is_neighbour(text: str) -> bool:
    return text.startswith(("Question before-", "Question after-"))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hostile_columnar_file(tmp_path: Path, case: Case) -> None:
    """Each columnar file gets its fate, its good rows are written, and the files around it survive."""
    raw = tmp_path / "raw"
    tags = with_neighbours(raw)
    for name, data in case.files().items():
        (raw / name).write_bytes(data)
    outcome = run_case(raw, tmp_path / "out")
    for name, fate in case.fates.items():
        entry = outcome.input(name)
        assert (entry["format"], entry["records"], entry["fates"]["kept"]) == (
            fate.format,
            fate.records,
            fate.kept,
        )
        assert dict(outcome.reject_codes(name)) == dict(fate.codes), name
        assert [r["source"]["key"] for r in outcome.rejects if r["source"]["path"] == name] == list(fate.keys)
        filtered = [(f["code"], f.get("issue")) for f in outcome.filtered if f["source"]["path"] == name]
        assert filtered == list(fate.filtered), name
    assert sorted(t for t in outcome.written if not _is_neighbour(t)) == sorted(case.texts)
    assert_neighbours_survive(outcome, tags)
