import json
import time

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogdata import Dialogue, Role, ToolCall, Turn
from dialogdata.errors import UsageError
from dialogdata.testing import chat_dialogues, dialogues
from dialogdata.validators import Consistency
from dialogdata.validators.consistency import STRUCTURE_CHECKS
from dialogdata.validators.consistency_tools import declared_tools
from dialogdata.validators.consistency_truncation import truncation

S, U, A, T = Role.SYSTEM, Role.USER, Role.ASSISTANT, Role.TOOL


def _d(*spec, tools=()) -> Dialogue:
    turns = []
    for item in spec:
        role, content, *rest = (*item, None) if isinstance(item, tuple) else (item, "text", None)
        extra = rest[0] or {}
        turns.append(Turn(role=role, content=content, **extra))
    return Dialogue(turns=tuple(turns), tools=tuple(tools))


def _found(dialogue: Dialogue, code: str, **options) -> list[int | None]:
    return [i.turn for i in Consistency(**options).check(dialogue) if i.code == code]


CALL = {"tool_calls": (ToolCall(name="f", arguments="{}", id="c1"),)}


@pytest.mark.parametrize(
    ("dialogue", "expected"),
    [
        (_d(U, A), []),
        (_d(S, U, A, U, A), []),
        (_d(A, U, A), []),
        (_d(U, (A, "", CALL), (T, "{}", {"tool_call_id": "c1"}), A), []),
        (_d(U, U, A), [("consistency.role_order", 1)]),
        (_d(U, A, A), [("consistency.role_order", 2)]),
        (_d(U, S, A), [("consistency.role_order", 1)]),
        (_d(U, T, A), [("consistency.role_order", 1)]),
        (_d(U, (A, "", CALL), A), [("consistency.role_order", 2)]),
        (_d(U, (A, "", CALL), (T, "{}", {"tool_call_id": "c9"}), A), [("consistency.role_order", 2)]),
        (_d(U, (A, "", CALL)), []),
        (_d(U, (A, "  \n"), U, A), [("consistency.empty_turn", 1)]),
        (_d((U, ""), A), [("consistency.empty_turn", 0)]),
        (_d(U, A, U), [("consistency.ends_with_user", 2)]),
        (_d(S, U), [("consistency.role_order", None), ("consistency.ends_with_user", 1)]),
        (_d(S, A), [("consistency.no_user", None)]),
        (_d(A), [("consistency.no_user", None)]),
    ],
)
def test_consistency_finds_role_and_emptiness_issues(dialogue, expected):
    issues = Consistency(select=STRUCTURE_CHECKS).check(dialogue)
    assert [(i.code, i.turn) for i in issues] == expected


LIMIT_Q = "我的信用卡额度是多少？"
LIMIT_A = "您的信用卡额度为5000元，可在手机银行中查看。"


@pytest.mark.parametrize(
    ("dialogue", "expected"),
    [
        (_d((U, LIMIT_Q), (A, LIMIT_A), (U, LIMIT_Q), (A, "还可以申请临时额度。")), [2]),
        (_d((U, LIMIT_Q), (A, LIMIT_A), (U, "怎么提额？"), (A, LIMIT_A)), [3]),
        (_d((U, "好的"), (A, LIMIT_A), (U, "好的"), (A, "不客气。")), []),
        (_d((U, "好的"), (U, "好的"), (A, LIMIT_A)), [1]),
        (_d((U, LIMIT_Q), (A, LIMIT_A), (U, "Thanks!"), (A, LIMIT_A.replace("5000", "8000"))), []),
    ],
)
def test_consistency_repeated_turns(dialogue, expected):
    assert _found(dialogue, "consistency.repeated_turn") == expected


QUESTION = "What is the daily transfer limit for my account?"


@pytest.mark.parametrize(
    ("question", "reply", "expected"),
    [
        (QUESTION, QUESTION, [1]),
        (QUESTION, "what is the daily transfer limit for my account", [1]),
        (QUESTION, "Sure. " + QUESTION, [1]),
        (QUESTION, "The daily transfer limit for your account is $5,000.", []),
        ("我的银行卡丢了，怎么挂失？", "您好，我的银行卡丢了，怎么挂失？", [1]),
        ("我的银行卡丢了，怎么挂失？", "请拨打95588办理临时挂失。", []),
        ("OK", "ok?", []),
        ("你好", "你好！", []),
        ("What is 4 raised to the power of 3?", "4 raised to the power of 3 is 64.", []),
    ],
)
def test_consistency_echoed_replies(question, reply, expected):
    assert _found(_d((U, question), (A, reply)), "consistency.echo_reply") == expected


def test_consistency_echo_threshold_is_an_option():
    dialogue = _d((U, QUESTION), (A, QUESTION.replace("daily", "dayly")))
    assert _found(dialogue, "consistency.echo_reply") == [1]
    assert _found(dialogue, "consistency.echo_reply", echo_threshold=1.0) == []
    assert _found(_d((U, "Is it OK?"), (A, "Is it OK?")), "consistency.echo_reply", min_compare_chars=0) == [
        1
    ]


@pytest.mark.parametrize(
    ("dialogue", "expected"),
    [
        (_d((U, "我的血压150/95严重吗？"), (A, "Your blood pressure is high; please see a doctor.")), [1]),
        (_d((U, "Is my blood pressure of 150/95 high?"), (A, "您的血压偏高，建议尽快就医。")), [1]),
        (_d((U, "你的 credit card 额度怎么查？"), (A, "在手机银行首页点击“信用卡”即可查看额度。")), []),
        (_d((U, "你的 credit card 额度怎么查？"), (A, "Open the app and tap Cards to see your limit.")), [1]),
        (_d((U, "把这句话翻译成英文：我头疼。"), (A, "I have a headache.")), []),
        (_d((U, "“hypertension”是什么意思？"), (A, "高血压。")), []),
        (_d((U, "怎么用Python算BMI？"), (A, "```python\nprint(65 / 1.7 ** 2)\n```")), []),
        (_d((U, "外文名字叫什么？"), (A, "Mike Shinoda。")), []),
        (_d((U, "主演是谁？"), (A, "Vivien Leigh")), []),
        (_d((S, "Always answer in English."), (U, "我头疼怎么办？"), (A, "Rest and drink water.")), []),
        (_d((S, "请用中文回答。"), (U, "I have a headache."), (A, "Rest and drink water.")), [2]),
        (_d((S, "请用中文回答。"), (U, "I have a headache."), (A, "多休息，多喝水。")), []),
        (_d((S, "Translate the user's text into English."), (U, "我头疼。"), (A, "I have a headache.")), []),
        (_d((U, "頭が痛いです。どうすればいいですか？"), (A, "我头疼，怎么办？")), [1]),
        (_d((U, "OK"), (A, "好的，还有其他问题吗？")), []),
    ],
)
def test_consistency_language_mismatch(dialogue, expected):
    assert _found(dialogue, "consistency.language_mismatch") == expected


@pytest.mark.parametrize(
    ("text", "cut"),
    [
        ("您的血压偏高。建议您尽快", True),
        ("Your balance is low. Please top up your", True),
        ("Please top up your", True),
        ("Steps:\n1. Open the app.\n2. Tap Cards.\n3. Tap Limit", True),
        ("```python\nprint(1)\n", True),
        ("The normal range is (below 120/80", True),
        ("以下是步骤：", True),
        ("包括高血压、糖尿病、", True),
        ("Done. The total is 1,25", True),
        ("您的额度已调整。详情见“额度管理", True),
        ("人们总是担心事情,但是", True),
        ("你好。其中 `", True),
        ("您的血压偏高，建议您", False),  # one clause, no earlier sentence: undecidable, so not reported
        ("Here are the steps:\n1. Open the app\n2. Tap Cards", False),
        ("See https://example.com/help", False),
        ("Done. Details at https://example.com/help", False),
        ("```python\nprint(1)\n```", False),
        ("好的，已为您办理😊", False),
        ("谢谢你。你也一样吧", False),
        ("I am sad :(", False),
        ("Your card is on its way.\n\nBest regards,\nNorthbank Support", False),
        ("Marie Curie", False),
        ('"Be yourself." - Oscar Wilde', False),
        ("结果：150/95", False),
        ("Result:\nx = 2", False),
        ("Mr. Potato Head", False),
        ("OK. Use `pip install dialogdata`", False),
        ("Tags: done. #PuppyLove", False),
        ("输出：\n\n-1、-2、-5、-9", False),
        ("## Summary", False),
        ("", False),
    ],
)
def test_consistency_truncated_replies(text, cut):
    assert (truncation(text) is not None) == cut
    assert _found(_d(U, (A, text)), "consistency.truncated") == ([1] if cut else [])


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Hello! I am {{name}}, an AI assistant developed by {{author}}.", True),
        ("{{ bank_name }}客服为您服务。", True),
        ("Dear {customer_name}, your card is ready.", True),
        ("Dear {name}, your card is ready.", True),
        ("尊敬的{客户姓名}，您的卡已寄出。", True),
        ("Dear [NAME], your card is ready.", True),
        ("Hello <PATIENT_NAME>, see you soon.", True),
        ("Hi ${user}, welcome.", True),
        ("Hi %(name)s, welcome.", True),
        ("我家小姑子有乙肝的,{大三阳}会不会传染?", False),
        ("Best regards,\n[Your Name]", False),
        ("See [1] and the [branch finder](https://example.com).", False),
        ("[NOTE] Bring your ID.", False),
        ("Line one<BR>line two", False),
        ("It costs $100.", False),
        ("```html\n<p>{{ name }}</p>\n```", False),
        ("Use `{{ name }}` in the template.", False),
        ("The fraction \\frac{ab}{cd} and x^{ab}.", False),
        ('The set {a, b} and the object {"a": 1}.', False),
    ],
)
def test_consistency_placeholders(text, found):
    assert _found(_d(U, (A, text)), "consistency.placeholder") == ([1] if found else [])


def test_consistency_placeholders_in_any_turn_but_tool_results():
    dialogue = _d((S, "You are {{name}}."), (U, "I am [CUSTOMER]."), (A, "", CALL), (T, '{"x": "{{y}}"}'), A)
    assert _found(dialogue, "consistency.placeholder") == [0, 1]


BALANCE_CALL = {"tool_calls": (ToolCall(name="get_balance", arguments="{}", id="c1"),)}


@pytest.mark.parametrize(
    ("dialogue", "expected"),
    [
        (_d((U, "我血压150/95，严重吗？"), (A, "您的血压160/95，属于2级高血压。")), [1]),
        (_d((U, "我血压150/95，严重吗？"), (A, "血压160/95属于2级高血压。")), [1]),
        (_d((U, "我血压150/95，严重吗？"), (A, "您的血压150/95偏高，正常应低于140/90。")), []),
        (_d((U, "My balance is $1,250.00."), (A, "Your balance of $1,520.00 is available.")), [1]),
        (_d((U, "额度5000元，想提到8000元"), (A, "您的额度8000元已生效。")), []),
        (_d((U, "孩子体温38.5℃"), (A, "您孩子的体温39.5℃，属于中高热。")), [1]),
        (_d((U, "孩子体温38.5℃"), (A, "体温39.5℃以上要及时就医。")), []),
        (_d((U, "空腹血糖7.8"), (A, "您的空腹血糖7mmol/L左右。")), []),
        (_d((U, "空腹血糖7.8"), (A, "您的空腹血糖8.7mmol/L，偏高。")), [1]),
        (
            _d((U, "早上血压150/95"), (A, "好的。"), (U, "刚才又量了，血压160/95"), (A, "您的血压160/95。")),
            [],
        ),
        (_d((U, "第12届的"), (A, "您说的是第13届吧。")), []),
        (_d((U, "我2023年5月开的卡"), (A, "您2024年5月开的卡。")), []),
        (
            _d(
                (U, "余额多少？"),
                (A, "", BALANCE_CALL),
                (T, '{"balance": 1250.5}'),
                (A, "Your balance is $1,205.50."),
            ),
            [3],
        ),
        (
            _d(
                (U, "余额多少？"),
                (A, "", BALANCE_CALL),
                (T, '{"balance": 1250.5}'),
                (A, "Your balance is $1,250.50."),
            ),
            [],
        ),
        (
            _d((U, "When a number is divided by 10 the remainder is 4."), (A, "Divided by 5, what is left?")),
            [],
        ),
    ],
)
def test_consistency_number_drift(dialogue, expected):
    assert _found(dialogue, "consistency.number_drift") == expected


SCHEMA = {
    "type": "object",
    "properties": {
        "account": {"type": "string"},
        "amount": {"type": "number"},
        "times": {"type": "integer"},
        "urgent": {"type": "boolean"},
        "currency": {"type": "string", "enum": ["USD", "CNY"]},
        "tags": {"type": ["array", "null"]},
    },
    "required": ["account", "amount"],
}
WRAPPED = ({"type": "function", "function": {"name": "pay", "parameters": SCHEMA}},)
BARE = ({"name": "pay", "description": "Pay a bill.", "parameters": SCHEMA},)


def _call(arguments: str, *, name: str = "pay", tools=WRAPPED) -> Dialogue:
    call = {"tool_calls": (ToolCall(name=name, arguments=arguments, id="c1"),)}
    return _d((U, "Pay my bill."), (A, "", call), tools=tools)


@pytest.mark.parametrize(
    ("dialogue", "message"),
    [
        (_call('{"account": "a1", "amount": 12.5}'), None),
        (_call('{"account": "a1", "amount": 12}', tools=BARE), None),
        (_call('{"account": "a1", "amount": 1, "times": 2.0, "tags": null}'), None),
        (_call('{"account": "a1", "amount": 1'), "not valid JSON"),
        (_call("{'account': 'a1'}"), "not valid JSON"),
        (_call('["a1", 12]'), "JSON array; expected an object"),
        (_call('{"account": "a1", "amount": 1}', name="payy"), "no such tool is declared; declared: pay"),
        (_call('{"account": "a1"}'), "required argument 'amount' is missing"),
        (_call('{"account": "a1", "amount": "12"}'), "argument 'amount' is string; expected number"),
        (_call('{"account": "a1", "amount": 1, "times": true}'), "'times' is boolean; expected integer"),
        (_call('{"account": "a1", "amount": 1, "times": 1.5}'), "'times' is number; expected integer"),
        (
            _call('{"account": "a1", "amount": 1, "currency": "usd"}'),
            'is "usd"; expected one of ["USD", "CNY"]',
        ),
        (_call('{"account": "a1", "amount": 1, "tags": {}}'), "'tags' is object; expected array or null"),
        (_call('{"x": 1}', tools=()), None),
        (_call("not json", tools=()), "not valid JSON"),
        (_call(""), "required argument 'account' is missing"),
        (_call("", tools=()), None),
    ],
)
def test_consistency_tool_arguments(dialogue, message):
    issues = [i for i in Consistency().check(dialogue) if i.code == "consistency.tool_arguments"]
    assert [i.turn for i in issues] == ([] if message is None else [1])
    if message:
        assert message in issues[0].message and "'pay" in issues[0].message


def test_consistency_tool_arguments_obey_additional_properties():
    strict = ({"name": "pay", "parameters": {**SCHEMA, "additionalProperties": False}},)
    dialogue = _call('{"account": "a1", "amount": 1, "note": "x"}', tools=strict)
    assert _found(dialogue, "consistency.tool_arguments") == [1]


@given(
    st.dictionaries(
        st.sampled_from(["account", "amount", "times", "urgent", "currency", "tags", "other"]),
        st.none()
        | st.booleans()
        | st.integers(-5, 5)
        | st.floats(-5, 5)
        | st.sampled_from(["USD", "x"])
        | st.lists(st.integers(), max_size=2),
        max_size=6,
    )
)
def test_consistency_tool_arguments_agree_with_jsonschema(arguments):
    dialogue = _call(json.dumps(arguments))
    valid = jsonschema.Draft202012Validator(SCHEMA).is_valid(arguments)
    assert (_found(dialogue, "consistency.tool_arguments") == []) == valid


def test_consistency_declared_tools_read_both_shapes():
    assert declared_tools(WRAPPED) == declared_tools(BARE) == {"pay": SCHEMA}
    assert declared_tools(({"name": "x"}, "junk", {"type": "function"})) == {"x": {}}


def test_consistency_long_replies():
    dialogue = _d(U, (A, "x" * 8001), U, (A, "y" * 8000))
    assert _found(dialogue, "consistency.long_reply") == [1]
    assert _found(dialogue, "consistency.long_reply", max_reply_chars=100) == [1, 3]
    assert _found(_d((U, "z" * 9000), A), "consistency.long_reply") == []


def test_consistency_score_is_share_of_checks_passed():
    checker = Consistency()
    assert checker(_d(U, A))[0].scores == {"consistency": 1.0}
    scored, issues = checker(_d((U, ""), A, U))
    assert {i.code for i in issues} == {"consistency.empty_turn", "consistency.ends_with_user"}
    assert scored.scores["consistency"] == pytest.approx(1 - 2 / len(Consistency.checks))
    assert scored.id == _d((U, ""), A, U).id
    only = Consistency(select=["consistency.empty_turn", "consistency.echo_reply"])
    assert only(_d((U, ""), A, U))[0].scores["consistency"] == pytest.approx(0.5)
    assert {i.code for i in only.check(_d((U, ""), A, U))} == {"consistency.empty_turn"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"echo_threshold": 0}, "echo_threshold must be above 0 and at most 1; found 0"),
        ({"echo_threshold": 1.5}, "echo_threshold must be above 0 and at most 1; found 1.5"),
        ({"echo_threshold": True}, "echo_threshold must be above 0 and at most 1; found True"),
        ({"echo_threshold": "0.9"}, "echo_threshold must be above 0 and at most 1; found '0.9'"),
        ({"min_compare_chars": -1}, "min_compare_chars must be an integer of at least 0; found -1"),
        ({"min_compare_chars": 2.5}, "min_compare_chars must be an integer of at least 0; found 2.5"),
        ({"max_reply_chars": 0}, "max_reply_chars must be an integer of at least 1; found 0"),
        (
            {"select": ["consistency.echo"]},
            "unknown check 'consistency.echo'; expected one of: consistency.role",
        ),
        ({"select": "consistency.echo_reply"}, "select must be a list of check codes"),
        ({"select": []}, "select must name at least one check"),
    ],
)
def test_consistency_rejects_bad_options(options, message):
    with pytest.raises(UsageError) as error:
        Consistency(**options)
    assert message in str(error.value)


@pytest.mark.parametrize(
    "text",
    ["x" * 20_000, "x" * 20_000 + " 中", "a@" * 10_000, "1" * 20_000, "a." * 10_000, "aB" * 10_000,
     "_" * 20_000, "血压150/95，" * 2_500, "ABC" * 7_000, "`a" * 10_000, "{" * 20_000,
     "这是一句话。" * 3_000],
)  # fmt: skip
def test_consistency_takes_linear_time_on_long_runs(text):
    # Each of these took seconds to minutes with a backtracking pattern; linear passes take milliseconds.
    start = time.perf_counter()
    Consistency().check(_d((U, text), (A, text)))
    assert time.perf_counter() - start < 1.0


@given(chat_dialogues())
def test_consistency_well_formed_chats_pass_the_structure_checks(dialogue):
    issues = Consistency().check(dialogue)
    assert [i for i in issues if i.code in STRUCTURE_CHECKS] == []
    assert Consistency(select=STRUCTURE_CHECKS).check(dialogue) == []


@given(dialogues())
def test_consistency_scores_stay_in_range_and_are_deterministic(dialogue):
    checker = Consistency()
    scored, issues = checker(dialogue)
    assert 0.0 <= scored.scores["consistency"] <= 1.0
    assert issues == Consistency().check(dialogue)
    assert all(i.code in Consistency.checks for i in issues)
    assert all(i.turn is None or 0 <= i.turn < len(dialogue.turns) for i in issues)
