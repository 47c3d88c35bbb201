import pytest
from hypothesis import given
from hypothesis import strategies as st

import dialogdata as dd
from dialogdata import Dialogue, Role, Turn
from dialogdata.augmenters import Adversarial
from dialogdata.errors import UsageError
from dialogdata.testing import chat_dialogues

KINDS = Adversarial.KINDS


def _chat(question: str, answer: str = "请遵医嘱。") -> Dialogue:
    return Dialogue(turns=(Turn(role=Role.USER, content=question), Turn(role=Role.ASSISTANT, content=answer)))


@given(chat_dialogues(), st.sampled_from(KINDS), st.integers(0, 2**32))
def test_adversarial_never_changes_assistant_turns_or_the_input(dialogue, kind, seed):
    before = dialogue.to_dict()
    for child in Adversarial(kinds=[kind], seed=seed).augment(dialogue):
        assert dialogue.to_dict() == before
        assert [t.role for t in child.turns] == [t.role for t in dialogue.turns]
        for old, new in zip(dialogue.turns, child.turns, strict=True):
            if old.role is not Role.USER:
                assert new == old
        assert child.tags["adversarial"] == kind
        assert child.lineage.parent_id == dialogue.id
        assert child.id != dialogue.id


@given(chat_dialogues(), st.integers(0, 1000))
def test_adversarial_is_seeded_per_dialogue(dialogue, seed):
    first = Adversarial(seed=seed).augment(dialogue)
    assert first == Adversarial(seed=seed).augment(dialogue)


def test_adversarial_other_seeds_differ():
    dialogues = [
        _chat(f"How do I raise the credit limit on card number {i}?", "Use the app.") for i in range(50)
    ]
    a = [Adversarial(seed=1).augment(d) for d in dialogues]
    b = [Adversarial(seed=2).augment(d) for d in dialogues]
    assert a != b


@given(
    st.text(alphabet="高血压患者能吃党参吗，请问。？0123456789", min_size=1, max_size=40), st.integers(0, 100)
)
def test_char_noise_leaves_cjk_digits_and_punctuation_intact(question, seed):
    children = Adversarial(kinds=["char_noise"], seed=seed, rate=1.0).augment(_chat(question))
    assert children == []  # nothing Latin to perturb: skipped and counted, never broken


def test_char_noise_changes_latin_words_only():
    d = _chat("我的credit card额度是多少？Please check my balance.")
    (child,) = Adversarial(kinds=["char_noise"], seed=3, rate=0.5).augment(d)
    text = child.turns[0].content
    assert text != d.turns[0].content
    assert [c for c in text if not c.isascii()] == [c for c in d.turns[0].content if not c.isascii()]


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        ("confusables", lambda old, new: any(ord(c) > 0x3FF for c in new) and len(new) == len(old)),
        ("zero_width", lambda old, new: "\u200b" in new and new.replace("\u200b", "") == old),
        ("distractor", lambda old, new: old in new and len(new) > len(old)),
        ("injection", lambda old, new: new.startswith(old) and ("Ignore" in new or "Disregard" in new)),
        ("casing", lambda old, new: new.lower().split() == old.lower().split() and new != old),
    ],
)
def test_adversarial_kinds(kind, check):
    question = "Could you please explain the annual fee of the platinum credit card once more?"
    (child,) = Adversarial(kinds=[kind], seed=0, rate=0.3).augment(_chat(question, "The fee is 300."))
    assert check(question, child.turns[0].content)


def test_adversarial_injection_speaks_the_question_language():
    (child,) = Adversarial(kinds=["injection"]).augment(_chat("血压150/95需要吃药吗？"))
    assert "忽略" in child.turns[0].content or "无视" in child.turns[0].content


@pytest.mark.parametrize("options", [{"kinds": ["typo"]}, {"kinds": "injection"}, {"kinds": []}, {"rate": 0}])
def test_adversarial_rejects_bad_options(options):
    with pytest.raises(UsageError):
        Adversarial(**options)


def test_build_with_adversarial_counts_children(examples, tmp_path):
    import json

    out = tmp_path / "out"
    result = dd.build(examples, out, augment=["adversarial"])
    assert result.fates["augmented"] > 0
    metrics = json.loads((out / "reports" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["augmented"] == {"adversarial": result.fates["augmented"]}
