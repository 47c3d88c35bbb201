"""The augmenter contract, for every built-in augmenter: pure, seeded per dialogue, traceable."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogdata import Dialogue, Role, Turn
from dialogdata.augmenters import Adversarial, Augmenter, EntitySubstitution, RoleSwap
from dialogdata.errors import UsageError
from dialogdata.gazetteers import load_gazetteer
from dialogdata.testing import chat_dialogues

TERMS = sorted({term for terms in load_gazetteer("default").terms.values() for term in terms})


@st.composite
def dialogues_with_entities(draw: st.DrawFn) -> Dialogue:
    """A chat whose turns mention terms of the default gazetteer, so every augmenter has work."""
    base = draw(chat_dialogues())
    turns = []
    for turn in base.turns:
        term = draw(st.sampled_from(TERMS))
        turns.append(Turn(role=turn.role, content=f"{turn.content} {term} ?"))
    return base.evolve(turns=tuple(turns))


def _make(name: str, seed: int = 0, p: float = 1.0) -> Augmenter:
    return {"role_swap": RoleSwap, "entities": EntitySubstitution, "adversarial": Adversarial}[name](
        seed=seed, p=p
    )


NAMES = ["role_swap", "entities", "adversarial"]


@pytest.mark.parametrize("name", NAMES)
@given(dialogue=dialogues_with_entities(), seed=st.integers(0, 2**32))
@settings(max_examples=40)
def test_outputs_are_new_dialogues_with_lineage_and_the_input_is_untouched(name, dialogue, seed):
    before = dialogue.to_dict()
    augmenter = _make(name, seed)
    children = augmenter.augment(dialogue)
    assert dialogue.to_dict() == before
    for child in children:
        assert child.id != dialogue.id
        assert child.lineage.parent_id == dialogue.id
        assert child.lineage.root_id == dialogue.id
        (operation,) = child.lineage.operations
        assert (operation.name, operation.seed) == (name, seed)
        assert operation.params == augmenter.params()
        assert child.scores == {}


@pytest.mark.parametrize("name", NAMES)
@given(dialogue=dialogues_with_entities(), seed=st.integers(0, 2**32))
@settings(max_examples=30)
def test_same_seed_gives_the_same_output(name, dialogue, seed):
    assert _make(name, seed).augment(dialogue) == _make(name, seed).augment(dialogue)


@pytest.mark.parametrize("name", ["entities", "adversarial"])
def test_another_seed_gives_another_output(name):
    dialogues = [
        Dialogue(
            turns=(
                Turn(
                    role=Role.USER, content=f"I have diabetes and hypertension, case {i}: what should I take?"
                ),
                Turn(role=Role.ASSISTANT, content="Aspirin is not for diabetes; ask your doctor."),
            )
        )
        for i in range(20)
    ]
    first = [c.turns for d in dialogues for c in _make(name, 1).augment(d)]
    second = [c.turns for d in dialogues for c in _make(name, 2).augment(d)]
    assert first and second and first != second


@pytest.mark.parametrize("name", NAMES)
@given(
    batch=st.lists(dialogues_with_entities(), min_size=1, max_size=6),
    seed=st.integers(0, 1000),
    p=st.sampled_from([0.3, 1.0]),
    data=st.data(),
)
@settings(max_examples=25)
def test_output_does_not_depend_on_order_or_batching(name, batch, seed, p, data):
    whole = {d.id: _make(name, seed, p).augment(d) for d in batch}
    shuffled = data.draw(st.permutations(batch))
    size = data.draw(st.integers(1, len(batch)))
    augmenter = _make(name, seed, p)
    pieces: dict[str, list[Dialogue]] = {}
    for start in range(0, len(shuffled), size):
        for dialogue in shuffled[start : start + size]:
            pieces[dialogue.id] = list(augmenter([dialogue]))
    assert pieces == whole


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_probability_is_validated(name, p):
    with pytest.raises(UsageError, match="p must be between 0 and 1"):
        _make(name, p=p)


@pytest.mark.parametrize("name", NAMES)
def test_options_are_keyword_only(name):
    cls = type(_make(name))
    with pytest.raises(TypeError):
        cls(0)


@pytest.mark.parametrize("name", NAMES)
def test_p_is_the_share_of_dialogues_augmented(name):
    dialogues = [
        Dialogue(
            turns=(
                Turn(role=Role.USER, content=f"Question {i} about diabetes and my credit card?"),
                Turn(role=Role.ASSISTANT, content=f"Answer {i}: see a doctor about diabetes."),
                Turn(role=Role.USER, content="And hypertension?"),
                Turn(role=Role.ASSISTANT, content="The same doctor."),
            )
        )
        for i in range(400)
    ]
    augmenter = _make(name, seed=5, p=0.25)
    augmented = sum(bool(augmenter.augment(d)) for d in dialogues)
    assert 60 <= augmented <= 140
    assert augmenter.skipped["p"] == 400 - augmented
