"""Load a gazetteer: a bundled list by name, or a user file of label/term pairs (CSV/TSV/JSONL/JSON/TOML)."""

from __future__ import annotations

import csv
import functools
import io
import tomllib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import msgspec

from dialogdata.errors import ConfigError, InputError
from dialogdata.gazetteers.gazetteer import Gazetteer

BUNDLED: dict[str, tuple[str, ...]] = {
    "default": ("medical", "finance"),
    "finance": ("finance",),
    "medical": ("medical",),
}
"""Bundled gazetteer names and the lists each one joins."""

SUFFIXES = (".csv", ".tsv", ".jsonl", ".json", ".toml")
_JSONL_KEYS = ("id", "label", "pattern", "term")
_DELIMITERS = {".csv": ",", ".tsv": "\t"}


def load_gazetteer(name_or_path: str | Path) -> Gazetteer:
    """Return a bundled gazetteer ("medical", "finance", "default" = both) or one read from a file.

    A file holds label/term pairs: `.csv` / `.tsv` rows `label,term` (an optional `label,term`
    header; `#` comment lines), `.jsonl` objects `{"label": ..., "term": ...}` (spaCy's phrase
    patterns `{"label": ..., "pattern": "..."}` work too), or `.json` / `.toml` mapping each label
    to a list of terms. Loaded gazetteers are cached (files by path, size and modification time).

    >>> load_gazetteer("medical").find("高血压病")[0].label
    'DISEASE'
    """
    if isinstance(name_or_path, str) and name_or_path in BUNDLED:
        return _bundled(name_or_path)
    path = Path(name_or_path)
    if not path.is_file():
        if isinstance(name_or_path, str) and not path.suffix and len(path.parts) == 1:
            known = ", ".join(sorted(BUNDLED))
            raise ConfigError(
                f"unknown gazetteer {name_or_path!r}; expected one of: {known}, or a path to a"
                f" {'/'.join(SUFFIXES)} file"
            )
        raise InputError("gazetteer file not found", path=str(path))
    if path.suffix.lower() not in SUFFIXES:
        raise ConfigError(
            f"unsupported gazetteer file type {path.suffix!r}; expected one of: {', '.join(SUFFIXES)}",
            path=str(path),
        )
    stat = path.stat()
    return _from_file(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.cache
def _bundled(name: str) -> Gazetteer:
    parts = []
    for part in BUNDLED[name]:
        text = resources.files("dialogdata.gazetteers").joinpath("data", f"{part}.csv").read_text("utf-8")
        parts.append(_gazetteer(_iter_delimited(text, ",", part), name=part))
    merged = functools.reduce(lambda a, b: a | b, parts)
    merged.name = name
    return merged


@functools.lru_cache(maxsize=16)
def _from_file(path: str, mtime_ns: int, size: int) -> Gazetteer:
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(f"not valid UTF-8 (at byte {error.start})", path=path) from None
    except OSError as error:
        raise InputError(f"cannot read the gazetteer file: {error.strerror}", path=path) from None
    suffix = Path(path).suffix.lower()
    name = Path(path).stem
    if suffix in (".json", ".toml"):
        return _from_mapping(text, suffix, path, name)
    rows = _iter_jsonl(text, path) if suffix == ".jsonl" else _iter_delimited(text, _DELIMITERS[suffix], path)
    return _gazetteer(rows, name=name, path=path)


def _gazetteer(rows: Iterator[tuple[int, str, str]], *, name: str, path: str | None = None) -> Gazetteer:
    terms: dict[str, list[str]] = {}
    for _, label, term in rows:
        terms.setdefault(label, []).append(term)
    try:
        return Gazetteer(terms, name=name)
    except ConfigError as error:
        raise ConfigError(error.message, path=path) from None


def _iter_delimited(text: str, delimiter: str, path: str) -> Iterator[tuple[int, str, str]]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    first = True
    for row in reader:
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        cells = [cell.strip() for cell in row]
        if first and [cell.lower() for cell in cells] == ["label", "term"]:
            first = False
            continue
        first = False
        if len(cells) != 2 or not cells[0] or not cells[1]:
            raise ConfigError(
                f"expected two fields, label{delimiter!r}term; found {len(cells)}: {row!r}"[:200],
                path=path,
                line=reader.line_num,
            )
        yield reader.line_num, cells[0], cells[1]


def _iter_jsonl(text: str, path: str) -> Iterator[tuple[int, str, str]]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = msgspec.json.decode(line)
        except msgspec.DecodeError as error:
            raise ConfigError(f"not valid JSON: {error}", path=path, line=number) from None
        if not isinstance(record, dict):
            raise ConfigError('expected an object {"label": ..., "term": ...}', path=path, line=number)
        unknown = sorted(set(record) - set(_JSONL_KEYS))
        if unknown:
            raise ConfigError(
                f"unknown key {unknown[0]!r}; expected: {', '.join(_JSONL_KEYS)}", path=path, line=number
            )
        label, term = record.get("label"), record.get("term", record.get("pattern"))
        if not isinstance(label, str) or not isinstance(term, str):
            raise ConfigError(
                'expected a string "label" and a string "term" (or phrase "pattern")', path=path, line=number
            )
        yield number, label, term


def _from_mapping(text: str, suffix: str, path: str, name: str) -> Gazetteer:
    try:
        data = tomllib.loads(text) if suffix == ".toml" else msgspec.json.decode(text)
    except (tomllib.TOMLDecodeError, msgspec.DecodeError) as error:
        raise ConfigError(f"cannot parse the file: {error}", path=path) from None
    if not isinstance(data, dict):
        raise ConfigError("expected a table mapping each label to a list of terms", path=path)
    for label, items in data.items():
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise ConfigError(f"label {label!r}: expected a list of terms (strings)", path=path)
    try:
        return Gazetteer(data, name=name)
    except ConfigError as error:
        raise ConfigError(error.message, path=path) from None
