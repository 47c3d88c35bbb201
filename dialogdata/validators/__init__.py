"""Validators score dialogues and report issues with stable codes; they never drop data."""

from dialogdata.validators.conflict import Conflict, ConflictResult
from dialogdata.validators.consistency import Consistency
from dialogdata.validators.coverage import Cell, Coverage, CoverageResult
from dialogdata.validators.issues import Issue

__all__ = ["Cell", "Conflict", "ConflictResult", "Consistency", "Coverage", "CoverageResult", "Issue"]
