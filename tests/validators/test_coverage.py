import itertools
import pickle
from functools import reduce

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogdata import Dialogue, Role, Turn
from dialogdata.errors import ConfigError, InputError
from dialogdata.gazetteers import Gazetteer
from dialogdata.validators.checklist import read_checklist
from dialogdata.validators.coverage import Coverage, CoverageResult, language, question_type

U, A = Role.USER, Role.ASSISTANT


def _d(*texts: str, tag: str | None = None, system: str | None = None) -> Dialogue:
    turns = [Turn(role=Role.SYSTEM, content=system)] if system else []
    turns += [Turn(role=(U, A)[i % 2], content=text) for i, text in enumerate(texts)]
    return Dialogue(turns=tuple(turns), tags={"adversarial": tag} if tag else {})


LONG = "Visit any branch with your ID card copy. " * 8
ZH_MEDICAL = [_d("高血压吃什么药？", f"可以遵医嘱服用硝苯地平（{i}）。") for i in range(10)]
EN_FINANCE = [
    _d("How do I apply for a credit card?", f"{LONG}({i})", "Thanks.", "You are welcome.") for i in range(6)
]
ZH_NOISY = [
    _d(
        "为什么我总是头痛？",
        f"可能与睡眠有关（{i}）。",
        "需要做CT吗？",
        "建议先观察。",
        "好的，谢谢。",
        "不客气。",
        tag="char_noise",
    )
    for i in range(3)
]
EN_INJECTION = [
    _d(
        "Should I take ibuprofen or acetaminophen?",
        "Either works; ask your pharmacist about ibuprofen if you have stomach problems.",
        tag="injection",
    )
]
CORPUS = ZH_MEDICAL + EN_FINANCE + ZH_NOISY + EN_INJECTION

CHECKLIST = {
    "entity_label": {"cells": ["DISEASE", "DRUG", "SYMPTOM", "PRODUCT", "FEE"], "min_count": 3},
    "turns": {"cells": ["1-2", "3-4", "5-8", "9+"], "min_share": 0.2},
    "length": {"cells": ["0-49", "50-199", "200+"]},
    "question_type": {"cells": ["what", "how", "why", "choice", "request"], "min_count": 2},
    "language": {"cells": ["zh", "en", "mixed"], "min_share": 0.3},
    "adversarial": {
        "cells": [{"name": "none", "min_share": 0.8}, "char_noise", {"name": "injection", "min_count": 2}]
    },
}

EXPECTED = [
    ("entity_label", "DISEASE", 10, "filled"),
    ("entity_label", "DRUG", 11, "filled"),
    ("entity_label", "SYMPTOM", 3, "filled"),
    ("entity_label", "PRODUCT", 6, "filled"),
    ("entity_label", "FEE", 0, "missing"),
    ("turns", "1-2", 11, "filled"),
    ("turns", "3-4", 6, "filled"),
    ("turns", "5-8", 3, "thin"),
    ("turns", "9+", 0, "missing"),
    ("length", "0-49", 13, "filled"),
    ("length", "50-199", 7, "filled"),
    ("length", "200+", 0, "missing"),
    ("question_type", "what", 10, "filled"),
    ("question_type", "how", 6, "filled"),
    ("question_type", "why", 3, "filled"),
    ("question_type", "choice", 1, "thin"),
    ("question_type", "request", 0, "missing"),
    ("language", "zh", 13, "filled"),
    ("language", "en", 7, "filled"),
    ("language", "mixed", 0, "missing"),
    ("adversarial", "none", 16, "filled"),
    ("adversarial", "char_noise", 3, "filled"),
    ("adversarial", "injection", 1, "thin"),
]


def _run(dialogues, **options) -> CoverageResult:
    return Coverage(**options).update(dialogues).finish()


def test_coverage_cells_and_statuses():
    result = _run(CORPUS, checklist=CHECKLIST)
    assert [(c.dimension, c.name, c.count, c.status) for c in result.cells] == EXPECTED
    assert all(c.required for c in result.cells)
    turns_58 = next(c for c in result.cells if c.name == "5-8")
    assert (turns_58.share, turns_58.minimum_count, turns_58.minimum_share) == (0.15, 1, 0.2)
    assert result.score == 15 / 23
    assert [result.metrics[key] for key in ("n_required", "n_filled", "n_thin", "n_missing")] == [
        23,
        15,
        3,
        5,
    ]


def test_coverage_issues_name_the_cells():
    result = _run(CORPUS, checklist=CHECKLIST)
    assert [(i.code, i.turn, i.message.split(" is ")[0]) for i in result.issues] == [
        ("coverage.missing_cell", None, "coverage cell entity_label=FEE"),
        ("coverage.thin_cell", None, "coverage cell turns=5-8"),
        ("coverage.missing_cell", None, "coverage cell turns=9+"),
        ("coverage.missing_cell", None, "coverage cell length=200+"),
        ("coverage.thin_cell", None, "coverage cell question_type=choice"),
        ("coverage.missing_cell", None, "coverage cell question_type=request"),
        ("coverage.missing_cell", None, "coverage cell language=mixed"),
        ("coverage.thin_cell", None, "coverage cell adversarial=injection"),
    ]
    assert result.issues[1].message == (
        "coverage cell turns=5-8 is thin: 3 dialogues (15.0%);"
        " expected at least 1 dialogue and 20.0% of the corpus"
    )


def test_coverage_observed_holds_unlisted_cells_too():
    observed = _run(CORPUS, checklist=CHECKLIST).observed
    assert observed["question_type"] == {
        "what": 10,
        "how": 6,
        "why": 3,
        "choice": 1,
        "statement": 9,
        "yes_no": 3,
    }
    assert observed["entity_label"] == {"DISEASE": 10, "DRUG": 11, "SYMPTOM": 3, "PRODUCT": 6, "EXAM": 3}
    assert observed["turns"] == {"1-2": 11, "3-4": 6, "5-8": 3}


def test_coverage_rarity_is_higher_in_rare_cells():
    rarity = _run(CORPUS, checklist=CHECKLIST).rarity
    assert len(rarity) == len(CORPUS)
    assert rarity[EN_INJECTION[0].id] == 1.0
    assert all(rarity[d.id] == pytest.approx(1 / 3) for d in ZH_NOISY)
    assert all(rarity[d.id] == pytest.approx(1 / 6) for d in EN_FINANCE)
    assert all(rarity[d.id] == pytest.approx(1 / 10) for d in ZH_MEDICAL)
    assert list(rarity) == sorted(rarity)


def test_coverage_cells_of():
    coverage = Coverage(checklist=CHECKLIST)
    assert coverage.cells_of(ZH_NOISY[0]) == {
        "entity_label": ("EXAM", "SYMPTOM"),
        "turns": ("5-8",),
        "length": ("0-49",),
        "question_type": ("why", "yes_no", "statement"),
        "language": ("zh",),
        "adversarial": ("char_noise",),
    }


@given(st.permutations(CORPUS), st.lists(st.integers(0, len(CORPUS)), max_size=4))
def test_coverage_split_and_merge_equals_all_at_once(dialogues, cuts):
    whole = _run(CORPUS, checklist=CHECKLIST)
    bounds = [0, *sorted(cuts), len(dialogues)]
    shards = [Coverage(checklist=CHECKLIST).update(dialogues[a:b]) for a, b in itertools.pairwise(bounds)]
    shards = [pickle.loads(pickle.dumps(shard)) for shard in shards]
    assert reduce(lambda a, b: a + b, shards).finish() == whole
    assert sum(shards).finish() == whole


@given(st.permutations(CORPUS), st.lists(st.integers(0, len(CORPUS)), max_size=4))
def test_coverage_tallies_absorbed_in_order_equal_all_at_once(dialogues, cuts):
    # What a Ray worker does per block: count into a fresh copy, hand over the tally, start afresh.
    whole = _run(dialogues, checklist=CHECKLIST)
    worker, driver = Coverage(checklist=CHECKLIST), Coverage(checklist=CHECKLIST)
    bounds = [0, *sorted(cuts), len(dialogues)]
    for a, b in itertools.pairwise(bounds):
        tally = pickle.loads(pickle.dumps(worker.fresh().update(dialogues[a:b]).tally()))
        driver.absorb(tally)
    assert driver.finish() == whole
    assert worker.finish() == _run([], checklist=CHECKLIST)


def test_coverage_tally_starts_afresh():
    coverage = Coverage(checklist=CHECKLIST).update(CORPUS[:3])
    assert coverage.tally().n == 3
    assert coverage.tally().n == 0 and coverage.finish().metrics["n_dialogues"] == 0


def test_coverage_merge_leaves_its_operands_alone():
    first, second = Coverage(checklist=CHECKLIST), Coverage(checklist=CHECKLIST)
    first.update(CORPUS[:5])
    second.update(CORPUS[5:])
    merged = first + second
    assert first.finish().metrics["n_dialogues"] == 5
    assert merged.finish() == _run(CORPUS, checklist=CHECKLIST)


def test_coverage_merge_needs_the_same_checklist():
    with pytest.raises(ValueError, match="different checklists"):
        _ = Coverage(checklist=CHECKLIST) + Coverage()


def test_coverage_empty_corpus():
    result = _run([], checklist=CHECKLIST)
    assert {c.status for c in result.cells} == {"missing"}
    assert result.score == 0.0
    assert result.rarity == {}
    assert _run([], checklist={}).score == 1.0


def test_coverage_default_checklist_on_a_medical_corpus():
    result = _run(ZH_MEDICAL + ZH_NOISY)
    cells = {(c.dimension, c.name): c for c in result.cells}
    assert [name for dimension, name in cells if dimension == "entity_label"] == [
        "DISEASE", "SYMPTOM", "DRUG", "DEPARTMENT", "EXAM", "PRODUCT", "INSTITUTION", "TERM", "FEE",
    ]  # fmt: skip
    assert cells["entity_label", "DISEASE"].status == "filled" and cells["entity_label", "DISEASE"].required
    assert cells["entity_label", "EXAM"].status == "thin" and cells["entity_label", "EXAM"].required
    assert (
        cells["entity_label", "DEPARTMENT"].status == "missing"
        and cells["entity_label", "DEPARTMENT"].required
    )
    assert not any(
        cells["entity_label", label].required for label in ("PRODUCT", "INSTITUTION", "TERM", "FEE")
    )
    assert cells["language", "zh"].required and not cells["language", "en"].required
    assert cells["language", "en"].status == "missing"
    messages = " ".join(i.message for i in result.issues)
    assert "PRODUCT" not in messages and "language=en" not in messages
    assert "entity_label=DEPARTMENT is missing" in messages
    assert result.metrics["domains"] == {"finance": 0, "medical": 13}
    assert [t["term"] for t in result.metrics["top_terms"]] == ["硝苯地平", "高血压", "CT", "头痛"]


def test_coverage_domain_needs_its_minimum_share():
    one_bank = _d("银行几点开门？", "九点。")
    result = _run([*ZH_MEDICAL, *ZH_MEDICAL[:9], *ZH_MEDICAL[:1], one_bank])
    product = next(c for c in result.cells if c.name == "PRODUCT")
    assert (product.count, product.required) == (0, False)
    institution = next(c for c in result.cells if c.name == "INSTITUTION")
    assert (institution.count, institution.status, institution.required) == (1, "thin", False)
    result = _run([*ZH_MEDICAL, one_bank])
    assert next(c for c in result.cells if c.name == "PRODUCT").required


def test_coverage_present_requires_only_what_is_there():
    checklist = {"language": {"cells": ["zh", "en"], "require": "present", "min_share": 0.2}}
    result = _run([*ZH_MEDICAL, EN_INJECTION[0]], checklist=checklist)
    assert [(c.name, c.status, c.required) for c in result.cells] == [
        ("zh", "filled", True),
        ("en", "thin", True),
    ]
    result = _run(ZH_MEDICAL, checklist=checklist)
    assert [(c.name, c.status, c.required) for c in result.cells] == [
        ("zh", "filled", True),
        ("en", "missing", False),
    ]
    assert result.score == 1.0 and result.issues == []


def test_coverage_vocabulary_defaults_and_custom_gazetteer():
    gazetteer = Gazetteer({"DRUG": ["硝苯地平"], "BODY": ["头"], "EXAM": ["ecg"]}, name="mini")
    unrelated = _d("Is an ECG needed?", "An ecg is quick.")
    checklist = {
        "entity_label": {},
        "entity_term": {"cells": ["硝苯地平", "ECG"], "top": 1},
        "question_type": {},
    }
    result = _run([*CORPUS, unrelated], checklist=checklist, gazetteer=gazetteer)
    assert [(c.dimension, c.name, c.count) for c in result.cells[:5]] == [
        ("entity_label", "DRUG", 10),
        ("entity_label", "BODY", 3),
        ("entity_label", "EXAM", 1),
        ("entity_term", "硝苯地平", 10),
        ("entity_term", "ecg", 1),
    ]
    assert [c.name for c in result.cells[5:]] == [
        "what",
        "how",
        "why",
        "yes_no",
        "choice",
        "request",
        "statement",
    ]
    assert result.metrics["top_terms"] == [{"term": "硝苯地平", "label": "DRUG", "count": 10}]


def test_coverage_buckets_and_none():
    checklist = {"turns": {"cells": ["2", "5-6"]}, "length": {"cells": ["0-9"]}}
    coverage = Coverage(checklist=checklist)
    tool_only = Dialogue(turns=(Turn(role=U, content="hi"), Turn(role=A, content="")))
    assert coverage.cells_of(tool_only) == {"turns": ("2",), "length": ("none",)}
    assert coverage.cells_of(EN_FINANCE[0]) == {"turns": ("other",), "length": ("other",)}
    system = _d("hi", "hello", system="You are a doctor.")
    assert coverage.cells_of(system) == {"turns": ("2",), "length": ("0-9",)}


def test_coverage_checklist_from_toml_file(tmp_path):
    path = tmp_path / "checklist.toml"
    path.write_text(
        '[adversarial]\ncells = ["none", { name = "injection", min_count = 1 }]\n', encoding="utf-8"
    )
    result = _run(CORPUS, checklist=path)
    assert [(c.name, c.count) for c in result.cells] == [("none", 16), ("injection", 1)]
    assert read_checklist(str(path)) == read_checklist({"adversarial": {"cells": ["none", "injection"]}})


@pytest.mark.parametrize(
    ("checklist", "message"),
    [
        (
            {"turn": {}},
            "unknown checklist dimension 'turn'; expected one of: entity_label, entity_term, turns",
        ),
        (
            {"turns": {"min_shar": 0.1}},
            r"\[turns\]: unknown key 'min_shar'; expected one of: cells, min_count",
        ),
        (
            {"entity_term": {"domain_min_share": 0.1}},
            "unknown key 'domain_min_share'; expected one of: cells",
        ),
        (
            {"language": {"cells": [{"name": "zh", "share": 0.1}]}},
            "unknown key 'share'; expected one of: min_count",
        ),
        ({"language": {"cells": ["zh", "fr"]}}, "unknown cell 'fr'; expected one of: zh, en, mixed, other"),
        ({"language": {"cells": ["zh", "zh"]}}, "cell 'zh' is listed twice"),
        ({"language": {"cells": [{"min_count": 2}]}}, "a cell needs a non-empty name"),
        ({"language": {"cells": "zh"}}, "cells must be a list"),
        ({"language": {"require": "domain"}}, "require = 'domain'; expected one of: all, present"),
        ({"language": {"min_share": 1.5}}, "min_share = 1.5; expected a share between 0 and 1"),
        ({"language": {"min_count": 0}}, "min_count = 0; expected a whole number >= 1"),
        ({"language": {"min_count": True}}, "min_count = True"),
        ({"entity_term": {"top": -1}}, "top = -1"),
        ({"language": 3}, "expected a table"),
        ({"turns": {"cells": ["1-2", "2-4"]}}, "buckets '1-2' and '2-4' overlap"),
        ({"turns": {"cells": ["5-3"]}}, "bucket '5-3' is empty"),
        ({"length": {"cells": ["long"]}}, "bucket 'long'; expected"),
        (
            {"entity_label": {"cells": ["DISEASES"]}},
            "label 'DISEASES' is not in gazetteer 'default'; expected one of: DISEASE",
        ),
        ({"entity_term": {"cells": ["高血压症"]}}, "term '高血压症' is not in gazetteer 'default'"),
    ],
)
def test_coverage_checklist_errors(checklist, message):
    with pytest.raises(ConfigError, match=message):
        Coverage(checklist=checklist)


def test_coverage_checklist_file_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        Coverage(checklist=tmp_path / "missing.toml")
    path = tmp_path / "bad.toml"
    path.write_text("[turns]\nbuckets = []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown key 'buckets'") as caught:
        Coverage(checklist=path)
    assert caught.value.path == str(path)
    path.write_text("[turns\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Coverage(checklist=path)


def test_coverage_default_checklist_reads():
    names = [d.name for d in read_checklist().dimensions]
    assert names == [
        "entity_label",
        "entity_term",
        "turns",
        "length",
        "question_type",
        "language",
        "adversarial",
    ]
    assert read_checklist("default") == read_checklist(None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("高血压吃什么药？", "what"),
        ("挂哪个科", "what"),
        ("为什么我总是头痛", "why"),
        ("怎么会这样？", "why"),
        ("怎么挂失信用卡", "how"),
        ("多久复查一次", "how"),
        ("二甲双胍可以和阿司匹林一起吃吗", "yes_no"),
        ("能不能提前还款", "yes_no"),
        ("我头痛，需要去医院吗？", "yes_no"),
        ("吃布洛芬还是对乙酰氨基酚？", "choice"),
        ("请帮我查一下余额", "request"),
        ("请问可以挂失吗？", "yes_no"),
        ("谢谢医生。", "statement"),
        ("还是头痛。", "statement"),
        ("What is metformin?", "what"),
        ("And which department should I visit", "what"),
        ("The dose is how much?", "how"),
        ("How do I report a lost card?", "how"),
        ("Why is my annual fee so high?", "why"),
        ("Should I take ibuprofen or acetaminophen?", "choice"),
        ("Can I take aspirin with warfarin?", "yes_no"),
        ("Metformin?", "yes_no"),
        ("Please explain the APR.", "request"),
        ("Could you help me close an account?", "request"),
        ("Can you tell me why my head hurts?", "why"),
        ("I have a headache. Is it serious? Please help.", "yes_no"),
        ("Please help. What is APR?", "what"),
        ("I have a headache.", "statement"),
        ("I know what I want.", "statement"),
        ("", "statement"),
    ],
)
def test_coverage_question_type(text, expected):
    assert question_type(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的信用卡额度是多少", "zh"),
        ("我的credit card额度是多少", "zh"),
        ("What is the APR on my card?", "en"),
        ("高血压 hypertension high blood pressure", "mixed"),
        ("東京に行きます", "other"),
        ("Привет, как дела", "other"),
        ("123 🙂", "other"),
    ],
)
def test_coverage_language(text, expected):
    assert language(text) == expected
