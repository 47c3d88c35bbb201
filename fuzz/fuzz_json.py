"""Fuzz the JSON container: `iter_json` (array, object keyed by id, one record, JSON Lines saved as .json).

Input: byte 0 picks the encoding, byte 1 the limits and (bit 7) `whole`; the rest is the file.
"""

from __future__ import annotations

import io
import sys

from dialogdata.ingest.containers import iter_json
from fuzz._harness import Options, check_records
from fuzz._harness import main as run

OPTION_BYTES = 2


def TestOneInput(data: bytes) -> None:  # noqa: N802 (the name atheris and libFuzzer expect)
    """Read the payload as a .json file; every element must become a record or a coded error record."""
    options = Options(data, OPTION_BYTES)
    encoding, limits = options.encoding(0), options.limits(1)
    check_records(iter_json(io.BytesIO(options.body), encoding, limits, whole=options.flag(1, 7)), limits)


def main() -> None:
    """Run the fuzzer (libFuzzer arguments from the command line)."""
    run(TestOneInput, sys.argv)


if __name__ == "__main__":
    main()
