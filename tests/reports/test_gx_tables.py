"""The columnar metric tables equal those of the plain row-by-row reading, kept here as the reference."""

import hashlib
import json
import math
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dialogdata as dd
from dialogdata.augmenters.adversarial import Adversarial
from dialogdata.errors import InputError
from dialogdata.reports import gx
from dialogdata.schemas.arrow import arrow_schema
from dialogdata.validators.coverage import language

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "raw"


# ------------------------------------------------------------------- the reference: a row at a time


def _reference_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """Build the tables from Python rows, one dialogue and one turn at a time."""
    metrics = gx._read_json(folder / "reports" / "metrics.json")
    issues = _reference_issues(folder / "issues.jsonl")
    dialogues, turns = _Rows(gx._DIALOGUE_COLUMNS), _Rows(gx._TURN_COLUMNS)
    for index, row in enumerate(_reference_rows(folder / "dialogues.parquet")):
        _reference_dialogue(dialogues, turns, index, row, issues)
    corpus, coverage = _Rows(gx._CORPUS_COLUMNS), _Rows(gx._COVERAGE_COLUMNS)
    corpus.add(**gx._corpus_row(metrics))
    for index, cell in enumerate(metrics.get("coverage", {}).get("cells", [])):
        if cell.get("required", True):
            coverage.add(**gx._coverage_row(index, cell))
    built = {"dialogues": dialogues, "turns": turns, "corpus": corpus, "coverage": coverage}
    return {name: pd.DataFrame(rows.series()) for name, rows in built.items()}


class _Rows:
    def __init__(self, dtypes: Mapping[str, str]) -> None:
        self.dtypes = dtypes
        self.values: dict[str, list[Any]] = {name: [] for name in dtypes}

    def add(self, **row: Any) -> None:
        for name, values in self.values.items():
            values.append(row[name])

    def series(self) -> dict[str, pd.Series]:
        return {name: pd.Series(self.values[name], dtype=dtype) for name, dtype in self.dtypes.items()}


def _reference_rows(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    wanted = ("id", "split", "turns", "source", "lineage", "tags", "scores")
    parquet = pq.ParquetFile(path)
    columns = [name for name in wanted if name in parquet.schema_arrow.names]
    for batch in parquet.iter_batches(batch_size=2048, columns=columns):
        yield from batch.to_pylist()


def _reference_dialogue(dialogues, turns, index, row, issues) -> None:
    items = row.get("turns") or []
    chars = Counter[str]()
    longest, texts = 0, []
    for position, turn in enumerate(items):
        role, content = _known(turn.get("role"), gx.ROLES), turn.get("content") or ""
        calls = len(turn.get("tool_calls") or [])
        chars[role] += len(content)
        if role == "assistant":
            longest = max(longest, len(content))
        if role in ("user", "assistant"):
            texts.append(content[:400])
        must_speak = role in ("user", "assistant") and not calls
        spoken = float(len(content.strip())) if must_speak else None
        turns.add(
            dialogue=index,
            position=position,
            role=role,
            chars=len(content),
            text_chars=spoken,
            n_tool_calls=calls,
        )
    scores, tags = dict(row.get("scores") or []), dict(row.get("tags") or [])
    counts = issues.get(row.get("id") or "", Counter())
    kind = "none" if tags.get("adversarial") is None else _known(tags["adversarial"], Adversarial.KINDS)
    dialogues.add(
        dialogue=index,
        id_hash=_token(row.get("id")),
        split=None if row.get("split") is None else _known(row["split"], gx.SPLITS),
        source=_token((row.get("source") or {}).get("path")),
        language=_known(language("\n".join(texts)), gx.LANGUAGES),
        n_turns=len(items),
        user_chars=chars["user"],
        assistant_chars=chars["assistant"],
        max_reply_chars=longest,
        **{name: _score(scores.get(name)) for name in ("consistency", "conflict", "rarity")},
        n_issues=counts.total(),
        **{column: counts[code] for code, column in gx.KEY_CODES.items()},
        adversarial=kind,
        is_adversarial=int(kind != "none"),
        augmented=_augmented(row.get("lineage")),
    )


def _reference_issues(path: Path) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    if path.exists():
        for line in path.read_bytes().splitlines():
            issue = orjson.loads(line) if line.strip() else None
            if isinstance(issue, dict) and isinstance(issue.get("id"), str):
                counts[issue["id"]][str(issue.get("code"))] += 1
    return counts


def _token(text: object) -> str | None:
    if not isinstance(text, str):
        return None
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def _known(value: object, vocabulary) -> str:
    return value if isinstance(value, str) and value in vocabulary else "other"


def _score(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _augmented(lineage: object) -> bool:
    if not lineage:
        return False
    try:
        parsed = orjson.loads(lineage)
    except orjson.JSONDecodeError:
        return True
    return not isinstance(parsed, dict) or parsed.get("parent_id") is not None


def assert_same_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """Assert that both readings give equal tables (columns, dtypes, values, order); return them."""
    expected, actual = _reference_tables(folder), gx.metric_tables(folder)
    assert list(actual) == list(expected)
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(actual[name], frame, check_exact=True)
        assert actual[name].equals(frame), name
        assert list(actual[name].dtypes) == list(frame.dtypes), name
    return actual


# ------------------------------------------------------------------------------------ real builds


@pytest.fixture(scope="module")
def augmented_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("gx-tables") / "out"
    dd.build(EXAMPLES, out, augment=["role_swap", "entities", "adversarial"])
    return out


def test_gx_tables_equal_the_reference_on_the_examples(tmp_path):
    dd.build(EXAMPLES, tmp_path / "out")
    tables = assert_same_tables(tmp_path / "out")
    assert len(tables["dialogues"]) > 0 and tables["turns"]["text_chars"].isna().any()


def test_gx_tables_equal_the_reference_on_an_augmented_build(augmented_build):
    tables = assert_same_tables(augmented_build)
    dialogues = tables["dialogues"]
    assert dialogues["augmented"].any() and dialogues["is_adversarial"].any()


def test_gx_tables_share_one_string_object_per_code(augmented_build):
    tables = gx.metric_tables(augmented_build)
    columns = ["split", "source", "language", "adversarial"]
    for table, column in [("turns", "role"), *(("dialogues", column) for column in columns)]:
        values = tables[table][column].dropna()
        assert len({id(v) for v in values}) == len(set(values)), (table, column)


def test_gx_tables_of_a_folder_without_dialogues_are_empty_with_their_dtypes(augmented_build, tmp_path):
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "metrics.json").write_bytes(
        (augmented_build / "reports" / "metrics.json").read_bytes()
    )
    tables = assert_same_tables(tmp_path)
    assert tables["dialogues"].empty and tables["turns"].empty


def test_gx_tables_refuse_text_that_is_not_utf8(tmp_path):
    good = _row(id="a", turns=[_turn("user", "hi")])
    table = pa.Table.from_pylist([good], schema=arrow_schema())
    lone = pa.array(["a\ud800".encode("utf-8", "surrogatepass")], pa.binary()).view(pa.string())
    _write_folder(tmp_path, table.set_column(0, "id", lone), [])
    with pytest.raises(UnicodeDecodeError):
        _reference_tables(tmp_path)
    with pytest.raises(InputError, match="UTF-8"):
        gx.metric_tables(tmp_path)


# -------------------------------------------------------------------------------- generated files

_SPACES = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000"
_ODD = "\x00\u200b\u180e\ufeffé\u0301中文あア😀\U0010ffff"
_CHARS = st.one_of(st.sampled_from(_SPACES + _ODD + "abc. ?"), st.characters(exclude_categories=["Cs"]))
_TEXT = st.text(_CHARS, max_size=12)
_CONTENT = st.one_of(st.none(), _TEXT, st.builds(lambda text, n: text * n, _TEXT, st.integers(30, 90)))
_WORD = st.one_of(st.none(), _TEXT)


def _turn(role=None, content=None, tool_calls=None):
    return {"role": role, "content": content, "name": None, "tool_calls": tool_calls, "tool_call_id": None,
            "loss": None, "meta": None}  # fmt: skip


def _row(**values):
    row = dict.fromkeys(arrow_schema().names)
    return {**row, **values}


_CALL = st.fixed_dictionaries({"id": _WORD, "name": _WORD, "arguments": st.just("{}")})
_TURN = st.builds(
    _turn,
    role=st.one_of(st.sampled_from([*gx.ROLES, "User", "", "bot"]), _WORD),
    content=_CONTENT,
    tool_calls=st.one_of(st.none(), st.lists(_CALL, max_size=2)),
)
_SOURCE = st.one_of(
    st.none(),
    st.builds(lambda path: {"path": path}, st.one_of(st.sampled_from(["a.jsonl", "<b>.json", ""]), _WORD)),
)
_LINEAGE = st.one_of(
    st.none(),
    st.sampled_from(["", "{}", '{"parent_id": null}', '{"parent_id": "x"}', "[1]", "null", "0", "{oops"]),
    _TEXT,
)
_TAGS = st.lists(
    st.tuples(st.sampled_from(["adversarial", "other"]), st.one_of(st.sampled_from(Adversarial.KINDS), _WORD))
)
_SCORES = st.lists(
    st.tuples(
        st.sampled_from(["consistency", "conflict", "rarity", "x"]),
        st.one_of(st.none(), st.floats(), st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 1.0])),
    )
)
_ROW = st.builds(
    _row,
    id=st.one_of(st.sampled_from(["a", "b", ""]), _WORD),
    split=st.one_of(st.sampled_from([*gx.SPLITS, "Train", ""]), _WORD),
    turns=st.one_of(st.none(), st.lists(_TURN, max_size=5)),
    source=_SOURCE,
    lineage=_LINEAGE,
    tags=_TAGS,
    scores=_SCORES,
)
_ISSUE = st.one_of(
    st.builds(
        lambda id_, code: {"id": id_, "code": code},
        st.one_of(st.sampled_from(["a", "b", ""]), _WORD),
        st.one_of(st.sampled_from([*gx.KEY_CODES, "conflict.duplicate", None]), st.integers(-5, 5)),
    ),
    st.just([1]),
)
_OPTIONAL = ("id", "split", "turns", "source", "lineage", "tags", "scores")


def _write_folder(folder: Path, table: pa.Table, issues: list[Any], row_group: int = 2048) -> None:
    (folder / "reports").mkdir(parents=True, exist_ok=True)
    cells = [{"count": 3, "minimum_count": 1, "share": 0.5, "minimum_share": 0.1}, {"required": False}]
    (folder / "reports" / "metrics.json").write_text(json.dumps({"coverage": {"cells": cells}}))
    pq.write_table(table, folder / "dialogues.parquet", row_group_size=row_group, compression="zstd")
    lines = [orjson.dumps(issue) for issue in issues]
    (folder / "issues.jsonl").write_bytes(b"\n".join([*lines, b""]))


@settings(deadline=None, max_examples=60)
@given(
    rows=st.lists(_ROW, max_size=12),
    issues=st.lists(_ISSUE, max_size=8),
    dropped=st.sets(st.sampled_from(_OPTIONAL), max_size=2),
    batch=st.integers(1, 5),
    row_group=st.integers(1, 6),
)
def test_gx_tables_equal_the_reference_on_generated_files(rows, issues, dropped, batch, row_group):
    table = pa.Table.from_pylist(rows, schema=arrow_schema()).drop_columns(sorted(dropped))
    with tempfile.TemporaryDirectory() as name, mock.patch.object(gx, "_BATCH", batch):
        folder = Path(name)
        _write_folder(folder, table, issues, row_group)
        assert_same_tables(folder)


def test_gx_tables_read_turns_without_the_usual_fields(tmp_path):
    turn = pa.struct([("loss", pa.bool_())])
    schema = pa.schema([("id", pa.string()), ("turns", pa.list_(turn))])
    rows = [{"id": "a", "turns": [{"loss": True}, {"loss": None}]}, {"id": "b", "turns": []}]
    _write_folder(tmp_path, pa.Table.from_pylist(rows, schema=schema), [{"id": "a", "code": "x"}])
    tables = assert_same_tables(tmp_path)
    assert tables["turns"]["role"].tolist() == ["other", "other"]


def test_gx_table_grows_past_its_first_guess():
    table = gx._Table({"dialogue": "int64", "role": "object"}, rows=1)
    for first in (0, 3):
        table.extend({"dialogue": np.arange(first, first + 3), "role": gx._objects("user", None, "tool")})
    frame = pd.DataFrame(table.series())
    assert (
        frame["dialogue"].tolist() == list(range(6)) and frame["role"].tolist() == ["user", None, "tool"] * 2
    )


def test_gx_whitespace_is_what_str_strip_removes():
    spaces = gx._whitespace()
    assert all(ch.isspace() for ch in spaces) and "\x1c" in spaces and "\u200b" not in spaces
    assert _SPACES.strip() == ""
