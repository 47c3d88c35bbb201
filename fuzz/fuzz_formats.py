"""Fuzz the format adapters: `parse_record` for every format name on one decoded value, and detection.

Input: byte 0 bit 0 picks the JSON decoder: orjson (what the JSON containers use) or Python's `json`,
which also gives what other containers can hold and orjson never makes (lone surrogates from YAML
escapes or CSV cells, NaN and Infinity from Parquet floats); the rest is the JSON text.

Checked: each format turns the value into a dialogue that can be written as UTF-8 JSON, or raises
`RecordError` with a dotted code; `claims`, `claims_list`, `detect_format` and the table formats'
`group_key` and `parse_group` never raise anything else.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import orjson

from dialogdata.ingest import detect_format, get_format, parse_record
from dialogdata.ingest.formats import FORMATS, Format, RecordError
from dialogdata.schemas import Dialogue
from fuzz._harness import Options, check, check_code, check_dialogue
from fuzz._harness import main as run

OPTION_BYTES = 1
_FORMATS: list[Format] = [get_format(name) for name in FORMATS]


def TestOneInput(data: bytes) -> None:  # noqa: N802 (the name atheris and libFuzzer expect)
    """Offer one decoded value to every format."""
    options = Options(data, OPTION_BYTES)
    value = _decode(options.body, python=options.flag(0, 0))
    if value is _INVALID:
        return
    detect_format([value])
    for fmt in _FORMATS:
        if isinstance(value, dict):
            fmt.claims(value)
        fmt.claims_list(value)
        _parse(lambda fmt=fmt: parse_record(value, fmt.name))
        if fmt.grouping and isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for row in value:
                _parse(lambda fmt=fmt, row=row: fmt.group_key(row), expect=str)
            _parse(lambda fmt=fmt: _group_dialogue(fmt, value))


_INVALID = object()


def _decode(body: bytes, *, python: bool) -> Any:
    """Decode the payload as JSON, or return `_INVALID`."""
    try:
        return json.loads(body.decode("utf-8", "surrogatepass")) if python else orjson.loads(body)
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, ints past 4300 digits
        return _INVALID


def _parse(call: Any, *, expect: type = Dialogue) -> None:
    """Run one adapter call: a result of the expected type or a coded `RecordError`."""
    try:
        result = call()
    except RecordError as exc:
        check_code(exc.code, exc.message)
        return
    if expect is Dialogue:
        check_dialogue(result)
    else:
        check(isinstance(result, expect), f"expected {expect.__name__}, found {type(result).__name__}")


def _group_dialogue(fmt: Format, rows: list[dict[str, Any]]) -> Dialogue:
    """Turn the rows of one table dialogue into a dialogue, as the Reader does with a group."""
    parsed = fmt.parse_group(rows)
    return Dialogue(turns=tuple(parsed.turns), tools=parsed.tools, meta=parsed.meta)


def main() -> None:
    """Run the fuzzer (libFuzzer arguments from the command line)."""
    run(TestOneInput, sys.argv)


if __name__ == "__main__":
    main()
