"""Consistency checks on a dialogue's shape: role order, who speaks, empty, repeated and overlong turns."""

from __future__ import annotations

from collections.abc import Iterator

from dialogdata.schemas import Dialogue, Role, Turn
from dialogdata.validators._text import comparable, size
from dialogdata.validators.issues import Issue

ROLE_ORDER = "consistency.role_order"
EMPTY_TURN = "consistency.empty_turn"
ENDS_WITH_USER = "consistency.ends_with_user"
NO_USER = "consistency.no_user"
REPEATED_TURN = "consistency.repeated_turn"
LONG_REPLY = "consistency.long_reply"


def check_role_order(dialogue: Dialogue) -> Iterator[Issue]:
    """Yield role-grammar breaks: late system turns, repeated speakers, unanswered or stray tool turns."""
    turns = dialogue.turns
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


def check_empty_turns(dialogue: Dialogue) -> Iterator[Issue]:
    """Yield turns with no text and no tool call."""
    for i, turn in enumerate(dialogue.turns):
        if not turn.content.strip() and not turn.tool_calls:
            yield Issue(code=EMPTY_TURN, turn=i, message=f"the {turn.role} turn is empty or whitespace only")


def check_ends_with_user(dialogue: Dialogue) -> Iterator[Issue]:
    """Yield an issue when the last turn is a user turn, which leaves nothing to learn."""
    if dialogue.turns and dialogue.turns[-1].role is Role.USER:
        message = "the dialogue ends on a user turn; expected a final assistant answer"
        yield Issue(code=ENDS_WITH_USER, turn=len(dialogue.turns) - 1, message=message)


def check_no_user(dialogue: Dialogue) -> Iterator[Issue]:
    """Yield an issue when no turn is spoken by the user, so replies answer nothing."""
    if dialogue.turns and not any(t.role is Role.USER for t in dialogue.turns):
        yield Issue(code=NO_USER, message="the dialogue has no user turn; a reply must answer someone")


def check_repeated_turns(dialogue: Dialogue, *, min_chars: int) -> Iterator[Issue]:
    """Yield turns that repeat, word for word, the previous turn of the same speaker."""
    last: dict[Role, tuple[int, str]] = {}
    for i, turn in enumerate(dialogue.turns):
        if turn.role not in (Role.USER, Role.ASSISTANT):
            continue
        text = comparable(turn.content)
        before = last.get(turn.role)
        # Short acknowledgements ("好的", "Thanks!") recur naturally unless they are back to back.
        if text and before and before[1] == text and (before[0] == i - 1 or size(text) >= min_chars):
            message = f"the {turn.role} turn repeats turn {before[0]} word for word"
            yield Issue(code=REPEATED_TURN, turn=i, message=message)
        last[turn.role] = (i, text)


def check_long_replies(dialogue: Dialogue, *, max_chars: int) -> Iterator[Issue]:
    """Yield assistant replies longer than `max_chars` characters."""
    for i, turn in enumerate(dialogue.turns):
        if turn.role is Role.ASSISTANT and len(turn.content) > max_chars:
            message = f"the reply has {len(turn.content):,} characters; the limit is {max_chars:,}"
            yield Issue(code=LONG_REPLY, turn=i, message=message)
