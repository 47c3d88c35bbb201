import itertools
import pickle
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogdata.errors import ConfigError, InputError
from dialogdata.gazetteers import BUNDLED, Gazetteer, Span, load_gazetteer
from dialogdata.gazetteers.gazetteer import is_word_char

MEDICAL = ("DISEASE", "SYMPTOM", "DRUG", "DEPARTMENT", "EXAM")
FINANCE = ("PRODUCT", "INSTITUTION", "TERM", "FEE")


def _found(gazetteer: Gazetteer, text: str) -> list[tuple[str, str, str]]:
    return [(text[s.start : s.end], s.label, s.term) for s in gazetteer.find(text)]


def test_gazetteers_bundled_labels_and_domains():
    assert load_gazetteer("medical").labels == MEDICAL
    assert load_gazetteer("finance").labels == FINANCE
    default = load_gazetteer("default")
    assert default.labels == MEDICAL + FINANCE
    assert default.domains == {**dict.fromkeys(MEDICAL, "medical"), **dict.fromkeys(FINANCE, "finance")}
    assert set(BUNDLED) == {"default", "medical", "finance"}


@pytest.mark.parametrize("label", MEDICAL + FINANCE)
def test_gazetteers_bundled_lists_cover_both_languages(label):
    terms = load_gazetteer("default").terms[label]
    chinese = [t for t in terms if any("\u4e00" <= c <= "\u9fff" for c in t)]
    assert len(chinese) >= 25
    assert len(terms) - len(chinese) >= 20


def test_gazetteers_every_bundled_term_matches_itself():
    gazetteer = load_gazetteer("default")
    for label, terms in gazetteer.terms.items():
        for term in terms:
            assert gazetteer.find(term) == [Span(0, len(term), label, term)], term
            assert unicodedata.is_normalized("NFC", term)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我有高血压病，也有糖尿病", [("高血压病", "DISEASE", "高血压病"), ("糖尿病", "DISEASE", "糖尿病")]),
        ("高血压", [("高血压", "DISEASE", "高血压")]),
        ("挂心内科还是内科？", [("心内科", "DEPARTMENT", "心内科"), ("内科", "DEPARTMENT", "内科")]),
        ("我的credit card额度", [("credit card", "PRODUCT", "credit card"), ("额度", "TERM", "额度")]),
        ("信用卡annual fee多少", [("信用卡", "PRODUCT", "信用卡"), ("annual fee", "FEE", "annual fee")]),
        ("做B超和CT检查", [("B超", "EXAM", "B超"), ("CT", "EXAM", "CT")]),
        ("CTA or ACT", []),
        (
            "I went to cardiology about my card.",
            [("cardiology", "DEPARTMENT", "cardiology"), ("card", "PRODUCT", "card")],
        ),
        ("cards, discard, cardigan", []),
        (
            "My CREDIT Card's Annual Fee",
            [("CREDIT Card", "PRODUCT", "credit card"), ("Annual Fee", "FEE", "annual fee")],
        ),
        (
            "Take Metformin; then METFORMIN.",
            [("Metformin", "DRUG", "metformin"), ("METFORMIN", "DRUG", "metformin")],
        ),
        (
            "overdraft fee vs overdraft",
            [("overdraft fee", "FEE", "overdraft fee"), ("overdraft", "TERM", "overdraft")],
        ),
        ("hypertensions, hypertension_x, hypertension2", []),
        ("(hypertension)", [("hypertension", "DISEASE", "hypertension")]),
        ("维生素D3和维生素D", [("维生素D3", "DRUG", "维生素D3"), ("维生素D", "DRUG", "维生素D")]),
        ("", []),
    ],
)
def test_gazetteers_find_default(text, expected):
    assert _found(load_gazetteer("default"), text) == expected


def test_gazetteers_word_boundaries_annapolis():
    gazetteer = Gazetteer({"PERSON": ["Anna"], "CITY": ["Annapolis"]})
    assert _found(gazetteer, "Anna lives in Annapolis") == [
        ("Anna", "PERSON", "Anna"),
        ("Annapolis", "CITY", "Annapolis"),
    ]
    assert _found(Gazetteer({"PERSON": ["Anna"]}), "Annapolis, Hanna, Anna's, Anna") == [
        ("Anna", "PERSON", "Anna"),
        ("Anna", "PERSON", "Anna"),
    ]


def test_gazetteers_boundaries_count_accents_and_marks_as_letters():
    gazetteer = Gazetteer({"X": ["cafe", "naïve"]})
    assert _found(gazetteer, "cafe café cafe\u0301 naïveté naïve") == [
        ("cafe", "X", "cafe"),
        ("naïve", "X", "naïve"),
    ]


def test_gazetteers_longest_falls_back_when_the_longest_is_not_bounded():
    gazetteer = Gazetteer({"A": ["credit"], "B": ["credit card"]})
    assert _found(gazetteer, "credit cards") == [("credit", "A", "credit")]
    assert _found(gazetteer, "credit card") == [("credit card", "B", "credit card")]


def test_gazetteers_leftmost_wins_over_longer_later_match():
    gazetteer = Gazetteer({"DISEASE": ["糖尿病"], "PERSON": ["病人家属"]})
    assert _found(gazetteer, "糖尿病人家属") == [("糖尿病", "DISEASE", "糖尿病")]


def test_gazetteers_cjk_terms_match_anywhere_and_latin_next_to_cjk_is_bounded():
    gazetteer = Gazetteer({"X": ["内科", "ECG"]})
    assert _found(gazetteer, "去内科做ECG检查") == [("内科", "X", "内科"), ("ECG", "X", "ECG")]
    assert _found(gazetteer, "ECGs") == []


def test_gazetteers_terms_are_nfc_and_case_variants_kept_once():
    gazetteer = Gazetteer({"X": ["cafe\u0301", "MRI", "mri", " MRI "]})
    assert gazetteer.terms == {"X": ("café", "MRI")}
    assert _found(gazetteer, "café and Mri") == [("café", "X", "café"), ("Mri", "X", "MRI")]
    assert gazetteer.label_of("mri") == "X"
    assert gazetteer.label_of("CT") is None
    assert (gazetteer.canonical("Mri"), gazetteer.canonical("CT")) == ("MRI", None)
    assert len(gazetteer) == 2


def test_gazetteers_offsets_survive_characters_that_lower_to_two():
    gazetteer = Gazetteer({"X": ["istanbul", "hypertension"]})
    text = "İstanbul İİ HYPERTENSION"
    assert _found(gazetteer, text) == [("HYPERTENSION", "X", "hypertension")]


def test_gazetteers_a_term_with_two_labels_is_an_error():
    with pytest.raises(ConfigError, match=r"'Card' is listed under both PRODUCT and TERM"):
        Gazetteer({"PRODUCT": ["card"], "TERM": ["Card"]})


def test_gazetteers_empty_gazetteer_finds_nothing():
    assert Gazetteer({}).find("anything") == []


def test_gazetteers_union_keeps_domains():
    merged = Gazetteer({"A": ["x1"]}, name="one") | Gazetteer({"B": ["y1"]}, name="two")
    assert merged.terms == {"A": ("x1",), "B": ("y1",)}
    assert merged.domains == {"A": "one", "B": "two"}


def test_gazetteers_pickle_and_determinism():
    gazetteer = load_gazetteer("default")
    text = "我的credit card额度和高血压病 hypertension, cardiology"
    first = gazetteer.find(text)
    assert gazetteer.find(text) == first
    clone = pickle.loads(pickle.dumps(gazetteer))
    assert clone == gazetteer
    assert clone.find(text) == first
    assert load_gazetteer("default") is gazetteer


USER_FILES = {
    "terms.csv": '# my terms\nlabel,term\nDRUG,阿莫西林\nDRUG,amoxicillin\nPRODUCT,"card, gold"\n\n',
    "terms.tsv": "label\tterm\nDRUG\t阿莫西林\nDRUG\tamoxicillin\nPRODUCT\tcard, gold\n",
    "terms.jsonl": (
        '{"label": "DRUG", "term": "阿莫西林"}\n\n{"label": "DRUG", "pattern": "amoxicillin", "id": "a"}\n'
        '{"label": "PRODUCT", "term": "card, gold"}\n'
    ),
    "terms.json": '{"DRUG": ["阿莫西林", "amoxicillin"], "PRODUCT": ["card, gold"]}',
    "terms.toml": 'DRUG = ["阿莫西林", "amoxicillin"]\nPRODUCT = ["card, gold"]\n',
}


@pytest.mark.parametrize("name", sorted(USER_FILES))
def test_gazetteers_user_file_formats(tmp_path, name):
    path = tmp_path / name
    path.write_text(USER_FILES[name], encoding="utf-8")
    gazetteer = load_gazetteer(path)
    assert gazetteer.terms == {"DRUG": ("阿莫西林", "amoxicillin"), "PRODUCT": ("card, gold",)}
    assert gazetteer.domains == {"DRUG": "terms", "PRODUCT": "terms"}
    assert _found(gazetteer, "Amoxicillin和阿莫西林; card, gold") == [
        ("Amoxicillin", "DRUG", "amoxicillin"),
        ("阿莫西林", "DRUG", "阿莫西林"),
        ("card, gold", "PRODUCT", "card, gold"),
    ]
    assert load_gazetteer(str(path)) is gazetteer


def test_gazetteers_user_file_with_bom(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufefflabel,term\nDRUG,布洛芬\n".encode())
    assert load_gazetteer(path).terms == {"DRUG": ("布洛芬",)}


@pytest.mark.parametrize(
    ("name", "content", "message", "line"),
    [
        ("bad.csv", "label,term\nDRUG,a\nDRUG\n", "expected two fields", 3),
        ("bad.csv", "DRUG,a,b\n", "expected two fields", 1),
        ("bad.tsv", "DRUG\t\n", "expected two fields", 1),
        (
            "bad.jsonl",
            '{"label": "DRUG", "term": "a"}\n{"label": "DRUG", "terms": "a"}\n',
            "unknown key 'terms'",
            2,
        ),
        ("bad.jsonl", '{"label": "DRUG", "pattern": [{"LOWER": "a"}]}\n', "phrase", 1),
        ("bad.jsonl", "[1]\n", "expected an object", 1),
        ("bad.jsonl", "{oops\n", "not valid JSON", 1),
        ("bad.toml", "DRUG = 'a'\n", "expected a list of terms", None),
        ("bad.toml", "DRUG = [\n", "cannot parse", None),
        ("bad.json", '["a"]', "expected a table", None),
        ("bad.csv", "DRUG,card\nTERM,Card\n", "listed under both DRUG and TERM", None),
    ],
)
def test_gazetteers_user_file_errors(tmp_path, name, content, message, line):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_gazetteer(path)
    assert caught.value.path is not None and caught.value.path.endswith(name)
    assert caught.value.line == line


def test_gazetteers_unknown_names_and_paths(tmp_path):
    with pytest.raises(
        ConfigError, match="unknown gazetteer 'medcal'; expected one of: default, finance, medical"
    ):
        load_gazetteer("medcal")
    with pytest.raises(InputError, match="not found"):
        load_gazetteer(tmp_path / "missing.csv")
    (tmp_path / "terms.xlsx").write_bytes(b"x")
    with pytest.raises(ConfigError, match=r"unsupported gazetteer file type '\.xlsx'"):
        load_gazetteer(tmp_path / "terms.xlsx")
    (tmp_path / "latin1.csv").write_bytes("DRUG,caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not valid UTF-8"):
        load_gazetteer(tmp_path / "latin1.csv")


_TERMS = ["card", "credit card", "Anna", "高血压", "高血压病", "内科", "心内科", "ECG", "naïve"]
_PROPERTY_GAZETTEER = Gazetteer({"A": _TERMS[:3], "B": _TERMS[3:]})
_PIECES = st.sampled_from(
    [*_TERMS, "CARD", "Credit Card", "ANNA", "s", "io", "polis", " ", ", ", "的", "é", "_", "1"]
)


@given(st.lists(_PIECES | st.text(max_size=3), max_size=20).map("".join))
def test_gazetteers_spans_are_sorted_disjoint_exact_and_bounded(text):
    spans = _PROPERTY_GAZETTEER.find(text)
    for before, after in itertools.pairwise(spans):
        assert before.end <= after.start
    for span in spans:
        assert text[span.start : span.end].casefold() == span.term.casefold()
        assert _PROPERTY_GAZETTEER.label_of(span.term) == span.label
        if is_word_char(span.term[0]) and span.start > 0:
            assert not is_word_char(text[span.start - 1])
        if is_word_char(span.term[-1]) and span.end < len(text):
            assert not is_word_char(text[span.end])
    assert _PROPERTY_GAZETTEER.find(text) == spans
