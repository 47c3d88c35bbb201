"""The human reports: `summary.html` (self-contained, escaped, strict CSP, charts) and `summary.md`.

Both are rendered from the figures written as `reports/metrics.json` alone, so `dialogdata report`
can rebuild them. Charts are SVG documents embedded as `data:` images: an SVG in an `<img>` runs no
script and loads nothing, and the CSP allows images from `data:` only.

>>> write_reports(Path("out/demo/reports"), metrics)  # doctest: +SKIP
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dialogdata.codes import describe

if TYPE_CHECKING:
    import jinja2

HTML = "summary.html"
MARKDOWN = "summary.md"

_MARKDOWN_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "\\": "\\\\",
        "`": "\\`",
        "*": "\\*",
        "_": "\\_",
        "[": "\\[",
        "]": "\\]",
        "|": "\\|",
        "~": "\\~",
        "#": "\\#",
    }
)


def write_reports(folder: Path, metrics: Mapping[str, Any]) -> None:
    """Write `summary.html` and `summary.md` into `folder`, a build's `reports/` folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / HTML).write_text(render_summary(metrics), encoding="utf-8")
    (folder / MARKDOWN).write_text(render_markdown(metrics), encoding="utf-8")


def write_summary(path: Path, metrics: Mapping[str, Any]) -> None:
    """Write the HTML summary report alone to `path` (`write_reports` writes its Markdown twin too)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_summary(metrics), encoding="utf-8")


def render_summary(metrics: Mapping[str, Any]) -> str:
    """Render `summary.html`; every value is HTML-escaped and every chart is an inert `data:` image."""
    template = _environment(autoescape=True).get_template(HTML)
    return template.render(**_context(metrics), charts=_charts(metrics))


def render_markdown(metrics: Mapping[str, Any]) -> str:
    """Render `summary.md`, GitHub-flavoured Markdown in which data never becomes markup or HTML."""
    template = _environment(autoescape=False).get_template(MARKDOWN)
    return template.render(**_context(metrics))


def _environment(*, autoescape: bool) -> jinja2.Environment:
    """Return the Jinja environment of the templates; Markdown output is escaped by `finalize`."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("dialogdata.reports", "templates"),
        autoescape=autoescape,
        finalize=None if autoescape else _markdown,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _context(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Return the template variables: the figures, the 3C cards and formatting helpers."""
    statuses = Counter(cell["status"] for cell in metrics["coverage"]["cells"])
    return {
        **metrics,
        "metrics": metrics,
        "cards": _cards(metrics),
        "coverage_counts": {status: statuses[status] for status in ("filled", "thin", "missing")},
        "describe": _describe,
        "number": _number,
        "share": _share,
    }


def _charts(metrics: Mapping[str, Any]) -> dict[str, str | None]:
    """Return each chart as a `data:` URI, or None where there is nothing to draw."""
    from dialogdata.reports import charts

    scores = {name: s for name, s in metrics["scores"].items() if any(s["histogram"])}
    # Written samples by kind (sources and augmented children); older metrics only have the sources'.
    kinds = metrics.get("adversarial_written") or metrics["conflict"].get("adversarial", {}).get("kinds", {})
    dialogues = partial(charts.counts_chart, xlabel="dialogues")
    plan: dict[str, tuple[Callable[[Any], str], Any]] = {
        "fates": (charts.fates_chart, metrics["fates"]),
        "turns": (charts.turns_chart, metrics["turns_per_dialogue"]),
        "lengths": (charts.lengths_chart, metrics["chars_by_role"]),
        "scores": (charts.histograms_chart, scores),
        "coverage": (charts.coverage_chart, metrics["coverage"]["cells"]),
        "issues": (partial(charts.counts_chart, xlabel="issues"), metrics["issues"]),
        "adversarial": (dialogues, kinds),
        "splits": (dialogues, metrics["splits"]),
        "augmented": (dialogues, metrics["augmented"]),
        "inputs": (charts.inputs_chart, metrics["inputs"]),
    }
    return {name: _data_uri(draw(data)) if data else None for name, (draw, data) in plan.items()}


def _data_uri(svg: str) -> str:
    """Return an SVG document as a base64 `data:` URI for an `<img>`."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _cards(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the 3C cards: consistency, conflict, coverage and rarity, each a score and a few facts."""
    scores, conflict, coverage = metrics["scores"], metrics["conflict"], metrics["coverage"]
    consistency = {code: n for code, n in metrics["issues"].items() if code.startswith("consistency.")}
    near, adversarial = conflict.get("near_duplicate", {}), conflict.get("adversarial", {})
    statuses = Counter(cell["status"] for cell in coverage["cells"])
    domains = ", ".join(f"{name} {n}" for name, n in coverage.get("domains", {}).items())
    return [
        {
            "name": "Consistency",
            "value": _mean(scores, "consistency"),
            "lines": [
                f"{sum(consistency.values())} issues in {len(consistency)} codes",
                f"{metrics.get('dialogues_scored', 0)} dialogues scored",
            ],
        },
        {
            "name": "Conflict",
            "value": _mean(scores, "conflict"),
            "lines": [
                f"{near.get('pairs', 0)} near-duplicate pairs in {near.get('clusters', 0)} clusters",
                f"{conflict.get('contradiction', {}).get('pairs', 0)} contradicting pairs",
                f"{conflict.get('reused_answer', {}).get('answers', 0)} reused answers, "
                f"{conflict.get('prefix', {}).get('dialogues', 0)} prefix dialogues",
                f"adversarial share {_share(adversarial.get('n', 0), conflict.get('n_dialogues', 0))}"
                f" ({adversarial.get('verdict', 'n/a')} the band)",
            ],
        },
        {
            "name": "Coverage",
            "value": coverage.get("score"),
            "lines": [
                f"{statuses['filled']} filled, {statuses['thin']} thin, {statuses['missing']} missing cells",
                *([f"domains: {domains}"] if domains else []),
            ],
        },
        {
            "name": "Rarity",
            "value": _mean(scores, "rarity"),
            "lines": ["mean of 1 / count of each dialogue's rarest cell", "higher means more rare content"],
        },
    ]


def _mean(scores: Mapping[str, Any], name: str) -> float | None:
    """Return a score's mean, or None when the score was not computed."""
    value: float | None = scores.get(name, {}).get("mean")
    return value


def _number(value: float | None) -> str:
    """Return a figure for people: integers with separators, fractions with four significant digits."""
    if value is None:
        return "–"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.4g}"


def _share(part: float, whole: float) -> str:
    """Return `part / whole` as a percentage, or a dash for an empty whole."""
    return f"{100 * part / whole:.1f}%" if whole else "–"


def _describe(code: str) -> str:
    """Return a code's meaning, or an empty string for a code from a newer version."""
    try:
        return describe(code)
    except KeyError:
        return ""


def _markdown(value: object) -> str:
    """Return a value as one line of inert Markdown: no HTML, emphasis, links, code or cell breaks."""
    if value is None:
        return ""
    return " ".join(str(value).split()).translate(_MARKDOWN_ESCAPES)
