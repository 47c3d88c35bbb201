"""Recipes: an optional TOML file whose sections map one-to-one onto constructor keyword arguments.

    [consistency]            -> Consistency(**section)
    [conflict]               -> Conflict(**section)
    [coverage]               -> Coverage(**section)
    [filter]                 -> Filter(**section)

An unknown section or key is a `ConfigError` that names it and lists the valid ones.
"""

from __future__ import annotations

import inspect
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dialogdata.errors import ConfigError


def load_recipe(
    path: str | Path | None, sections: Mapping[str, Callable[..., Any]]
) -> dict[str, dict[str, Any]]:
    """Read a recipe and check every section and key against the constructors in `sections`."""
    if path is None:
        return {name: {} for name in sections}
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the recipe: {exc}", path=str(path)) from None
    return check_recipe(data, sections, where=str(path))


def check_recipe(
    data: Mapping[str, Any], sections: Mapping[str, Callable[..., Any]], *, where: str = "recipe"
) -> dict[str, dict[str, Any]]:
    """Validate section and key names; values are checked by the constructors themselves."""
    unknown = sorted(set(data) - set(sections))
    if unknown:
        known = ", ".join(sections)
        raise ConfigError(f"unknown section [{unknown[0]}]; expected one of: {known}", path=where)
    recipe: dict[str, dict[str, Any]] = {}
    for name, factory in sections.items():
        section = data.get(name, {})
        if not isinstance(section, dict):
            raise ConfigError(f"[{name}] must be a table of options", path=where)
        valid = keyword_names(factory)
        bad = sorted(set(section) - set(valid))
        if bad:
            raise ConfigError(
                f"unknown key {bad[0]!r} in [{name}]; expected one of: {', '.join(valid)}", path=where
            )
        recipe[name] = dict(section)
    return recipe


def keyword_names(factory: Callable[..., Any]) -> list[str]:
    """Return the keyword-only option names of a constructor (its config schema)."""
    parameters = inspect.signature(factory).parameters.values()
    return [p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY]


def construct(factory: Callable[..., Any], options: Mapping[str, Any], *, section: str) -> Any:
    """Call `factory(**options)`, turning a wrong value's TypeError into a `ConfigError` for `section`."""
    try:
        return factory(**options)
    except TypeError as exc:
        raise ConfigError(f"bad value in [{section}]: {exc}") from None
