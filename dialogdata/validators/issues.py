"""Issues: what a validator found in a dialogue, with a stable code and the turn it concerns."""

from __future__ import annotations

import msgspec


class Issue(msgspec.Struct, frozen=True, kw_only=True):
    """One finding: a stable dotted `code`, the 0-based `turn` (None for the whole dialogue), a message."""

    code: str
    message: str
    turn: int | None = None
