"""Export: fine-tuning formats, grouped splits and atomic publishing."""

from dialogdata.export.formats import Exporter, Loss, dataset_info, get_exporter, write
from dialogdata.export.publish import Staging, check_output, lock_output, recover
from dialogdata.export.splits import (
    SPLITS,
    LeakageCheck,
    SplitPlan,
    SplitPlanner,
    assign_split,
    check_ratios,
    group_id,
)

__all__ = [
    "SPLITS",
    "Exporter",
    "LeakageCheck",
    "Loss",
    "SplitPlan",
    "SplitPlanner",
    "Staging",
    "assign_split",
    "check_output",
    "check_ratios",
    "dataset_info",
    "get_exporter",
    "group_id",
    "lock_output",
    "recover",
    "write",
]
