"""The human report: one self-contained, escaped HTML file with a restrictive CSP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dialogdata.codes import describe


def render_summary(metrics: dict[str, Any]) -> str:
    """Render `summary.html` from `metrics.json`'s figures; every value is HTML-escaped."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dialogdata.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("summary.html").render(describe=_describe, metrics=metrics, **metrics)


def write_summary(path: Path, metrics: dict[str, Any]) -> None:
    """Write the summary report to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_summary(metrics), encoding="utf-8")


def _describe(code: str) -> str:
    """Return a code's meaning, or an empty string for a code from a newer version."""
    try:
        return describe(code)
    except KeyError:
        return ""
