"""Hypothesis strategies and assertion helpers, shipped for users' tests too (needs hypothesis)."""

from dialogdata.testing.checks import assert_fates_add_up
from dialogdata.testing.payloads import XSS_PAYLOADS, assert_no_payloads, find_unescaped
from dialogdata.testing.strategies import chat_dialogues, dialogues, texts, tool_calls, tool_dialogues, turns

__all__ = [
    "XSS_PAYLOADS",
    "assert_fates_add_up",
    "assert_no_payloads",
    "chat_dialogues",
    "dialogues",
    "find_unescaped",
    "texts",
    "tool_calls",
    "tool_dialogues",
    "turns",
]
