import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogdata import Dialogue, Role, ToolCall, Turn
from dialogdata.augmenters import EntitySubstitution
from dialogdata.errors import ConfigError, UsageError
from dialogdata.testing import chat_dialogues

ENTITIES = {
    "DISEASE": ["高血压", "高血压病", "糖尿病"],
    "PERSON": ["Anna", "Maria"],
    "DRUG": ["二甲双胍", "阿莫西林"],
}


def _d(*texts: str, calls: tuple[ToolCall, ...] = ()) -> Dialogue:
    roles = [Role.USER, Role.ASSISTANT]
    turns = [Turn(role=roles[i % 2], content=t) for i, t in enumerate(texts)]
    if calls:
        turns[-1] = Turn(role=Role.ASSISTANT, content=turns[-1].content, tool_calls=calls)
    return Dialogue(turns=tuple(turns))


def test_entities_longest_match_and_one_mapping_everywhere():
    d = _d("我有高血压病，也有高血压吗？", "高血压病和高血压不同，请遵医嘱。")
    for seed in range(20):
        (child,) = EntitySubstitution(entities=ENTITIES, seed=seed).augment(d)
        user, assistant = (t.content for t in child.turns)
        first = user[2 : user.index("，")]
        assert first in ENTITIES["DISEASE"] and first != "高血压病"
        assert assistant.startswith(first)


def test_entities_respect_word_boundaries():
    d = _d("Anna flew to Annapolis.", "Anna should rest.")
    (child,) = EntitySubstitution(entities=ENTITIES, seed=0).augment(d)
    assert [t.content for t in child.turns] == ["Maria flew to Annapolis.", "Maria should rest."]


def test_entities_rewrite_tool_arguments_with_the_same_mapping():
    call = ToolCall(name="prescribe", arguments='{"drug": "二甲双胍"}', id="c1")
    d = _d("二甲双胍一天吃几次？", "我来查一下。", calls=(call,))
    (child,) = EntitySubstitution(entities=ENTITIES).augment(d)
    assert child.turns[0].content == "阿莫西林一天吃几次？"
    assert child.turns[1].tool_calls[0].arguments == '{"drug": "阿莫西林"}'
    assert child.turns[1].tool_calls[0].id == "c1"


def test_entities_skip_dialogues_without_entities():
    sub = EntitySubstitution(entities=ENTITIES)
    assert sub.augment(_d("你好", "您好")) == []
    assert sub.skipped["no_entities"] == 1


@given(chat_dialogues(), st.integers(0, 2**32))
def test_entities_keep_turns_roles_and_input(dialogue, seed):
    before = dialogue.to_dict()
    for child in EntitySubstitution(seed=seed).augment(dialogue):
        assert dialogue.to_dict() == before
        assert [t.role for t in child.turns] == [t.role for t in dialogue.turns]
        assert child.lineage.parent_id == dialogue.id
    assert EntitySubstitution(seed=seed).augment(dialogue) == EntitySubstitution(seed=seed).augment(dialogue)


def test_entities_bundled_gazetteer_and_errors(tmp_path):
    d = _d("我的信用卡额度怎么提高？", "可以在手机银行申请。")
    (child,) = EntitySubstitution(gazetteer="finance", seed=2).augment(d)
    assert child.turns[0].content != d.turns[0].content
    with pytest.raises(ConfigError):
        EntitySubstitution(gazetteer="medcal")
    with pytest.raises(UsageError):
        EntitySubstitution(entities={})
