"""Local execution: batches of work in worker processes, results handed back in input order.

Output order is the input order whatever the worker count, and at most `window` batches are in
flight, so memory stays bounded however long the input is.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.pool import AsyncResult
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_CONTEXT: dict[str, Any] = {}
"""Per-process state set once by the pool's initializer (the configured stages), not sent per batch."""


def ordered_map(
    function: Callable[[Any, list[T]], R],
    batches: Iterable[list[T]],
    *,
    state: Any,
    workers: int = 1,
    window: int | None = None,
) -> Iterator[R]:
    """Yield `function(state, batch)` for each batch, in order; with workers > 1 in worker processes.

    `function` must be a module-level function and `state` picklable: each worker receives `state`
    once, when it starts.
    """
    if workers <= 1:
        for batch in batches:
            yield function(state, batch)
        return
    # Spawned workers import what they need afresh: no forked locks or threads from this process.
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_initialise, initargs=(state,)) as pool:
        pending: deque[AsyncResult[R]] = deque()
        for batch in batches:
            pending.append(pool.apply_async(_call, (function, batch)))
            if len(pending) >= (window or 2 * workers):
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def _initialise(state: Any) -> None:
    """Keep the run's state in the worker process."""
    _CONTEXT["state"] = state


def _call(function: Callable[[Any, list[T]], R], batch: list[T]) -> R:
    """Run one batch against the worker's state."""
    return function(_CONTEXT["state"], batch)


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Group `items` into lists of `size` (the last may be shorter)."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
