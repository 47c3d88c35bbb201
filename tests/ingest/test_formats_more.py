"""chatglm3, alpaca and utterances: good records, rejects with their codes, and detection."""

import pytest

from dialogdata.ingest.formats import RecordError, detect_format, get_format
from dialogdata.schemas import Role, ToolCall

S, U, A, T = Role.SYSTEM, Role.USER, Role.ASSISTANT, Role.TOOL


def shape(parsed):
    """(role, content, tool calls) of each parsed turn."""
    return [(t.role, t.content, t.tool_calls) for t in parsed.turns]


def call(name, arguments):
    """A one-call tuple, as a turn's `tool_calls`."""
    return (ToolCall(name=name, arguments=arguments),)


# ---------------------------------------------------------------- chatglm3

GLM_TOOL_RECORD = {
    "tools": [{"name": "get_weather", "parameters": {"type": "object"}}],
    "conversations": [
        {"role": "system", "content": "你是一个助手。"},
        {"role": "user", "content": "北京今天天气怎么样？"},
        {"role": "assistant", "content": "我来查一下。"},
        {
            "role": "tool",
            "name": "get_weather",
            "parameters": {"city": "北京"},
            "observation": {"天气": "晴", "温度": 25},
        },
        {"role": "assistant", "content": "北京今天晴，25 度。"},
    ],
}

GLM_GOOD = [
    pytest.param(
        {
            "conversations": [
                {"role": "user", "content": "类型#裙"},
                {"role": "assistant", "content": "这款半身裙很飘逸。"},
            ]
        },
        [(U, "类型#裙", ()), (A, "这款半身裙很飘逸。", ())],
        id="plain",
    ),
    pytest.param(
        GLM_TOOL_RECORD,
        [
            (S, "你是一个助手。", ()),
            (U, "北京今天天气怎么样？", ()),
            (A, "我来查一下。", ()),
            (A, "", call("get_weather", '{"city":"北京"}')),
            (T, '{"天气":"晴","温度":25}', ()),
            (A, "北京今天晴，25 度。", ()),
        ],
        id="tool-turn-splits-into-call-and-observation",
    ),
    pytest.param(
        {
            "conversations": [
                {"role": "user", "content": "查"},
                {"role": "tool", "name": "f", "parameters": '{"x": 1}', "observation": "好"},
            ]
        },
        [(U, "查", ()), (A, "", call("f", '{"x": 1}')), (T, "好", ())],
        id="text-parameters-kept-as-given",
    ),
    pytest.param(
        {
            "conversations": [
                {"role": "user", "content": "查"},
                {"role": "observation", "content": "结果"},
                {"role": "tool", "content": "另一个结果"},
            ]
        },
        [(U, "查", ()), (T, "结果", ()), (T, "另一个结果", ())],
        id="observation-and-tool-content-turns",
    ),
]


@pytest.mark.parametrize(("record", "expected"), GLM_GOOD)
def test_chatglm3_good_records(record, expected):
    assert shape(get_format("chatglm3").parse(record)) == expected


def test_chatglm3_tools_loss_meta_and_id():
    record = {
        "id": "g1",
        "lang": "zh",
        "conversations": [
            {"role": "system", "content": "可用工具如下", "tools": [{"name": "search"}, {"name": "calc"}]},
            {"role": "user", "content": "你好", "loss": False},
            {"role": "assistant", "content": "你好！", "loss": True},
            {"role": "tool", "name": "search", "parameters": {}, "observation": "无", "loss": False},
        ],
        "tools": [{"name": "search"}],
    }
    parsed = get_format("chatglm3").parse(record)
    # Record tools first, then the system turn's, without repeating one declared in both.
    assert parsed.tools == ({"name": "search"}, {"name": "calc"})
    assert [t.loss for t in parsed.turns] == [None, False, True, False, None]
    assert parsed.turns[3].tool_calls == call("search", "{}")
    assert (parsed.meta, parsed.source_id) == ({"lang": "zh"}, "g1")


def test_chatglm3_normalises_text():
    record = {"conversations": [{"role": "user", "content": "  Cafe\u0301\r\n好  "}]}
    parsed = get_format("chatglm3").parse(record)
    assert parsed.turns[0].content == "Caf\u00e9\n好"
    assert parsed.normalizations == {"nfc", "newlines", "trim"}


@pytest.mark.parametrize(
    ("record", "code"),
    [
        ({"messages": [{"role": "user", "content": "x"}]}, "format.missing_field"),
        ({"conversations": {"role": "user"}}, "format.bad_type"),
        ({"conversations": []}, "format.no_turns"),
        ({"conversations": ["你好"]}, "format.bad_type"),
        ({"conversations": [{"role": "human", "content": "x"}]}, "format.unknown_role"),
        ({"conversations": [{"role": "user", "content": ["x"]}]}, "format.bad_type"),
        ({"conversations": [{"role": "user", "content": "x", "loss": "no"}]}, "format.bad_type"),
        ({"conversations": [{"role": "tool", "parameters": {}, "observation": "x"}]}, "format.missing_field"),
        ({"conversations": [{"role": "tool", "name": 3, "parameters": {}}]}, "format.bad_type"),
        ({"conversations": [{"role": "system", "content": "x", "tools": "not json"}]}, "format.bad_type"),
        ({"conversations": [{"role": "user", "content": "x"}], "tools": {"name": "f"}}, "format.bad_type"),
    ],
)
def test_chatglm3_rejects(record, code):
    with pytest.raises(RecordError) as info:
        get_format("chatglm3").parse(record)
    assert info.value.code == code


# ---------------------------------------------------------------- alpaca

ALPACA_GOOD = [
    pytest.param(
        {
            "instruction": "写一个有效的比较语句",
            "input": "篮球和足球",
            "output": "篮球和足球都是受欢迎的运动。",
        },
        [(U, "写一个有效的比较语句\n篮球和足球", ()), (A, "篮球和足球都是受欢迎的运动。", ())],
        id="instruction-and-input",
    ),
    pytest.param(
        {"instruction": "谢谢", "input": "", "output": "不用谢！"},
        [(U, "谢谢", ()), (A, "不用谢！", ())],
        id="empty-input",
    ),
    pytest.param(
        {"instruction": "翻译成英文", "output": "Hello"},
        [(U, "翻译成英文", ()), (A, "Hello", ())],
        id="no-input-key",
    ),
    pytest.param(
        {"instruction": "", "input": "只有输入", "output": "好"},
        [(U, "只有输入", ()), (A, "好", ())],
        id="empty-instruction",
    ),
    pytest.param(
        {
            "system": "你是面试教练。",
            "instruction": "谢谢",
            "input": None,
            "output": "不用谢！",
            "history": [["给我一个面试计划", "先去官网看招聘信息。"], ["然后呢？", "模拟面试。"]],
        },
        [
            (S, "你是面试教练。", ()),
            (U, "给我一个面试计划", ()),
            (A, "先去官网看招聘信息。", ()),
            (U, "然后呢？", ()),
            (A, "模拟面试。", ()),
            (U, "谢谢", ()),
            (A, "不用谢！", ()),
        ],
        id="system-and-history",
    ),
    pytest.param(
        {"system": "", "instruction": "问", "output": "答", "history": []},
        [(U, "问", ()), (A, "答", ())],
        id="empty-system-and-history",
    ),
]


@pytest.mark.parametrize(("record", "expected"), ALPACA_GOOD)
def test_alpaca_good_records(record, expected):
    assert shape(get_format("alpaca").parse(record)) == expected


def test_alpaca_meta_and_id():
    record = {"id": 3, "instruction": "问", "output": "答", "en_instruction": "ask", "category": "qa"}
    parsed = get_format("alpaca").parse(record)
    assert (parsed.meta, parsed.source_id, parsed.tools) == (
        {"en_instruction": "ask", "category": "qa"},
        "3",
        (),
    )


@pytest.mark.parametrize(
    ("record", "code", "where"),
    [
        ({"output": "答"}, "format.missing_field", "'instruction'"),
        ({"instruction": "问"}, "format.missing_field", "'output'"),
        ({"instruction": 1, "output": "答"}, "format.bad_type", "instruction"),
        ({"instruction": "问", "input": ["x"], "output": "答"}, "format.bad_type", "input"),
        ({"instruction": "问", "output": ["好", "坏"]}, "format.bad_type", "output"),
        ({"instruction": "问", "output": "答", "system": {}}, "format.bad_type", "system"),
        ({"instruction": "问", "output": "答", "history": "x"}, "format.bad_type", "'history'"),
        (
            {"instruction": "问", "output": "答", "history": [["a", "b"], ["c"]]},
            "format.bad_type",
            "history[1]",
        ),
        (
            {"instruction": "问", "output": "答", "history": [["a", "b", "c"]]},
            "format.bad_type",
            "history[0]",
        ),
        ({"instruction": "问", "output": "答", "history": [{"q": "a"}]}, "format.bad_type", "history[0]"),
        ({"instruction": "问", "output": "答", "history": [["a", 2]]}, "format.bad_type", "history[0][1]"),
    ],
)
def test_alpaca_rejects_name_the_position(record, code, where):
    with pytest.raises(RecordError) as info:
        get_format("alpaca").parse(record)
    assert info.value.code == code
    assert where in info.value.message


# ---------------------------------------------------------------- utterances

KDCONV = {
    "name": "我是你的眼",
    "messages": [
        {"message": "你听过《我是你的眼》这首歌吗？"},
        {
            "message": "听过，是林宥嘉唱的。",
            "attrs": [{"attrname": "演唱者", "attrvalue": "林宥嘉", "name": "我是你的眼"}],
        },
        {"message": "他还唱过什么歌？"},
    ],
}

UTTERANCES_GOOD = [
    pytest.param(
        ["你好", "你好，请问有什么可以帮你？", "没事了"],
        [(U, "你好", ()), (A, "你好，请问有什么可以帮你？", ()), (U, "没事了", ())],
        id="bare-list",
    ),
    pytest.param(
        KDCONV,
        [
            (U, "你听过《我是你的眼》这首歌吗？", ()),
            (A, "听过，是林宥嘉唱的。", ()),
            (U, "他还唱过什么歌？", ()),
        ],
        id="kdconv",
    ),
    pytest.param(
        {"dialog": ["早上好", "早！"], "act": [1, 1], "emotion": [0, 4]},
        [(U, "早上好", ()), (A, "早！", ())],
        id="dailydialog",
    ),
    pytest.param({"utterances": [{"text": "一"}, "二"]}, [(U, "一", ()), (A, "二", ())], id="mixed-items"),
    pytest.param({"dialogue": [{"utterance": "甲"}]}, [(U, "甲", ())], id="dialogue-key"),
    pytest.param({"turns": [{"content": "乙"}, None]}, [(U, "乙", ()), (A, "", ())], id="null-is-empty"),
]


@pytest.mark.parametrize(("record", "expected"), UTTERANCES_GOOD)
def test_utterances_good_records(record, expected):
    assert shape(get_format("utterances").parse(record)) == expected


def test_utterances_kdconv_keeps_turn_and_record_extras_as_meta():
    parsed = get_format("utterances").parse({"id": "k7", **KDCONV})
    assert parsed.meta == {"name": "我是你的眼"}
    assert parsed.source_id == "k7"
    assert [t.meta for t in parsed.turns] == [{}, {"attrs": KDCONV["messages"][1]["attrs"]}, {}]


def test_utterances_bare_list_has_no_meta():
    parsed = get_format("utterances").parse(["甲", "乙"])
    assert (parsed.meta, parsed.source_id, parsed.tools) == ({}, None, ())


@pytest.mark.parametrize(
    ("record", "code"),
    [
        ({"text": "x"}, "format.missing_field"),
        ({"dialog": "早上好"}, "format.bad_type"),
        ({"dialog": []}, "format.no_turns"),
        ([], "format.no_turns"),
        (["a", 1], "format.bad_type"),
        ({"messages": [{"message": "a", "text": "b"}]}, "format.bad_type"),
        ({"messages": [{"attrs": []}]}, "format.missing_field"),
        ({"utterances": [["嵌套"]]}, "format.bad_type"),
    ],
)
def test_utterances_rejects(record, code):
    with pytest.raises(RecordError) as info:
        get_format("utterances").parse(record)
    assert info.value.code == code


# ---------------------------------------------------------------- detection

OPENAI = {"messages": [{"role": "system", "content": "你是助手"}, {"role": "user", "content": "你好"}]}
SHAREGPT = {"conversations": [{"from": "human", "value": "你好"}, {"from": "gpt", "value": "你好！"}]}
CHATGLM3 = {
    "conversations": [{"role": "user", "content": "你好"}, {"role": "assistant", "content": "你好！"}]
}
ALPACA = {"instruction": "介绍一下长城", "input": "", "output": "长城是中国古代的军事防御工程。"}
DAILYDIALOG = {"dialog": ["早上好", "早！"], "act": [1, 1], "emotion": [0, 4]}


@pytest.mark.parametrize(
    ("records", "name"),
    [
        pytest.param([OPENAI] * 3, "openai", id="openai"),
        pytest.param([SHAREGPT] * 3, "sharegpt", id="sharegpt"),
        pytest.param([CHATGLM3, GLM_TOOL_RECORD], "chatglm3", id="chatglm3"),
        pytest.param([ALPACA] * 3, "alpaca", id="alpaca"),
        pytest.param([KDCONV] * 3, "utterances", id="kdconv"),
        pytest.param([DAILYDIALOG, ["你好", "嗨"]], "utterances", id="dailydialog-and-bare-lists"),
        pytest.param([["你好", "嗨"], ["再见"]], "utterances", id="bare-lists-only"),
        pytest.param([OPENAI, OPENAI, KDCONV], "openai", id="majority"),
        pytest.param([KDCONV, KDCONV, OPENAI], "utterances", id="majority-utterances"),
    ],
)
def test_detects_each_format(records, name):
    assert detect_format(records).name == name


@pytest.mark.parametrize(
    ("record", "claimed_by"),
    [
        pytest.param(OPENAI, {"openai"}, id="messages-with-roles-is-openai-only"),
        pytest.param(SHAREGPT, {"sharegpt"}, id="from-value-is-sharegpt-only"),
        pytest.param(CHATGLM3, {"chatglm3"}, id="role-content-conversations-is-chatglm3-only"),
        pytest.param(ALPACA, {"alpaca"}, id="alpaca-only"),
        pytest.param(KDCONV, {"utterances"}, id="kdconv-is-utterances-only"),
        pytest.param(DAILYDIALOG, {"utterances"}, id="dailydialog-is-utterances-only"),
        pytest.param({"messages": [{"message": "a", "from": "x"}]}, set(), id="speaker-keys-not-utterances"),
        pytest.param({"messages": [{"attrs": []}]}, set(), id="no-text-field"),
        pytest.param({"messages": []}, set(), id="empty-list"),
        pytest.param({"instruction": "x"}, set(), id="instruction-without-output"),
    ],
)
def test_claims_are_specific(record, claimed_by):
    names = ["openai", "sharegpt", "chatglm3", "alpaca", "utterances"]
    assert {n for n in names if get_format(n).claims(record)} == claimed_by


def test_bare_lists_of_role_objects_are_not_utterances():
    assert detect_format([[{"role": "user", "content": "你好"}], [1, 2]]) is None
