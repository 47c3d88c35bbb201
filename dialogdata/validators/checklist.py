"""The coverage checklist: per dimension, the cells a corpus should fill and the minimum for each.

A checklist is a TOML file (or the dict it parses to) with one table per dimension; see
`default_checklist.toml`, which documents every key. Unknown dimensions and keys are errors.
"""

from __future__ import annotations

import itertools
import math
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import msgspec

from dialogdata.errors import ConfigError, InputError

Require = Literal["all", "present", "domain"]

QUESTION_TYPES = ("what", "how", "why", "yes_no", "choice", "request", "statement")
LANGUAGES = ("zh", "en", "mixed", "other")
DIMENSIONS = ("entity_label", "entity_term", "turns", "length", "question_type", "language", "adversarial")
BUCKETED = ("turns", "length")
DEFAULT_BUCKETS = {"turns": ("1-2", "3-4", "5-8", "9+"), "length": ("0-49", "50-199", "200-599", "600+")}

_COMMON_KEYS = ("cells", "min_count", "min_share", "require")
_KEYS: dict[str, tuple[str, ...]] = {
    "entity_label": (*_COMMON_KEYS, "domain_min_share"),
    "entity_term": (*_COMMON_KEYS, "top"),
}
_CELL_KEYS = ("min_count", "min_share", "name")
_VOCABULARY: dict[str, tuple[str, ...]] = {"question_type": QUESTION_TYPES, "language": LANGUAGES}


class CellSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One expected cell and its minimum: at least `min_count` dialogues and `min_share` of them."""

    name: str
    min_count: int = 1
    min_share: float = 0.0


class Dimension(msgspec.Struct, frozen=True, kw_only=True):
    """One checklist dimension; `cells` None means the whole vocabulary (e.g. every gazetteer label)."""

    name: str
    cells: tuple[CellSpec, ...] | None = None
    require: Require = "all"
    min_count: int = 1
    min_share: float = 0.0
    domain_min_share: float = 0.0
    top: int = 0

    def with_cells(self, names: tuple[str, ...]) -> Dimension:
        """Return this dimension with `names` as its cells, each at the dimension's minimum."""
        cells = tuple(CellSpec(name=n, min_count=self.min_count, min_share=self.min_share) for n in names)
        return msgspec.structs.replace(self, cells=cells)


class Checklist(msgspec.Struct, frozen=True, kw_only=True):
    """The dimensions to check, in order."""

    dimensions: tuple[Dimension, ...]

    def get(self, name: str) -> Dimension | None:
        """Return the dimension called `name`, or None when the checklist leaves it out."""
        return next((d for d in self.dimensions if d.name == name), None)


def read_checklist(source: str | Path | Mapping[str, Any] | None = None) -> Checklist:
    """Read a checklist from a TOML file, a parsed dict, or None / "default" for the bundled default."""
    path: str | None = None
    if source is None or source == "default":
        text = resources.files("dialogdata.validators").joinpath("default_checklist.toml").read_text("utf-8")
        data: Mapping[str, Any] = tomllib.loads(text)
    elif isinstance(source, Mapping):
        data = source
    else:
        path = str(source)
        data = _read_toml(Path(source))
    try:
        return parse_checklist(data)
    except ConfigError as error:
        raise ConfigError(error.message, path=path) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except FileNotFoundError:
        raise InputError("checklist file not found", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read the checklist: {error}", path=str(path)) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"not valid TOML: {error}", path=str(path)) from None


def parse_checklist(data: Mapping[str, Any]) -> Checklist:
    """Validate a parsed checklist; raise `ConfigError` naming any unknown key and the valid ones."""
    dimensions = []
    for name, table in data.items():
        if name not in DIMENSIONS:
            raise ConfigError(
                f"unknown checklist dimension {name!r}; expected one of: {', '.join(DIMENSIONS)}"
            )
        if not isinstance(table, Mapping):
            raise ConfigError(f"checklist [{name}]: expected a table of settings")
        dimensions.append(_dimension(name, table))
    return Checklist(dimensions=tuple(dimensions))


def _dimension(name: str, table: Mapping[str, Any]) -> Dimension:
    where = f"checklist [{name}]"
    _check_keys(table, _KEYS.get(name, _COMMON_KEYS), where)
    require = table.get("require", "all")
    allowed = ("all", "present", "domain") if name == "entity_label" else ("all", "present")
    if require not in allowed:
        raise ConfigError(f"{where}: require = {require!r}; expected one of: {', '.join(allowed)}")
    min_count = _count(table.get("min_count", 1), f"{where} min_count", least=1)
    min_share = _share(table.get("min_share", 0.0), f"{where} min_share")
    dimension = Dimension(
        name=name,
        require=require,
        min_count=min_count,
        min_share=min_share,
        domain_min_share=_share(table.get("domain_min_share", 0.0), f"{where} domain_min_share"),
        top=_count(table.get("top", 0), f"{where} top", least=0),
    )
    raw = table.get(
        "cells", DEFAULT_BUCKETS.get(name, () if name in ("entity_term", "adversarial") else None)
    )
    if raw is None:
        return dimension
    if not isinstance(raw, list | tuple):
        raise ConfigError(
            f"{where}: cells must be a list of names or {{ name = ..., min_share = ... }} tables"
        )
    cells = tuple(_cell(item, dimension, where) for item in raw)
    names = [cell.name for cell in cells]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{where}: cell {duplicates[0]!r} is listed twice")
    if name in BUCKETED:
        _check_disjoint([parse_bucket(n, where) for n in names], names, where)
    return msgspec.structs.replace(dimension, cells=cells)


def _cell(item: Any, dimension: Dimension, where: str) -> CellSpec:
    if isinstance(item, Mapping):
        _check_keys(item, _CELL_KEYS, f"{where} cell")
        name = item.get("name")
        min_count = _count(item.get("min_count", dimension.min_count), f"{where} {name} min_count", least=1)
        min_share = _share(item.get("min_share", dimension.min_share), f"{where} {name} min_share")
    else:
        name, min_count, min_share = item, dimension.min_count, dimension.min_share
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: a cell needs a non-empty name; found {name!r}")
    vocabulary = _VOCABULARY.get(dimension.name)
    if vocabulary and name not in vocabulary:
        raise ConfigError(f"{where}: unknown cell {name!r}; expected one of: {', '.join(vocabulary)}")
    return CellSpec(name=name, min_count=min_count, min_share=min_share)


def _check_keys(table: Mapping[str, Any], valid: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in valid:
            raise ConfigError(f"{where}: unknown key {key!r}; expected one of: {', '.join(sorted(valid))}")


def _count(value: Any, where: str, *, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ConfigError(f"{where} = {value!r}; expected a whole number >= {least}")
    return value


def _share(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise ConfigError(f"{where} = {value!r}; expected a share between 0 and 1")
    return float(value)


def parse_bucket(name: str, where: str = "checklist") -> tuple[int, float]:
    """Return the inclusive range of a bucket name: "3-4" -> (3, 4), "9+" -> (9, inf), "0" -> (0, 0)."""
    text = name.strip()
    try:
        if text.endswith("+"):
            return int(text[:-1]), math.inf
        low, _, high = text.partition("-")
        bounds = (int(low), int(high) if high else int(low))
    except ValueError:
        raise ConfigError(f'{where}: bucket {name!r}; expected "LOW-HIGH", "LOW+" or "N"') from None
    if bounds[0] < 0 or bounds[1] < bounds[0]:
        raise ConfigError(f"{where}: bucket {name!r} is empty or negative")
    return bounds[0], float(bounds[1])


def _check_disjoint(bounds: list[tuple[int, float]], names: list[str], where: str) -> None:
    ordered = sorted(zip(bounds, names, strict=True))
    for (first, a), (second, b) in itertools.pairwise(ordered):
        if second[0] <= first[1]:
            raise ConfigError(f"{where}: buckets {a!r} and {b!r} overlap")
