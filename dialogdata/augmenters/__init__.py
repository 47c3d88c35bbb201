"""Augmenters: derive new dialogues deterministically, with lineage."""

from dialogdata.augmenters.adversarial import Adversarial
from dialogdata.augmenters.base import Augmenter
from dialogdata.augmenters.entities import EntitySubstitution
from dialogdata.augmenters.role_swap import RoleSwap

__all__ = ["Adversarial", "Augmenter", "EntitySubstitution", "RoleSwap"]
