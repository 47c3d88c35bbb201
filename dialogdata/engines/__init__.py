"""Engines: where the per-dialogue work runs (this process, worker processes, or Ray Data)."""

from dialogdata.engines.local import ordered_map

__all__ = ["ordered_map"]
