"""Fuzz encoding detection and decoding: `detect_encoding`, `decode_text`, `iter_lines`.

Input: byte 0 picks a forced encoding, byte 1 the chunk size of `iter_lines` and (bit 7) whether the
head is the complete file; the rest is the file.

Checked: detection names a supported encoding; decoding gives text or an error, never both or neither;
lines are numbered 1, 2, 3...; and when the whole file decodes, every line decodes and the lines are
exactly the file's text split on newlines (a line's CR of a CRLF dropped), whatever the chunk size.
"""

from __future__ import annotations

import io
import sys

from dialogdata.ingest.containers import iter_raw_lines
from dialogdata.ingest.encoding import ENCODINGS, decode_text, detect_encoding, iter_lines
from dialogdata.ingest.records import Limits
from fuzz._harness import Options, check, check_text, is_allowed
from fuzz._harness import main as run

OPTION_BYTES = 2
CHUNK_SIZES = (1 << 20, 1, 2, 3, 5, 7, 16, 64)
HEAD_BYTES = 1 << 16


def TestOneInput(data: bytes) -> None:  # noqa: N802 (the name atheris and libFuzzer expect)
    """Detect and decode the payload; the results must agree with each other."""
    options = Options(data, OPTION_BYTES)
    body = options.body
    complete = options.flag(1, 7)
    detected = detect_encoding(body[:HEAD_BYTES], complete=complete or len(body) <= HEAD_BYTES)
    check(detected in ENCODINGS, f"detected an unsupported encoding {detected!r}")
    chunk_size: int = options.pick(1, CHUNK_SIZES)
    for encoding in dict.fromkeys((detected, options.pick(0, ENCODINGS))):
        _check_decoding(body, encoding, chunk_size)


def _check_decoding(body: bytes, encoding: str, chunk_size: int) -> None:
    """Decode the body whole and line by line with one encoding."""
    text, error = decode_text(body, encoding)
    check((text is None) != (error is None), f"decode_text gave text {text!r:.80} and error {error!r}")
    lines = list(iter_lines(io.BytesIO(body), encoding, chunk_size=chunk_size))
    check([line.number for line in lines] == list(range(1, len(lines) + 1)), "lines are not numbered 1, 2...")
    for line in lines:
        check((line.text is None) != (line.error is None), f"line {line.number}: text and error disagree")
        if line.text is not None:
            check_text(line.text, f"line {line.number}")  # decoded strictly: never a lone surrogate
    if text is not None:
        expected = text.split("\n")
        if expected[-1] == "":
            expected.pop()
        expected = [t.removesuffix("\r") for t in expected]
        check(
            [line.text for line in lines] == expected,
            f"{encoding}: the lines of a file that decodes whole differ from its text split on newlines",
        )
    # What the containers build on: every line arrives, as UTF-8 bytes or as an encoding.invalid error.
    try:
        raw_lines = list(iter_raw_lines(io.BytesIO(body), encoding, Limits()))
    except Exception as exc:
        if not is_allowed(exc):
            raise
        return
    for _number, _raw, problem in raw_lines:
        check(problem is None or problem[0] in ("encoding.invalid", "record.too_large"), f"{problem}")


def main() -> None:
    """Run the fuzzer (libFuzzer arguments from the command line)."""
    run(TestOneInput, sys.argv)


if __name__ == "__main__":
    main()
