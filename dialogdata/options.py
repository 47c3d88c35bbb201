"""The run's own recipe sections: [run], [ingest], [export], [splits], [gate].

Each is a frozen, keyword-only dataclass, so a recipe section maps one-to-one onto it and an unknown
key is reported with the valid ones (see `dialogdata.config`). Values are checked on construction.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialogdata.errors import UsageError

ENGINES = ("local", "ray")


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """[run]: the seed of augmentation and splits, the worker processes and the engine that runs them."""

    seed: int = 0
    workers: int = 1
    engine: str = "local"
    ray_address: str | None = None

    def __post_init__(self) -> None:
        _whole("seed", self.seed, -(2**63), 2**63 - 1)
        _whole("workers", self.workers, 1, 256)
        if self.engine not in ENGINES:
            raise UsageError(f"engine: expected one of {', '.join(ENGINES)}; found {self.engine!r}")
        if self.ray_address is not None:
            _text("ray_address", self.ray_address)
            if self.engine != "ray":
                raise UsageError("ray_address: only used with engine = ray; add --engine ray")


@dataclass(frozen=True, kw_only=True)
class IngestOptions:
    """[ingest]: the input format (auto-detected per file by default) and a mapping file."""

    format: str = "auto"
    mapping: str | None = None

    def __post_init__(self) -> None:
        _text("format", self.format)
        if self.mapping is not None:
            _text("mapping", self.mapping)


@dataclass(frozen=True, kw_only=True)
class ExportOptions:
    """[export]: the output formats; several give one subfolder per format."""

    to: tuple[str, ...] | list[str] | str = ("openai",)

    def __post_init__(self) -> None:
        names = (self.to,) if isinstance(self.to, str) else tuple(self.to)
        if not names or not all(isinstance(n, str) and n for n in names):
            raise UsageError(f"to: expected one or more format names; found {self.to!r}")
        if len(set(names)) != len(names):
            raise UsageError(f"to: a format is named twice in {list(names)}")
        object.__setattr__(self, "to", names)

    @property
    def formats(self) -> tuple[str, ...]:
        """The formats, in the order given."""
        return tuple(self.to)


@dataclass(frozen=True, kw_only=True)
class SplitOptions:
    """[splits]: validation and test shares (train gets the rest), stratified by source and language."""

    validation: float = 0.1
    test: float = 0.0
    stratify: bool = True

    def __post_init__(self) -> None:
        for name in ("validation", "test"):
            _share(name, getattr(self, name))
        if self.validation + self.test > 1.0:
            raise UsageError(f"validation + test must be at most 1; found {self.validation + self.test}")
        if not isinstance(self.stratify, bool):
            raise UsageError(f"stratify: expected true or false; found {self.stratify!r}")

    @property
    def ratios(self) -> dict[str, float]:
        """The three shares, summing to 1."""
        return {"train": 1.0 - self.validation - self.test, "validation": self.validation, "test": self.test}


@dataclass(frozen=True, kw_only=True)
class GateOptions:
    """[gate]: the thresholds that decide whether OUT gets `_SUCCESS` (unset ones are not checked)."""

    max_reject_share: float = 0.5
    max_filtered_share: float | None = None
    max_duplicate_share: float | None = None
    min_consistency: float | None = None
    require_coverage: bool = False

    def __post_init__(self) -> None:
        for name in ("max_reject_share", "max_filtered_share", "max_duplicate_share", "min_consistency"):
            value = getattr(self, name)
            if value is not None:
                _share(name, value)
        if not isinstance(self.require_coverage, bool):
            raise UsageError(f"require_coverage: expected true or false; found {self.require_coverage!r}")


def _whole(name: str, value: object, low: int, high: int) -> None:
    """Check a whole number within bounds."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UsageError(f"{name}: expected a whole number from {low} to {high}; found {value!r}")


def _share(name: str, value: object) -> None:
    """Check a share in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise UsageError(f"{name}: expected a share from 0 to 1; found {value!r}")


def _text(name: str, value: object) -> None:
    """Check non-empty text."""
    if not isinstance(value, str) or not value:
        raise UsageError(f"{name}: expected text; found {value!r}")
