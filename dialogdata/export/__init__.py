"""Export: fine-tuning formats, grouped splits and atomic publishing."""

from dialogdata.export.formats import get_exporter, to_openai, write
from dialogdata.export.publish import Staging, check_output
from dialogdata.export.splits import SPLITS, assign_split, check_ratios, group_id

__all__ = [
    "SPLITS",
    "Staging",
    "assign_split",
    "check_output",
    "check_ratios",
    "get_exporter",
    "group_id",
    "to_openai",
    "write",
]
