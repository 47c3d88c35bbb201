from typing import Any

import msgspec
import orjson
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dialogdata.codes import EXPORT_CODES
from dialogdata.export import get_exporter
from dialogdata.export.formats.base import TRAINER_ONLY
from dialogdata.ingest import parse_record
from dialogdata.ingest.formats import RecordError
from dialogdata.ingest.text import normalize_text
from dialogdata.schemas import Dialogue, Role, ToolCall, Turn
from dialogdata.testing import chat_dialogues, dialogues, texts, tool_dialogues

FORMATS = ["openai", "sharegpt", "chatglm3", "alpaca"]
ANY_DIALOGUE = chat_dialogues() | tool_dialogues() | dialogues()


def _read_back(record: dict[str, Any], fmt: str) -> Dialogue | None:
    """Read a record back through its JSON line, as a file would hold it (None when the reader rejects it)."""
    try:
        return parse_record(orjson.loads(orjson.dumps(record)), fmt)
    except RecordError:
        return None


def _content(dialogue: Dialogue) -> tuple[Any, ...]:
    """What a format is meant to carry: id, turns (without their free-form meta) and tools."""
    turns = tuple(msgspec.structs.replace(turn, meta={}) for turn in dialogue.turns)
    return dialogue.id, turns, dialogue.tools


def _in_reader_form(dialogue: Dialogue) -> bool:
    """Whether every text is already as the reader's text policy leaves it (NFC, trimmed)."""
    texts = [t.content for t in dialogue.turns] + [c.arguments for t in dialogue.turns for c in t.tool_calls]
    return all(normalize_text(text, set()) == text for text in texts)


@pytest.mark.parametrize("fmt", FORMATS)
@given(dialogue=ANY_DIALOGUE)
def test_roundtrip_changes_exactly_what_the_losses_report(fmt, dialogue):
    assume(_in_reader_form(dialogue))
    exporter = get_exporter(fmt)
    record, losses = exporter.export(dialogue)
    assert record == exporter.record(dialogue) and losses == exporter.losses(dialogue)
    back = _read_back(record, fmt)
    same = back is not None and _content(back) == _content(dialogue)
    visible = [loss.code for loss in losses if loss.code not in TRAINER_ONLY]
    assert same != bool(visible), visible


@st.composite
def _lossless(draw: st.DrawFn, fmt: str) -> Dialogue:
    """A dialogue `fmt` carries without loss: a chat, ending in a tool exchange where the format has tools."""
    chat = draw(chat_dialogues())
    if fmt == "alpaca" or draw(st.booleans()):
        return chat
    # OpenAI needs call ids; the other formats have no place for them.
    call = ToolCall(name=draw(NAMES), arguments='{"n":1}', id="call_9" if fmt == "openai" else None)
    exchange = (
        _user(draw(texts)),
        _assistant("", tool_calls=(call,), loss=True if fmt != "sharegpt" else None),
        _tool(draw(texts), tool_call_id=call.id),
        _assistant(draw(texts)),
    )
    tools = ({"name": call.name, "parameters": {"type": "object"}},) if draw(st.booleans()) else ()
    return Dialogue(turns=chat.turns + exchange, tools=tools)


@st.composite
def _one_change(draw: st.DrawFn, dialogue: Dialogue, kind: str) -> Dialogue:
    """The dialogue with one change of `kind` (see `CHANGES`)."""
    turns, tools = list(dialogue.turns), dialogue.tools
    if kind == "tools":
        return Dialogue(turns=dialogue.turns, tools=({"name": "g", "parameters": {"type": "object"}},))
    if kind == "insert":
        at = draw(st.integers(0, len(turns)))
        turns.insert(at, Turn(role=draw(st.sampled_from(Role)), content=draw(texts)))
    elif kind == "remove":
        del turns[draw(st.integers(0, len(turns) - 1))]
    elif kind == "call_turn":
        turns.insert(draw(st.integers(0, len(turns))), _assistant("", tool_calls=_calls('{"n":1}')))
    else:
        i = draw(st.sampled_from(_targets(turns, kind)))
        turns[i] = _changed(draw, turns[i], kind)
    return Dialogue(turns=tuple(turns), tools=tools)


def _targets(turns: list[Turn], kind: str) -> list[int]:
    """The turns a change of `kind` can apply to (rejecting the example when there are none)."""
    wanted = {"tool_loss": Role.TOOL}.get(kind)
    found = [
        i
        for i, turn in enumerate(turns)
        if (wanted is None or turn.role is wanted)
        and (turn.tool_calls or kind not in ("arguments", "call_id"))
    ]
    assume(found)
    return found


def _changed(draw: st.DrawFn, turn: Turn, kind: str) -> Turn:
    """One turn with one field changed."""
    replace = msgspec.structs.replace
    if kind == "call":
        return replace(turn, tool_calls=(*turn.tool_calls, *_calls('{"n":1}')))
    if kind == "arguments":
        arguments = draw(st.sampled_from(['{"n": 1}', "", "n=1", "[1]"]))
        return replace(
            turn, tool_calls=(replace(turn.tool_calls[0], arguments=arguments), *turn.tool_calls[1:])
        )
    if kind == "call_id":
        call = turn.tool_calls[0]
        return replace(
            turn, tool_calls=(replace(call, id=None if call.id else "call_y"), *turn.tool_calls[1:])
        )
    if kind == "content":
        return replace(turn, content=draw(texts))
    value = {
        "name": "x",
        "loss": draw(st.booleans()),
        "tool_loss": False,
        "meta": {"k": 1},
        "tool_call_id": None if turn.tool_call_id else "c",
    }
    return replace(turn, **{"loss" if kind == "tool_loss" else kind: value[kind]})


NAMES = st.from_regex(r"[a-z_]{1,12}", fullmatch=True)
# A turn added, removed or changed in one field, a call added or changed, or tools declared.
CHANGES = [
    "tools",
    "insert",
    "remove",
    "call_turn",
    "call",
    "arguments",
    "call_id",
    "content",
    "name",
    "loss",
    "tool_loss",
    "meta",
    "tool_call_id",
]


# Alpaca's lossless dialogues have no tool turns, so the changes to a call or a result do not apply.
@pytest.mark.parametrize(
    ("fmt", "kind"),
    [
        (f, k)
        for f in FORMATS
        for k in CHANGES
        if f != "alpaca" or k not in ("arguments", "call_id", "tool_loss")
    ],
)
@settings(max_examples=40)
@given(data=st.data())
def test_one_change_to_a_lossless_dialogue_is_reported_exactly_when_it_shows(fmt, kind, data):
    exporter = get_exporter(fmt)
    lossless = data.draw(_lossless(fmt))
    assume(_in_reader_form(lossless))
    assert exporter.losses(lossless) == []
    assert _content(_read_back(exporter.record(lossless), fmt)) == _content(lossless)
    changed = data.draw(_one_change(lossless, kind))
    assume(changed.turns and _in_reader_form(changed))
    back = _read_back(exporter.record(changed), fmt)
    same = back is not None and _content(back) == _content(changed)
    visible = [loss.code for loss in exporter.losses(changed) if loss.code not in TRAINER_ONLY]
    assert same != bool(visible), visible


@pytest.mark.parametrize("fmt", ["sharegpt", "chatglm3"])
@given(dialogue=tool_dialogues(max_calls=1))
def test_roundtrip_of_single_calls_without_ids_is_lossless(fmt, dialogue):
    assume(_in_reader_form(dialogue))
    compact = tuple(
        msgspec.structs.replace(
            turn,
            loss=turn.loss if fmt == "chatglm3" else None,
            content="" if turn.tool_calls else turn.content,
            tool_calls=tuple(ToolCall(name=c.name, arguments=_compact(c.arguments)) for c in turn.tool_calls),
            tool_call_id=None,
        )
        for turn in dialogue.turns
    )
    dialogue = Dialogue(turns=compact, tools=dialogue.tools)
    exporter = get_exporter(fmt)
    assert [loss.code for loss in exporter.losses(dialogue)] == []
    assert _content(_read_back(exporter.record(dialogue), fmt)) == _content(dialogue)


def _compact(arguments: str) -> str:
    return orjson.dumps(orjson.loads(arguments)).decode()


def _llamafactory_accepts(record: dict[str, Any], entry: dict[str, Any]) -> bool:
    """LLaMA-Factory's sharegpt rule, from its dataset_info tags: after a system turn, prompt/reply pairs."""
    tags = entry["tags"]
    turns = [turn[tags["role_tag"]] for turn in record[entry["columns"]["messages"]]]
    if turns[:1] == [tags["system_tag"]]:
        turns = turns[1:]
    accepted = ((tags["user_tag"], tags["observation_tag"]), (tags["assistant_tag"], tags["function_tag"]))
    paired = all(role in accepted[k % 2] for k, role in enumerate(turns))
    return paired and len(turns) > 0 and len(turns) % 2 == 0


@given(dialogue=ANY_DIALOGUE)
def test_sharegpt_trainer_losses_are_what_llamafactory_skips(dialogue):
    exporter = get_exporter("sharegpt")
    record, losses = exporter.export(dialogue)
    skipped = {"export.not_alternating", "export.ends_without_reply"} & {loss.code for loss in losses}
    assert _llamafactory_accepts(record, exporter.dataset_info("x.jsonl")) == (not skipped)


def _user(text: str = "q", **fields: Any) -> Turn:
    return Turn(role=Role.USER, content=text, **fields)


def _assistant(text: str = "a", **fields: Any) -> Turn:
    return Turn(role=Role.ASSISTANT, content=text, **fields)


def _system(text: str = "s", **fields: Any) -> Turn:
    return Turn(role=Role.SYSTEM, content=text, **fields)


def _tool(text: str = "r", **fields: Any) -> Turn:
    return Turn(role=Role.TOOL, content=text, **fields)


def _calls(*arguments: str, ids: bool = False) -> tuple[ToolCall, ...]:
    return tuple(
        ToolCall(name="f", arguments=a, id=f"c{i}" if ids else None) for i, a in enumerate(arguments)
    )


TOOLS = ({"name": "f", "parameters": {"type": "object"}},)
CALL = _calls('{"x":1}')
CASES = [
    ("openai", (), {"export.unrepresentable"}),
    ("openai", (_user(loss=True), _assistant()), {"export.loss_dropped"}),
    (
        "openai",
        (_user(), _assistant("", tool_calls=CALL), _tool(), _assistant()),
        {"export.tool_call_ids_added"},
    ),
    ("sharegpt", (_user(name="alice"), _assistant()), {"export.name_dropped"}),
    ("sharegpt", (_user(), _assistant(loss=False)), {"export.loss_dropped"}),
    ("sharegpt", (_user(tool_calls=CALL), _assistant()), {"export.tool_calls_dropped"}),
    (
        "sharegpt",
        (
            _user(),
            _assistant("", tool_calls=_calls('{"x":1}', ids=True)),
            _tool(tool_call_id="c0"),
            _assistant(),
        ),
        {"export.tool_call_ids_dropped"},
    ),
    (
        "sharegpt",
        (_user(), _assistant("", tool_calls=_calls('{"x": 1}')), _tool(), _assistant()),
        {"export.arguments_reformatted"},
    ),
    (
        "sharegpt",
        (_user(), _assistant("", tool_calls=_calls("x=1")), _tool(), _assistant()),
        {"export.arguments_not_object"},
    ),
    (
        "sharegpt",
        (_user(), _assistant("let me look", tool_calls=CALL), _tool(), _assistant()),
        {"export.turn_split", "export.not_alternating"},
    ),
    (
        "sharegpt",
        (_user(), _assistant("", tool_calls=CALL + CALL), _tool(), _tool(), _assistant()),
        {"export.multiple_tool_calls", "export.not_alternating"},
    ),
    ("sharegpt", (_user(), _user(), _assistant()), {"export.not_alternating"}),
    (
        "sharegpt",
        (_system(), _user(), _assistant(), _system(), _user(), _assistant()),
        {"export.not_alternating"},
    ),
    ("sharegpt", (_user(), _assistant(), _user()), {"export.ends_without_reply"}),
    ("sharegpt", (_system(),), {"export.ends_without_reply"}),
    ("chatglm3", (_system(), _user(name="alice"), _assistant(loss=True)), {"export.name_dropped"}),
    (
        "chatglm3",
        (_user(), _assistant("", tool_calls=CALL), _tool(loss=False), _assistant()),
        {"export.loss_dropped"},
    ),
    (
        "chatglm3",
        (
            _user(),
            _assistant("", tool_calls=_calls('{"x":1}', ids=True)),
            _tool(tool_call_id="c0"),
            _assistant(),
        ),
        {"export.tool_call_ids_dropped"},
    ),
    (
        "chatglm3",
        (_user(), _assistant("", tool_calls=_calls("[1, 2]")), _tool(), _assistant()),
        {"export.arguments_not_object"},
    ),
    (
        "chatglm3",
        (_user(), _assistant("", tool_calls=_calls("")), _tool(), _assistant()),
        {"export.arguments_reformatted"},
    ),
    (
        "chatglm3",
        (_user(), _assistant("let me look", tool_calls=CALL), _tool(), _assistant()),
        {"export.turn_split"},
    ),
    (
        "chatglm3",
        (_user(), _assistant("", tool_calls=CALL + CALL), _tool(), _tool(), _assistant()),
        {"export.multiple_tool_calls"},
    ),
    ("chatglm3", (_user(), _assistant("", tool_calls=CALL)), {"export.unanswered_call"}),
    ("chatglm3", (_user(), _tool(), _assistant()), {"export.orphan_tool_result"}),
    ("chatglm3", (_user(), _tool(loss=True), _assistant()), set()),
    ("chatglm3", (_user(tool_calls=CALL), _assistant()), {"export.tool_calls_dropped"}),
    (
        "chatglm3",
        (_user(), _assistant("", tool_calls=CALL), _tool(tool_calls=CALL), _assistant()),
        {"export.tool_calls_dropped"},
    ),
    ("chatglm3", (_user(), _tool(loss=False, tool_calls=CALL), _assistant()), {"export.tool_calls_dropped"}),
    ("alpaca", (_user(), _assistant(), _system()), {"export.system_dropped"}),
    ("alpaca", (_system(""), _user(), _assistant()), {"export.system_dropped"}),
    ("alpaca", (_user(), _user(), _assistant(), _assistant()), {"export.turns_joined"}),
    ("alpaca", (_assistant(), _user(), _assistant()), {"export.starts_with_assistant"}),
    ("alpaca", (_user(), _assistant(), _user()), {"export.ends_with_user"}),
    ("alpaca", (_user(),), {"export.ends_with_user", "export.unrepresentable"}),
    ("alpaca", (_system(),), {"export.unrepresentable"}),
    ("alpaca", (_user(name="bob", loss=True), _assistant()), {"export.name_dropped", "export.loss_dropped"}),
    (
        "alpaca",
        (_user(), _assistant("", tool_calls=CALL), _tool(), _assistant()),
        {"export.tool_calls_dropped", "export.tool_turns_dropped"},
    ),
    (
        "alpaca",
        (_user(), _assistant("", tool_calls=CALL)),
        {"export.tool_calls_dropped", "export.ends_with_user", "export.unrepresentable"},
    ),
]


@pytest.mark.parametrize(("fmt", "turns", "codes"), CASES)
def test_losses_report_each_code(fmt, turns, codes):
    assert {loss.code for loss in get_exporter(fmt).losses(Dialogue(turns=turns))} == codes


@pytest.mark.parametrize("fmt", FORMATS)
def test_losses_report_dropped_tools_only_where_the_format_has_no_place_for_them(fmt):
    dialogue = Dialogue(turns=(_user(), _assistant()), tools=TOOLS)
    codes = [loss.code for loss in get_exporter(fmt).losses(dialogue)]
    assert codes == (["export.tools_dropped"] if fmt == "alpaca" else [])


def test_losses_cases_cover_every_export_code():
    covered = {code for _, _, codes in CASES for code in codes} | {"export.tools_dropped"}
    assert covered == set(EXPORT_CODES)


def test_loss_message_names_the_format_and_the_turns():
    turns = (_user(name="a"), _assistant(), _user(name="b"), _assistant())
    [loss] = get_exporter("sharegpt").losses(Dialogue(turns=turns))
    assert loss.code == "export.name_dropped"
    assert loss.message == f"sharegpt: {EXPORT_CODES[loss.code]}; at turns[0], turns[2]"


def test_openai_generated_ids_do_not_clash_and_link_results():
    turns = (
        _user(),
        _assistant("", tool_calls=(ToolCall(name="f", arguments="{}", id="call_1"), *_calls("{}"))),
        _tool(tool_call_id="call_1"),
        _tool(),
        _assistant(),
    )
    messages = get_exporter("openai").record(Dialogue(turns=turns))["messages"]
    assert [call["id"] for call in messages[1]["tool_calls"]] == ["call_1", "call_2"]
    assert [messages[2]["tool_call_id"], messages[3]["tool_call_id"]] == ["call_1", "call_2"]


def test_chatglm3_orphan_result_is_not_trained_on():
    record = get_exporter("chatglm3").record(Dialogue(turns=(_user(), _tool("42"), _assistant())))
    assert record["conversations"][1] == {"role": "observation", "content": "42", "loss": False}


def test_alpaca_joins_a_speaker_and_drops_what_cannot_pair():
    turns = (_assistant("hello"), _user("a"), _user("b"), _assistant("c"), _user("unanswered"))
    record = get_exporter("alpaca").record(Dialogue(turns=turns))
    assert (record["instruction"], record["output"], record["history"]) == ("a\nb", "c", [])
