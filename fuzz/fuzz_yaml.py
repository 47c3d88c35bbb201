"""Fuzz the YAML container: `iter_yaml` (safe loading, scalars as text, alias and size limits).

Input: byte 0 picks the encoding, byte 1 the limits; the rest is the file.
"""

from __future__ import annotations

import io
import sys

from dialogdata.ingest.documents import iter_yaml
from fuzz._harness import Options, check_records
from fuzz._harness import main as run

OPTION_BYTES = 2


def TestOneInput(data: bytes) -> None:  # noqa: N802 (the name atheris and libFuzzer expect)
    """Read the payload as a .yaml file; it must give records or a coded error record."""
    options = Options(data, OPTION_BYTES)
    encoding, limits = options.encoding(0), options.limits(1)
    check_records(iter_yaml(io.BytesIO(options.body), encoding, limits), limits)


def main() -> None:
    """Run the fuzzer (libFuzzer arguments from the command line)."""
    run(TestOneInput, sys.argv)


if __name__ == "__main__":
    main()
