"""What every fuzz harness shares: options read from the input's first bytes, the contract checks, main().

The contract the harnesses check: for any bytes, ingest yields records and dialogues, or reports the
problem as a coded reject (`RecordError`, an error record, a `Reject`), or raises one of the exception
types the `Reader` catches per file (`FILE_ERRORS`). Anything else escaping is a crash.

One stricter rule: a `UnicodeError` escaping a container is a crash too, although it is a `ValueError`,
since the README promises that a line that does not decode is rejected alone with `encoding.invalid`.

atheris is optional (the `fuzz` extra): without it the harnesses still import, so that
`tests/test_fuzz_regressions.py` replays the fixtures through the same `TestOneInput` functions.
"""

from __future__ import annotations

import gc
import re
import sys
import types
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import msgspec
import orjson

from dialogdata.codes import REJECT_CODES
from dialogdata.ingest.encoding import ENCODINGS, detect_encoding
from dialogdata.ingest.reader import FILE_ERRORS
from dialogdata.ingest.records import Limits, RawRecord, Reject
from dialogdata.schemas import Dialogue

try:
    import atheris
except ImportError:  # the fuzz extra is not installed: replaying inputs still works
    atheris = None

# Reject codes are dotted and stable: `json.invalid`, `record.too_deep`, `format.bad_type`.
CODE = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")
# Tiny limits, so that every limit (record size, document size, decompressed size, aliases, depth) is
# within the fuzzer's reach; the defaults are tried as well.
TINY = Limits(
    max_record_bytes=200,
    max_document_bytes=2000,
    max_decompressed_bytes=3000,
    max_yaml_aliases=3,
    max_depth=6,
)
LIMITS = (Limits(), TINY)
DETECT = "detect"
# Half the inputs use the detected encoding (what the Reader does), the rest force one (a mapping may).
ENCODING_CHOICES = (DETECT,) * len(ENCODINGS) + ENCODINGS
# Code that the fuzzer instruments for coverage: the package and the pure-Python parsers it relies on.
INSTRUMENTED = ("dialogdata", "fuzz", "yaml", "csv", "gzip", "zipfile", "_compression")
# Where comparisons are traced too (they guide the fuzzer to magic keys and values): our code, except
# the per-character loops of encoding detection and the text policy, where tracing halves the speed.
DATAFLOW = ("dialogdata", "fuzz")
NO_DATAFLOW = ("dialogdata.ingest.encoding", "dialogdata.ingest.text")
DEFAULT_SECONDS = 60


class ContractError(AssertionError):
    """The code under test broke its contract (an assertion error, so no harness ever catches it)."""


class Options:
    """The first `size` bytes of an input choose the harness's options; the rest is the payload."""

    def __init__(self, data: bytes, size: int) -> None:
        self.head = data[:size].ljust(size, b"\0")
        self.body = data[size:]

    def pick(self, position: int, choices: Sequence[Any]) -> Any:
        """Return one of `choices`, chosen by the option byte at `position`."""
        return choices[self.head[position] % len(choices)]

    def flag(self, position: int, bit: int) -> bool:
        """Return one bit of the option byte at `position`."""
        return bool(self.head[position] >> bit & 1)

    def encoding(self, position: int) -> str:
        """Return the encoding to read the payload with: detected (as the Reader does) or forced."""
        chosen: str = self.pick(position, ENCODING_CHOICES)
        return detect_encoding(self.body, complete=True) if chosen == DETECT else chosen

    def limits(self, position: int) -> Limits:
        """Return the default or the tiny limits."""
        limits: Limits = self.pick(position, LIMITS)
        return limits


def check(condition: object, message: str) -> None:
    """Raise `ContractError` when `condition` is false."""
    if not condition:
        raise ContractError(message)


def is_allowed(exc: BaseException) -> bool:
    """Tell an exception the Reader reports per file (`FILE_ERRORS`) from a crash."""
    return isinstance(exc, FILE_ERRORS) and not isinstance(exc, UnicodeError)


def check_code(code: object, message: object) -> None:
    """A reject has a stable code from the one table (dialogdata/codes.py) and a message."""
    check(isinstance(code, str) and CODE.fullmatch(code), f"bad reject code {code!r}")
    check(code in REJECT_CODES, f"reject code {code!r} is not in dialogdata/codes.py")
    check(isinstance(message, str) and message, f"reject {code!r} without a message")


def check_json_like(value: object, depth: int = 0) -> None:
    """A record's data is what a parser builds: objects with text keys, lists, text, numbers, null."""
    stack: list[tuple[object, int]] = [(value, depth)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            check(all(isinstance(k, str) for k in item), f"non-text key in {item!r:.200}")
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
        else:
            check(item is None or isinstance(item, str | int | float), f"unexpected {type(item).__name__}")


def depth(value: object) -> int:
    """Return how deep containers nest in a value (a scalar 0, `[]` 1, `[[]]` 2), iteratively."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def check_records(records: Iterable[RawRecord], limits: Limits) -> int:
    """Drain a container's records, checking each; return how many there were.

    Indexes run 0, 1, 2... with no gap or repeat, lines are 1-based, an error is a coded pair, no
    record nests deeper than the limit, and every record can be shown as an excerpt (the reject
    ledger needs one).
    """
    count = 0
    try:
        for position, record in enumerate(records):
            check(isinstance(record, RawRecord), f"expected a RawRecord, found {type(record).__name__}")
            check(record.index == position, f"record {position} has index {record.index}")
            check(record.line is None or record.line >= 1, f"record {position} has line {record.line}")
            if record.error is not None:
                check(isinstance(record.error, tuple) and len(record.error) == 2, f"bad error {record.error}")
                check_code(*record.error)
            elif not record.group:
                check_json_like(record.data)
                check(depth(record.data) <= limits.max_depth, f"record {position} nests past the limit")
            check_text(record.excerpt(), "excerpt")
            count += 1
    except Exception as exc:
        if not is_allowed(exc):
            raise
    return count


def check_text(text: object, what: str) -> None:
    """Text that goes to an output file must be encodable as UTF-8 (no lone surrogates)."""
    check(isinstance(text, str), f"{what}: expected text, found {type(text).__name__}")
    assert isinstance(text, str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ContractError(f"{what} cannot be written as UTF-8: {exc}") from None


def check_dialogue(dialogue: object) -> None:
    """A dialogue has turns and can be written as UTF-8 JSON (every field, meta included)."""
    check(isinstance(dialogue, Dialogue), f"expected a Dialogue, found {type(dialogue).__name__}")
    assert isinstance(dialogue, Dialogue)
    check(dialogue.turns, "a dialogue without turns")
    try:
        # What the export does: the canonical dict, then orjson (JSON Lines, and meta in Parquet).
        orjson.dumps(dialogue.to_dict())
        orjson.dumps(dialogue.to_dict()["meta"], option=orjson.OPT_SORT_KEYS)
    except (UnicodeEncodeError, TypeError, ValueError, RecursionError, msgspec.EncodeError) as exc:
        raise ContractError(f"the dialogue cannot be written as JSON: {exc}") from None


def check_reject(reject: object) -> None:
    """A reject has a code and can be written to the ledger (rejects.jsonl)."""
    check(isinstance(reject, Reject), f"expected a Reject, found {type(reject).__name__}")
    assert isinstance(reject, Reject)
    check_code(reject.code, reject.message)
    try:
        orjson.dumps(reject.to_dict())
    except orjson.JSONEncodeError as exc:
        raise ContractError(f"the reject cannot be written to the ledger: {exc}") from None


def _under(module: str, prefixes: Sequence[str]) -> bool:
    """Tell whether `module` is one of `prefixes` or inside one of them."""
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def instrument() -> int:
    """Instrument the functions already imported from the `INSTRUMENTED` modules; return how many.

    `atheris.instrument_all()` takes half a minute on what dialogdata imports; this takes a second.
    """
    assert atheris is not None
    count = 0
    for obj in gc.get_objects():
        if not isinstance(obj, types.FunctionType):
            continue
        module = getattr(obj, "__module__", None) or ""
        if not _under(module, INSTRUMENTED):
            continue
        dataflow = _under(module, DATAFLOW) and not _under(module, NO_DATAFLOW)
        try:
            obj.__code__ = atheris.patch_code(obj.__code__, dataflow, True)
        except Exception:  # a function atheris cannot patch stays uninstrumented
            continue
        count += 1
    return count


def main(test_one_input: Callable[[bytes], None], argv: Sequence[str] | None = None) -> None:
    """Fuzz `test_one_input` with libFuzzer arguments (`-max_total_time` defaults to a minute)."""
    if atheris is None:
        sys.exit("atheris is not installed: run `make fuzz`, or `pip install -e '.[fuzz]'`")
    args = list(sys.argv if argv is None else argv)
    if not any(a.startswith("-max_total_time=") for a in args):
        args.append(f"-max_total_time={DEFAULT_SECONDS}")
    atheris.enabled_hooks.add("RegEx")
    count = instrument()
    print(f"INFO: instrumented {count} functions", file=sys.stderr)
    atheris.Setup(args, test_one_input)
    atheris.Fuzz()
