"""Fuzz the CSV/TSV container: `iter_csv` with a sniffed or given delimiter.

Input: byte 0 picks the encoding, byte 1 the limits, byte 2 the delimiter (sniffed, or one given as a
mapping or the .tsv extension gives it); the rest is the file.
"""

from __future__ import annotations

import io
import sys

from dialogdata.ingest.tabular import iter_csv
from fuzz._harness import Options, check_records
from fuzz._harness import main as run

OPTION_BYTES = 3
DELIMITERS = (None, None, None, ",", "\t", ";", "|")


def TestOneInput(data: bytes) -> None:  # noqa: N802 (the name atheris and libFuzzer expect)
    """Read the payload as a .csv file; every row must become a record or a coded error record."""
    options = Options(data, OPTION_BYTES)
    encoding, limits = options.encoding(0), options.limits(1)
    delimiter = options.pick(2, DELIMITERS)
    check_records(iter_csv(io.BytesIO(options.body), encoding, limits, delimiter=delimiter), limits)


def main() -> None:
    """Run the fuzzer (libFuzzer arguments from the command line)."""
    run(TestOneInput, sys.argv)


if __name__ == "__main__":
    main()
