"""Recipes: an optional TOML file whose sections map one-to-one onto constructor keyword arguments.

    [consistency]            -> Consistency(**section)
    [conflict]               -> Conflict(**section)
    [coverage]               -> Coverage(**section)
    [filter]                 -> Filter(**section)
    [augment.<name>]         -> the augmenter <name>(**section), e.g. [augment.adversarial] p = 0.2

An unknown section or key is a `ConfigError` that names it and lists the valid ones.
"""

from __future__ import annotations

import inspect
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeAlias

from dialogdata.errors import ConfigError, UsageError

Factory: TypeAlias = Callable[..., Any]
Sections: TypeAlias = Mapping[str, Factory | Mapping[str, Factory]]
"""Section name -> constructor, or -> {subsection name -> constructor} for tables of tables."""


def load_recipe(path: str | Path | None, sections: Sections) -> dict[str, dict[str, Any]]:
    """Read a recipe and check every section and key against the constructors in `sections`."""
    if path is None:
        return {name: {} for name in sections}
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the recipe: {exc}", path=str(path)) from None
    return check_recipe(data, sections, where=str(path))


def check_recipe(
    data: Mapping[str, Any], sections: Sections, *, where: str = "recipe"
) -> dict[str, dict[str, Any]]:
    """Validate section and key names; values are checked by the constructors themselves."""
    _check_sections(data, sections, where)
    recipe: dict[str, dict[str, Any]] = {}
    for name, factory in sections.items():
        section = _table(data.get(name, {}), name, where)
        if isinstance(factory, Mapping):
            _check_sections(section, factory, where, prefix=f"{name}.")
            recipe[name] = {
                # An augmenter's seed comes from the run's one seed, so a recipe cannot set it apart.
                sub: _options(
                    _table(opts, f"{name}.{sub}", where), factory[sub], f"{name}.{sub}", where, "seed"
                )
                for sub, opts in section.items()
            }
        else:
            recipe[name] = _options(section, factory, name, where)
    return recipe


def _check_sections(data: Mapping[str, Any], known: Mapping[str, Any], where: str, prefix: str = "") -> None:
    """Raise a `ConfigError` naming the first unknown section and the valid ones."""
    unknown = sorted(set(data) - set(known))
    if unknown:
        valid = ", ".join(f"[{prefix}{name}]" for name in known)
        raise ConfigError(f"unknown section [{prefix}{unknown[0]}]; expected one of: {valid}", path=where)


def _table(value: object, name: str, where: str) -> dict[str, Any]:
    """Return a section's table, or raise a `ConfigError` when it is a plain value."""
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] must be a table of options", path=where)
    return value


def _options(
    section: dict[str, Any], factory: Factory, name: str, where: str, *reserved: str
) -> dict[str, Any]:
    """Check a section's keys against the constructor's keyword-only options, less the `reserved` ones."""
    valid = [key for key in keyword_names(factory) if key not in reserved]
    bad = sorted(set(section) - set(valid))
    if bad:
        raise ConfigError(
            f"unknown key {bad[0]!r} in [{name}]; expected one of: {', '.join(valid)}", path=where
        )
    return dict(section)


def keyword_names(factory: Callable[..., Any]) -> list[str]:
    """Return the keyword-only option names of a constructor (its config schema)."""
    parameters = inspect.signature(factory).parameters.values()
    return [p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY]


def construct(factory: Callable[..., Any], options: Mapping[str, Any], *, section: str) -> Any:
    """Call `factory(**options)`, turning a wrong value's TypeError into a `ConfigError` for `section`."""
    try:
        return factory(**options)
    except ConfigError:
        raise
    except (TypeError, UsageError) as exc:
        raise ConfigError(f"bad value in [{section}]: {exc}") from None
