"""Progress of a run's stages, reported to a hook; the library itself never prints.

`RichProgress` draws the stages as rich progress bars for the command line; rich is imported only
when one is made, so `import dialogdata` stays fast.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self, TextIO

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import ProgressColumn, TaskID

FLUSH_SECONDS = 0.1
"""How long `RichProgress` batches steps before handing them to rich (rich redraws 10 times a second)."""


class Progress(Protocol):
    """What a run tells about its stages: each starts (with a total when known), advances and ends."""

    def start(self, stage: str, total: int | None = None) -> None:
        """A stage begins; `total` is the number of steps, or None when unknown."""

    def advance(self, stage: str, steps: int = 1) -> None:
        """A stage made `steps` more steps."""

    def end(self, stage: str) -> None:
        """A stage is done."""


class ProgressDisplay(Progress, Protocol):
    """A `Progress` that is shown while its `with` block runs."""

    def __enter__(self) -> Self:
        """Start showing."""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop showing; what was shown stays."""


class NoProgress:
    """The silent default."""

    def start(self, stage: str, total: int | None = None) -> None:
        """Ignore the start."""

    def advance(self, stage: str, steps: int = 1) -> None:
        """Ignore the step."""

    def end(self, stage: str) -> None:
        """Ignore the end."""

    def __enter__(self) -> Self:
        """Show nothing."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Nothing to stop."""


class RichProgress:
    """One rich progress line per stage on stderr: a bar when the total is known, else a spinner.

    Steps are batched and handed to rich at most every `flush_seconds` (and when a stage ends), so an
    `advance` per dialogue costs a lock, a dict update and a clock read.

    >>> with RichProgress() as progress:  # doctest: +SKIP
    ...     progress.start("write", total=len(dialogues))
    ...     for dialogue in dialogues:
    ...         progress.advance("write")
    ...     progress.end("write")
    """

    def __init__(
        self,
        *,
        console: Console | None = None,
        clock: Callable[[], float] = time.monotonic,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        from rich.console import Console
        from rich.progress import Progress as Bars

        self._bars = Bars(
            *_columns(),
            console=Console(stderr=True) if console is None else console,
            transient=False,
            get_time=clock,
        )
        self._clock = clock
        self._flush_seconds = flush_seconds
        self._tasks: dict[str, TaskID] = {}
        self._pending: dict[str, int] = {}
        self._flushed_at = clock()
        self._lock = threading.Lock()

    def __enter__(self) -> Self:
        """Start the live display."""
        self._bars.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Hand over the last steps and stop the live display, leaving the stages on screen."""
        with self._lock:
            self._flush()
        self._bars.stop()

    def start(self, stage: str, total: int | None = None) -> None:
        """Add a line for `stage`; a stage that runs again gets a new line."""
        with self._lock:
            self._flush()
            self._tasks[stage] = self._bars.add_task(stage, total=total, counted=total is None)

    def advance(self, stage: str, steps: int = 1) -> None:
        """Count `steps` more steps of `stage`; rich sees them at the next flush."""
        with self._lock:
            self._pending[stage] = self._pending.get(stage, 0) + steps
            now = self._clock()
            if now - self._flushed_at >= self._flush_seconds:
                self._flush(now)

    def end(self, stage: str) -> None:
        """Finish `stage`'s line: hand over its last steps; a stage counted without a total fills its bar."""
        with self._lock:
            self._flush()
            task_id = self._tasks.get(stage)
            if task_id is None:
                return
            task = next(task for task in self._bars.tasks if task.id == task_id)
            if task.total is None:
                self._bars.update(task_id, total=task.completed)
            self._bars.stop_task(task_id)
        self._bars.refresh()

    def _flush(self, now: float | None = None) -> None:
        """Hand the batched steps to rich; the caller holds the lock."""
        for stage, steps in self._pending.items():
            if stage not in self._tasks:
                self._tasks[stage] = self._bars.add_task(stage, total=None, counted=True)
            self._bars.advance(self._tasks[stage], steps)
        self._pending.clear()
        self._flushed_at = self._clock() if now is None else now


def progress_for_terminal(*, stream: TextIO | None = None) -> ProgressDisplay:
    """Return rich progress bars when `stream` (default stderr) is a terminal that can redraw, else none.

    A dumb terminal (`TERM=dumb`) cannot redraw a line, so it gets none either; `NO_COLOR` keeps the
    bars and drops their colours (rich reads it).

    >>> with progress_for_terminal() as progress:  # doctest: +SKIP
    ...     build(raw, out, progress=progress)
    """
    target = sys.stderr if stream is None else stream
    if not _is_terminal(target) or os.environ.get("TERM", "").lower() in ("dumb", "unknown"):
        return NoProgress()
    from rich.console import Console

    return RichProgress(console=Console(stderr=True) if stream is None else Console(file=stream))


def _is_terminal(stream: TextIO) -> bool:
    """Whether `stream` is an open terminal (a closed or replaced stream is not)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _columns() -> tuple[ProgressColumn, ...]:
    """Return the columns: stage, bar or spinner, count, rate, elapsed time."""
    from rich.progress import (
        BarColumn,
        ProgressColumn,
        SpinnerColumn,
        Task,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.text import Text

    class BarOrSpinner(ProgressColumn):
        """A bar when the total is known, a spinner while it is not."""

        def __init__(self) -> None:
            super().__init__()
            self._bar = BarColumn(bar_width=30)
            self._spinner = SpinnerColumn()

        def render(self, task: Task) -> Any:
            return self._bar.render(task) if task.total is not None else self._spinner.render(task)

    class Count(ProgressColumn):
        """Steps done, and of how many when the total was known from the start."""

        def render(self, task: Task) -> Text:
            done = f"{int(task.completed):,}"
            text = done if task.fields["counted"] else f"{done}/{int(task.total or 0):,}"
            return Text(text, style="progress.download")

    class Rate(ProgressColumn):
        """Steps per second: recent while running, the average once the stage ended."""

        def render(self, task: Task) -> Text:
            if task.finished or task.stop_time is not None:
                elapsed = task.finished_time if task.finished else task.elapsed
                speed = task.completed / elapsed if elapsed else None
            else:
                speed = task.speed
            return Text("" if speed is None else f"{speed:,.0f}/s", style="progress.data.speed")

    stage = TextColumn("{task.description}", markup=False, style="progress.description")
    return stage, BarOrSpinner(), Count(), Rate(), TimeElapsedColumn()
