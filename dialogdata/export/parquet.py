"""`dialogues.parquet`: every kept and augmented dialogue in the canonical schema, with scores and split."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dialogdata.schemas import Dialogue
from dialogdata.schemas.arrow import arrow_schema, to_arrow_row

BATCH = 2048


class ParquetWriter:
    """Write dialogues in row groups of `BATCH`, never holding the corpus in memory."""

    def __init__(self, path: Path) -> None:
        import pyarrow.parquet as pq

        self.schema = arrow_schema()
        self.rows: list[dict[str, Any]] = []
        self.count = 0
        self._writer = pq.ParquetWriter(str(path), self.schema, compression="zstd")

    def write(self, dialogue: Dialogue, split: str | None) -> None:
        """Add one dialogue."""
        self.rows.append(to_arrow_row(dialogue, split=split))
        self.count += 1
        if len(self.rows) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        """Write the buffered rows as one row group."""
        import pyarrow as pa

        if self.rows:
            self._writer.write_table(pa.Table.from_pylist(self.rows, schema=self.schema))
            self.rows = []

    def close(self) -> None:
        """Write what is left and the footer."""
        self._flush()
        self._writer.close()
