"""Validators score dialogues and report issues with stable codes; they never drop data."""

from dialogdata.validators.consistency import Consistency
from dialogdata.validators.issues import Issue

__all__ = ["Consistency", "Issue"]
