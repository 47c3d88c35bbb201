"""Hostile dialogue semantics: well-formed JSON whose records break a format's rules or the dialogue's logic.

Each block case puts a bad block of records between good records of one format (OpenAI, ShareGPT,
ChatGLM3, Alpaca) in one .jsonl file and names its fate: rejected at ingest with a `format.*` code,
filtered by a Consistency rule (`filter.issue` with the issue), deduplicated, or read normally. The
duplicate cases spread records over files, since their fate depends on what came first in path order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest

from tests.hostile.harness import Outcome, assert_neighbours_survive, good_record, run_case, with_neighbours

GOOD = 3
"""Good records of the case's format before and after the bad block."""
LONG_TURNS = 2_000


def _texts(tag: str, n: int) -> tuple[str, str]:
    """The question and answer of a good dialogue (distinct words: never near duplicates)."""
    turns = good_record(tag, n)["conversations"]
    return str(turns[0]["value"]), str(turns[1]["value"])


def _openai(question: Any, answer: Any, **extra: Any) -> dict[str, Any]:
    return {
        "messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}],
        **extra,
    }


def _sharegpt(question: Any, answer: Any, **extra: Any) -> dict[str, Any]:
    return {
        "conversations": [{"from": "human", "value": question}, {"from": "gpt", "value": answer}],
        **extra,
    }


def _chatglm3(question: Any, answer: Any, **extra: Any) -> dict[str, Any]:
    turns = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    return {"conversations": turns, **extra}


def _alpaca(question: Any, answer: Any, **extra: Any) -> dict[str, Any]:
    return {"instruction": question, "input": "", "output": answer, **extra}


FORMATS: dict[str, Callable[..., dict[str, Any]]] = {
    "openai": _openai,
    "sharegpt": _sharegpt,
    "chatglm3": _chatglm3,
    "alpaca": _alpaca,
}


def _q(n: int) -> str:
    """The question of bad-block record `n` (distinct from the good records' and from each other)."""
    return _texts("block", n)[0]


def _a(n: int) -> str:
    return _texts("block", n)[1]


def _turns(record: dict[str, Any], key: str, index: int, **changes: Any) -> dict[str, Any]:
    """`record` with turn `index` of its `key` list updated (None values delete the field)."""
    turns = [dict(t) for t in record[key]]
    turns[index].update(changes)
    turns[index] = {k: v for k, v in turns[index].items() if v is not None}
    return {**record, key: turns}


def _with_roles(n: int, user: str, assistant: str) -> dict[str, Any]:
    """Bad-block record `n` as OpenAI messages whose two roles are spelled `user` and `assistant`."""
    return {"messages": [{"role": user, "content": _q(n)}, {"role": assistant, "content": _a(n)}]}


def _long_dialogue() -> dict[str, Any]:
    """An OpenAI dialogue of LONG_TURNS distinct turns, alternating user and assistant."""
    messages = []
    for n in range(LONG_TURNS // 2):
        question, answer = _texts("long", n)
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    return {"messages": messages}


@dataclass(frozen=True)
class Case:
    """A bad block of records of `format` between good ones, and its fate.

    `texts` are the first user texts of the block's dialogues that must be written (one per kept dialogue);
    `filtered` the (code, issue) of each block dialogue the filter drops; `turns` the number of messages
    the first of `texts` must be written with.
    """

    name: str
    format: str
    bad: tuple[Any, ...]
    codes: dict[str, int] = field(default_factory=dict)
    texts: tuple[str, ...] = ()
    filtered: tuple[tuple[str, str | None], ...] = ()
    turns: int | None = None


def _issue(code: str) -> tuple[str, str]:
    """The filtered.jsonl (code, issue) of a dialogue dropped for a Consistency issue."""
    return ("filter.issue", f"consistency.{code}")


CASES = [
    Case(
        "an OpenAI record without messages",
        "openai",
        ({"msgs": _openai(_q(0), _a(0))["messages"]},),
        {"format.missing_field": 1},
    ),
    # A turn that names no speaker or no text lacks a required field: `format.unknown_role` is for a speaker
    # it names, and an empty text is what a turn says, not what it fails to say.
    Case(
        "ShareGPT turns without `from` and without `value`",
        "sharegpt",
        (
            _turns(_sharegpt(_q(0), _a(0)), "conversations", 0, **{"from": None}),
            _turns(_sharegpt(_q(1), _a(1)), "conversations", 1, value=None),
        ),
        {"format.missing_field": 2},
    ),
    Case(
        "unknown roles",
        "openai",
        (_with_roles(0, "narrator", "assistant"), _with_roles(1, "user", "bot")),
        {"format.unknown_role": 2},
    ),
    Case(
        "roles in other case and with whitespace",
        "openai",
        (_with_roles(0, " User ", "ASSISTANT"), _with_roles(1, "user\t", "Assistant")),
        texts=(_q(0), _q(1)),
    ),
    # Null content is no text: the empty turn is read, and the default filter drops that dialogue.
    Case(
        "content that is a number, an object, a boolean, a list of numbers or null",
        "openai",
        (
            _openai(42, _a(0)),
            _openai({"text": _q(1)}, _a(1)),
            _openai(_q(2), True),
            _openai([1, 2], _a(3)),
            _openai(None, _a(4)),
        ),
        {"format.bad_type": 4},
        filtered=(_issue("empty_turn"),),
    ),
    # OpenAI content may be a list of text parts (joined with a newline); any other part is refused.
    Case(
        "OpenAI content as a list of parts",
        "openai",
        (
            _openai([{"type": "text", "text": _q(0)}, {"type": "text", "text": "Second part."}], _a(0)),
            _openai([{"type": "image_url", "image_url": {"url": "https://example.invalid/x.png"}}], _a(1)),
        ),
        {"format.bad_type": 1},
        texts=(f"{_q(0)}\nSecond part.",),
    ),
    Case(
        "ShareGPT value as a list of parts",
        "sharegpt",
        (_sharegpt([{"type": "text", "text": _q(0)}], _a(0)),),
        {"format.bad_type": 1},
    ),
    Case("zero turns", "openai", ({"messages": []},), {"format.no_turns": 1}),
    Case(
        "only a system turn",
        "openai",
        ({"messages": [{"role": "system", "content": "You answer questions about bank cards."}]},),
        filtered=(_issue("no_user"),),
    ),
    Case(
        "a tool turn that answers no call",
        "openai",
        (
            {
                "messages": [
                    {"role": "user", "content": _q(0)},
                    {"role": "tool", "tool_call_id": "call_9", "content": "42"},
                    {"role": "assistant", "content": _a(0)},
                ]
            },
        ),
        filtered=(_issue("role_order"),),
    ),
    # An empty instruction (with no input) or output is an empty turn: read, then filtered.
    Case(
        "Alpaca with an empty instruction and with an empty output",
        "alpaca",
        (_alpaca("", _a(0)), _alpaca(_q(1), "")),
        filtered=(_issue("empty_turn"), _issue("empty_turn")),
    ),
    Case(
        "ChatGLM3 tools that are not a list: bad JSON text, an object, a number in the system turn",
        "chatglm3",
        (
            _chatglm3(_q(0), _a(0), tools="[{not json"),
            _chatglm3(_q(1), _a(1), tools={"name": "balance"}),
            {
                "conversations": [
                    {"role": "system", "content": "Use the tools.", "tools": 42},
                    *_chatglm3(_q(2), _a(2))["conversations"],
                ]
            },
        ),
        {"format.bad_type": 3},
    ),
    Case(
        "ChatGLM3 tools whose items are not tool schemas",
        "chatglm3",
        (_chatglm3(_q(0), _a(0), tools=[42, "balance"]),),
        {"format.bad_type": 1},
    ),
    Case(
        f"a dialogue of {LONG_TURNS:,} turns",
        "openai",
        (_long_dialogue(),),
        texts=(_texts("long", 0)[0],),
        turns=LONG_TURNS,
    ),
]


def _jsonl(records: list[Any]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def _good(fmt: str, tag: str) -> list[dict[str, Any]]:
    return [FORMATS[fmt](*_texts(tag, n)) for n in range(GOOD)]


def _written(outcome: Outcome) -> list[list[dict[str, Any]]]:
    """The messages of every record written to the split files."""
    found: list[list[dict[str, Any]]] = []
    for name in ("train.jsonl", "validation.jsonl", "test.jsonl"):
        path = outcome.out / name
        found += (
            [orjson.loads(line)["messages"] for line in path.read_bytes().splitlines()]
            if path.exists()
            else []
        )
    return found


def _filtered(outcome: Outcome, path: str) -> list[tuple[str, str | None]]:
    return [(f["code"], f.get("issue")) for f in outcome.filtered if f["source"]["path"] == path]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_block_among_good_records(tmp_path: Path, case: Case) -> None:
    """A bad block gets its fate; the good records of its format around it and the other files survive."""
    raw = tmp_path / "raw"
    tags = with_neighbours(raw)
    before, after = _good(case.format, "first"), _good(case.format, "last")
    (raw / "case.jsonl").write_bytes(_jsonl([*before, *case.bad, *after]))
    outcome = run_case(raw, tmp_path / "out")
    assert dict(outcome.reject_codes("case.jsonl")) == case.codes
    lines = range(GOOD + 1, GOOD + 1 + len(case.bad))
    assert all(r["source"]["line"] in lines for r in outcome.rejects), outcome.rejects
    assert _filtered(outcome, "case.jsonl") == list(case.filtered)
    entry = outcome.input("case.jsonl")
    assert entry["format"] == case.format
    assert (entry["records"], entry["fates"]["kept"]) == (
        2 * GOOD + len(case.bad),
        2 * GOOD + len(case.texts),
    )
    good = {_texts(tag, n)[0] for tag in ("first", "last") for n in range(GOOD)}
    assert good | set(case.texts) <= set(outcome.written)
    if case.turns is not None:
        [messages] = [m for m in _written(outcome) if m[0]["content"] == case.texts[0]]
        assert len(messages) == case.turns
    assert_neighbours_survive(outcome, tags)


@dataclass(frozen=True)
class DuplicateCase:
    """Files of OpenAI records (name -> records), each file's (records, kept, deduplicated), and what the
    deduplicated ones point to (`path:line` of the kept copy, or None when only the id is named)."""

    name: str
    files: dict[str, list[dict[str, Any]]]
    fates: dict[str, tuple[int, int, int]]
    duplicate_of: tuple[str | None, ...] = ()
    source_ids: tuple[str, ...] = ()  # the source ids the written dialogues of the case carry


def _dialogue(n: int, **extra: Any) -> dict[str, Any]:
    return _openai(*_texts("dup", n), **extra)


DUPLICATE_CASES = [
    # The first in path order is kept; the copy points to its file and line.
    DuplicateCase(
        "the same dialogue and id in two files",
        {
            "a.jsonl": [_dialogue(1, id="x1"), _dialogue(2, id="x2")],
            "b.jsonl": [_dialogue(3, id="x3"), _dialogue(1, id="x1")],
        },
        {"a.jsonl": (2, 2, 0), "b.jsonl": (2, 1, 1)},
        duplicate_of=("a.jsonl:1",),
    ),
    DuplicateCase(
        "the same dialogue twice in one file",
        {"case.jsonl": [_dialogue(1, id="x1"), _dialogue(2), _dialogue(1, id="x1"), _dialogue(3)]},
        {"case.jsonl": (4, 3, 1)},
        duplicate_of=("case.jsonl:1",),
    ),
    # Ids are content hashes: a reused source id names two dialogues, and each keeps it in its source.
    DuplicateCase(
        "one source id on two different dialogues",
        {"case.jsonl": [_dialogue(1, id="x1"), _dialogue(2, id="x1"), _dialogue(3)]},
        {"case.jsonl": (3, 3, 0)},
        source_ids=("x1", "x1"),
    ),
]


@pytest.mark.parametrize("case", DUPLICATE_CASES, ids=lambda c: c.name)
def test_duplicates(tmp_path: Path, case: DuplicateCase) -> None:
    """Duplicates are deduplicated (pointing to the copy kept), and distinct dialogues all survive."""
    raw = tmp_path / "raw"
    tags = with_neighbours(raw)
    for name, records in case.files.items():
        (raw / name).write_bytes(_jsonl(records))
    outcome = run_case(raw, tmp_path / "out")
    assert outcome.rejects == []
    for name, expected in case.fates.items():
        fates = outcome.input(name)["fates"]
        assert (fates["source_records"], fates["kept"], fates["deduplicated"]) == expected, name
    assert [f["code"] for f in outcome.filtered] == ["conflict.duplicate"] * len(case.duplicate_of)
    assert [f["duplicate_of"].get("source") for f in outcome.filtered] == list(case.duplicate_of)
    assert {_texts("dup", n)[0] for n in (1, 2, 3)} <= set(outcome.written)
    if case.source_ids:
        sources = pq.read_table(outcome.out / "dialogues.parquet", columns=["source"]).column("source")
        found = [s["source_id"] for s in sources.to_pylist() if s["path"] in case.files and s["source_id"]]
        assert found == list(case.source_ids)
    assert_neighbours_survive(outcome, tags)
