"""Fuzz the JSON Lines container: `iter_jsonl` on any bytes, in any supported encoding and under any limits.

Input: byte 0 picks the encoding (detected or forced), byte 1 the limits; the rest is the file.
"""

from __future__ import annotations

import io
import sys

from dialogdata.ingest.containers import iter_jsonl
from fuzz._harness import Options, check_records
from fuzz._harness import main as run

OPTION_BYTES = 2


def TestOneInput(data: bytes) -> None:  # noqa: N802 (the name atheris and libFuzzer expect)
    """Read the payload as a .jsonl file; every line must become a record or a coded error record."""
    options = Options(data, OPTION_BYTES)
    encoding, limits = options.encoding(0), options.limits(1)
    check_records(iter_jsonl(io.BytesIO(options.body), encoding, limits), limits)


def main() -> None:
    """Run the fuzzer (libFuzzer arguments from the command line)."""
    run(TestOneInput, sys.argv)


if __name__ == "__main__":
    main()
