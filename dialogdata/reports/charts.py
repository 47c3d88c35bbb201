"""Charts for the summary report: one function per chart, each returning a reproducible SVG document.

Text stays text (`svg.fonttype = 'none'`), so the browser draws labels, Chinese ones included, with
its own fonts; matplotlib XML-escapes every label. Nothing varies between runs: the ids are salted
with a constant and the SVG carries no date or other metadata.

>>> svg = counts_chart({"consistency.role_order": 3, "consistency.empty_turn": 1})
>>> svg.startswith("<svg") and "consistency.role_order</text>" in svg
True
"""

from __future__ import annotations

import io
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence, Sized
from contextlib import contextmanager
from typing import Any, TypeVar

from matplotlib import rc_context
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

T = TypeVar("T")

WIDTH = 6.4
WIDE = 9.6
ROW = 0.28
LABEL_CHARS = 48
MAX_ROWS = 60

FATE_COLOURS = {
    "kept": "#3a8d5c",
    "rejected": "#c8453b",
    "filtered": "#e0a526",
    "deduplicated": "#8c96a0",
    "augmented": "#4c78a8",
}
STATUS_COLOURS = {"filled": "#3a8d5c", "thin": "#e0a526", "missing": "#c8453b"}
STATUS_TEXT = {"filled": "#2b6b45", "thin": "#8a5f00", "missing": "#a8322a"}
BAR = "#4c78a8"
STAT_COLOURS = {"median": "#9ecae9", "mean": "#4c78a8", "p95": "#f58518", "max": "#b279a2"}

_STYLE: dict[Any, Any] = {  # keys are matplotlib rcParams
    "svg.fonttype": "none",
    "svg.hashsalt": "dialogdata",
    "font.family": ["sans-serif"],
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 10,
    "text.parse_math": False,
    "text.usetex": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.axisbelow": True,
    "axes.edgecolor": "#6b7785",
    "axes.titlesize": 10,
    "grid.color": "#e3e7eb",
    "legend.frameon": False,
    "xtick.color": "#39424c",
    "ytick.color": "#39424c",
}
_NO_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}


def fates_chart(fates: Mapping[str, int]) -> str:
    """Source records split into kept, rejected, filtered and deduplicated; written = kept + augmented."""
    rows = {
        "source records": ["kept", "rejected", "filtered", "deduplicated"],
        "written": ["kept", "augmented"],
    }
    with _style():
        fig, ax = _figure(2.1)
        for y, parts in enumerate(rows.values()):
            left = 0
            for part in parts:
                count = fates.get(part, 0)
                label = part if y == 0 or part == "augmented" else None
                bars = ax.barh(y, count, left=left, color=FATE_COLOURS[part], height=0.6, label=label)
                if count:
                    ax.bar_label(bars, labels=[f"{count:,}"], label_type="center", color="white", fontsize=9)
                left += count
        _category_axis(ax, list(rows))
        ax.set_xlabel("records")
        ax.grid(axis="x")
        _integer_axis(ax)
        fig.legend(loc="outside lower center", ncols=5, fontsize=9)
        return _to_svg(fig)


def inputs_chart(inputs: Sequence[Mapping[str, Any]]) -> str:
    """The fates of each input file's records, one stacked bar per file."""
    parts = ["kept", "rejected", "filtered", "deduplicated"]
    shown = _first(inputs, key=lambda item: -item["fates"].get("source_records", 0))
    xlabel = _of("source records", shown, inputs, "files, the largest")
    inputs = shown
    with _style():
        fig, ax = _figure(1.1 + ROW * 1.4 * len(inputs), width=8.0)
        for part in parts:
            counts = [item["fates"].get(part, 0) for item in inputs]
            lefts = [sum(item["fates"].get(p, 0) for p in parts[: parts.index(part)]) for item in inputs]
            ax.barh(range(len(inputs)), counts, left=lefts, color=FATE_COLOURS[part], height=0.6, label=part)
        _category_axis(ax, [item["path"] for item in inputs])
        ax.set_xlabel(xlabel)
        ax.grid(axis="x")
        _integer_axis(ax)
        fig.legend(loc="outside lower center", ncols=4, fontsize=9)
        return _to_svg(fig)


def counts_chart(counts: Mapping[str, int], *, xlabel: str = "count", colour: str = BAR) -> str:
    """A horizontal bar per name, largest first, each labelled with its count."""
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    xlabel = _of(xlabel, ordered[:MAX_ROWS], ordered, "names, the largest")
    ordered = ordered[:MAX_ROWS]
    with _style():
        fig, ax = _figure(0.7 + ROW * len(ordered))
        bars = ax.barh(range(len(ordered)), [count for _, count in ordered], color=colour, height=0.65)
        ax.bar_label(bars, labels=[f"{count:,}" for _, count in ordered], padding=3, fontsize=9)
        _category_axis(ax, [name for name, _ in ordered])
        ax.set_xlabel(xlabel)
        ax.grid(axis="x")
        ax.margins(x=0.12)
        _integer_axis(ax)
        return _to_svg(fig)


def turns_chart(turns_per_dialogue: Mapping[str, int]) -> str:
    """Written dialogues by number of turns."""
    ordered = sorted(turns_per_dialogue.items(), key=lambda item: int(item[0]))
    with _style():
        fig, ax = _figure(2.6)
        bars = ax.bar([_label(turns) for turns, _ in ordered], [count for _, count in ordered], color=BAR)
        ax.bar_label(bars, padding=2, fontsize=8)
        ax.set_xlabel("turns per dialogue")
        ax.set_ylabel("dialogues")
        ax.grid(axis="y")
        ax.margins(y=0.15)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        return _to_svg(fig)


def lengths_chart(chars_by_role: Mapping[str, Mapping[str, float]]) -> str:
    """Characters per turn by role: median, mean, 95th percentile and maximum."""
    roles = list(chars_by_role)
    stats = list(STAT_COLOURS)
    height = 0.8 / len(stats)
    with _style():
        fig, ax = _figure(1.1 + ROW * 1.9 * len(roles))
        for i, stat in enumerate(stats):
            ys = [r + (i - (len(stats) - 1) / 2) * height for r in range(len(roles))]
            values = [chars_by_role[role][stat] for role in roles]
            ax.barh(ys, values, height=height, color=STAT_COLOURS[stat], label=stat)
        _category_axis(ax, roles)
        ax.set_xlabel("characters per turn")
        ax.grid(axis="x")
        fig.legend(loc="outside lower center", ncols=4, fontsize=9)
        return _to_svg(fig)


def histograms_chart(scores: Mapping[str, Mapping[str, Any]]) -> str:
    """One histogram per score over ten buckets from 0 to 1, titled with the score's mean."""
    names = list(scores)
    columns = min(len(names), 3)
    rows = -(-len(names) // columns)
    with _style():
        fig = Figure(figsize=(WIDE if columns > 2 else WIDTH, 2.2 * rows), layout="constrained")
        axes = fig.subplots(rows, columns, squeeze=False, sharey=True)
        for ax, name in zip(axes.flat, names, strict=False):
            histogram, mean = scores[name]["histogram"], scores[name]["mean"]
            edges = [i / len(histogram) for i in range(len(histogram))]
            ax.bar(edges, histogram, width=1 / len(histogram), align="edge", color=BAR, edgecolor="white")
            ax.set_title(_label(name) + ("" if mean is None else f"  (mean {mean:.3f})"))
            ax.set_xlim(0, 1)
            ax.set_xticks([0, 0.5, 1])
            ax.grid(axis="y")
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        for ax in axes.flat[len(names) :]:
            ax.set_visible(False)
        axes[0][0].set_ylabel("dialogues")
        return _to_svg(fig)


def coverage_chart(cells: Sequence[Mapping[str, Any]]) -> str:
    """Dialogues per checklist cell, coloured filled / thin / missing, with each cell's minimum marked."""
    shown = _first(cells, key=lambda cell: cell["status"] == "filled")
    xlabel = _of("dialogues", shown, cells, "cells, thin and missing first")
    cells = shown
    with _style():
        fig, ax = _figure(1.1 + ROW * len(cells), width=8.0)
        ys = range(len(cells))
        counts = [cell["count"] for cell in cells]
        colours = [STATUS_COLOURS.get(cell["status"], BAR) for cell in cells]
        ax.barh(ys, counts, color=colours, height=0.65)
        minimums = [
            (y, cell["minimum_count"]) for y, cell in zip(ys, cells, strict=True) if "minimum_count" in cell
        ]
        ax.scatter(
            [m for _, m in minimums], [y for y, _ in minimums], marker="|", s=140, color="#1d232a", zorder=3
        )
        _category_axis(ax, [f"{cell['dimension']} · {cell['name']}" for cell in cells])
        for tick, cell in zip(ax.get_yticklabels(), cells, strict=True):
            tick.set_color(STATUS_TEXT.get(cell["status"], "#39424c"))
        handles: list[Artist] = [
            Patch(color=colour, label=status) for status, colour in STATUS_COLOURS.items()
        ]
        handles.append(
            Line2D([], [], marker="|", markersize=12, linestyle="", color="#1d232a", label="minimum")
        )
        fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=9)
        ax.set_xlabel(xlabel)
        ax.grid(axis="x")
        _integer_axis(ax)
        return _to_svg(fig)


@contextmanager
def _style() -> Iterator[None]:
    """Apply the report's plotting style for one chart."""
    with rc_context(_STYLE), warnings.catch_warnings():
        # DejaVu Sans has no CJK glyphs; it only measures them here (wider than they are drawn),
        # and the browser draws them from its own fonts.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font", category=UserWarning)
        yield


def _figure(height: float, *, width: float = WIDTH) -> tuple[Figure, Axes]:
    """Return a figure of `width` by `height` inches with one axes."""
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def _category_axis(ax: Axes, names: Sequence[object]) -> None:
    """Label the y axis with `names`, the first at the top."""
    ax.set_yticks(range(len(names)), [_label(name) for name in names])
    ax.tick_params(axis="y", length=0)
    ax.invert_yaxis()


def _first(items: Sequence[T], *, key: Callable[[T], Any]) -> Sequence[T]:
    """Return at most `MAX_ROWS` items, those first by `key`, in their original order."""
    if len(items) <= MAX_ROWS:
        return items
    chosen = sorted(sorted(range(len(items)), key=lambda i: key(items[i]))[:MAX_ROWS])
    return [items[i] for i in chosen]


def _of(label: str, shown: Sized, every: Sized, what: str) -> str:
    """Return an axis label that says when only some rows are shown."""
    return label if len(shown) == len(every) else f"{label} ({len(shown)} of {len(every)} {what})"


def _integer_axis(ax: Axes) -> None:
    """Put ticks on whole numbers only on the x axis (counts)."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _label(value: object) -> str:
    """Return data as a one-line label: control and format characters blanked, long text cut."""
    text = "".join(" " if unicodedata.category(char)[0] == "C" else char for char in str(value))
    text = " ".join(text.split())
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _to_svg(fig: Figure) -> str:
    """Return the figure as an SVG document without the XML prolog, DOCTYPE or metadata."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata=_NO_METADATA)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]
