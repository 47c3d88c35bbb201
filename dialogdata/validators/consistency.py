"""Consistency: is each dialogue coherent from turn to turn (role grammar, empty turns, ending)?"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from dialogdata.schemas import Dialogue, Role, Turn
from dialogdata.validators.issues import Issue

ROLE_ORDER = "consistency.role_order"
EMPTY_TURN = "consistency.empty_turn"
ENDS_WITH_USER = "consistency.ends_with_user"


class Consistency:
    """Score each dialogue in [0, 1]: the share of consistency checks it passes.

    >>> from dialogdata import Dialogue, Turn, Role
    >>> d = Dialogue(turns=(Turn(role=Role.USER, content="hi"),))
    >>> [i.code for i in Consistency().check(d)]
    ['consistency.ends_with_user']
    """

    name: ClassVar[str] = "consistency"
    checks: ClassVar[tuple[str, ...]] = (ROLE_ORDER, EMPTY_TURN, ENDS_WITH_USER)

    def check(self, dialogue: Dialogue) -> list[Issue]:
        """Return every consistency issue of `dialogue`, in turn order."""
        issues = [*_role_order(dialogue.turns), *_empty_turns(dialogue.turns)]
        last = dialogue.turns[-1] if dialogue.turns else None
        if last is not None and last.role is Role.USER:
            message = "the dialogue ends on a user turn; expected a final assistant answer"
            issues.append(Issue(code=ENDS_WITH_USER, turn=len(dialogue.turns) - 1, message=message))
        return sorted(issues, key=lambda i: (-1 if i.turn is None else i.turn, i.code))

    def score(self, issues: list[Issue]) -> float:
        """Return the share of checks that found nothing."""
        failed = {i.code for i in issues} & set(self.checks)
        return 1.0 - len(failed) / len(self.checks)

    def __call__(self, dialogue: Dialogue) -> tuple[Dialogue, list[Issue]]:
        """Return `dialogue` with its consistency score set, and its issues."""
        issues = self.check(dialogue)
        scores = {**dialogue.scores, self.name: self.score(issues)}
        return dialogue.evolve(scores=scores), issues


def _role_order(turns: tuple[Turn, ...]) -> Iterator[Issue]:
    """Yield role-grammar breaks: late system turns, repeated speakers, unanswered or stray tool turns."""
    previous: Turn | None = None
    pending: list[str | None] = []
    for i, turn in enumerate(turns):
        problem = _order_problem(turn, previous, pending, first=previous is None)
        if problem:
            yield Issue(code=ROLE_ORDER, turn=i, message=problem)
        pending = _pending_calls(turn, pending)
        if turn.role is not Role.SYSTEM:
            previous = turn
    # A call left pending at the very end is fine: in function-calling data the call is the target.
    if not any(t.role is Role.ASSISTANT for t in turns):
        yield Issue(code=ROLE_ORDER, message="the dialogue has no assistant turn")


def _order_problem(
    turn: Turn, previous: Turn | None, pending: list[str | None], *, first: bool
) -> str | None:
    """Return what is wrong with `turn` following `previous`, or None."""
    if turn.role is Role.SYSTEM:
        return None if first else "a system turn after the start; expected system turns only first"
    if turn.role is Role.TOOL:
        if not pending:
            return "a tool turn that answers no tool call"
        if turn.tool_call_id is not None and None not in pending and turn.tool_call_id not in pending:
            return f"a tool turn answers call {turn.tool_call_id!r}, which was not made"
        return None
    if pending:
        return f"a {turn.role} turn before every tool call was answered"
    if previous is not None and previous.role is turn.role:
        return f"two {turn.role} turns in a row; expected user and assistant to alternate"
    return None


def _pending_calls(turn: Turn, pending: list[str | None]) -> list[str | None]:
    """Return the tool calls still waiting for an answer after `turn`."""
    if turn.role is Role.ASSISTANT and turn.tool_calls:
        return [call.id for call in turn.tool_calls]
    if turn.role is Role.TOOL and pending:
        answered = turn.tool_call_id if turn.tool_call_id in pending else pending[0]
        rest = list(pending)
        rest.remove(answered)
        return rest
    # Any other turn ends the call's exchange; an unanswered call was reported at that turn.
    return pending if turn.role is Role.SYSTEM else []


def _empty_turns(turns: tuple[Turn, ...]) -> Iterator[Issue]:
    """Yield turns with no text and no tool call."""
    for i, turn in enumerate(turns):
        if not turn.content.strip() and not turn.tool_calls:
            yield Issue(code=EMPTY_TURN, turn=i, message=f"the {turn.role} turn is empty or whitespace only")
