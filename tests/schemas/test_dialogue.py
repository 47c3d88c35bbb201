import json

import jsonschema
import msgspec
import pytest
from hypothesis import given

from dialogdata import Dialogue, Role, ToolCall, Turn
from dialogdata.schemas import Lineage, Operation, Source, json_schema
from dialogdata.testing import dialogues


def _chat(*texts: str) -> tuple[Turn, ...]:
    roles = [Role.USER, Role.ASSISTANT]
    return tuple(Turn(role=roles[i % 2], content=t) for i, t in enumerate(texts))


@given(dialogues())
def test_dialogue_round_trips_through_dict(dialogue):
    data = dialogue.to_dict()
    assert Dialogue.from_dict(data) == dialogue
    assert Dialogue.from_dict(data).to_dict() == data


@given(dialogues())
def test_dialogue_to_dict_is_plain_json(dialogue):
    data = dialogue.to_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data


@given(dialogues())
def test_dialogue_to_dict_matches_json_schema(dialogue):
    jsonschema.validate(dialogue.to_dict(), json_schema())


def test_dialogue_json_schema_rejects_unknown_role():
    data = Dialogue(turns=_chat("hi", "hello")).to_dict()
    data["turns"][0]["role"] = "narrator"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, json_schema())
    with pytest.raises(msgspec.ValidationError):
        Dialogue.from_dict(data)


def test_dialogue_id_is_content_hash_not_metadata():
    a = Dialogue(turns=_chat("血压 150/95 要吃药吗？", "请遵医嘱。"))
    b = Dialogue(
        turns=_chat("血压 150/95 要吃药吗？", "请遵医嘱。"),
        meta={"department": "内科"},
        source=Source(path="x.jsonl", line=3),
        tags={"adversarial": "char_noise"},
        scores={"consistency": 1.0},
    )
    assert a.id == b.id
    assert len(a.id) == 32
    assert Dialogue(turns=_chat("血压 150/95 要吃药吗？", "请遵医嘱！")).id != a.id


def test_dialogue_id_depends_on_roles_and_tool_calls():
    base = _chat("a", "b")
    swapped = (Turn(role=Role.ASSISTANT, content="a"), Turn(role=Role.USER, content="b"))
    called = (
        base[0],
        Turn(role=Role.ASSISTANT, content="b", tool_calls=(ToolCall(name="f", arguments="{}"),)),
    )
    ids = {Dialogue(turns=t).id for t in (base, swapped, called)}
    assert len(ids) == 3


def test_dialogue_id_ignores_turn_boundaries_confusion():
    # "ab" + "c" and "a" + "bc" must not collide: turns are delimited in the hash.
    assert Dialogue(turns=_chat("ab", "c")).id != Dialogue(turns=_chat("a", "bc")).id


def test_dialogue_keeps_given_id():
    assert Dialogue(id="src-1", turns=_chat("a", "b")).id == "src-1"


def test_dialogue_evolve_recomputes_id_when_turns_change():
    d = Dialogue(turns=_chat("a", "b"), meta={"k": 1})
    assert d.evolve(meta={"k": 2}).id == d.id
    changed = d.evolve(turns=_chat("a", "c"))
    assert changed.id == Dialogue(turns=_chat("a", "c")).id
    assert changed.meta == {"k": 1}


def test_dialogue_is_frozen():
    d = Dialogue(turns=_chat("a", "b"))
    with pytest.raises(AttributeError):
        d.id = "x"  # type: ignore[misc]


def test_dialogue_from_dict_accepts_lineage():
    lineage = Lineage(
        parent_id="p", root_id="r", operations=(Operation(name="role_swap", params={"p": 1.0}, seed=3),)
    )
    d = Dialogue(turns=_chat("a", "b"), lineage=lineage)
    assert Dialogue.from_dict(d.to_dict()).lineage == lineage
