import json
import re
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogdata import Dialogue, Role, ToolCall, Turn
from dialogdata.augmenters import EntitySubstitution
from dialogdata.errors import ConfigError, InputError, UsageError
from dialogdata.gazetteers import Gazetteer
from dialogdata.testing import chat_dialogues
from dialogdata.validators.coverage import Coverage, CoverageResult

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


# One consistent mapping: turns are built from known terms and fillers that can never form a term,
# so the gazetteer reads back, in order, exactly the terms that were written or their replacements.
POOLS = {
    "DISEASE": ["高血压", "高血压病", "糖尿病", "冠心病"],
    "PERSON": ["Anna", "Maria", "Lena", "Anna Schmidt"],
    "DRUG": ["二甲双胍", "阿莫西林", "aspirin"],
}
FILLERS = st.text(st.sampled_from(" 0123456789，。?!"), max_size=6).map(lambda s: f" {s} ")
TERMS = st.sampled_from([t for terms in POOLS.values() for t in terms])


@st.composite
def _term_dialogues(draw: st.DrawFn) -> Dialogue:
    texts = [
        "".join(f"{draw(FILLERS)}{term}" for term in draw(st.lists(TERMS, max_size=4))) + draw(FILLERS)
        for _ in range(draw(st.integers(1, 5)))
    ]
    arguments = '{"drug": "' + draw(TERMS) + '"}'
    return _d(*texts, calls=(ToolCall(name="lookup", arguments=arguments, id="c1"),))


def _texts(d: Dialogue) -> list[str]:
    return [t.content for t in d.turns] + [c.arguments for t in d.turns for c in t.tool_calls]


@given(_term_dialogues(), st.integers(0, 2**32), st.sampled_from([None, {"糖尿病": 50, "Maria": 3}]))
def test_entities_one_injective_mapping_per_dialogue(dialogue, seed, counts):
    before = dialogue.to_dict()
    sub = EntitySubstitution(entities=POOLS, seed=seed, prefer_rare=counts)
    for child in sub.augment(dialogue):
        assert dialogue.to_dict() == before
        assert [t.role for t in child.turns] == [t.role for t in dialogue.turns]
        mapping: dict[str, str] = {}
        for old, new in zip(_texts(dialogue), _texts(child), strict=True):
            old_spans, new_spans = sub.gazetteer.find(old), sub.gazetteer.find(new)
            assert [s.label for s in old_spans] == [s.label for s in new_spans]
            for a, b in zip(old_spans, new_spans, strict=True):
                assert mapping.setdefault(a.term, b.term) == b.term
            assert _strip(old, old_spans) == _strip(new, new_spans)
        assert len(set(mapping.values())) == len(mapping)
        assert any(a != b for a, b in mapping.items())


def _strip(text: str, spans) -> list[str]:
    """Return the text between the spans: what substitution must leave alone."""
    cuts = [0, *[i for s in spans for i in (s.start, s.end)], len(text)]
    return [text[a:b] for a, b in zip(cuts[::2], cuts[1::2], strict=True)]


def test_entities_never_merge_two_entities_into_one():
    d = _d("Anna met Lena.", "Lena said hi to Anna.")
    pairs = set()
    for seed in range(40):
        (child,) = EntitySubstitution(entities={"PERSON": ["Anna", "Maria", "Lena"]}, seed=seed).augment(d)
        first, second = child.turns[0].content.removesuffix(".").split(" met ")
        assert first != second
        assert child.turns[1].content == f"{second} said hi to {first}."
        pairs.add((first, second))
    assert len(pairs) > 1


def test_entities_keep_tool_arguments_valid_json():
    call = ToolCall(name="order", arguments='{"card": "basic card"}', id="c1")
    d = _d("I want a basic card.", "Ordering.", calls=(call,))
    sub = EntitySubstitution(entities={"PRODUCT": ["basic card", 'gold "plus" card']})
    (child,) = sub.augment(d)
    assert child.turns[0].content == 'I want a gold "plus" card.'
    assert json.loads(child.turns[1].tool_calls[0].arguments) == {"card": 'gold "plus" card'}


def test_entities_lineage_records_the_options():
    (child,) = EntitySubstitution(entities=ENTITIES, seed=3, prefer_rare={"Maria": 2}).augment(
        _d("Anna is here.", "Hi Anna.")
    )
    params = child.lineage.operations[-1].params
    assert params["gazetteer"] == "entities"
    assert params["model"] is None and params["model_version"] is None
    assert params["unpooled"] == "keep"
    assert str(params["prefer_rare"]).startswith("blake2b:")
    other = EntitySubstitution(entities=ENTITIES, prefer_rare={"Maria": 3}).params()["prefer_rare"]
    assert other != params["prefer_rare"]


# Rare preference: with the common terms seen 1000 times, they are drawn about 1000 times less often.
RARE_POOL = {"DISEASE": ["高血压病", "糖尿病", "冠心病", "哮喘", "肺炎"]}
SKEWED = {"糖尿病": 1000, "冠心病": 1000, "哮喘": 0}


def _replacements(prefer_rare, seed: int = 0) -> Counter[str]:
    sub = EntitySubstitution(entities=RARE_POOL, seed=seed, prefer_rare=prefer_rare)
    picked: Counter[str] = Counter()
    for i in range(400):
        (child,) = sub.augment(_d(f"高血压病 {i}", "请遵医嘱。"))
        picked[child.turns[0].content.split()[0]] += 1
    return picked


def test_entities_prefer_rare_terms():
    plain, rare = _replacements(None), _replacements(SKEWED)
    common = ("糖尿病", "冠心病")
    assert sum(plain[t] for t in common) > 120
    assert sum(rare[t] for t in common) < 8
    assert rare["哮喘"] > 150 and rare["肺炎"] > 150
    assert _replacements(SKEWED) == rare
    assert _replacements(SKEWED, seed=1) != rare


def test_entities_prefer_rare_from_a_coverage_result_or_a_file(tmp_path):
    corpus = [_d(f"我有{term}。", "请遵医嘱。") for term, n in SKEWED.items() for _ in range(n // 100)]
    result = Coverage(gazetteer=Gazetteer(RARE_POOL)).update(corpus).finish()
    assert result.observed["entity_term"] == {"冠心病": 10, "糖尿病": 10}
    expected = EntitySubstitution(entities=RARE_POOL, prefer_rare={"冠心病": 10, "糖尿病": 10}).counts
    assert EntitySubstitution(entities=RARE_POOL, prefer_rare=result).counts == expected
    (tmp_path / "observed.json").write_text(json.dumps(result.observed, ensure_ascii=False), "utf-8")
    (tmp_path / "counts.toml").write_text('"冠心病" = 10\n"糖尿病" = 10\n', "utf-8")
    for name in ("observed.json", "counts.toml"):
        sub = EntitySubstitution(entities=RARE_POOL, prefer_rare=str(tmp_path / name))
        assert sub.counts == expected


def test_entities_prefer_rare_counts_follow_the_gazetteer_spelling():
    sub = EntitySubstitution(
        entities={"DRUG": ["Aspirin", "metformin"]}, prefer_rare={"METFORMIN": 4, "x": 1}
    )
    assert sub.counts == {"metformin": 4, "x": 1}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"prefer_rare": 3}, "prefer_rare: expected {term: count}"),
        ({"prefer_rare": {"糖尿病": -1}}, "a whole number >= 0"),
        ({"prefer_rare": {"糖尿病": True}}, "a whole number >= 0"),
        ({"prefer_rare": {"糖尿病": 1.5}}, "a whole number >= 0"),
        ({"prefer_rare": "counts.csv"}, "expected a .json or .toml file"),
        ({"unpooled": "drop"}, "expected one of: keep, shuffle"),
        ({"entities": {"PERSON": "Anna"}}, "expected a list of terms"),
        ({"entities": 3}, "entities: expected"),
        ({"gazetteer": 3}, "gazetteer: expected"),
        ({"model": 42}, "model: expected"),
        ({"model": ""}, "model is empty"),
    ],
)
def test_entities_reject_bad_options(options, message):
    options = {"entities": RARE_POOL, **options}
    with pytest.raises(UsageError, match=re.escape(message)):
        EntitySubstitution(**options)


def test_entities_prefer_rare_file_errors(tmp_path):
    with pytest.raises(InputError):
        EntitySubstitution(entities=RARE_POOL, prefer_rare=tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("[1, 2]", "utf-8")
    with pytest.raises(ConfigError, match="expected a table"):
        EntitySubstitution(entities=RARE_POOL, prefer_rare=tmp_path / "bad.json")
    no_terms = CoverageResult(cells=[], rarity={}, score=1.0, metrics={}, issues=[], observed={})
    with pytest.raises(UsageError, match="no entity_term counts"):
        EntitySubstitution(entities=RARE_POOL, prefer_rare=no_terms)
