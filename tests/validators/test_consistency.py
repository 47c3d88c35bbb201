import pytest
from hypothesis import given

from dialogdata import Dialogue, Role, ToolCall, Turn
from dialogdata.testing import chat_dialogues
from dialogdata.validators import Consistency

S, U, A, T = Role.SYSTEM, Role.USER, Role.ASSISTANT, Role.TOOL


def _d(*spec) -> Dialogue:
    turns = []
    for item in spec:
        role, content, *rest = (*item, None) if isinstance(item, tuple) else (item, "text", None)
        extra = rest[0] or {}
        turns.append(Turn(role=role, content=content, **extra))
    return Dialogue(turns=tuple(turns))


CALL = {"tool_calls": (ToolCall(name="f", arguments="{}", id="c1"),)}


@pytest.mark.parametrize(
    ("dialogue", "expected"),
    [
        (_d(U, A), []),
        (_d(S, U, A, U, A), []),
        (_d(A, U, A), []),
        (_d(U, (A, "", CALL), (T, "{}", {"tool_call_id": "c1"}), A), []),
        (_d(U, U, A), [("consistency.role_order", 1)]),
        (_d(U, A, A), [("consistency.role_order", 2)]),
        (_d(U, S, A), [("consistency.role_order", 1)]),
        (_d(U, T, A), [("consistency.role_order", 1)]),
        (_d(U, (A, "", CALL), A), [("consistency.role_order", 2)]),
        (_d(U, (A, "", CALL), (T, "{}", {"tool_call_id": "c9"}), A), [("consistency.role_order", 2)]),
        (_d(U, (A, "", CALL)), []),
        (_d(U, (A, "  \n"), U, A), [("consistency.empty_turn", 1)]),
        (_d((U, ""), A), [("consistency.empty_turn", 0)]),
        (_d(U, A, U), [("consistency.ends_with_user", 2)]),
        (_d(S, U), [("consistency.role_order", None), ("consistency.ends_with_user", 1)]),
    ],
)
def test_consistency_finds_role_and_emptiness_issues(dialogue, expected):
    issues = Consistency().check(dialogue)
    assert [(i.code, i.turn) for i in issues] == expected


def test_consistency_score_is_share_of_checks_passed():
    checker = Consistency()
    assert checker(_d(U, A))[0].scores == {"consistency": 1.0}
    scored, issues = checker(_d((U, ""), A, U))
    assert {i.code for i in issues} == {"consistency.empty_turn", "consistency.ends_with_user"}
    assert scored.scores["consistency"] == pytest.approx(1 / 3)
    assert scored.id == _d((U, ""), A, U).id


@given(chat_dialogues())
def test_consistency_well_formed_chats_have_no_issues(dialogue):
    assert Consistency().check(dialogue) == []
