"""Hostile YAML: unsafe tags, alias bombs, implicit typing, multiple documents, bad indentation and deep
nesting, each in a .yaml file of utterance pairs (chatterbot's shape) beside good neighbour files.

The contract: YAML is loaded safely (no tag builds an object or runs code), every scalar stays the text it
was written as, and the limits (100 aliases, 100 levels) reject with a clear code instead of a crash or a
hang. A syntax error spoils the one document it is in, so it rejects that whole document.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

import dialogdata as dd
from tests.hostile.harness import Outcome, assert_neighbours_survive, good_record, run_case, with_neighbours

MARKER = "MARKER"
"""Replaced by the path a command smuggled in a tag would create: it must never exist."""


def _texts(n: int) -> tuple[str, str]:
    """The question and answer of good dialogue `n` (distinct words: never near duplicates)."""
    turns = good_record("yaml", n)["conversations"]
    return str(turns[0]["value"]), str(turns[1]["value"])


def _question(n: int) -> str:
    return _texts(n)[0]


def _item(n: int) -> str:
    """A top-level list item holding one good [question, answer] pair."""
    question, answer = _texts(n)
    return f'- - "{question}"\n  - "{answer}"\n'


def _laughs(levels: int = 9) -> str:
    """A billion-laughs record: 81 aliases (under the alias limit) that expand to 9**9 strings."""
    rows = "".join(f"  - &l{k} [{', '.join([f'*l{k - 1}'] * 9)}]\n" for k in range(1, levels + 1))
    return '- - &l0 "lol"\n' + rows


def _nested(depth: int) -> str:
    """A list item nesting empty flow sequences `depth` levels deep."""
    return "- " + "[" * depth + "]" * depth + "\n"


@dataclass(frozen=True)
class Case:
    """A YAML body between good neighbour files and its fate.

    `texts` and `answers` are the user and assistant texts the file's kept dialogues must write (`texts`
    exactly); `lines` the rejects' lines in order (None: not checked); `deadline` bounds the seconds that
    reading the file alone may take.
    """

    name: str
    body: str
    codes: dict[str, int]
    records: int
    texts: tuple[str, ...]
    lines: tuple[int | None, ...] | None = ()
    answers: tuple[str, ...] = ()
    filtered: tuple[tuple[str, str | None], ...] = ()
    format: str | None = "utterances"
    deadline: float | None = None


# YAML 1.1 resolvers would make these a boolean, a float, an int, a date, a time and null.
_IMPLICIT = {
    "no": "yes",
    "on": "off",
    "1e3": "0x10",
    "null": "~",
    "2024-01-01": "12:30:00",
    "NO": "1984",
}

CASES = [
    # BaseLoader ignores the tag: what it tags is a plain list, and a list is not an utterance.
    Case(
        "!!python/object/apply:os.system on an utterance",
        _item(1) + f'- - !!python/object/apply:os.system ["touch {MARKER}"]\n  - "Did it run?"\n' + _item(2),
        {"format.bad_type": 1},
        records=3,
        texts=(_question(1), _question(2)),
        lines=(3,),
    ),
    Case(
        "!!python/name:os.system on a scalar",
        _item(1) + '- - !!python/name:os.system "Is a tagged scalar kept as its text?"\n  - "Yes."\n',
        {},
        records=2,
        texts=(_question(1), "Is a tagged scalar kept as its text?"),
        answers=("Yes.",),
    ),
    Case(
        "a billion-laughs record under the alias count",
        _item(1) + _laughs() + _item(2),
        {"yaml.aliases": 1},
        records=3,
        texts=(_question(1), _question(2)),
        lines=(3,),
    ),
    # The alias count is a limit on the document: past it the document is rejected before anything of it is
    # built, on the line of the first alias over the limit (the 101st, line 3 + 101).
    Case(
        "more aliases than the limit",
        _item(1) + '- - &q "How often can one alias be used?"\n' + "  - *q\n" * 120 + _item(2),
        {"yaml.aliases": 1},
        records=1,
        texts=(),
        lines=(104,),
        format=None,
    ),
    Case(
        "implicit typing: booleans, numbers, dates, null",
        "".join(f"- - {q}\n  - {a}\n" for q, a in _IMPLICIT.items()),
        {},
        records=len(_IMPLICIT),
        texts=tuple(_IMPLICIT),
        answers=tuple(_IMPLICIT.values()),
    ),
    # A stream of documents is valid YAML (`yaml.invalid` says the text is not): each document is read as a
    # file of its own would be, and a broken one is rejected without the others.
    Case(
        "a multi-document stream",
        _item(1) + "---\n" + _item(2),
        {},
        records=2,
        texts=(_question(1), _question(2)),
    ),
    Case(
        "a multi-document stream with one bad document",
        _item(1) + '---\n- - [never closed\n  - "x"\n---\n' + _item(2),
        {"yaml.invalid": 1},
        records=3,
        texts=(_question(1), _question(2)),
        lines=None,
    ),
    Case(
        "a tab in the indentation",
        _item(1) + '- - "A tab comes next."\n\t- "Indented with a tab."\n' + _item(2),
        {"yaml.invalid": 1},
        records=1,
        texts=(),
        lines=(4,),
        format=None,
    ),
    # A scalar is one record that no format claims, as a scalar .json document is.
    Case(
        "a document that is one scalar",
        "just one plain scalar\n",
        {"format.undetected": 1},
        records=1,
        texts=(),
        lines=(1,),
        format=None,
    ),
    Case(
        "a record nested past the depth limit",
        _item(1) + _nested(150) + _item(2),
        {"record.too_deep": 1},
        records=3,
        texts=(_question(1), _question(2)),
        lines=(3,),
    ),
    # 40 KB of brackets: a depth check must not cost more than reading the file.
    Case(
        "20,000 nested flow sequences are rejected quickly",
        _item(1) + _nested(20_000) + _item(2),
        {"record.too_deep": 1},
        records=3,
        texts=(_question(1), _question(2)),
        lines=(3,),
        deadline=3.0,
    ),
]


class _OvertimeError(Exception):
    """Reading took longer than the case's deadline."""


@contextlib.contextmanager
def _deadline(seconds: float | None) -> Iterator[None]:
    """Raise `_OvertimeError` inside the block once `seconds` have passed (a hang fails, never blocks)."""
    if seconds is None:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise _OvertimeError(f"still reading after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _read_within(path: Path, seconds: float | None) -> str | None:
    """Read `path` alone under the deadline; return why it failed, if it did."""
    # The failure is raised outside the `except`: the interrupted parser's frames must not be chained to it.
    try:
        with _deadline(seconds):
            list(dd.read(path))
    except _OvertimeError as exc:
        return str(exc)
    return None


def _messages(outcome: Outcome, role: str) -> list[str]:
    """Every text of `role` written to the split files."""
    found: list[str] = []
    for name in ("train.jsonl", "validation.jsonl", "test.jsonl"):
        path = outcome.out / name
        for line in path.read_bytes().splitlines() if path.exists() else []:
            found.extend(m["content"] for m in orjson.loads(line)["messages"] if m["role"] == role)
    return found


def _is_neighbour(text: str) -> bool:
    return text.startswith(("Question before-", "Question after-"))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hostile_yaml(tmp_path: Path, case: Case) -> None:
    """A hostile YAML file gets its fate, runs nothing, and its good records and neighbours survive."""
    raw = tmp_path / "raw"
    tags = with_neighbours(raw)
    marker = tmp_path / "executed"
    path = raw / "case.yaml"
    path.write_text(case.body.replace(MARKER, str(marker)), encoding="utf-8")
    overtime = _read_within(path, case.deadline)
    if overtime:
        pytest.fail(overtime, pytrace=False)
    outcome = run_case(raw, tmp_path / "out")
    assert not marker.exists(), "a YAML tag ran a command"
    assert dict(outcome.reject_codes("case.yaml")) == case.codes
    if case.lines is not None:
        assert tuple(r["source"]["line"] for r in outcome.rejects) == case.lines
    entry = outcome.input("case.yaml")
    assert (entry["format"], entry["records"]) == (case.format, case.records)
    assert entry["fates"]["kept"] == len(case.texts)
    assert sorted(t for t in outcome.written if not _is_neighbour(t)) == sorted(case.texts)
    assert set(case.answers) <= set(_messages(outcome, "assistant"))
    filtered = [(f["code"], f.get("issue")) for f in outcome.filtered if f["source"]["path"] == "case.yaml"]
    assert filtered == list(case.filtered)
    assert_neighbours_survive(outcome, tags)
