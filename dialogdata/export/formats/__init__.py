"""Fine-tuning formats out: one `Exporter` per format, a `Dialogue` -> the JSON line its trainer reads."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from dialogdata._io import dumps
from dialogdata.export.formats.base import UNREPRESENTABLE, Exporter, Loss
from dialogdata.registry import resolve
from dialogdata.schemas import Dialogue

__all__ = ["Exporter", "Loss", "dataset_info", "get_exporter", "write"]


def get_exporter(name: str) -> Exporter:
    """Return the exporter of format `name` (a `UsageError` lists the known ones).

    >>> get_exporter("sharegpt").record(dialogue)["conversations"]  # doctest: +SKIP
    """
    exporter: Exporter = resolve("exporter", name)()
    return exporter


def dataset_info(files: Mapping[str, str], format: str) -> dict[str, Any]:
    """Return LLaMA-Factory's `dataset_info.json`: one entry per dataset name, for its file in `format`.

    >>> dataset_info({"train": "train.jsonl"}, "alpaca")["train"]["columns"]["prompt"]
    'instruction'
    """
    exporter = get_exporter(format)
    return {name: exporter.dataset_info(file_name) for name, file_name in files.items()}


def write(dialogues: Iterable[Dialogue], path: str | Path, *, format: str = "openai") -> int:
    """Write one fine-tuning JSONL file and return the number of lines written.

    A dialogue the format cannot hold at all (an `export.unrepresentable` loss) is skipped, so the count
    can be lower than the number of dialogues; `get_exporter(format).losses(d)` says why.

    >>> write(read("examples/raw"), "train.jsonl", format="openai")  # doctest: +SKIP
    """
    exporter = get_exporter(format)
    count = 0
    with Path(path).open("wb") as stream:
        for dialogue in dialogues:
            record, losses = exporter.export(dialogue)
            if any(loss.code == UNREPRESENTABLE for loss in losses):
                continue
            stream.write(dumps(record))
            count += 1
    return count
