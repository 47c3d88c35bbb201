"""Hypothesis strategies for dialogues, for dialogdata's tests and for users testing their own steps."""

from __future__ import annotations

import json

from hypothesis import strategies as st

from dialogdata.schemas import Dialogue, Role, Source, ToolCall, Turn

# Mixed scripts on purpose: CJK, Latin with accents, emoji, and whitespace inside the text.
_ALPHABET = st.characters(
    codec="utf-8",
    categories=("L", "M", "N", "P", "S", "Zs"),
)
texts = st.text(_ALPHABET, min_size=1, max_size=40).map(str.strip).filter(bool)
"""Non-empty, trimmed text in any script."""

json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=10)
metas = st.dictionaries(st.text(min_size=1, max_size=8), json_scalars, max_size=3)
"""Free-form, JSON-ready metadata."""


@st.composite
def tool_calls(draw: st.DrawFn) -> ToolCall:
    """A tool call whose arguments are JSON text."""
    name = draw(st.from_regex(r"[a-z_]{1,12}", fullmatch=True))
    value = draw(
        st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), st.integers(0, 99), max_size=2)
    )
    arguments = "{" + ", ".join(f'"{k}": {v}' for k, v in value.items()) + "}"
    return ToolCall(
        name=name, arguments=arguments, id=draw(st.none() | st.from_regex(r"call_[0-9]{1,4}", fullmatch=True))
    )


@st.composite
def turns(draw: st.DrawFn, *, roles: tuple[Role, ...] = tuple(Role)) -> Turn:
    """Any single turn, with optional name, loss flag and metadata."""
    role = draw(st.sampled_from(roles))
    calls = draw(st.lists(tool_calls(), max_size=2)) if role is Role.ASSISTANT else []
    return Turn(
        role=role,
        content=draw(texts),
        name=draw(st.none() | st.from_regex(r"[a-z]{1,8}", fullmatch=True)),
        tool_calls=tuple(calls),
        loss=draw(st.none() | st.booleans()),
        meta=draw(metas),
    )


@st.composite
def dialogues(draw: st.DrawFn, *, min_turns: int = 1, max_turns: int = 8) -> Dialogue:
    """Any dialogue (roles in any order), with metadata, tags and a source."""
    items = draw(st.lists(turns(), min_size=min_turns, max_size=max_turns))
    source = Source(
        path=draw(st.from_regex(r"[a-z]{1,8}\.jsonl", fullmatch=True)), line=draw(st.integers(1, 10**6))
    )
    return Dialogue(
        turns=tuple(items),
        meta=draw(metas),
        source=source,
        tags=draw(
            st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.text(max_size=8), max_size=2)
        ),
        scores=draw(
            st.dictionaries(st.sampled_from(["consistency", "coverage"]), st.floats(0, 1), max_size=2)
        ),
    )


@st.composite
def chat_dialogues(draw: st.DrawFn, *, system: bool | None = None, max_pairs: int = 4) -> Dialogue:
    """A well-formed chat: optional system prompt, then user/assistant pairs ending on the assistant."""
    with_system = draw(st.booleans()) if system is None else system
    head = [Turn(role=Role.SYSTEM, content=draw(texts))] if with_system else []
    pairs = draw(st.integers(1, max_pairs))
    body = [
        Turn(role=role, content=draw(texts)) for _ in range(pairs) for role in (Role.USER, Role.ASSISTANT)
    ]
    return Dialogue(turns=(*head, *body))


@st.composite
def _arguments(draw: st.DrawFn) -> str:
    """JSON object text, compact or spaced, as different sources write tool arguments."""
    value = draw(
        st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), st.integers(0, 99) | texts, max_size=2)
    )
    separators = draw(st.sampled_from([(",", ":"), (", ", ": ")]))
    return json.dumps(value, ensure_ascii=False, separators=separators)


@st.composite
def tool_dialogues(draw: st.DrawFn, *, max_exchanges: int = 3, max_calls: int = 2) -> Dialogue:
    """A tool-using chat: calls to declared tools, each answered in order by a tool turn, then a reply.

    Calls may carry ids (their results then carry `tool_call_id`), compact or spaced arguments and
    text beside them; assistant turns may carry a `loss` flag. Every exchange ends on the assistant.
    """
    items = [Turn(role=Role.SYSTEM, content=draw(texts))] if draw(st.booleans()) else []
    names: set[str] = set()
    for _ in range(draw(st.integers(1, max_exchanges))):
        items.append(Turn(role=Role.USER, content=draw(texts)))
        calls = [
            ToolCall(
                name=draw(st.from_regex(r"[a-z_]{1,12}", fullmatch=True)),
                arguments=draw(_arguments()),
                id=draw(st.none() | st.from_regex(r"call_[a-z0-9]{1,6}", fullmatch=True)),
            )
            for _ in range(draw(st.integers(0, max_calls)))
        ]
        names.update(call.name for call in calls)
        if calls:
            thought = draw(st.just("") | texts)
            loss = draw(st.none() | st.booleans())
            items.append(Turn(role=Role.ASSISTANT, content=thought, tool_calls=tuple(calls), loss=loss))
            items += [Turn(role=Role.TOOL, content=draw(texts), tool_call_id=call.id) for call in calls]
        items.append(Turn(role=Role.ASSISTANT, content=draw(texts), loss=draw(st.none() | st.booleans())))
    declared = draw(st.booleans())
    tools = tuple(
        {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}
        for name in sorted(names)
        if declared
    )
    return Dialogue(turns=tuple(items), tools=tools)
