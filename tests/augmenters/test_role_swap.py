import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogdata import Dialogue, Role, ToolCall, Turn
from dialogdata.augmenters import RoleSwap
from dialogdata.errors import UsageError
from dialogdata.testing import chat_dialogues
from dialogdata.validators import Consistency
from dialogdata.validators.consistency import STRUCTURE_CHECKS


@given(chat_dialogues(system=False))
def test_role_swap_twice_gives_back_the_original_turns(dialogue):
    swap = RoleSwap(trailing="keep")
    (once,) = swap.augment(dialogue)
    (twice,) = swap.augment(once)
    assert twice.turns == dialogue.turns
    assert twice.id == dialogue.id
    assert [t.role for t in once.turns] != [t.role for t in dialogue.turns]


@given(chat_dialogues(), st.integers(0, 2**32))
def test_role_swap_output_passes_consistency(dialogue, seed):
    for child in RoleSwap(seed=seed).augment(dialogue):
        # Random text trips content checks (truncation, language); the swap is about structure.
        assert Consistency(select=STRUCTURE_CHECKS).check(child) == []
        assert child.turns[-1].role is Role.ASSISTANT


@given(chat_dialogues(system=True))
def test_role_swap_replaces_or_drops_the_system_prompt(dialogue):
    (dropped,) = RoleSwap(trailing="keep").augment(dialogue)
    assert all(t.role is not Role.SYSTEM for t in dropped.turns)
    (replaced,) = RoleSwap(trailing="keep", system_prompt="你是一位咨询的患者。").augment(dialogue)
    assert replaced.turns[0] == Turn(role=Role.SYSTEM, content="你是一位咨询的患者。")


@given(chat_dialogues())
def test_role_swap_records_lineage_and_keeps_the_input(dialogue):
    before = dialogue.to_dict()
    (child,) = RoleSwap(seed=7, trailing="keep").augment(dialogue)
    assert dialogue.to_dict() == before
    assert child.id != dialogue.id
    assert child.lineage.parent_id == dialogue.id
    assert child.lineage.root_id == dialogue.id
    assert [(op.name, op.seed) for op in child.lineage.operations] == [("role_swap", 7)]
    (grandchild,) = RoleSwap(trailing="keep").augment(child)
    assert grandchild.lineage.root_id == dialogue.id
    assert grandchild.lineage.parent_id == child.id


def test_role_swap_skips_dialogues_with_tools():
    turns = (
        Turn(role=Role.USER, content="balance?"),
        Turn(role=Role.ASSISTANT, tool_calls=(ToolCall(name="balance"),)),
        Turn(role=Role.TOOL, content="12"),
        Turn(role=Role.ASSISTANT, content="12"),
    )
    swap = RoleSwap()
    assert swap.augment(Dialogue(turns=turns)) == []
    assert swap.skipped["tools"] == 1


def test_role_swap_probability_is_seeded_per_dialogue():
    dialogues = [
        Dialogue(turns=(Turn(role=Role.USER, content=f"q{i}"), Turn(role=Role.ASSISTANT, content="a")))
        for i in range(200)
    ]
    picked = [bool(RoleSwap(seed=1, p=0.5, trailing="keep").augment(d)) for d in dialogues]
    assert (
        picked
        == [bool(RoleSwap(seed=1, p=0.5, trailing="keep").augment(d)) for d in reversed(dialogues)][::-1]
    )
    assert 60 < sum(picked) < 140
    other = [bool(RoleSwap(seed=2, p=0.5, trailing="keep").augment(d)) for d in dialogues]
    assert picked != other


def test_role_swap_as_pipeline_step():
    dialogues = [
        Dialogue(turns=(Turn(role=Role.USER, content=f"q{i}"), Turn(role=Role.ASSISTANT, content="a")))
        for i in range(3)
    ]
    out = list(RoleSwap(trailing="keep")(dialogues))
    assert [d.turns[0].content for d in out] == ["q0", "q1", "q2"]


def test_role_swap_rejects_bad_probability():
    with pytest.raises(UsageError, match="p must be between 0 and 1"):
        RoleSwap(p=1.5)
