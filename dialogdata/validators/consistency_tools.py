"""Consistency check for tool calls: arguments that are not JSON or do not fit the declared tool."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from dialogdata.schemas import JSON, Dialogue, ToolCall
from dialogdata.validators.issues import Issue

TOOL_ARGUMENTS = "consistency.tool_arguments"

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}


def check_tool_arguments(dialogue: Dialogue) -> Iterator[Issue]:
    """Yield tool calls whose arguments are not a JSON object or break the declared tool's schema."""
    declared = declared_tools(dialogue.tools)
    for i, turn in enumerate(dialogue.turns):
        for call in turn.tool_calls:
            problem = _call_problem(call, declared)
            if problem:
                yield Issue(code=TOOL_ARGUMENTS, turn=i, message=f"tool call {call.name!r}: {problem}")


def declared_tools(tools: tuple[JSON, ...]) -> dict[str, Mapping[str, Any]]:
    """Return each declared tool's parameter schema by name (OpenAI `function` wrappers or bare)."""
    declared: dict[str, Mapping[str, Any]] = {}
    for tool in tools:
        spec = tool.get("function", tool) if isinstance(tool, dict) else None
        if isinstance(spec, dict) and isinstance(spec.get("name"), str):
            parameters = spec.get("parameters", spec.get("input_schema"))
            declared[spec["name"]] = parameters if isinstance(parameters, dict) else {}
    return declared


def _call_problem(call: ToolCall, declared: dict[str, Mapping[str, Any]]) -> str | None:
    """Return what is wrong with one call, or None."""
    # An absent argument string means "no arguments", which some sources write for argument-less tools.
    try:
        arguments = json.loads(call.arguments) if call.arguments.strip() else {}
    except json.JSONDecodeError as error:
        return f"the arguments are not valid JSON ({error.msg} at character {error.pos})"
    if not isinstance(arguments, dict):
        return f"the arguments are JSON {_json_type(arguments)}; expected an object"
    if not declared:
        return None
    if call.name not in declared:
        return f"no such tool is declared; declared: {', '.join(sorted(declared))}"
    return _schema_problem(arguments, declared[call.name])


def _schema_problem(arguments: dict[str, Any], schema: Mapping[str, Any]) -> str | None:
    """Return the first way `arguments` breaks `schema` (required keys, property types, enums)."""
    properties = schema.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    required = schema.get("required")
    missing = [k for k in required if k not in arguments] if isinstance(required, list) else []
    if missing:
        return f"required argument {missing[0]!r} is missing"
    if schema.get("additionalProperties") is False:
        extra = [k for k in arguments if k not in properties]
        if extra:
            return f"argument {extra[0]!r} is not a declared parameter"
    for name, value in arguments.items():
        spec = properties.get(name)
        problem = _value_problem(value, spec) if isinstance(spec, dict) else None
        if problem:
            return f"argument {name!r} {problem}"
    return None


def _value_problem(value: Any, spec: dict[str, Any]) -> str | None:
    """Return how `value` breaks its property's `type` or `enum`, or None."""
    expected = spec.get("type")
    names = [expected] if isinstance(expected, str) else expected if isinstance(expected, list) else []
    known = [n for n in names if n in _TYPES]
    if known and not any(_is_type(value, n) for n in known):
        return f"is {_json_type(value)}; expected {' or '.join(known)}"
    enum = spec.get("enum")
    if isinstance(enum, list) and value not in enum:
        shown, allowed = (json.dumps(v, ensure_ascii=False) for v in (value, enum))
        return f"is {shown}; expected one of {allowed}"
    return None


def _is_type(value: Any, name: str) -> bool:
    """Return whether `value` is of JSON Schema type `name` (booleans are not numbers; 1.0 is an integer)."""
    if isinstance(value, bool):
        return name == "boolean"
    if name == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES[name])


def _json_type(value: Any) -> str:
    """Return the JSON type name of a decoded value."""
    for name in ("boolean", "integer", "number", "string", "object", "array", "null"):
        if _is_type(value, name):
            return name
    return type(value).__name__
