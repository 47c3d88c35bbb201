"""Augmenters: derive new dialogues deterministically, with lineage."""

from dialogdata.augmenters.base import Augmenter
from dialogdata.augmenters.role_swap import RoleSwap

__all__ = ["Augmenter", "RoleSwap"]
