"""Export: fine-tuning formats, grouped splits and atomic publishing."""

from dialogdata.export.formats import Exporter, Loss, dataset_info, get_exporter, write
from dialogdata.export.publish import Staging, check_output
from dialogdata.export.splits import SPLITS, assign_split, check_ratios, group_id

__all__ = [
    "SPLITS",
    "Exporter",
    "Loss",
    "Staging",
    "assign_split",
    "check_output",
    "check_ratios",
    "dataset_info",
    "get_exporter",
    "group_id",
    "write",
]
