"""CSV rows around quotes that never close or run past the record limit: the resync rule of `iter_csv`."""

from __future__ import annotations

import io
from typing import Any

import pytest

from dialogdata.ingest.records import Limits, RawRecord
from dialogdata.ingest.tabular import _ends_quoted, iter_csv

HEADER = "id,speaker,text\n"


def _csv(text: str, *, limit: int = 16 << 20) -> list[RawRecord]:
    stream = io.BytesIO(text.encode("utf-8"))
    return list(iter_csv(stream, "utf-8", Limits(max_record_bytes=limit), delimiter=","))


def _fates(records: list[RawRecord]) -> list[tuple[int | None, Any]]:
    """(line, reject code or text) per record."""
    return [(r.line, r.error[0] if r.error else r.data["text"]) for r in records]


def _good(*ns: int) -> str:
    return "".join(f"d{n},user,row {n}\n" for n in ns)


def test_csv_unterminated_quote_at_the_end_is_invalid_not_a_turn() -> None:
    records = _csv(HEADER + _good(1) + 'd2,user,"cut off in the mid\n')
    assert _fates(records) == [(2, "row 1"), (3, "csv.invalid")]
    assert records[1].error is not None
    assert records[1].error[1].endswith("found the end of the file")
    assert [r.index for r in records] == [0, 1]


def test_csv_unterminated_quote_in_the_middle_resumes_on_the_next_line() -> None:
    records = _csv(HEADER + _good(1) + 'd2,user,"never closed\n' + _good(3, 4))
    assert _fates(records) == [(2, "row 1"), (3, "csv.invalid"), (4, "row 3"), (5, "row 4")]


def test_csv_runaway_quote_closed_by_a_later_quote_gives_back_the_rows_it_swallowed() -> None:
    # The stray quote is closed by the next quoted field: one row of the wrong width over rows.
    text = HEADER + 'd2,user,"never closed\nd3,user,hello\nd3,assistant,"Sure, thing"\n' + _good(4)
    assert _fates(_csv(text)) == [(2, "csv.invalid"), (3, "hello"), (4, "Sure, thing"), (5, "row 4")]


def test_csv_multi_line_fields_are_kept_even_when_their_lines_look_like_rows() -> None:
    text = HEADER + 'd1,user,"Items:\nA, B, C\nx,y,z"\nd1,assistant,"one\n\ntwo"\n' + _good(2)
    assert _fates(_csv(text)) == [(2, "Items:\nA, B, C\nx,y,z"), (5, "one\n\ntwo"), (8, "row 2")]


def test_csv_quoted_field_past_the_limit_is_skipped_to_its_closing_quote() -> None:
    field = "y" * 40 + "\n"
    text = HEADER + _good(1) + f'd2,user,"{field * 10}",tail\n' + _good(3)
    assert _fates(_csv(text, limit=200)) == [(2, "row 1"), (3, "record.too_large"), (14, "row 3")]


def test_csv_runaway_quote_past_the_limit_over_rows_resumes_on_the_next_line() -> None:
    text = HEADER + 'd1,user,"never closed\n' + _good(*range(2, 40))
    records = _csv(text, limit=200)
    assert _fates(records)[:3] == [(2, "csv.invalid"), (3, "row 2"), (4, "row 3")]
    assert _fates(records)[1:] == [(n + 1, f"row {n}") for n in range(2, 40)]


def test_csv_rows_on_swallowed_lines_cannot_swallow_them_again() -> None:
    # Every line opens a quote that never closes: each is invalid alone, read once more at most.
    records = _csv(HEADER + 'a","\n' * 200)
    assert [r.error[0] if r.error else None for r in records] == ["csv.invalid"] * 200
    assert [r.line for r in records] == list(range(2, 202))


@pytest.mark.parametrize(
    ("text", "quoted", "ends_quoted"),
    [
        ("a,b,c", False, False),
        ('a,"b,c', False, True),
        ('a,"b"",c"', False, False),
        ('a,b"c,"d', False, True),  # a quote inside an unquoted field is text
        ('a,"b"x,"c', False, True),  # past a closing quote the field goes on unquoted
        ("more text", True, True),
        ('end"', True, False),
        ('end"",still', True, True),
        ('end",next,"open', True, True),
    ],
)
def test_csv_ends_quoted_follows_the_csv_module(text: str, quoted: bool, ends_quoted: bool) -> None:
    assert _ends_quoted(text, quoted=quoted, delimiter=",") is ends_quoted
