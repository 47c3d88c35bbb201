"""Consistency: is each dialogue coherent from turn to turn (roles, content, numbers, tool calls)?"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import ClassVar

from dialogdata.errors import UsageError
from dialogdata.schemas import Dialogue
from dialogdata.validators.consistency_grammar import (
    EMPTY_TURN,
    ENDS_WITH_USER,
    LONG_REPLY,
    NO_USER,
    REPEATED_TURN,
    ROLE_ORDER,
    check_empty_turns,
    check_ends_with_user,
    check_long_replies,
    check_no_user,
    check_repeated_turns,
    check_role_order,
)
from dialogdata.validators.consistency_language import LANGUAGE_MISMATCH, check_language
from dialogdata.validators.consistency_numbers import NUMBER_DRIFT, check_number_drift
from dialogdata.validators.consistency_text import ECHO_REPLY, PLACEHOLDER, check_echo, check_placeholders
from dialogdata.validators.consistency_tools import TOOL_ARGUMENTS, check_tool_arguments
from dialogdata.validators.consistency_truncation import TRUNCATED, check_truncated
from dialogdata.validators.issues import Issue

__all__ = [
    "ECHO_REPLY",
    "EMPTY_TURN",
    "ENDS_WITH_USER",
    "LANGUAGE_MISMATCH",
    "LONG_REPLY",
    "NO_USER",
    "NUMBER_DRIFT",
    "PLACEHOLDER",
    "REPEATED_TURN",
    "ROLE_ORDER",
    "STRUCTURE_CHECKS",
    "TOOL_ARGUMENTS",
    "TRUNCATED",
    "Consistency",
]

_Check = Callable[[Dialogue], Iterable[Issue]]

STRUCTURE_CHECKS = (ROLE_ORDER, EMPTY_TURN, ENDS_WITH_USER, NO_USER)
"""The checks on roles and emptiness alone, which never depend on what the text says."""


class Consistency:
    """Score each dialogue in [0, 1]: the share of consistency checks it passes.

    Options: `echo_threshold`, the similarity (0-1) from which a reply echoes the user turn;
    `min_compare_chars`, the size under which a user turn is never called echoed nor repeated (a CJK
    character counts double); `max_reply_chars`, the longest acceptable assistant reply; `select`, the
    codes of the checks to run (all by default), which are also the checks the score counts.

    >>> from dialogdata import Dialogue, Turn, Role
    >>> d = Dialogue(turns=(Turn(role=Role.USER, content="我血压150/95，严重吗？"),
    ...                     Turn(role=Role.ASSISTANT, content="您的血压160/95，偏高。建议您")))
    >>> [(i.code, i.turn) for i in Consistency().check(d)]
    [('consistency.number_drift', 1), ('consistency.truncated', 1)]
    """

    name: ClassVar[str] = "consistency"
    checks: ClassVar[tuple[str, ...]] = (
        *STRUCTURE_CHECKS,
        REPEATED_TURN,
        ECHO_REPLY,
        LANGUAGE_MISMATCH,
        TRUNCATED,
        PLACEHOLDER,
        NUMBER_DRIFT,
        TOOL_ARGUMENTS,
        LONG_REPLY,
    )

    def __init__(
        self,
        *,
        echo_threshold: float = 0.9,
        min_compare_chars: int = 10,
        max_reply_chars: int = 8000,
        select: Sequence[str] | None = None,
    ) -> None:
        number = isinstance(echo_threshold, int | float) and not isinstance(echo_threshold, bool)
        if not number or not 0.0 < echo_threshold <= 1.0:
            raise UsageError(f"echo_threshold must be above 0 and at most 1; found {echo_threshold!r}")
        _require_count("min_compare_chars", min_compare_chars, minimum=0)
        _require_count("max_reply_chars", max_reply_chars, minimum=1)
        self.echo_threshold = echo_threshold
        self.min_compare_chars = min_compare_chars
        self.max_reply_chars = max_reply_chars
        self.selected = _selected(select, self.checks)
        self._runs = [check for code, check in self._all_checks().items() if code in self.selected]

    def _all_checks(self) -> dict[str, _Check]:
        """Return every check by the code it reports, bound to this validator's options."""
        return {
            ROLE_ORDER: check_role_order,
            EMPTY_TURN: check_empty_turns,
            ENDS_WITH_USER: check_ends_with_user,
            NO_USER: check_no_user,
            REPEATED_TURN: functools.partial(check_repeated_turns, min_chars=self.min_compare_chars),
            ECHO_REPLY: functools.partial(
                check_echo, threshold=self.echo_threshold, min_chars=self.min_compare_chars
            ),
            LANGUAGE_MISMATCH: check_language,
            TRUNCATED: check_truncated,
            PLACEHOLDER: check_placeholders,
            NUMBER_DRIFT: check_number_drift,
            TOOL_ARGUMENTS: check_tool_arguments,
            LONG_REPLY: functools.partial(check_long_replies, max_chars=self.max_reply_chars),
        }

    def check(self, dialogue: Dialogue) -> list[Issue]:
        """Return every consistency issue of `dialogue`, whole-dialogue issues first, then by turn."""
        issues = [issue for run in self._runs for issue in run(dialogue)]
        return sorted(issues, key=lambda i: (-1 if i.turn is None else i.turn, i.code))

    def score(self, issues: list[Issue]) -> float:
        """Return the share of the selected checks that found nothing."""
        failed = {i.code for i in issues} & set(self.selected)
        return 1.0 - len(failed) / len(self.selected)

    def __call__(self, dialogue: Dialogue) -> tuple[Dialogue, list[Issue]]:
        """Return `dialogue` with its consistency score set, and its issues."""
        issues = self.check(dialogue)
        scores = {**dialogue.scores, self.name: self.score(issues)}
        return dialogue.evolve(scores=scores), issues


def _require_count(name: str, value: int, *, minimum: int) -> None:
    """Raise `UsageError` unless `value` is an integer of at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UsageError(f"{name} must be an integer of at least {minimum}; found {value!r}")


def _selected(select: Sequence[str] | None, known: tuple[str, ...]) -> tuple[str, ...]:
    """Return the codes of the checks to run, in the documented order; unknown codes are an error."""
    if select is None:
        return known
    if isinstance(select, str):
        raise UsageError(f"select must be a list of check codes; found the string {select!r}")
    unknown = [code for code in select if code not in known]
    if unknown:
        raise UsageError(f"unknown check {unknown[0]!r}; expected one of: {', '.join(known)}")
    if not select:
        raise UsageError("select must name at least one check; omit it to run them all")
    return tuple(code for code in known if code in select)
