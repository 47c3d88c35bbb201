"""Reports: corpus metrics and the self-contained summary report."""

from dialogdata.reports.metrics import Metrics
from dialogdata.reports.summary import render_summary, write_summary

__all__ = ["Metrics", "render_summary", "write_summary"]
