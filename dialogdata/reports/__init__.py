"""Reports: corpus metrics and the self-contained summary report with its Markdown twin."""

from dialogdata.reports.metrics import Metrics
from dialogdata.reports.summary import render_markdown, render_summary, write_reports, write_summary

__all__ = ["Metrics", "render_markdown", "render_summary", "write_reports", "write_summary"]
