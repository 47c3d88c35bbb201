import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogdata.augmenters import RoleSwap
from dialogdata.errors import UsageError
from dialogdata.export import assign_split, check_ratios
from dialogdata.testing import chat_dialogues

RATIOS = {"train": 0.8, "validation": 0.1, "test": 0.1}


@given(chat_dialogues(), st.integers(0, 1000))
def test_split_children_follow_their_original(dialogue, seed):
    for child in RoleSwap(trailing="keep").augment(dialogue):
        assert assign_split(child, RATIOS, seed=seed) == assign_split(dialogue, RATIOS, seed=seed)


def test_split_shares_follow_ratios_and_seed():
    from dialogdata import Dialogue, Role, Turn

    dialogues = [Dialogue(turns=(Turn(role=Role.USER, content=str(i)),)) for i in range(5000)]
    names = [assign_split(d, RATIOS, seed=0) for d in dialogues]
    assert 0.77 < names.count("train") / 5000 < 0.83
    assert 0.08 < names.count("validation") / 5000 < 0.12
    assert names != [assign_split(d, RATIOS, seed=1) for d in dialogues]
    assert {assign_split(d, {"train": 1.0}) for d in dialogues} == {"train"}


@pytest.mark.parametrize("ratios", [{"train": 0.5}, {"train": 1.2, "test": -0.2}, {"dev": 1.0}])
def test_check_ratios_rejects_bad_ratios(ratios):
    with pytest.raises(UsageError):
        check_ratios(ratios)
