import pickle
import random
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rapidfuzz import fuzz, process

from dialogdata import Dialogue, Role, Turn
from dialogdata.errors import UsageError
from dialogdata.schemas import Lineage, Source
from dialogdata.testing import chat_dialogues
from dialogdata.validators.conflict import (
    ADVERSARIAL_SHARE,
    CONTRADICTION,
    DUPLICATE,
    NEAR_DUPLICATE,
    PREFIX,
    REUSED_ANSWER,
    Conflict,
    ConflictResult,
)

U, A, S = Role.USER, Role.ASSISTANT, Role.SYSTEM

# --- a planted corpus: templates filled with entities, so clean dialogues are hard negatives --------

ZH = {
    "user": (
        "医生您好，我是{name}，今年{age}岁，最近{dur}一直{sym}，请问是不是{dis}加重了？病历号{code}。",
        "我在{dept}确诊了{dis}，现在每天吃{drug}{mg}毫克，体重{kg}公斤，还要继续吃吗？卡号{code}。",
        "从{month}月{day}日开始吃{drug}以后偶尔会{sym}，这是不是副作用？我叫{name}，编号{code}。",
        "您好，我是{name}，想办理{prod}的{req}，需要带哪些材料？客户号{code}，{month}月{day}日有空。",
    ),
    "detail": (
        "我住在{city}，平时{habit}。",
        "我是一名{job}，工作很忙。",
        "上次在{city}的医院查过一次，结果是{kg}点几。",
        "家里人让我先问问{job}朋友，他说可能是{sym}引起的。",
        "我{month}月份去过{city}出差，回来以后就不太舒服。",
        "我平时{habit}，不知道有没有关系。",
    ),
    "followup": (
        "那{drug}要吃多久？{dur}后需要复查{dis}吗？",
        "如果{sym}加重了，是直接去{dept}还是先挂急诊？",
        "{prod}的{req}大概要多少天？我{month}月{day}日之前要用。",
    ),
    "answer": (
        "根据您描述的{sym}，已经持续{dur}，建议尽快到{dept}就诊，医生会结合检查判断是否与{dis}有关。",
        "{drug}通常每次{mg}毫克、每天{times}次，请遵医嘱服用，不要自行停药；体重{kg}公斤不需要调整剂量。",
        "{dis}需要长期管理，除了按时服用{drug}，还要低盐低脂饮食，{dur}后回{dept}复查。",
        "办理{prod}{req}请携带身份证和{prod}本人到网点，{month}月{day}日前提交即可，约{times}个工作日办结。",
        "出现{sym}时先测量体温和血压并记录，{age}岁以上如果症状持续超过{dur}，请及时到{dept}面诊。",
    ),
    "other": (
        "这个问题我们无法在线回答，请直接拨打客服热线{num}转人工处理。",
        "不建议继续使用任何药物，立即停药并在{month}月{day}日前到急诊科做全面检查，编号{num}。",
        "您的申请已被系统驳回，原因代码{num}，需要重新提交全部资料并等待审核。",
    ),
}
EN = {
    "user": (
        "Hi doctor, I'm {name}, aged {age}, and I've had {sym} for {dur}. Is my {dis} getting worse? "
        "Patient number {code}.",
        "I was diagnosed with {dis} at {dept} and take {mg} mg of {drug} daily; I weigh {kg} kg. "
        "Should I keep taking it? Card {code}.",
        "Since starting {drug} on {month}/{day} I sometimes get {sym}. Could that be a side effect? "
        "I'm {name}, ID {code}.",
        "Hello, this is {name}. I'd like {req} for my {prod}; what documents do I need? "
        "Customer {code}, free on {month}/{day}.",
    ),
    "detail": (
        "I live in {city} and I {habit}.",
        "I work as a {job}, so my hours are long.",
        "I had a test in {city} last time and the result was around {kg}.",
        "My family asked a {job} friend, who thought the {sym} might be the cause.",
        "I was on a trip to {city} in month {month} and have felt unwell since.",
        "I usually {habit}; I don't know if that matters.",
    ),
    "followup": (
        "How long should I stay on {drug}, and do I need a {dis} check-up after {dur}?",
        "If the {sym} gets worse, should I go straight to {dept} or to the emergency room?",
        "How many days does {req} take for a {prod}? I need it before {month}/{day}.",
    ),
    "answer": (
        "Given the {sym} you describe, lasting {dur}, please see {dept} soon; the doctor will check "
        "whether it is related to your {dis}.",
        "The usual dose of {drug} is {mg} mg, {times} times a day; follow your prescription and do not "
        "stop on your own. At {kg} kg no change is needed.",
        "{dis} needs long-term care: take {drug} on time, eat less salt and fat, and come back to {dept} "
        "for a check after {dur}.",
        "For {req} on your {prod}, bring photo ID and the card to a branch before {month}/{day}; it takes "
        "about {times} working days.",
        "When the {sym} starts, measure your temperature and blood pressure; past {age}, if it lasts over "
        "{dur}, visit {dept} in person. Café hours apply.",
    ),
    "other": (
        "We cannot answer this online; please call the hotline {num} and ask for an agent.",
        "Stop every medicine at once and get a full work-up at the emergency department before "
        "{month}/{day}, reference {num}.",
        "Your application was rejected with reason code {num}; submit all documents again and wait "
        "for review.",
    ),
}
ENTITIES = {
    "name": (
        ("王伟", "李娜", "张敏", "刘洋", "陈静", "杨磊"),
        ("Wang Wei", "Priya Li", "Tom Chen", "Sara Liu"),
    ),
    "sym": (("头晕", "胸闷", "咳嗽有痰", "关节肿痛", "心慌", "腰疼"), ("dizziness", "chest pain", "a cough")),
    "dur": (("三天", "一周", "两周", "一个月", "半年"), ("three days", "a week", "a month", "half a year")),
    "dis": (
        ("高血压", "糖尿病", "慢性胃炎", "偏头痛", "痛风"),
        ("hypertension", "diabetes", "gout", "migraine"),
    ),
    "dept": (("心内科", "内分泌科", "消化内科", "神经内科"), ("cardiology", "endocrinology", "neurology")),
    "drug": (("阿莫西林", "二甲双胍", "氨氯地平", "布洛芬"), ("amoxicillin", "metformin", "amlodipine")),
    "prod": (("信用卡", "房贷", "借记卡", "车贷"), ("credit card", "mortgage", "debit card", "car loan")),
    "req": (("额度调整", "提前还款", "挂失补办", "密码重置"), ("a limit increase", "early repayment")),
    "city": (
        ("北京", "上海", "成都", "武汉", "西安", "杭州", "广州"),
        ("Leeds", "Austin", "Lyon", "Porto", "Osaka"),
    ),
    "job": (
        ("教师", "司机", "护士", "程序员", "厨师", "会计"),
        ("teacher", "driver", "nurse", "chef", "pilot"),
    ),
    "habit": (
        ("爱喝浓茶", "经常熬夜", "很少运动", "每天跑步", "吃得很咸"),
        ("drink strong tea", "sleep late"),
    ),
}


def _slots(rng: random.Random, lang: int) -> dict[str, str]:
    slots = {key: rng.choice(values[lang]) for key, values in ENTITIES.items()}
    slots["name"] = _name(rng, lang)
    slots |= {
        "age": str(rng.randint(18, 85)),
        "kg": str(rng.randint(45, 110)),
        "mg": str(rng.choice((5, 10, 20, 250, 500))),
        "times": str(rng.randint(1, 3)),
        "month": str(rng.randint(1, 12)),
        "day": str(rng.randint(1, 28)),
        "code": f"{rng.randrange(10**8):08d}",
        "num": f"{rng.randrange(10**6):06d}",
    }
    return slots


def _name(rng: random.Random, lang: int) -> str:
    if lang == 0:
        return rng.choice("王李张刘陈杨黄赵吴周") + "".join(
            rng.sample("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞", 2)
        )
    first = rng.choice(
        ("Wei", "Priya", "Tom", "Sara", "Omar", "Lucy", "Ivan", "Mei", "Ade", "Jon", "Eva", "Raj")
    )
    return (
        first
        + " "
        + "".join(rng.choice(letters) for letters in ("BCDFGHKLMNPRSTVW", "aeiou", "lnrst", "aeio"))
    )


@dataclass
class Planted:
    """The corpus, in the order it is added, and what was planted in it."""

    dialogues: list[Dialogue] = field(default_factory=list)
    duplicate_ids: set[str] = field(default_factory=set)
    near_pairs: set[tuple[str, str]] = field(default_factory=set)
    contradiction_pairs: set[tuple[str, str]] = field(default_factory=set)
    reused_ids: set[str] = field(default_factory=set)
    prefix_ids: set[str] = field(default_factory=set)
    group: dict[str, str] = field(default_factory=dict)


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


class _Clean:
    """Makes clean dialogues: 1-3 exchanges from the templates, each answer with its own details.

    Dialogues on one template with other entities are the hard negatives; a first user turn at least
    88% similar to an earlier one is drawn again, so that no clean pair meets the 0.9 thresholds.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: tuple[list[str], list[str]] = ([], [])

    def __call__(self, lang: int) -> Dialogue:
        rng, table, joiner = self.rng, (ZH, EN)[lang], ("", " ")[lang]
        for _ in range(1000):
            slots = _slots(rng, lang)
            parts = (rng.choice(table["user"]), rng.choice(table["detail"]))
            first = joiner.join(part.format_map(slots) for part in parts)
            if not process.extractOne(first, self.seen[lang], scorer=fuzz.ratio, score_cutoff=88):
                break
        else:
            raise AssertionError("the templates are too few for this many distinct dialogues")
        self.seen[lang].append(first)
        system = ("你是门诊助手。", "You are a clinic assistant.")[lang]
        turns = [] if rng.random() < 0.8 else [Turn(role=S, content=system)]
        for k in range(rng.randint(1, 3)):
            question = first if k == 0 else rng.choice(table["followup"]).format_map(slots)
            turns.append(Turn(role=U, content=question))
            picked = rng.sample(table["answer"], 2)
            extra = f"（参考编号{slots['num']}-{k}）" if lang == 0 else f" (Ref. {slots['num']}-{k}.)"
            turns.append(Turn(role=A, content=joiner.join(t.format_map(slots) for t in picked) + extra))
        return Dialogue(turns=tuple(turns))


def _edit(rng: random.Random, text: str, k: int) -> str:
    """Replace `k` characters (outside the first few) by others of the same script."""
    chars = list(text)
    alphabet = (
        "的一是了我不人在有这个上们" if any("\u4e00" <= c <= "\u9fff" for c in text) else "etaoinshrdlu"
    )
    for pos in rng.sample(range(4, len(chars)), k):
        chars[pos] = rng.choice(alphabet.replace(chars[pos], ""))
    return "".join(chars)


def _near(rng: random.Random, original: Dialogue) -> Dialogue:
    """The same dialogue with 1-3 characters changed in user turns, answers untouched."""
    turns = list(original.turns)
    users = [i for i, t in enumerate(turns) if t.role is U]
    i = rng.choice(users)
    turns[i] = Turn(role=U, content=_edit(rng, turns[i].content, rng.randint(1, 3)))
    return Dialogue(turns=tuple(turns))


def _contradiction(rng: random.Random, original: Dialogue, lang: int) -> Dialogue:
    """The same prompt (maybe one character changed) with an unrelated final answer."""
    turns = list(original.turns)
    if rng.random() < 0.5:
        users = [i for i, t in enumerate(turns) if t.role is U]
        i = rng.choice(users)
        turns[i] = Turn(role=U, content=_edit(rng, turns[i].content, 1))
    other = rng.choice((ZH, EN)[lang]["other"]).format_map(_slots(rng, lang))
    turns[-1] = Turn(role=A, content=other)
    return Dialogue(turns=tuple(turns))


def _variant(rng: random.Random, original: Dialogue) -> Dialogue:
    """An exact duplicate on the canonical form: whitespace, case or NFD changes."""
    how = rng.choice(("space", "case", "nfd"))
    turns = []
    for turn in original.turns:
        text = turn.content
        if how == "space":
            text = "  " + text.replace(" ", " \t ", 2) + "\n"
        elif how == "case":
            text = text.upper()
        else:
            text = unicodedata.normalize("NFD", text) + " "
        turns.append(Turn(role=turn.role, content=text))
    variant = Dialogue(turns=tuple(turns))
    return variant if variant.id != original.id else _variant(rng, original)


def planted_corpus(seed: int = 7, n_clean: int = 500) -> Planted:
    """A seeded corpus of Chinese and English dialogues with every kind of planted conflict."""
    rng = random.Random(seed)
    out = Planted()
    make = _Clean(rng)
    clean = [(make(i % 2), i % 2) for i in range(n_clean)]
    out.dialogues += [d for d, _ in clean]
    originals = rng.sample(clean, 220)
    link = out.group
    for d, _ in clean:
        link[d.id] = d.id
    for k, (original, lang) in enumerate(originals):
        if k < 50:
            variant = _variant(rng, original)
            out.dialogues.append(variant)
            out.duplicate_ids.add(variant.id)
            link[variant.id] = original.id
            if k % 10 == 0:  # a byte-identical copy too: the same id from another source
                out.dialogues.append(original)
        elif k < 110:
            near = _near(rng, original)
            out.dialogues.append(near)
            out.near_pairs.add(_pair(near.id, original.id))
            link[near.id] = original.id
        elif k < 170:
            other = _contradiction(rng, original, lang)
            out.dialogues.append(other)
            out.contradiction_pairs.add(_pair(other.id, original.id))
            link[other.id] = original.id
        elif k < 200 and len(original.turns) >= 4:
            longer = Dialogue(turns=(*original.turns, *make(lang).turns[-2:]))
            out.dialogues.append(longer)
            out.prefix_ids.add(original.id)
            link[longer.id] = original.id  # a prefix is also a near duplicate when the tail is short
    for lang in (0, 1):
        answer = Turn(
            role=A, content=("感谢您的咨询，祝您早日康复！", "Thanks for asking, get well soon!")[lang]
        )
        for _ in range(6):
            asker = make(lang)
            question = next(t for t in asker.turns if t.role is U)
            reused = Dialogue(turns=(question, answer))
            out.dialogues.append(reused)
            out.reused_ids.add(reused.id)
            link[reused.id] = reused.id
    return _with_sources(out)


def _with_sources(planted: Planted) -> Planted:
    """Give every dialogue a source line, in corpus order."""
    planted.dialogues = [
        d.evolve(source=Source(path="corpus.jsonl", line=i + 1)) for i, d in enumerate(planted.dialogues)
    ]
    return planted


def _run(dialogues: list[Dialogue], **options) -> ConflictResult:
    conflict = Conflict(**options)
    for d in dialogues:
        conflict.add(d)
    return conflict.finish()


@pytest.fixture(scope="module")
def planted() -> Planted:
    return planted_corpus()


@pytest.fixture(scope="module")
def result(planted: Planted) -> ConflictResult:
    return _run(planted.dialogues)


def _flagged(result: ConflictResult, code: str) -> set[str]:
    return {i for i, issues in result.issues.items() if any(x.code == code for x in issues)}


def _rates(found: set, planted: set, right: set) -> tuple[float, float]:
    recall = len(found & planted) / len(planted)
    precision = len(right) / len(found) if found else 1.0
    return recall, precision


def _linked(planted: Planted, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    root = planted.group
    return {p for p in pairs if root.get(p[0], p[0]) == root.get(p[1], p[1])}


def test_conflict_exact_duplicates_on_the_canonical_form(planted: Planted, result: ConflictResult) -> None:
    found = _flagged(result, DUPLICATE)
    recall, precision = _rates(found, planted.duplicate_ids, found & planted.duplicate_ids)
    assert recall >= 0.95 and precision >= 0.95, (recall, precision)
    for variant in planted.duplicate_ids & found:
        assert result.duplicate_of[variant] == planted.group[variant]


@pytest.mark.parametrize(
    ("code", "attribute"), [(NEAR_DUPLICATE, "near_pairs"), (CONTRADICTION, "contradiction_pairs")]
)
def test_conflict_pairs_recall_and_precision(
    planted: Planted, result: ConflictResult, code: str, attribute: str
) -> None:
    found = {_pair(*p) for p in result.pairs[code]}
    expected = getattr(planted, attribute)
    recall, precision = _rates(found, expected, _linked(planted, found))
    assert recall >= 0.95 and precision >= 0.95, (code, recall, precision, len(found))


def test_conflict_issues_name_the_other_dialogue(planted: Planted, result: ConflictResult) -> None:
    a, b = sorted(planted.contradiction_pairs)[0]
    messages = [i.message for i in result.issues[a] if i.code == CONTRADICTION]
    assert messages and b in messages[0]
    near = next(
        p for p in sorted(planted.near_pairs) if p[0] in result.duplicate_of or p[1] in result.duplicate_of
    )
    duplicate = near[0] if near[0] in result.duplicate_of else near[1]
    issue = next(i for i in result.issues[duplicate] if i.code == NEAR_DUPLICATE)
    assert result.duplicate_of[duplicate] in issue.message


@pytest.mark.parametrize(("code", "attribute"), [(REUSED_ANSWER, "reused_ids"), (PREFIX, "prefix_ids")])
def test_conflict_dialogue_aware_duplicates(
    planted: Planted, result: ConflictResult, code: str, attribute: str
) -> None:
    found, expected = _flagged(result, code), getattr(planted, attribute)
    recall, precision = _rates(found, expected, found & expected)
    assert recall >= 0.95 and precision >= 0.95, (code, recall, precision)


def test_conflict_representatives_are_first_in_source_order(planted: Planted, result: ConflictResult) -> None:
    line = {}
    for d in planted.dialogues:
        line.setdefault(d.id, d.source.line)
    for duplicate, representative in result.duplicate_of.items():
        assert line[representative] < line[duplicate]
        assert representative not in result.duplicate_of


def test_conflict_is_independent_of_order_and_sharding(planted: Planted, result: ConflictResult) -> None:
    shuffled = list(planted.dialogues)
    random.Random(1).shuffle(shuffled)
    assert _run(shuffled) == result
    left, right = Conflict(), Conflict()
    for i, d in enumerate(shuffled):
        (left if i % 3 else right).add(d)
    assert (right + left).finish() == result
    shards = [Conflict() for _ in range(4)]
    for i, d in enumerate(planted.dialogues):
        shards[i * 7 % 4].add(d)
    assert sum(shards).finish() == result


def test_conflict_shards_sealed_apart_add_up_to_the_whole(planted: Planted, result: ConflictResult) -> None:
    # What a Ray worker does per block: fill an empty shard, sketch it, send it pickled to the driver.
    configured = Conflict()
    merged = configured.shard()
    for start in range(0, len(planted.dialogues), 700):
        shard = configured.shard()
        for d in planted.dialogues[start : start + 700]:
            shard.add(d)
        shard.seal()
        merged = merged + pickle.loads(pickle.dumps(shard))
    assert len(configured) == 0
    assert merged.finish() == result


def test_conflict_metrics_count_codes_and_clusters(result: ConflictResult) -> None:
    metrics = result.metrics
    assert metrics["n_dialogues"] > metrics["n_ids"] > metrics["n_unique"] > 0
    assert set(metrics["codes"]) == {DUPLICATE, NEAR_DUPLICATE, CONTRADICTION, REUSED_ANSWER, PREFIX}
    assert metrics["near_duplicate"]["clusters"] >= 50
    assert metrics["adversarial"]["verdict"] == "within"
    assert result.corpus == []


def _chat(*texts: str, **changes) -> Dialogue:
    roles = [U, A] * len(texts)
    return Dialogue(
        turns=tuple(Turn(role=r, content=t) for r, t in zip(roles, texts, strict=False)), **changes
    )


LONG_Q = "Could you explain how the annual fee on my platinum credit card is calculated this year?"
LONG_A = "The annual fee is charged in the month your card was opened and is waived after twelve purchases."


def test_conflict_adversarial_share_against_the_band() -> None:
    rng = random.Random(0)
    dialogues = [_chat(f"{rng.getrandbits(128):x}", f"{rng.getrandbits(128):x}") for _ in range(10)]
    noisy = _chat(LONG_Q.replace("annual", "anual"), LONG_A, tags={"adversarial": "char_noise"})
    result = _run([*dialogues, _chat(LONG_Q, LONG_A), noisy], adversarial_band=(0.2, 0.5))
    assert result.metrics["adversarial"] | {"share": None} == {
        "n": 1,
        "share": None,
        "kinds": {"char_noise": 1},
        "band": [0.2, 0.5],
        "verdict": "below",
    }
    assert [i.code for i in result.corpus] == [ADVERSARIAL_SHARE]
    # An adversarial sample is a perturbed copy on purpose: not a near duplicate of its original.
    assert noisy.id not in result.duplicate_of and result.pairs[NEAR_DUPLICATE] == []


def test_conflict_adversarial_sample_with_another_answer_is_a_contradiction() -> None:
    noisy = _chat(
        LONG_Q.replace("annual", "anual"), "No idea, ask someone else.", tags={"adversarial": "char_noise"}
    )
    result = _run([_chat(LONG_Q, LONG_A), noisy])
    assert [i.code for i in result.issues[noisy.id]] == [CONTRADICTION]


def test_conflict_relatives_are_not_paired() -> None:
    parent = _chat(LONG_Q, LONG_A)
    child = _chat(LONG_Q.replace("platinum", "platinun"), LONG_A)
    child = child.evolve(lineage=Lineage(parent_id=parent.id, root_id=parent.id))
    assert _run([parent, child]).pairs == {NEAR_DUPLICATE: [], CONTRADICTION: []}


def test_conflict_same_id_copies_are_never_their_own_duplicate() -> None:
    d = _chat(LONG_Q, LONG_A)
    copies = [d.evolve(source=Source(path="a.jsonl", line=i)) for i in (3, 1, 2)]
    result = _run(copies)
    assert result.duplicate_of == {} and result.issues == {}
    assert result.metrics["n_dialogues"] == 3 and result.metrics["n_ids"] == 1


def test_conflict_whole_dialogue_similarity_makes_a_near_duplicate() -> None:
    a = _chat("What does it cost?", LONG_A + " " + LONG_Q)
    b = _chat("And the price?", LONG_A + " " + LONG_Q)
    result = _run([a.evolve(source=Source(path="a", line=1)), b.evolve(source=Source(path="a", line=2))])
    assert result.duplicate_of == {b.id: a.id}
    assert result.group_of == {a.id: a.id, b.id: a.id}


def test_conflict_clear_forgets_the_rows_and_keeps_the_options(planted: Planted) -> None:
    conflict = Conflict(near_threshold=0.9)
    for dialogue in planted.dialogues[:5]:
        conflict.add(dialogue)
    conflict.clear()
    assert len(conflict) == 0 and conflict.params()["near_threshold"] == 0.9
    assert conflict.finish().metrics["n_dialogues"] == 0


def test_conflict_empty_corpus() -> None:
    result = Conflict().finish()
    assert result.duplicate_of == {} and result.issues == {} and result.metrics["n_dialogues"] == 0


def test_conflict_dialogue_without_answer_and_empty_texts() -> None:
    dialogues = [
        Dialogue(turns=(Turn(role=U, content="hello there"),)),
        Dialogue(turns=(Turn(role=U, content="hello there "),)),
        Dialogue(turns=(Turn(role=U, content=""), Turn(role=A, content=""))),
        Dialogue(turns=(Turn(role=A, content="x"),)),
    ]
    result = _run(dialogues)
    assert len(result.duplicate_of) == 1 and result.pairs[CONTRADICTION] == []


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("near_threshold", 0.0),
        ("near_threshold", 1.5),
        ("contradiction_prompt", -1),
        ("contradiction_answer", 2),
        ("reused_answer_min", 1),
        ("adversarial_band", (0.5, 0.1)),
        ("adversarial_band", (0.1,)),
        ("adversarial_band", "ab"),
        ("num_perm", 0),
        ("bands", 500),
        ("ngram", 0),
        ("window", 0),
        ("workers", 0),
        ("num_perm", True),
        ("num_perm", 128.0),
        ("near_threshold", "0.9"),
        ("adversarial_band", "01"),
        ("seed", 1.5),
    ],
)
def test_conflict_rejects_bad_options(option: str, value) -> None:
    with pytest.raises(UsageError, match=option):
        Conflict(**{option: value})


def test_conflict_merge_needs_the_same_options() -> None:
    with pytest.raises(UsageError, match="different options"):
        Conflict() + Conflict(near_threshold=0.8)


@given(
    st.lists(chat_dialogues(max_pairs=2), min_size=1, max_size=8),
    st.lists(st.tuples(st.integers(0, 7), st.sampled_from(["space", "upper", "same"])), max_size=8),
)
def test_conflict_duplicates_point_at_roots(originals: list[Dialogue], copies) -> None:
    dialogues = list(originals)
    for index, how in copies:
        base = originals[index % len(originals)]
        if how == "space":
            base = Dialogue(turns=tuple(Turn(role=t.role, content=f" {t.content} ") for t in base.turns))
        elif how == "upper":
            base = Dialogue(turns=tuple(Turn(role=t.role, content=t.content.upper()) for t in base.turns))
        dialogues.append(base)
    result = _run([d.evolve(source=Source(path="p", line=i)) for i, d in enumerate(dialogues)])
    groups = defaultdict(set)
    for duplicate, representative in result.duplicate_of.items():
        assert duplicate != representative
        assert representative not in result.duplicate_of
        groups[representative].add(duplicate)
    for issues in result.issues.values():
        assert all(i.code.startswith("conflict.") for i in issues)
