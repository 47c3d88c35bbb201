"""EntitySubstitution with spaCy pipelines: tiny NER models trained here (nothing is downloaded)."""

import pickle
import random
import re

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import filter_spans, fix_random_seed

from dialogdata import Dialogue, Role, ToolCall, Turn
from dialogdata.augmenters import EntitySubstitution
from dialogdata.errors import UsageError

PEOPLE = {"PERSON": ["Anna", "Maria", "Lena"], "GPE": ["Paris", "Berlin", "Rome"]}
EN_TRAIN = [
    ("Anna lives in Paris", {"Anna": "PERSON", "Paris": "GPE"}),
    ("Maria moved to Berlin", {"Maria": "PERSON", "Berlin": "GPE"}),
    ("Yesterday Anna visited Berlin", {"Anna": "PERSON", "Berlin": "GPE"}),
    ("Does Maria live in Paris?", {"Maria": "PERSON", "Paris": "GPE"}),
    ("I met Anna in Paris", {"Anna": "PERSON", "Paris": "GPE"}),
    ("The weather in Berlin is cold", {"Berlin": "GPE"}),
    ("Maria flew to Annapolis", {"Maria": "PERSON"}),
    ("Did Anna like tea?", {"Anna": "PERSON"}),
    ("Please book a table", {}),
    ("Should I take the train?", {}),
]
ZH_TRAIN = [
    ("张三住在北京", {"张三": "PERSON", "北京": "GPE"}),
    ("李四去了上海", {"李四": "PERSON", "上海": "GPE"}),
    ("昨天张三到了上海", {"张三": "PERSON", "上海": "GPE"}),
    ("李四在北京工作", {"李四": "PERSON", "北京": "GPE"}),
    ("Anna住在北京", {"Anna": "PERSON", "北京": "GPE"}),
    ("我和Maria去上海", {"Maria": "PERSON", "上海": "GPE"}),
    ("北京的天气很冷", {"北京": "GPE"}),
    ("请问张三的病历", {"张三": "PERSON"}),
]


def _train(lang: str, data: list[tuple[str, dict[str, str]]], path) -> None:
    """Train a blank pipeline's NER on `data` (about a second, deterministically) and save it to `path`."""
    fix_random_seed(0)
    nlp = spacy.blank(lang)
    nlp.add_pipe("ner")
    examples = []
    for text, entities in data:
        spans = [(text.index(term), text.index(term) + len(term), label) for term, label in entities.items()]
        examples.append(Example.from_dict(nlp.make_doc(text), {"entities": spans}))
    nlp.initialize(lambda: examples)
    for epoch in range(30):
        random.Random(epoch).shuffle(examples)
        nlp.update(examples, drop=0.0)
    nlp.to_disk(path)


@pytest.fixture(scope="module")
def en_model(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("en_ner")
    _train("en", EN_TRAIN, path)
    return str(path)


@pytest.fixture(scope="module")
def zh_model(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("zh_ner")
    _train("zh", ZH_TRAIN, path)
    return str(path)


def _ents(model: str, text: str) -> list[tuple[str, str]]:
    return [(e.text, e.label_) for e in spacy.load(model)(text).ents]


def _d(*texts: str, calls: tuple[ToolCall, ...] = ()) -> Dialogue:
    roles = [Role.USER, Role.ASSISTANT]
    turns = [Turn(role=roles[i % 2], content=t) for i, t in enumerate(texts)]
    if calls:
        turns[-1] = Turn(role=Role.ASSISTANT, content=turns[-1].content, tool_calls=calls)
    return Dialogue(turns=tuple(turns))


def test_entities_trained_model_replaces_names_everywhere(en_model):
    user, reply = "Anna flew to Annapolis from Paris.", "Did Anna like Paris?"
    assert _ents(en_model, user) == [("Anna", "PERSON"), ("Paris", "GPE")]
    assert _ents(en_model, reply) == [("Anna", "PERSON"), ("Paris", "GPE")]
    call = ToolCall(name="book", arguments='{"name": "Anna", "city": "Paris"}', id="c1")
    d = _d(user, reply, calls=(call,))
    # Only the model knows these names: the gazetteer holds other terms of the same labels.
    sub = EntitySubstitution(model=en_model, entities={"PERSON": ["Maria"], "GPE": ["Rome"]})
    (child,) = sub.augment(d)
    assert [t.content for t in child.turns] == ["Maria flew to Annapolis from Rome.", "Did Maria like Rome?"]
    assert child.turns[1].tool_calls[0].arguments == '{"name": "Maria", "city": "Rome"}'
    params = child.lineage.operations[-1].params
    assert params["model"] == en_model and params["model_version"] == "0.0.0"


def test_entities_trained_model_one_mapping_for_many_names(en_nlp):
    d = _d("Anna lives in Paris.", "Maria moved to Berlin.", "Does Maria live in Paris?")
    for seed in range(10):
        (child,) = EntitySubstitution(model=en_nlp, entities=PEOPLE, seed=seed).augment(d)
        first, second, third = (t.content for t in child.turns)
        anna, paris = first.removesuffix(".").split(" lives in ")
        maria, berlin = second.removesuffix(".").split(" moved to ")
        assert third == f"Does {maria} live in {paris}?"
        assert len({anna, maria}) == 2 and len({paris, berlin}) == 2
        assert (anna, maria, paris, berlin) != ("Anna", "Maria", "Paris", "Berlin")
        assert {anna, maria} <= set(PEOPLE["PERSON"]) and {paris, berlin} <= set(PEOPLE["GPE"])


def test_entities_trained_zh_model_on_mixed_text(zh_model):
    nlp = spacy.load(zh_model)
    question, answer = "张三明天去北京吗？", "张三可以和Anna去上海。"
    assert _ents(zh_model, question) == [("张三", "PERSON"), ("北京", "GPE")]
    # A character-level Chinese model tags "Ann" inside "Anna": off word boundaries, so never replaced.
    assert _ents(zh_model, answer) == [("张三", "PERSON"), ("Ann", "PERSON"), ("上海", "GPE")]
    d = _d(question, answer)
    cities = set()
    for seed in range(10):
        entities = {"PERSON": ["王五", "Lena"], "GPE": ["广州", "深圳"]}
        (child,) = EntitySubstitution(model=nlp, entities=entities, seed=seed).augment(d)
        first, second = child.turns[0].content[5:7], child.turns[1].content[-3:-1]
        assert {first, second} == {"广州", "深圳"}
        assert [t.content for t in child.turns] == [f"王五明天去{first}吗？", f"王五可以和Anna去{second}。"]
        cities.add(first)
        # With "Anna" in the gazetteer, the gazetteer finds it and it becomes the other Latin name.
        entities["PERSON"].append("Anna")
        (child,) = EntitySubstitution(model=nlp, entities=entities, seed=seed).augment(d)
        assert child.turns[1].content == f"王五可以和Lena去{child.turns[1].content[-3:-1]}。"
    assert cities == {"广州", "深圳"}


@Language.component("dialogdata_test_first_word", assigns=["doc.ents"])
def _first_word(doc: Doc) -> Doc:
    """Tag "Anna" PERSON at the start of a text only: a model that misses the later mentions of a name."""
    doc.ents = [Span(doc, 0, 1, label="PERSON")] if len(doc) and doc[0].text == "Anna" else []
    return doc


def test_entities_model_terms_are_replaced_where_the_model_missed_them():
    nlp = spacy.blank("en")
    nlp.add_pipe("dialogdata_test_first_word")
    call = ToolCall(name="book", arguments='{"name": "Anna"}', id="c1")
    d = _d("Anna is here.", "I saw Anna, not anna, in Annapolis.", calls=(call,))
    (child,) = EntitySubstitution(model=nlp, entities={"PERSON": ["Maria"]}).augment(d)
    assert [t.content for t in child.turns] == ["Maria is here.", "I saw Maria, not anna, in Annapolis."]
    assert child.turns[1].tool_calls[0].arguments == '{"name": "Maria"}'


def test_entities_gazetteer_wins_where_spans_overlap():
    nlp = _ruler({"PERSON": ["Anna Schmidt"], "DISEASE": ["diabetes type"]})
    d = _d("Anna Schmidt has diabetes type 2.", "Anna Schmidt, rest.")
    entities = {"PERSON": ["Anna", "Maria"], "DISEASE": ["diabetes", "asthma"]}
    (child,) = EntitySubstitution(model=nlp, entities=entities).augment(d)
    assert [t.content for t in child.turns] == ["Maria Schmidt has asthma type 2.", "Maria Schmidt, rest."]


def _ruler(patterns: dict[str, list[str]]) -> Language:
    """A pipeline whose entities are known in advance: an entity ruler."""
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": label, "pattern": p} for label, items in patterns.items() for p in items])
    return nlp


def test_entities_unpooled_labels_keep_or_shuffle():
    nlp = _ruler({"ORG": ["Acme", "Globex", "Initech"], "DISEASE": ["flu"]})
    d = _d("Acme sued Globex over flu.", "Globex and Acme settled; Initech watched.")
    keep = EntitySubstitution(model=nlp, entities={"DISEASE": ["flu", "cold"]})
    (child,) = keep.augment(d)
    assert [t.content for t in child.turns] == [
        "Acme sued Globex over cold.",
        "Globex and Acme settled; Initech watched.",
    ]
    assert keep.unreplaced == {"ORG": 3}
    orders = set()
    for seed in range(5):
        shuffle = EntitySubstitution(model=nlp, entities={"DISEASE": ["flu"]}, unpooled="shuffle", seed=seed)
        (child,) = shuffle.augment(d)
        first, rest = child.turns[0].content.split(" sued ")
        second = rest.removesuffix(" over flu.")
        third = child.turns[1].content.split("; ")[1].removesuffix(" watched.")
        assert child.turns[1].content.startswith(f"{second} and {first} settled")
        assert sorted([first, second, third]) == ["Acme", "Globex", "Initech"]
        assert first != "Acme" and second != "Globex" and third != "Initech"
        assert shuffle.unreplaced == {"DISEASE": 1}
        orders.add((first, second, third))
    assert len(orders) == 2


@Language.component("dialogdata_test_paris", assigns=["doc.ents"])
def _paris(doc: Doc) -> Doc:
    """Tag "Paris" GPE after "visit", PERSON elsewhere, and quotes and dashes PERSON (junk)."""
    spans = []
    for token in doc:
        if token.text == "Paris":
            label = "GPE" if token.i and doc[token.i - 1].lower_ == "visit" else "PERSON"
            spans.append(Span(doc, token.i, token.i + 1, label=label))
        elif token.text in ('"', "-"):
            spans.append(Span(doc, token.i, token.i + 1, label="PERSON"))
    doc.ents = spans
    return doc


@pytest.mark.parametrize(
    ("extra", "replacement"),
    [((), "Lena"), (("Visit Paris!",), "Rome")],
)
def test_entities_a_term_takes_its_most_frequent_label(extra, replacement):
    nlp = spacy.blank("en")
    nlp.add_pipe("dialogdata_test_paris")
    d = _d('Paris said "hi" - twice.', "Paris is nice; visit Paris.", *extra)
    sub = EntitySubstitution(model=nlp, entities={"PERSON": ["Paris", "Lena"], "GPE": ["Rome"]})
    # The gazetteer lists "Paris" under PERSON, so it keeps the gazetteer's label whatever the model says.
    (child,) = sub.augment(d)
    assert child.turns[0].content == 'Lena said "hi" - twice.'
    sub = EntitySubstitution(model=nlp, entities={"PERSON": ["Lena"], "GPE": ["Rome"]})
    (child,) = sub.augment(d)
    assert [t.content for t in child.turns] == [
        f'{replacement} said "hi" - twice.',
        f"{replacement} is nice; visit {replacement}.",
        *(f"Visit {replacement}!" for _ in extra),
    ]


def test_entities_custom_component_must_declare_ents():
    @Language.component("dialogdata_test_silent")
    def _silent(doc: Doc) -> Doc:
        return doc

    nlp = spacy.blank("en")
    nlp.add_pipe("dialogdata_test_silent")
    with pytest.raises(UsageError, match=re.escape('assigns=["doc.ents"]')):
        EntitySubstitution(model=nlp)


@Language.factory("dialogdata_test_chars", default_config={"targets": []}, assigns=["doc.ents"])
def _chars(nlp: Language, name: str, targets: list[list[str]]):
    """Tag every occurrence of each [text, label] of `targets`, as a careless model might."""

    def tag(doc: Doc) -> Doc:
        spans = []
        for text, label in targets:
            start = doc.text.find(text)
            while start != -1:
                spans.append(doc.char_span(start, start + len(text), label=label, alignment_mode="expand"))
                start = doc.text.find(text, start + 1)
        doc.ents = filter_spans(spans)
        return doc

    return tag


def _tagger(lang: str, *targets: tuple[str, str]) -> Language:
    nlp = spacy.blank(lang)
    nlp.add_pipe("dialogdata_test_chars", config={"targets": [list(t) for t in targets]})
    return nlp


def test_entities_model_spans_are_trimmed_of_quotes():
    nlp = _tagger("en", ('"Anna"', "PERSON"))
    assert [e.text for e in nlp('She said "Anna" twice.').ents] == ['"Anna"']
    call = ToolCall(name="book", arguments='{"name": "Anna"}', id="c1")
    d = _d('She said "Anna" twice.', "Booked.", calls=(call,))
    (child,) = EntitySubstitution(model=nlp, entities={"PERSON": ["Maria"]}).augment(d)
    assert child.turns[0].content == 'She said "Maria" twice.'
    assert child.turns[1].tool_calls[0].arguments == '{"name": "Maria"}'


def test_entities_model_spans_inside_a_word_are_dropped():
    nlp = _tagger("zh", ("Ann", "PERSON"))
    assert [e.text for e in nlp("我住在Annapolis。").ents] == ["Ann"]
    sub = EntitySubstitution(model=nlp, entities={"PERSON": ["Lena"]})
    assert sub.augment(_d("我住在Annapolis。", "好的。")) == []
    assert sub.skipped["no_entities"] == 1


def test_entities_gazetteer_spans_win_over_later_model_mentions():
    nlp = _tagger("en", ("Schmidt Clinic", "ORG"))
    entities = {"PERSON": ["Anna Schmidt", "Maria"], "ORG": ["Globex"]}
    d = _d("Schmidt Clinic is open.", "Anna Schmidt Clinic called.")
    (child,) = EntitySubstitution(model=nlp, entities=entities).augment(d)
    assert [t.content for t in child.turns] == ["Globex is open.", "Maria Clinic called."]


def test_entities_a_model_span_over_a_gazetteer_term_is_no_entity():
    nlp = _tagger("en", ("Anna Schmidt", "ORG"))
    sub = EntitySubstitution(model=nlp, entities={"PERSON": ["Anna"], "ORG": ["Globex"]})
    # "Anna" (the gazetteer's, with no other PERSON) stays; "Anna Schmidt" never becomes an entity.
    assert sub.augment(_d("Anna Schmidt is here.", "Hello Anna Schmidt.")) == []
    assert sub.skipped["no_entities"] == 1


def test_entities_a_kept_entity_never_lends_its_name():
    nlp = _tagger("en", ("Lena", "PERSON"))
    sub = EntitySubstitution(model=nlp, entities={"PERSON": ["Anna"], "DISEASE": ["flu", "cold"]})
    (child,) = sub.augment(_d("Anna and Lena have flu.", "Rest, Lena."))
    # Lena's only candidate is Anna, who stays: replacing Lena would make two people one.
    assert [t.content for t in child.turns] == ["Anna and Lena have cold.", "Rest, Lena."]
    assert sub.unreplaced == {"PERSON": 2}


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("en_core_web_zz", "spaCy pipeline 'en_core_web_zz' is not installed; install it"),
        ("./no/such/pipeline", "spaCy pipeline folder not found"),
    ],
)
def test_entities_unknown_model_is_a_usage_error(model, message):
    with pytest.raises(UsageError, match=message) as caught:
        EntitySubstitution(model=model)
    assert "\n" not in str(caught.value)
    if "installed" in message:
        assert "python -m spacy download en_core_web_zz" in str(caught.value)
        assert "path of a saved pipeline" in str(caught.value)


def test_entities_unusable_pipelines_are_usage_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match=re.escape("no config.cfg")):
        EntitySubstitution(model=tmp_path / "empty")
    spacy.blank("en").to_disk(tmp_path / "blank")
    with pytest.raises(UsageError, match="finds no entities"):
        EntitySubstitution(model=tmp_path / "blank")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.cfg").write_text("[nlp\n", "utf-8")
    with pytest.raises(UsageError, match="cannot load spaCy pipeline") as caught:
        EntitySubstitution(model=str(tmp_path / "broken"))
    assert "\n" not in str(caught.value)
    # An installed distribution that is not a pipeline is no pipeline either.
    with pytest.raises(UsageError, match="cannot load spaCy pipeline 'hypothesis'"):
        EntitySubstitution(model="hypothesis")


def test_entities_pickle_reloads_the_pipeline(en_model):
    sub = EntitySubstitution(model=en_model, entities=PEOPLE, seed=4)
    # The pipeline (megabytes of weights) is reloaded by the receiving process, not pickled.
    blob = pickle.dumps(sub)
    assert len(blob) < 10_000 < len(pickle.dumps(sub.nlp))
    copy = pickle.loads(blob)
    d = _d("I met Anna in Paris.", "Anna likes Paris.")
    assert copy.augment(d) == sub.augment(d) != []


def test_entities_output_never_depends_on_other_dialogues(en_model):
    dialogues = [
        _d("Anna lives in Paris.", "Hi Anna."),
        _d("Maria moved to Berlin.", "Ok."),
        _d("Please book a table", "Should I take the train?"),
    ]
    forward = list(EntitySubstitution(model=en_model, entities=PEOPLE, seed=2)(dialogues))
    backward = list(EntitySubstitution(model=en_model, entities=PEOPLE, seed=2)(dialogues[::-1]))
    assert len(forward) == 2
    assert sorted(forward, key=lambda d: d.id) == sorted(backward, key=lambda d: d.id)


NAMES = st.sampled_from(["Anna", "Maria", "Paris", "Berlin", "Annapolis", "tea", "train", "高血压"])
POOL = {term for terms in PEOPLE.values() for term in terms}


@st.composite
def _named_dialogues(draw: st.DrawFn) -> Dialogue:
    texts = [
        " ".join(draw(st.lists(NAMES, min_size=1, max_size=5))) + draw(st.sampled_from([".", "?", ""]))
        for _ in range(draw(st.integers(1, 4)))
    ]
    return _d(*texts, calls=(ToolCall(name="f", arguments=f'{{"who": "{draw(NAMES)}"}}'),))


@given(_named_dialogues(), st.integers(0, 2**32))
@settings(max_examples=40, deadline=None, derandomize=True)
def test_entities_trained_model_keeps_one_mapping(en_nlp, dialogue, seed):
    before = dialogue.to_dict()
    children = EntitySubstitution(model=en_nlp, entities=PEOPLE, seed=seed).augment(dialogue)
    assert dialogue.to_dict() == before
    assert children == EntitySubstitution(model=en_nlp, entities=PEOPLE, seed=seed).augment(dialogue)
    for child in children:
        assert [t.role for t in child.turns] == [t.role for t in dialogue.turns]
        mapping: dict[str, str] = {}
        for a, b in zip(_texts(dialogue), _texts(child), strict=True):
            for word, other in zip(_words(a), _words(b), strict=True):
                assert mapping.setdefault(word, other) == other
        # Whole words only: a word is kept or becomes a pool term, never "Marianapolis".
        assert all(new == old or new in POOL for old, new in mapping.items())
        assert len(set(mapping.values())) == len(mapping)


def _texts(d: Dialogue) -> list[str]:
    return [t.content for t in d.turns] + [c.arguments for t in d.turns for c in t.tool_calls]


def _words(text: str) -> list[str]:
    return text.replace('"', " ").replace("{", " ").replace("}", " ").replace(":", " ").rstrip(".?").split()


@pytest.fixture(scope="module")
def en_nlp(en_model):
    return spacy.load(en_model)
