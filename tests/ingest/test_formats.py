import pytest

from dialogdata.errors import UsageError
from dialogdata.ingest.formats import RecordError, detect_format, get_format
from dialogdata.ingest.formats.openai import OpenAI
from dialogdata.ingest.formats.sharegpt import ShareGPT
from dialogdata.schemas import Role

TOOL_RECORD = {
    "messages": [
        {"role": "system", "content": "You book appointments."},
        {"role": "user", "content": "Book 内科 on Dec 3"},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "book", "arguments": '{"department": "内科"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"slot": "09:30"}'},
        {"role": "assistant", "content": "Booked for 09:30.", "weight": 1},
    ],
    "tools": [{"type": "function", "function": {"name": "book", "parameters": {"type": "object"}}}],
}


def test_openai_parses_tool_calls_and_missing_content():
    parsed = OpenAI().parse(TOOL_RECORD)
    roles = [t.role for t in parsed.turns]
    assert roles == [Role.SYSTEM, Role.USER, Role.ASSISTANT, Role.TOOL, Role.ASSISTANT]
    call = parsed.turns[2].tool_calls[0]
    assert (call.id, call.name, call.arguments) == ("call_1", "book", '{"department": "内科"}')
    assert parsed.turns[2].content == ""
    assert parsed.turns[3].tool_call_id == "call_1"
    assert parsed.turns[4].loss is True
    assert parsed.tools == tuple(TOOL_RECORD["tools"])


def test_openai_joins_text_content_parts():
    record = {
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}
        ]
    }
    assert OpenAI().parse(record).turns[0].content == "a\nb"


def test_openai_keeps_non_string_arguments_as_compact_json():
    record = {
        "messages": [
            {"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": {"x": 1}}}]}
        ]
    }
    assert OpenAI().parse(record).turns[0].tool_calls[0].arguments == '{"x":1}'


def test_openai_keeps_other_keys_as_meta_and_id_as_source_id():
    record = {"id": 7, "lang": "zh", "messages": [{"role": "user", "content": "x"}]}
    parsed = OpenAI().parse(record)
    assert parsed.meta == {"lang": "zh"}
    assert parsed.source_id == "7"


def test_text_is_normalised_and_recorded():
    record = {"messages": [{"role": "user", "content": "  Cafe\u0301\r\nok  "}]}
    parsed = OpenAI().parse(record)
    assert parsed.turns[0].content == "Caf\u00e9\nok"
    assert parsed.normalizations == {"nfc", "newlines", "trim"}


@pytest.mark.parametrize(
    ("record", "code"),
    [
        ({"text": "x"}, "format.missing_field"),
        ({"messages": "x"}, "format.bad_type"),
        ({"messages": []}, "format.no_turns"),
        ({"messages": ["hi"]}, "format.bad_type"),
        ({"messages": [{"role": "narrator", "content": "x"}]}, "format.unknown_role"),
        ({"messages": [{"role": "user", "content": 42}]}, "format.bad_type"),
        ({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, "format.bad_type"),
        ({"messages": [{"role": "assistant", "tool_calls": [{"x": 1}]}]}, "format.bad_type"),
    ],
)
def test_openai_rejects_with_stable_codes(record, code):
    with pytest.raises(RecordError) as info:
        OpenAI().parse(record)
    assert info.value.code == code


def test_sharegpt_maps_speakers_function_calls_and_string_tools():
    record = {
        "id": "s1",
        "conversations": [
            {"from": "system", "value": "sys"},
            {"from": "human", "value": "查余额"},
            {"from": "function_call", "value": '{"name": "balance", "arguments": {"account": "x"}}'},
            {"from": "observation", "value": '{"balance": 12}'},
            {"from": "gpt", "value": "余额 12 元"},
        ],
        "tools": '[{"name": "balance"}]',
    }
    parsed = ShareGPT().parse(record)
    assert [t.role for t in parsed.turns] == [
        Role.SYSTEM,
        Role.USER,
        Role.ASSISTANT,
        Role.TOOL,
        Role.ASSISTANT,
    ]
    assert parsed.turns[2].tool_calls[0].name == "balance"
    assert parsed.turns[2].tool_calls[0].arguments == '{"account":"x"}'
    assert parsed.tools == ({"name": "balance"},)
    assert parsed.source_id == "s1"


def test_sharegpt_json_text_keeps_integers_past_64_bits_exactly():
    call = '{"name": "transfer", "arguments": {"to": 123456789012345678901, "cents": 250}}'
    record = {
        "conversations": [
            {"from": "human", "value": "Send 2.50"},
            {"from": "function_call", "value": call},
        ],
        "tools": '[{"name": "transfer", "parameters": {"maximum": 99999999999999999999}}]',
    }
    parsed = ShareGPT().parse(record)
    assert parsed.turns[1].tool_calls[0].arguments == '{"to":"123456789012345678901","cents":250}'
    assert parsed.tools == ({"name": "transfer", "parameters": {"maximum": "99999999999999999999"}},)


@pytest.mark.parametrize(
    ("system", "roles", "meta"),
    [
        ("You are a bank assistant.", ["system", "user", "assistant"], {"category": "cards"}),
        ("", ["user", "assistant"], {"category": "cards"}),
        (None, ["user", "assistant"], {"category": "cards", "system": None}),
    ],
)
def test_sharegpt_top_level_system_opens_the_dialogue(system, roles, meta):
    record = {
        "conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}],
        "system": system,
        "category": "cards",
    }
    parsed = ShareGPT().parse(record)
    assert [t.role.value for t in parsed.turns] == roles
    assert parsed.turns[0].content == (system or "hi")
    assert parsed.meta == meta


def test_sharegpt_top_level_system_beside_a_system_turn_stays_in_meta():
    record = {
        "conversations": [{"from": "system", "value": "a"}, {"from": "human", "value": "b"}],
        "system": "c",
    }
    parsed = ShareGPT().parse(record)
    assert [t.content for t in parsed.turns] == ["a", "b"] and parsed.meta == {"system": "c"}


def test_sharegpt_bad_function_call_is_rejected():
    record = {"conversations": [{"from": "function_call", "value": "not json"}]}
    with pytest.raises(RecordError) as info:
        ShareGPT().parse(record)
    assert info.value.code == "format.bad_type"


def test_detect_format_by_majority():
    openai = {"messages": [{"role": "user", "content": "x"}]}
    sharegpt = {"conversations": [{"from": "human", "value": "x"}]}
    assert detect_format([openai, openai, sharegpt]).name == "openai"
    assert detect_format([sharegpt, {"junk": 1}, "not a dict"]).name == "sharegpt"
    assert detect_format([{"junk": 1}]) is None


def test_get_format_unknown_name_lists_choices():
    with pytest.raises(
        UsageError, match="unknown format 'sharegtp'; expected one of: alpaca, chatglm3, openai, qa"
    ):
        get_format("sharegtp")


def _oa(*turns):
    return {"messages": list(turns)}


def _sg(*turns):
    return {"conversations": list(turns)}


_glm = _sg
TABLE = "utterance_table"

# A turn or row that leaves out a field its format requires is `format.missing_field`, naming where.
MISSING_FIELDS = {
    "openai-no-role": ("openai", _oa({"content": "x"}), "messages[0]", "role"),
    "openai-null-role": ("openai", _oa({"role": None, "content": "x"}), "messages[0]", "role"),
    "openai-user-no-content": ("openai", _oa({"role": "user"}), "messages[0]", "content"),
    "openai-tool-no-content": (
        "openai",
        _oa({"role": "tool", "tool_call_id": "c"}),
        "messages[0]",
        "content",
    ),
    "sharegpt-no-from": ("sharegpt", _sg({"value": "x"}), "conversations[0]", "from"),
    "sharegpt-no-value": ("sharegpt", _sg({"from": "human"}), "conversations[0]", "value"),
    "sharegpt-call-no-value": ("sharegpt", _sg({"from": "function_call"}), "conversations[0]", "value"),
    "chatglm3-no-role": ("chatglm3", _glm({"content": "x"}), "conversations[0]", "role"),
    "chatglm3-no-content": ("chatglm3", _glm({"role": "user"}), "conversations[0]", "content"),
    "chatglm3-call-no-name": (
        "chatglm3",
        _glm({"role": "tool", "parameters": {}}),
        "conversations[0]",
        "name",
    ),
    "alpaca-no-instruction": ("alpaca", {"input": "x", "output": "y"}, "", "instruction"),
    "alpaca-no-output": ("alpaca", {"instruction": "x"}, "", "output"),
    "qa-no-answer": ("qa", {"question": "x"}, "", "answer"),
    "utterances-no-text": ("utterances", {"dialog": [{"emotion": 1}]}, "dialog[0]", "text"),
    "utterances-no-list": ("utterances", {"act": [1]}, "", "dialog"),
    "table-no-speaker": (TABLE, {"session_id": "d", "text": "x"}, "", "speaker"),
    "table-blank-speaker": (TABLE, {"session_id": "d", "speaker": " ", "text": "x"}, "speaker", "speaker"),
    "table-no-text": (TABLE, {"session_id": "d", "speaker": "user"}, "", "text"),
}


@pytest.mark.parametrize(("name", "record", "where", "field"), MISSING_FIELDS.values(), ids=MISSING_FIELDS)
def test_formats_reject_a_missing_required_field(name, record, where, field):
    with pytest.raises(RecordError) as info:
        get_format(name).parse(record)
    assert info.value.code == "format.missing_field"
    assert info.value.message.startswith(where) and field in info.value.message


OPTIONAL_OR_NULL = {
    "openai-assistant-no-content": ("openai", _oa({"role": "assistant", "tool_calls": []})),
    "openai-null-content": ("openai", _oa({"role": "user", "content": None})),
    "sharegpt-null-value": ("sharegpt", _sg({"from": "human", "value": None})),
    "chatglm3-call-no-content": ("chatglm3", _glm({"role": "tool", "name": "f", "parameters": {}})),
    "alpaca-no-input": ("alpaca", {"instruction": "x", "output": "y"}),
}


@pytest.mark.parametrize(("name", "record"), OPTIONAL_OR_NULL.values(), ids=OPTIONAL_OR_NULL)
def test_formats_read_optional_or_null_text_as_empty(name, record):
    """What a format lets a turn leave out, or set to null, is read (an empty text is filtered later)."""
    assert get_format(name).parse(record).turns


def _with_tools(name, tools):
    """A one-turn record of format `name` that declares `tools` where that format keeps them."""
    if name == "openai":
        return {**_oa({"role": "user", "content": "x"}), "tools": tools}
    if name == "sharegpt":
        return {**_sg({"from": "human", "value": "x"}), "tools": tools}
    if name == "chatglm3-system":
        return _glm({"role": "system", "content": "s", "tools": tools}, {"role": "user", "content": "x"})
    return {**_glm({"role": "user", "content": "x"}), "tools": tools}


TOOL_FORMATS = ("openai", "sharegpt", "chatglm3", "chatglm3-system")
TOOL_WHERE = {"chatglm3-system": "conversations[0].tools"}


@pytest.mark.parametrize("name", TOOL_FORMATS)
@pytest.mark.parametrize(
    ("tools", "code", "where"),
    [
        ([42], "format.bad_type", "[0]"),
        ([{"name": "f"}, "balance"], "format.bad_type", "[1]"),
        ('[{"name": "f"}, null]', "format.bad_type", "[1]"),
        ([{"description": "no name"}], "format.missing_field", "[0]"),
        ([{"type": "function", "function": {"parameters": {}}}], "format.missing_field", "[0].function"),
        ([{"type": "function", "function": "f"}], "format.bad_type", "[0].function"),
        ([{"name": 3}], "format.bad_type", "[0].name"),
        ({"name": "f"}, "format.bad_type", ""),
    ],
)
def test_tools_must_be_named_tool_schemas(name, tools, code, where):
    with pytest.raises(RecordError) as info:
        get_format(name.split("-")[0]).parse(_with_tools(name, tools))
    assert info.value.code == code
    assert info.value.message.lstrip("'").startswith(TOOL_WHERE.get(name, "tools") + where)


BARE = {"name": "f", "parameters": {"type": "object"}}
WRAPPED = {"type": "function", "function": BARE}
FLAT = {"type": "function", **BARE}


@pytest.mark.parametrize("name", TOOL_FORMATS)
@pytest.mark.parametrize(
    ("tools", "expected"),
    [
        ([BARE, WRAPPED, FLAT], (BARE, WRAPPED, FLAT)),
        ('[{"name": "f"}]', ({"name": "f"},)),
        ([], ()),
        ("", ()),
        ("  ", ()),
        (None, ()),
    ],
)
def test_tools_accept_bare_and_wrapped_schemas(name, tools, expected):
    assert get_format(name.split("-")[0]).parse(_with_tools(name, tools)).tools == expected
