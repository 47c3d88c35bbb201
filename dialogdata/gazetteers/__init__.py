"""Gazetteers: labelled term lists (bundled zh/en medical and finance, or your own) and their matcher."""

from dialogdata.gazetteers.gazetteer import Gazetteer, Span
from dialogdata.gazetteers.loading import BUNDLED, load_gazetteer

__all__ = ["BUNDLED", "Gazetteer", "Span", "load_gazetteer"]
