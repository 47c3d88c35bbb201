"""iter_yaml: value budgets per record, documents read in turn, resuming after a bad document, deep flow."""

from __future__ import annotations

import io
import time

from dialogdata.ingest.documents import iter_yaml
from dialogdata.ingest.records import Limits, RawRecord

LIMITS = Limits()


def _read(text: str, limits: Limits = LIMITS) -> list[RawRecord]:
    return list(iter_yaml(io.BytesIO(text.encode()), "utf-8", limits))


def _fates(records: list[RawRecord]) -> list[tuple[int, int | None, object]]:
    """(index, line, data or error code) of each record."""
    return [(r.index, r.line, r.error[0] if r.error else r.data) for r in records]


def _laughs(anchor: str = "l", levels: int = 9) -> str:
    """A billion-laughs list item: 9 aliases per level, 9**levels strings once built."""
    rows = "".join(
        f"  - &{anchor}{k} [{', '.join([f'*{anchor}{k - 1}'] * 9)}]\n" for k in range(1, levels + 1)
    )
    return f"- - &{anchor}0 lol\n" + rows


def test_yaml_bomb_rejects_its_own_record_only():
    records = _read("- [a, b]\n" + _laughs() + "- [c, d]\n")
    assert _fates(records) == [(0, 1, ["a", "b"]), (1, 2, "yaml.aliases"), (2, 12, ["c", "d"])]
    assert "alias bomb" in records[1].error[1]


def test_yaml_two_bombs_each_reject_their_record():
    records = _read("- [a, b]\n" + _laughs("x") + _laughs("y") + "- [c, d]\n", Limits(max_yaml_aliases=200))
    assert [f[2] if isinstance(f[2], str) else "ok" for f in _fates(records)] == [
        "ok",
        "yaml.aliases",
        "yaml.aliases",
        "ok",
    ]


def test_yaml_alias_record_budget_is_its_own_text():
    # A short alias to a short record is fine; an alias item may not rebuild a large record (its own
    # text is the alias alone), so aliases cannot multiply the values built across records.
    small = _read("- &r [a, b]\n- *r\n")
    assert _fates(small) == [(0, 1, ["a", "b"]), (1, 1, ["a", "b"])]
    large = _read("- &r [" + ", ".join(["x"] * 3000) + "]\n- *r\n- [c, d]\n")
    assert [f[2] if isinstance(f[2], str) else "ok" for f in _fates(large)] == ["ok", "yaml.aliases", "ok"]


def test_yaml_context_bomb_rejects_its_document_and_the_next_is_read():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    records = _read(bomb + "---\n- [c, d]\n")
    assert _fates(records) == [(0, 1, "yaml.aliases"), (1, 11, ["c", "d"])]
    assert "outside the records" in records[0].error[1]


def test_yaml_documents_are_read_in_turn_with_their_own_context():
    text = (
        "categories: [money]\nconversations:\n- [a, b]\n- [c, d]\n"
        "---\n---\n"  # an empty document holds no record
        "- [e, f]\n"
        "--- \ncategories: [health]\nconversations:\n- [g, h]\n"
        "...\n"
    )
    records = _read(text)
    assert _fates(records) == [
        (0, 3, ["a", "b"]),
        (1, 4, ["c", "d"]),
        (2, 7, ["e", "f"]),
        (3, 11, ["g", "h"]),
    ]
    assert [r.context for r in records] == [{"categories": ["money"]}] * 2 + [
        None,
        {"categories": ["health"]},
    ]


def test_yaml_alias_limit_counts_per_document():
    items = "- &q [a, b]\n" + "- *q\n" * 60
    assert len(_read(items + "---\n" + items)) == 122
    records = _read(items + "- *q\n" * 60 + "---\n- [c, d]\n")
    assert _fates(records) == [(0, 102, "yaml.aliases"), (1, 123, ["c", "d"])]
    assert "lines 1-121 are skipped, reading resumes at the document on line 122" in records[0].error[1]


def test_yaml_bad_document_is_rejected_and_reading_resumes_at_the_next_document():
    text = '- [a, b]\n---\n- - [never closed\n  - "x"\n---\n- [c, d]\n'
    records = _read(text)
    # The unclosed bracket is reported at the next `---`; the reject names the line it was opened on.
    assert _fates(records) == [(0, 1, ["a", "b"]), (1, 3, "yaml.invalid"), (2, 6, ["c", "d"])]
    message = records[1].error[1]
    assert message.startswith(
        "expected YAML (lines 2-4 are skipped, reading resumes at the document on line 5)"
    )
    assert records[1].raw.startswith(b"---\n- - [never closed")


def test_yaml_resumed_lines_count_every_line_break():
    text = "- [a, b]\r\n---\r\n- [x\r\n---\r\n- [c, d]\r\n---\n- ]\n---\n\n- [e, f]\n"
    assert _fates(_read(text)) == [
        (0, 1, ["a", "b"]),
        (1, 3, "yaml.invalid"),
        (2, 5, ["c", "d"]),
        (3, 7, "yaml.invalid"),
        (4, 10, ["e", "f"]),
    ]


def test_yaml_bad_document_on_its_marker_line_does_not_loop():
    records = _read("- [a, b]\n--- ]\n- [x, y]\n---\n- [c, d]\n")
    assert _fates(records) == [(0, 1, ["a", "b"]), (1, 2, "yaml.invalid"), (2, 5, ["c", "d"])]


def test_yaml_bad_last_document_says_from_which_line_the_rest_is_lost():
    records = _read("- [a, b]\n---\n- [c, d]\n- [e\n- [f, g]\n")
    assert _fates(records) == [(0, 1, ["a", "b"]), (1, 5, "yaml.invalid")]
    assert "(the rest of the file, from line 2, is skipped)" in records[1].error[1]


def test_yaml_syntax_error_in_a_single_document_rejects_it_whole():
    records = _read('- [a, b]\n- "A tab comes next."\n\t- "Indented with a tab."\n- [c, d]\n')
    assert _fates(records) == [(0, 3, "yaml.invalid")]


def test_yaml_many_bad_documents_each_reject_once():
    records = _read("---\n]\n" * 1000 + "---\n- [c, d]\n")
    assert [r.index for r in records] == list(range(1001))
    assert [r.line for r in records[:3]] == [2, 4, 6]
    assert _fates(records)[-1] == (1000, 2002, ["c", "d"])


def test_yaml_deep_flow_nesting_is_skipped_in_linear_time():
    depth = 100_000
    started = time.perf_counter()
    records = _read("- [a, b]\n- " + "[" * depth + "]" * depth + "\n- [c, d]\n")
    assert time.perf_counter() - started < 5
    assert _fates(records) == [(0, 1, ["a", "b"]), (1, 2, "record.too_deep"), (2, 3, ["c", "d"])]


def test_yaml_skipped_flow_reads_scalars_anchors_and_tags_as_the_scanner_does():
    inner = "\"]]}\", '[{', a b, {k: v}, &a x, *a, !t y, ? q : r, [x, y]: v"
    records = _read("- [a, " + "[" * 150 + inner + "]" * 150 + "]\n- [c, d]\n")
    assert _fates(records) == [(0, 1, "record.too_deep"), (1, 2, ["c", "d"])]


def test_yaml_skipped_flow_that_never_closes_is_invalid():
    records = _read("- [a, b]\n---\n- " + "[" * 150 + "x\n---\n- [c, d]\n")
    assert _fates(records) == [(0, 1, ["a", "b"]), (1, 3, "yaml.invalid"), (2, 5, ["c", "d"])]


def test_yaml_alias_into_a_skipped_collection_is_too_deep():
    deep = "[" * 150 + "&inner x" + "]" * 150
    records = _read(f"- &outer {deep}\n- *outer\n- [*inner]\n- [c, d]\n")
    assert _fates(records) == [
        (0, 1, "record.too_deep"),
        (1, 1, "record.too_deep"),
        (2, 3, "record.too_deep"),
        (3, 4, ["c", "d"]),
    ]
    # The same in block nesting, which the composer skips.
    block = "- " * 150 + "&inner x\n"
    assert _fates(_read(f"- {block}- [*inner]\n- [c, d]\n"))[1:] == [
        (1, 2, "record.too_deep"),
        (2, 3, ["c", "d"]),
    ]


def test_yaml_unsafe_tags_and_implicit_types_stay_text():
    records = _read("- !!python/object/apply:os.system ['echo pwned']\n- [no, 1e3, 2024-01-01, ~, NO]\n")
    assert [r.data for r in records] == [["echo pwned"], ["no", "1e3", "2024-01-01", "~", "NO"]]
