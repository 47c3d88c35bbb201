"""Hypothesis strategies and assertion helpers, shipped for users' tests too (needs hypothesis)."""

from dialogdata.testing.checks import assert_fates_add_up
from dialogdata.testing.strategies import chat_dialogues, dialogues, texts, tool_calls, tool_dialogues, turns

__all__ = [
    "assert_fates_add_up",
    "chat_dialogues",
    "dialogues",
    "texts",
    "tool_calls",
    "tool_dialogues",
    "turns",
]
