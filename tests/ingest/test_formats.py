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
