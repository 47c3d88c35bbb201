"""Great Expectations over an output folder's metric tables; the only module that imports GX.

`run_expectations(folder, thresholds)` reads `dialogues.parquet`, `issues.jsonl`,
`reports/metrics.json` and `manifest.json`, flattens them into tables of numbers, codes and hashes,
derives one expectation suite per table from the gate thresholds and the recipe, validates each
table through a GX Checkpoint (in-memory frames, one run id) and writes, under `folder/reports/gx/`:

    tables/NAME.parquet   the flattened tables that GX validated (written by us, for inspection)
    suites/NAME.json      one expectation suite per table
    results.json          the verdict, statistics and every validation result
    docs/index.html       GX's Data Docs

A failed expectation fails the run when it is `critical`; structural checks that the recipe does
not promise (its filter keeps empty turns, duplicates or long replies on request or by default, and
it sets no `max_reply_chars` of its own) are `warning`s: shown in the results and Data Docs, listed
in `GxOutcome.warnings`, never fatal.

Untrusted text never reaches GX: GX's Data Docs do not escape data values, so the tables hold no
dialogue text, and ids and source paths (a file name can carry markup too) become short hashes;
categorical columns are mapped onto fixed vocabularies; GX gets frames, never file paths (the
output folder's name is untrusted too). Unexpected values are also excluded from every result
(`build_result_format`), as a second wall. The context is ephemeral (stores in memory), so nothing
is written outside `reports/gx/`; analytics are forced off and no network is used.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import math
import os
import sys
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from dialogdata.augmenters.adversarial import Adversarial
from dialogdata.config import construct
from dialogdata.errors import InputError, UsageError
from dialogdata.filtering import DEFAULT_DROP
from dialogdata.options import GateOptions
from dialogdata.schemas.arrow import arrow_schema
from dialogdata.validators import Consistency
from dialogdata.validators.coverage import language

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ExpectationOutcome",
    "ExpectationSpec",
    "GateThresholds",
    "GxOutcome",
    "build_result_format",
    "expectations_for",
    "metric_tables",
    "run_expectations",
    "validate_tables",
]

GateThresholds: TypeAlias = GateOptions
"""The [gate] section: the thresholds the suites are derived from."""
Severity: TypeAlias = Literal["critical", "warning"]

TABLES = ("dialogues", "turns", "corpus", "coverage")
ROLES = ("system", "user", "assistant", "tool")
SPLITS = ("train", "validation", "test")
LANGUAGES = ("zh", "en", "mixed", "other")
KEY_CODES = {"consistency.role_order": "n_role_order", "consistency.empty_turn": "n_empty_turn"}
ROLE_ORDER_MOSTLY = 0.99
REPLY_LENGTH_MOSTLY = 0.99
_OTHER = "other"
_SAMPLE = 400  # characters of each turn that tell its language, as the Coverage validator reads them
_SHARE_TOLERANCE = 1e-9  # the Coverage validator's tolerance when it compares a share to a minimum
_BATCH = 2048
_JSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS


@dataclass(frozen=True)
class ExpectationSpec:
    """One expectation before GX sees it: a name a report can show, its table, GX class and arguments.

    A failed `warning` is reported but does not fail the run; a failed `critical` one does.
    """

    name: str
    table: str
    kind: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    severity: Severity = "critical"


@dataclass(frozen=True)
class ExpectationOutcome:
    """One evaluated expectation: name, table, GX type, column, verdict and what was observed."""

    name: str
    table: str
    type: str
    column: str | None
    success: bool
    severity: Severity = "critical"
    observed: float | None = None
    unexpected_count: int | None = None
    element_count: int | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the outcome as plain JSON."""
        return {
            "name": self.name,
            "table": self.table,
            "type": self.type,
            "column": self.column,
            "success": self.success,
            "severity": self.severity,
            "observed": self.observed,
            "unexpected_count": self.unexpected_count,
            "element_count": self.element_count,
            "error": self.error,
        }


@dataclass(frozen=True)
class GxOutcome:
    """What a GX run found (verdict, counts, each expectation) and the files it wrote."""

    success: bool
    statistics: Mapping[str, int]
    expectations: tuple[ExpectationOutcome, ...]
    results: Path
    docs: Path
    suites: tuple[Path, ...]
    tables: tuple[Path, ...]

    @property
    def failed(self) -> list[ExpectationOutcome]:
        """The critical expectations that did not hold: each one fails the run."""
        return [e for e in self.expectations if not e.success and e.severity == "critical"]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        """The warning expectations that did not hold: reported, but the run still succeeds."""
        return [e for e in self.expectations if not e.success and e.severity != "critical"]

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file written: tables, suites, results and the Data Docs index."""
        return (*self.tables, *self.suites, self.results, self.docs)

    def to_dict(self) -> dict[str, Any]:
        """Return the outcome as plain JSON (paths as strings)."""
        return {
            "success": self.success,
            "statistics": dict(self.statistics),
            "expectations": [e.to_dict() for e in self.expectations],
            "failed": [e.name for e in self.failed],
            "warnings": [e.name for e in self.warnings],
            "paths": [str(p) for p in self.paths],
        }


def run_expectations(
    folder: Path,
    thresholds: GateOptions | Mapping[str, Any],
    *,
    recipe: Mapping[str, Any] | None = None,
) -> GxOutcome:
    """Validate an output (or staging) folder with GX and write suites, results and Data Docs.

    `thresholds` is the [gate] section: a `GateOptions` is used as it is; a mapping is put over the
    manifest's `config.recipe.gate` and the defaults. `recipe` (default: the manifest's
    `config.recipe`) gives `consistency.max_reply_chars` and `conflict.adversarial_band`.

    >>> outcome = run_expectations(Path("out/demo"), {"min_consistency": 0.9})  # doctest: +SKIP
    >>> outcome.success, [e.name for e in outcome.failed]  # doctest: +SKIP
    """
    folder = Path(folder)
    metrics = _read_json(folder / "reports" / "metrics.json")
    manifest_path = folder / "manifest.json"
    manifest = _read_json(manifest_path) if manifest_path.exists() else {}
    if recipe is None:
        recipe = manifest.get("config", {}).get("recipe", {})
    gate = gate_thresholds(thresholds, recipe.get("gate", {}))
    tables = metric_tables(folder)
    mode = metrics.get("run", {}).get("mode", "build")
    has_scores = bool(tables["corpus"]["consistency_mean"].notna().any())
    specs = expectations_for(gate, recipe, mode=mode, has_consistency=has_scores)
    return validate_tables(folder / "reports" / "gx", tables, specs)


def gate_thresholds(thresholds: GateOptions | Mapping[str, Any], base: Mapping[str, Any]) -> GateOptions:
    """Return the gate options: `thresholds` itself, or a mapping put over `base` and the defaults."""
    if isinstance(thresholds, GateOptions):
        return thresholds
    gate: GateOptions = construct(GateOptions, {**base, **thresholds}, section="gate")
    return gate


def build_result_format(
    *, exclude_unexpected_values: bool = True, partial_unexpected_count: int = 0
) -> dict[str, Any]:
    """Return the Checkpoint's result format: counts only, no unexpected values or rows by default."""
    return {
        "result_format": "SUMMARY",
        "partial_unexpected_count": partial_unexpected_count,
        "include_unexpected_rows": False,
        "exclude_unexpected_values": exclude_unexpected_values,
    }


# ----------------------------------------------------------------------------------------- tables


def metric_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """Return the folder's flattened tables: dialogues, turns, corpus and coverage (no text in them)."""
    import pandas as pd

    folder = Path(folder)
    metrics = _read_json(folder / "reports" / "metrics.json")
    issues = _issue_counts(folder / "issues.jsonl")
    dialogues, turns = _dialogue_tables(folder / "dialogues.parquet", issues)
    corpus, coverage = _Columns(_CORPUS_COLUMNS), _Columns(_COVERAGE_COLUMNS)
    corpus.add(**_corpus_row(metrics))
    cells = metrics.get("coverage", {}).get("cells", [])
    for index, cell in enumerate(cells):
        if cell.get("required", True):
            coverage.add(**_coverage_row(index, cell))
    built: dict[str, _Table | _Columns] = {
        "dialogues": dialogues,
        "turns": turns,
        "corpus": corpus,
        "coverage": coverage,
    }
    return {name: pd.DataFrame(columns.series(), copy=False) for name, columns in built.items()}


_DIALOGUE_COLUMNS = {
    "dialogue": "int64",
    "id_hash": "object",
    "split": "object",
    "source": "object",
    "language": "object",
    "n_turns": "int64",
    "user_chars": "int64",
    "assistant_chars": "int64",
    "max_reply_chars": "int64",
    "consistency": "float64",
    "conflict": "float64",
    "rarity": "float64",
    "n_issues": "int64",
    "n_role_order": "int64",
    "n_empty_turn": "int64",
    "adversarial": "object",
    "is_adversarial": "int64",
    "augmented": "bool",
}
_TURN_COLUMNS = {
    "dialogue": "int64",
    "position": "int64",
    "role": "object",
    "chars": "int64",
    "text_chars": "float64",
    "n_tool_calls": "int64",
}
_CORPUS_COLUMNS = {
    "source_records": "int64",
    "written": "int64",
    "reject_share": "float64",
    "filtered_share": "float64",
    "duplicate_share": "float64",
    "groups_across_splits": "float64",
    "consistency_mean": "float64",
    "coverage_score": "float64",
}
_COVERAGE_COLUMNS = {
    "cell": "int64",
    "count": "int64",
    "minimum_count": "int64",
    "share": "float64",
    "share_floor": "float64",
}
_ROOTS = ("id", "split", "lineage", "tags", "scores")  # read whole; of turns and source, only some leaves
_TURN_FIELDS = ("role", "content", "tool_calls")
_USER, _ASSISTANT = ROLES.index("user"), ROLES.index("assistant")
_ISSUE_COLUMNS = ("n_issues", *KEY_CODES.values())
_KEY_COLUMN = {code: index for index, code in enumerate(KEY_CODES, 1)}  # a code's column in `_Issues`


class _Columns:
    """Column lists of one table, filled a row at a time (lighter than a list of dicts)."""

    def __init__(self, dtypes: Mapping[str, str]) -> None:
        self.dtypes = dtypes
        self.values: dict[str, list[Any]] = {name: [] for name in dtypes}

    def add(self, **row: Any) -> None:
        for name, values in self.values.items():
            values.append(row[name])

    def series(self) -> dict[str, Any]:
        import pandas as pd

        return {name: pd.Series(self.values[name], dtype=dtype) for name, dtype in self.dtypes.items()}


class _Table:
    """A table's columns as arrays of `rows` (a first guess that may grow), filled a batch at a time."""

    def __init__(self, dtypes: Mapping[str, str], rows: int = 0) -> None:
        self.dtypes = dtypes
        self.size = 0
        # Arrays made once, rather than one per batch joined at the end, leave no holes in the heap.
        self.arrays = {name: np.empty(rows, dtype=dtype) for name, dtype in dtypes.items()}

    def extend(self, columns: Mapping[str, np.ndarray]) -> None:
        end = self.size + len(next(iter(columns.values())))
        for name, array in self.arrays.items():
            if len(array) < end:
                more = np.empty(max(end, len(array) * 3 // 2) - len(array), dtype=array.dtype)
                array = self.arrays[name] = np.concatenate([array, more])
            array[self.size : end] = columns[name]
        self.size = end

    def series(self) -> dict[str, Any]:
        import pandas as pd

        return {
            name: pd.Series(self.arrays[name][: self.size], dtype=dtype, copy=False)
            for name, dtype in self.dtypes.items()
        }


@dataclass(frozen=True)
class _Turns:
    """One batch's turns, flattened: the dialogue (in the batch) of each, its role code, text and sizes."""

    counts: np.ndarray
    parents: np.ndarray
    roles: np.ndarray
    content: pa.Array
    chars: np.ndarray
    calls: np.ndarray


@dataclass(frozen=True)
class _Issues:
    """Issue counts per dialogue id: a row of `_ISSUE_COLUMNS` per id, then a row of zeros for others."""

    ids: pa.Array
    counts: np.ndarray

    def lookup(self, ids: pa.Array) -> np.ndarray:
        """Return the counts of each id; a null id counts as the empty one."""
        found = pc.index_in(pc.fill_null(ids, ""), value_set=self.ids)
        return self.counts[_integers(found, len(self.ids))]


def _dialogue_tables(path: Path, issues: _Issues) -> tuple[_Table, _Table]:
    """Return the dialogues and turns tables of `dialogues.parquet`, read a batch at a time."""
    if not path.exists():
        return _Table(_DIALOGUE_COLUMNS), _Table(_TURN_COLUMNS)
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    dialogues = _Table(_DIALOGUE_COLUMNS, parquet.metadata.num_rows)
    turns = _Table(_TURN_COLUMNS, _turn_bound(parquet.metadata))
    sources: dict[str, str | None] = {}
    for batch in parquet.iter_batches(batch_size=_BATCH, columns=_wanted_columns(parquet)):
        _check_text(batch, path)
        flat = _flatten_turns(_column(batch, "turns"))
        turns.extend(_turn_columns(flat, dialogues.size))
        dialogues.extend(_dialogue_columns(batch, flat, dialogues.size, issues, sources))
        # mimalloc would otherwise keep each batch's freed pages, and add them to the build's peak.
        pa.default_memory_pool().release_unused()
    return dialogues, turns


def _check_text(batch: pa.RecordBatch, path: Path) -> None:
    """Raise an `InputError` when the batch holds text that is not UTF-8 (Arrow reads bytes as they are)."""
    try:
        batch.validate(full=True)
    except pa.ArrowInvalid as exc:
        raise InputError(f"expected UTF-8 text: {exc}", path=str(path)) from None


def _turn_bound(metadata: Any) -> int:
    """Return at least the number of turns: every leaf under `turns` holds one value or more per turn."""
    groups = [metadata.row_group(index) for index in range(metadata.num_row_groups)]
    bounds = [
        sum(group.column(column).num_values for group in groups)
        for column in range(metadata.num_columns)
        if metadata.schema.column(column).path.startswith("turns.")
    ]
    return min(bounds, default=0)


def _wanted_columns(parquet: Any) -> list[str]:
    """Return the columns to read: the small ones whole, and one leaf per turn field and source path."""
    names = parquet.schema_arrow.names
    leaves = [parquet.schema.column(i).path for i in range(len(parquet.schema))]
    wanted = [name for name in _ROOTS if name in names]
    wanted += [leaf for leaf in leaves if leaf == "source.path"]
    if "turns" in names:
        found: dict[str, str] = {}
        for leaf in leaves:
            parts = leaf.split(".")  # turns.list.element.FIELD...; any leaf of the tool calls counts them
            if parts[0] == "turns" and len(parts) > 3 and parts[3] in _TURN_FIELDS:
                found.setdefault(parts[3], leaf)
        wanted += list(found.values()) or ["turns"]
    return wanted


def _column(batch: pa.RecordBatch, name: str) -> pa.Array:
    """Return a column of the batch, or nulls of its type in the schema when the file lacks it."""
    index = batch.schema.get_field_index(name)
    if index < 0:
        return pa.nulls(batch.num_rows, arrow_schema().field(name).type)
    return batch.column(index)


def _field(array: pa.Array, name: str, kind: pa.DataType) -> pa.Array:
    """Return a field of a struct array (null where the struct is), or nulls when it has no such field."""
    if array.type.get_field_index(name) < 0:
        return pa.nulls(len(array), kind)
    return pc.struct_field(array, name)


def _flatten_turns(turns: pa.Array) -> _Turns:
    """Return the batch's turns in a row; a missing content is empty text, as in the dialogue."""
    flat = pc.list_flatten(turns)
    counts = _integers(pc.list_value_length(turns))
    content = pc.fill_null(_field(flat, "content", pa.string()), "")
    return _Turns(
        counts=counts,
        parents=np.repeat(np.arange(len(turns), dtype=np.int64), counts),
        roles=_codes(_field(flat, "role", pa.string()), ROLES, null=len(ROLES)),
        content=content,
        chars=_integers(pc.utf8_length(content)),
        calls=_integers(pc.list_value_length(_field(flat, "tool_calls", pa.list_(pa.null())))),
    )


def _turn_columns(turns: _Turns, first: int) -> dict[str, np.ndarray]:
    """Return the turns table's columns for one batch whose first dialogue is number `first`."""
    starts = np.cumsum(turns.counts) - turns.counts
    # Only a user or assistant turn that calls no tool must say something.
    must_speak = _speaks(turns.roles) & (turns.calls == 0)
    spoken = _integers(pc.utf8_length(pc.utf8_trim(turns.content, characters=_whitespace())))
    return {
        "dialogue": first + turns.parents,
        "position": np.arange(len(turns.parents), dtype=np.int64) - starts[turns.parents],
        "role": _objects(*ROLES, _OTHER)[turns.roles],
        "chars": turns.chars,
        "text_chars": np.where(must_speak, spoken, np.nan),
        "n_tool_calls": turns.calls,
    }


def _dialogue_columns(
    batch: pa.RecordBatch, turns: _Turns, first: int, issues: _Issues, sources: dict[str, str | None]
) -> dict[str, np.ndarray]:
    """Return the dialogues table's columns for one batch whose first dialogue is number `first`."""
    rows, ids = batch.num_rows, _column(batch, "id")
    adversarial = pc.map_lookup(_column(batch, "tags"), "adversarial", "last")  # the last, as `dict` keeps
    return {
        "dialogue": np.arange(first, first + rows, dtype=np.int64),
        "id_hash": _id_tokens(ids),
        "split": _labels(_column(batch, "split"), SPLITS, null=None),
        "source": _source_tokens(_field(_column(batch, "source"), "path", pa.string()), sources),
        "language": _languages(turns, rows),
        "n_turns": turns.counts,
        "user_chars": _role_total(turns, _USER, rows),
        "assistant_chars": _role_total(turns, _ASSISTANT, rows),
        "max_reply_chars": _longest_reply(turns, rows),
        **_score_columns(_column(batch, "scores")),
        **dict(zip(_ISSUE_COLUMNS, issues.lookup(ids).T, strict=True)),
        "adversarial": _labels(adversarial, Adversarial.KINDS, null="none"),
        "is_adversarial": pc.is_valid(adversarial).to_numpy(zero_copy_only=False).astype(np.int64),
        "augmented": _augmented(_column(batch, "lineage")),
    }


def _id_tokens(ids: pa.Array) -> np.ndarray:
    """Return the token of each id, hashed from its UTF-8 bytes as `_token` does (None for a null id)."""
    return _objects(*(None if data is None else _digest(data) for data in ids.cast(pa.binary()).to_pylist()))


def _languages(turns: _Turns, rows: int) -> np.ndarray:
    """Return each dialogue's language, told from the start of its user and assistant turns."""
    speaks = _speaks(turns.roles)
    ends = np.cumsum(np.bincount(turns.parents[speaks], minlength=rows))
    offsets = pa.array(np.concatenate([[0], ends]), pa.int32())
    samples = pc.utf8_slice_codeunits(turns.content.filter(pa.array(speaks)), 0, _SAMPLE)
    texts = pc.binary_join(pa.ListArray.from_arrays(offsets, samples), "\n")
    return _objects(*(_known(language(text), LANGUAGES) for text in texts.to_pylist()))


def _role_total(turns: _Turns, role: int, rows: int) -> np.ndarray:
    """Return the characters of each dialogue's turns in `role`."""
    total = np.zeros(rows, dtype=np.int64)
    mask = turns.roles == role
    np.add.at(total, turns.parents[mask], turns.chars[mask])
    return total


def _longest_reply(turns: _Turns, rows: int) -> np.ndarray:
    """Return the characters of each dialogue's longest assistant turn, 0 when it has none."""
    longest = np.zeros(rows, dtype=np.int64)
    mask = turns.roles == _ASSISTANT
    np.maximum.at(longest, turns.parents[mask], turns.chars[mask])
    return longest


def _score_columns(scores: pa.Array) -> dict[str, np.ndarray]:
    """Return each score (its last entry, as `dict` keeps it) as floats; NaN where it is not finite."""
    columns = {}
    for name in ("consistency", "conflict", "rarity"):
        values = pc.map_lookup(scores, name, "last").cast(pa.float64()).to_numpy(zero_copy_only=False)
        columns[name] = np.where(np.isfinite(values), values, np.nan)
    return columns


def _source_tokens(paths: pa.Array, tokens: dict[str, str | None]) -> np.ndarray:
    """Return the token of each source path; `tokens` keeps them across batches (there are few paths)."""
    encoded = pc.dictionary_encode(paths)
    names = encoded.dictionary.to_pylist()
    for name in names:
        if name not in tokens:
            tokens[name] = _token(name)
    return _objects(*(tokens[name] for name in names), None)[_integers(encoded.indices, len(names))]


def _augmented(lineage: pa.Array) -> np.ndarray:
    """Return whether each dialogue's lineage names a parent; only a non-empty lineage is parsed."""
    flags = np.zeros(len(lineage), dtype=bool)
    present = pc.fill_null(pc.greater(pc.binary_length(lineage), 0), False)
    flags[present.to_numpy(zero_copy_only=False)] = [
        _is_augmented(text) for text in lineage.filter(present).to_pylist()
    ]
    return flags


def _labels(values: pa.Array, vocabulary: Sequence[str], *, null: str | None) -> np.ndarray:
    """Return each value as its word in `vocabulary`, 'other' when it has none and `null` when null."""
    return _objects(*vocabulary, _OTHER, null)[_codes(values, vocabulary, null=len(vocabulary) + 1)]


def _codes(values: pa.Array, vocabulary: Sequence[str], *, null: int) -> npt.NDArray[np.int64]:
    """Return each value's index in `vocabulary`: its length for another value, `null` for a null."""
    codes = _integers(pc.index_in(values, value_set=pa.array(vocabulary, pa.string())), len(vocabulary))
    codes[pc.is_null(values).to_numpy(zero_copy_only=False)] = null
    return codes


def _integers(values: pa.Array, null: int = 0) -> npt.NDArray[np.int64]:
    """Return an Arrow integer array as int64, with `null` for its nulls."""
    return np.asarray(pc.fill_null(values, null).to_numpy(zero_copy_only=False), dtype=np.int64)


def _objects(*values: str | None) -> np.ndarray:
    """Return the values as an object array: taking from it shares one string object per code."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _speaks(roles: np.ndarray) -> np.ndarray:
    """Return which turns are the user's or the assistant's."""
    speaks: np.ndarray = (roles == _USER) | (roles == _ASSISTANT)
    return speaks


@functools.cache
def _whitespace() -> str:
    """Return every character `str.strip()` removes (those `str.isspace` accepts) for Arrow to trim."""
    return "".join(char for char in map(chr, range(sys.maxunicode + 1)) if char.isspace())


def _issue_counts(path: Path) -> _Issues:
    """Return, per dialogue id, the number of issues in `issues.jsonl`: all, and of each key code."""
    counts: dict[str, list[int]] = {}
    for issue in _read_issues(path):
        row = counts.setdefault(issue["id"], [0] * len(_ISSUE_COLUMNS))
        row[0] += 1
        column = _KEY_COLUMN.get(str(issue.get("code")))
        if column is not None:
            row[column] += 1
    table = np.zeros((len(counts) + 1, len(_ISSUE_COLUMNS)), dtype=np.int64)
    if counts:
        table[:-1] = list(counts.values())
    return _Issues(pa.array(list(counts), pa.string()), table)


def _read_issues(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the issues of `issues.jsonl` that name a dialogue id (none when there is no such file)."""
    if not path.exists():
        return
    with path.open("rb") as stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                issue = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise InputError(f"expected a JSON issue: {exc}", path=str(path), line=number) from None
            if isinstance(issue, dict) and isinstance(issue.get("id"), str):
                yield issue


def _corpus_row(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Return the corpus figures: fates and their shares, leakage, mean consistency and coverage score."""
    fates = metrics.get("fates", {})
    source = fates.get("source_records", 0)
    leaks = metrics.get("export", {}).get("leakage", {}).get("groups_across_splits")
    return {
        "source_records": source,
        "written": fates.get("written", 0),
        "reject_share": fates.get("rejected", 0) / (source or 1),
        "filtered_share": fates.get("filtered", 0) / (source or 1),
        "duplicate_share": fates.get("deduplicated", 0) / (source or 1),
        "groups_across_splits": None if leaks is None else float(leaks),
        "consistency_mean": _score(metrics.get("scores", {}).get("consistency", {}).get("mean")),
        "coverage_score": _score(metrics.get("coverage", {}).get("score")),
    }


def _coverage_row(index: int, cell: Mapping[str, Any]) -> dict[str, Any]:
    """Return a required coverage cell by its position (its name stays out of GX)."""
    minimum_share = float(cell.get("minimum_share") or 0.0)
    return {
        "cell": index,
        "count": int(cell.get("count") or 0),
        "minimum_count": int(cell.get("minimum_count") or 0),
        "share": float(cell.get("share") or 0.0),
        "share_floor": max(0.0, minimum_share - _SHARE_TOLERANCE),
    }


def _token(text: object) -> str | None:
    """Return a short hash standing for an untrusted string (an id, a source path)."""
    if not isinstance(text, str):
        return None
    return _digest(text.encode("utf-8", "surrogatepass"))


def _digest(data: bytes) -> str:
    """Return the short hash of some UTF-8 bytes."""
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def _known(value: object, vocabulary: Sequence[str]) -> str:
    """Return `value` when it is in `vocabulary`, else 'other' (an unknown value is untrusted text)."""
    return value if isinstance(value, str) and value in vocabulary else _OTHER


def _score(value: object) -> float | None:
    """Return a finite number as a float, else None."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _is_augmented(lineage: object) -> bool:
    """Return whether a dialogue's lineage (JSON text) names a parent."""
    if not lineage:
        return False
    try:
        parsed = orjson.loads(lineage) if isinstance(lineage, str | bytes) else lineage
    except orjson.JSONDecodeError:
        return True
    return not isinstance(parsed, dict) or parsed.get("parent_id") is not None


def _read_json(path: Path) -> dict[str, Any]:
    """Read a JSON object, or raise an `InputError` naming the file."""
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise InputError(
            "expected a dialogdata output folder; this file is missing", path=str(path)
        ) from None
    except orjson.JSONDecodeError as exc:
        raise InputError(f"expected JSON: {exc}", path=str(path)) from None
    if not isinstance(data, dict):
        raise InputError(f"expected a JSON object; found {type(data).__name__}", path=str(path))
    return data


# ----------------------------------------------------------------------------------------- suites


def expectations_for(
    gate: GateOptions, recipe: Mapping[str, Any], *, mode: str = "build", has_consistency: bool = True
) -> list[ExpectationSpec]:
    """Return the expectations: structural ones, plus those the gate and the recipe ask for."""
    specs = [*_dialogue_expectations(recipe, mode), *_turn_expectations(recipe)]
    specs += _corpus_expectations(gate, mode)
    if gate.min_consistency is not None and has_consistency:
        # The gate's figure: the mean over every scored dialogue, filtered and deduplicated ones too.
        kwargs = {"column": "consistency_mean", "min_value": gate.min_consistency}
        specs.append(ExpectationSpec("mean consistency", "corpus", "ExpectColumnMinToBeBetween", kwargs))
    if gate.require_coverage:
        specs += [
            ExpectationSpec("coverage cell counts", "coverage", "ExpectColumnPairValuesAToBeGreaterThanB",
                            {"column_A": "count", "column_B": "minimum_count", "or_equal": True}),
            ExpectationSpec("coverage cell shares", "coverage", "ExpectColumnPairValuesAToBeGreaterThanB",
                            {"column_A": "share", "column_B": "share_floor", "or_equal": True}),
        ]  # fmt: skip
    return specs


def _dialogue_expectations(recipe: Mapping[str, Any], mode: str) -> list[ExpectationSpec]:
    """Return the expectations on the per-dialogue table."""
    table, between = "dialogues", "ExpectColumnValuesToBeBetween"
    promised = _promised(recipe)
    specs = [
        ExpectationSpec("unique dialogue ids", table, "ExpectColumnValuesToBeUnique", {"column": "id_hash"},
                        promised("conflict.duplicate")),
        ExpectationSpec("known splits", table, "ExpectColumnValuesToBeInSet",
                        {"column": "split", "value_set": list(SPLITS)}),
        ExpectationSpec("at least one turn", table, between, {"column": "n_turns", "min_value": 1}),
        *(ExpectationSpec(f"{score} score in [0, 1]", table, between,
                          {"column": score, "min_value": 0.0, "max_value": 1.0})
          for score in ("consistency", "conflict", "rarity")),
        ExpectationSpec("role order valid", table, between,
                        {"column": "n_role_order", "max_value": 0, "mostly": ROLE_ORDER_MOSTLY},
                        promised("consistency.role_order")),
        ExpectationSpec("assistant reply length", table, between,
                        {"column": "max_reply_chars", "min_value": 0, "max_value": _max_reply_chars(recipe),
                         "mostly": REPLY_LENGTH_MOSTLY},
                        "critical" if "max_reply_chars" in recipe.get("consistency", {})
                        else promised("consistency.long_reply")),
    ]  # fmt: skip
    if mode == "build":
        specs.insert(0, ExpectationSpec("dialogues written", table, "ExpectTableRowCountToBeBetween",
                                        {"min_value": 1}))  # fmt: skip
    band = _adversarial_band(recipe)
    if band is not None:
        kwargs = {"column": "is_adversarial", "min_value": band[0], "max_value": band[1]}
        specs.append(ExpectationSpec("adversarial share", table, "ExpectColumnMeanToBeBetween", kwargs))
    return specs


def _turn_expectations(recipe: Mapping[str, Any]) -> list[ExpectationSpec]:
    """Return the expectations on the per-turn table."""
    severity = _promised(recipe)("consistency.empty_turn")
    return [
        ExpectationSpec("known roles", "turns", "ExpectColumnValuesToBeInSet",
                        {"column": "role", "value_set": list(ROLES)}),
        # Null where a turn need not speak: system and tool turns, and a turn that only calls tools.
        ExpectationSpec("no empty turns", "turns", "ExpectColumnValuesToBeBetween",
                        {"column": "text_chars", "min_value": 1}, severity),
    ]  # fmt: skip


def _promised(recipe: Mapping[str, Any]) -> Callable[[str], Severity]:
    """Return code -> severity: critical when the recipe's filter drops what the code flags, else warning.

    The written data must keep the filter's promises; what the user keeps on purpose (`drop = []`,
    `dedup = "none"`, long replies by default) is reported as a warning and does not fail the run.
    """
    section = recipe.get("filter", {})
    drop = set(section.get("drop", DEFAULT_DROP))
    if section.get("dedup", "near") != "none":
        drop.add("conflict.duplicate")
    return lambda code: "critical" if code in drop else "warning"


def _corpus_expectations(gate: GateOptions, mode: str) -> list[ExpectationSpec]:
    """Return the expectations on the one-row corpus table: the gate's shares and leakage."""
    limits = {
        "reject share": ("reject_share", gate.max_reject_share),
        "filtered share": ("filtered_share", gate.max_filtered_share),
        "duplicate share": ("duplicate_share", gate.max_duplicate_share),
        "groups across splits": ("groups_across_splits", 0 if mode == "build" else None),
    }
    return [
        ExpectationSpec(name, "corpus", "ExpectColumnMaxToBeBetween", {"column": column, "max_value": limit})
        for name, (column, limit) in limits.items()
        if limit is not None
    ]


def _max_reply_chars(recipe: Mapping[str, Any]) -> int:
    """Return the recipe's `consistency.max_reply_chars`, or the validator's default."""
    value = recipe.get("consistency", {}).get("max_reply_chars")
    if value is None:
        value = inspect.signature(Consistency).parameters["max_reply_chars"].default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"consistency.max_reply_chars: expected a whole number >= 1; found {value!r}")
    return value


def _adversarial_band(recipe: Mapping[str, Any]) -> tuple[float, float] | None:
    """Return the recipe's `conflict.adversarial_band` when it sets one."""
    band = recipe.get("conflict", {}).get("adversarial_band")
    if band is None:
        return None
    if isinstance(band, list | tuple) and len(band) == 2:
        low, high = band
        if (
            all(isinstance(x, int | float) and not isinstance(x, bool) for x in band)
            and 0 <= low <= high <= 1
        ):
            return float(low), float(high)
    raise UsageError(f"conflict.adversarial_band: expected two shares (low, high); found {band!r}")


# ---------------------------------------------------------------------------------------- running


def validate_tables(
    folder: Path,
    tables: Mapping[str, pd.DataFrame],
    expectations: Sequence[ExpectationSpec],
    *,
    result_format: Mapping[str, Any] | None = None,
) -> GxOutcome:
    """Validate `tables` through GX Checkpoints and write the tables, suites, results and Data Docs.

    `folder` is the GX folder itself (`OUT/reports/gx`); what an earlier run wrote there is replaced.
    The paths returned are under `folder` as given (relative if it is).
    """
    rf = dict(result_format) if result_format is not None else build_result_format()
    folder = Path(folder)
    _clear(folder)
    (folder / "tables").mkdir(parents=True)
    (folder / "suites").mkdir()
    table_paths = []
    for name, frame in tables.items():
        table_paths.append(folder / "tables" / f"{name}.parquet")
        frame.to_parquet(table_paths[-1], index=False)
    by_table: dict[str, list[ExpectationSpec]] = defaultdict(list)
    for spec in expectations:
        if spec.table not in tables:
            raise UsageError(f"expectation {spec.name!r} is on table {spec.table!r}, which is not given")
        by_table[spec.table].append(spec)
    with _gx_warnings():
        suites, result = _run_checkpoints(folder, tables, by_table, rf)
    results_path = folder / "results.json"
    results_path.write_bytes(_dumps(result["json"]))
    return GxOutcome(
        success=result["success"],
        statistics=result["statistics"],
        expectations=tuple(result["outcomes"]),
        results=results_path,
        docs=folder / "docs" / "index.html",
        suites=tuple(suites),
        tables=tuple(table_paths),
    )


def _run_checkpoints(
    folder: Path,
    tables: Mapping[str, pd.DataFrame],
    by_table: Mapping[str, Sequence[ExpectationSpec]],
    rf: Mapping[str, Any],
) -> tuple[list[Path], dict[str, Any]]:
    """Build the context and one suite, validation definition and Checkpoint per table; run them all.

    A Checkpoint hands the same batch parameters to each of its validation definitions, so with
    in-memory frames each table gets its own; they share one run id, so Data Docs show one run.
    Frames rather than files keep every path, the output folder's included, away from Data Docs.
    """
    gx = _import_gx()
    from great_expectations.core.run_identifier import RunIdentifier

    context = gx.get_context(project_config=_project_config(folder.resolve() / "docs"), mode="ephemeral")
    source = context.data_sources.add_pandas("dialogdata")
    run_id = RunIdentifier(run_name="dialogdata")
    suite_paths, runs = [], []
    for table, specs in by_table.items():
        batch = source.add_dataframe_asset(table).add_batch_definition_whole_dataframe(table)
        made = [
            getattr(gx.expectations, s.kind)(**s.kwargs, meta={"name": s.name}, severity=s.severity)
            for s in specs
        ]
        suite = context.suites.add(gx.ExpectationSuite(name=table, expectations=made))
        suite_paths.append(folder / "suites" / f"{table}.json")
        suite_paths[-1].write_bytes(_dumps(suite.to_json_dict()))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=table, data=batch, suite=suite)
        )
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=table,
                validation_definitions=[definition],
                actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs")],
                result_format=dict(rf),
            )
        )
        runs.append(checkpoint.run(batch_parameters={"dataframe": tables[table]}, run_id=run_id))
    return suite_paths, _collect(runs)


def _collect(runs: Sequence[Any]) -> dict[str, Any]:
    """Return the verdict, the summed statistics, one outcome per expectation and the results as JSON."""
    validations = [result.to_json_dict() for run in runs for result in run.run_results.values()]
    outcomes, totals = [], Counter[str]()
    for validation in validations:
        stats = validation.get("statistics", {})
        totals["evaluated"] += stats.get("evaluated_expectations", 0)
        totals["successful"] += stats.get("successful_expectations", 0)
        totals["unsuccessful"] += stats.get("unsuccessful_expectations", 0)
        outcomes += [_outcome(validation.get("suite_name", ""), r) for r in validation.get("results", [])]
    statistics = {key: totals[key] for key in ("evaluated", "successful", "unsuccessful")}
    statistics["warnings"] = sum(1 for o in outcomes if not o.success and o.severity == "warning")
    success = all(o.success or o.severity == "warning" for o in outcomes)
    document = {"success": success, "statistics": statistics, "validations": validations}
    return {"success": success, "statistics": statistics, "outcomes": outcomes, "json": document}


def _outcome(table: str, result: Mapping[str, Any]) -> ExpectationOutcome:
    """Return one expectation's outcome from its validation result (as JSON)."""
    config = result.get("expectation_config", {})
    kwargs, figures = config.get("kwargs", {}), result.get("result") or {}
    info = result.get("exception_info") or {}
    return ExpectationOutcome(
        name=str((config.get("meta") or {}).get("name", config.get("type", ""))),
        table=table,
        type=str(config.get("type", "")),
        column=kwargs.get("column") or kwargs.get("column_A"),
        success=bool(result.get("success")),
        severity="warning" if config.get("severity") == "warning" else "critical",
        observed=_score(figures.get("observed_value")),
        unexpected_count=figures.get("unexpected_count"),
        element_count=figures.get("element_count"),
        error=info.get("exception_message") if info.get("raised_exception") else None,
    )


def _project_config(docs: Path) -> Any:
    """Return an in-memory context config whose only files are the Data Docs site under `docs`."""
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    site = {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    return DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites={"dialogdata": site},
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),  # the library never prints
    )


def _import_gx() -> Any:
    """Import great_expectations with analytics off for this process, whatever the user set."""
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    import great_expectations

    return great_expectations


@contextlib.contextmanager
def _gx_warnings() -> Iterator[None]:
    """Silence GX's own known warnings, and undo its process-wide `logging.captureWarnings(True)`."""
    # catch_warnings restores `warnings.showwarning` on exit, which GX's import replaces for everyone.
    with warnings.catch_warnings():
        # GX 1.x imports `sre_constants` and `sre_parse`, deprecated aliases since Python 3.11.
        warnings.filterwarnings(
            "ignore",
            message=r"module 'sre_(constants|parse)' is deprecated",
            category=DeprecationWarning,
            module=r"great_expectations\.",
        )
        yield


def _clear(folder: Path) -> None:
    """Remove what an earlier run wrote in the GX folder (only the names this module writes)."""
    import shutil

    for name in ("tables", "suites", "docs"):
        if (folder / name).is_dir():
            shutil.rmtree(folder / name)
    (folder / "results.json").unlink(missing_ok=True)
    folder.mkdir(parents=True, exist_ok=True)


def _dumps(value: Any) -> bytes:
    """Return indented JSON (UTF-8, unknown types as text) for GX's suites and results."""
    return orjson.dumps(value, default=str, option=_JSON_OPTIONS)
