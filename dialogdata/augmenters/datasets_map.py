"""Augmenters inside `datasets.Dataset.map(..., batched=True)`: rows of a training format in and out."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from dialogdata.augmenters.base import Augmenter
    from dialogdata.schemas import Dialogue

Batch = dict[str, list[Any]]
LINEAGE_COLUMNS = ("dialogdata_id", "dialogdata_parent_id", "dialogdata_operations")


def batch_function(
    augmenter: Augmenter, format: str, *, keep_originals: bool, lineage: bool
) -> Callable[[Batch], Batch]:
    """Return the function `Augmenter.for_datasets` hands to `Dataset.map`."""
    from dialogdata.export import get_exporter
    from dialogdata.ingest import parse_record
    from dialogdata.ingest.formats import RecordError, get_format

    reader, exporter = get_format(format), get_exporter(format)

    def apply(batch: Batch) -> Batch:
        """Parse each row, keep it (unless told not to) and add its augmented rows after it."""
        columns = list(batch)
        out: list[dict[str, Any]] = []
        for row in _rows(batch):
            try:
                dialogue = parse_record(_plain(row), reader)
            except RecordError as exc:
                # The row stays as it was; it only gets no children, and the reason is counted.
                augmenter.skipped[f"unreadable:{exc.code}"] += 1
                dialogue = None
            if keep_originals:
                out.append(_with_lineage(row, dialogue, None) if lineage else row)
            children = augmenter.augment(dialogue) if dialogue is not None else []
            for child in children:
                made = _conform(exporter.record(child), row, dialogue.meta if dialogue is not None else {})
                out.append(_with_lineage(made, child, dialogue) if lineage else made)
        names = [*columns, *(c for c in LINEAGE_COLUMNS if lineage and c not in columns)]
        return {name: [row.get(name) for row in out] for name in names}

    return apply


def _rows(batch: Batch) -> Iterator[dict[str, Any]]:
    """Turn a columnar batch into row dicts."""
    columns = list(batch)
    size = len(batch[columns[0]]) if columns else 0
    for i in range(size):
        yield {name: batch[name][i] for name in columns}


def _plain(value: Any) -> Any:
    """Drop the nulls that Arrow puts in for keys a row did not have, so a row reads like its JSON line."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _conform(record: dict[str, Any], template: Mapping[str, Any], meta: Mapping[str, Any]) -> dict[str, Any]:
    """Give a new row the shape of the row it came from, so Arrow sees one schema.

    Columns the reader kept as metadata (`category`, ...) are carried over from the parent; the others
    the child's record lacks (a system prompt it dropped, the parent's own id) become null.
    """
    shaped = {
        key: _shape(record[key], value) if key in record else (value if key in meta else None)
        for key, value in template.items()
    }
    return {**shaped, **{k: v for k, v in record.items() if k not in template}}


def _shape(value: Any, template: Any) -> Any:
    """Recursively add the template's missing keys (as null) to dicts, lists of dicts included."""
    if isinstance(value, dict) and isinstance(template, Mapping):
        shaped = {k: _shape(value[k], v) if k in value else None for k, v in template.items()}
        return {**shaped, **{k: v for k, v in value.items() if k not in template}}
    if isinstance(value, list) and isinstance(template, list):
        keys = _merged_keys(template)
        return [_shape(item, keys) if isinstance(item, dict) else item for item in value]
    return value


def _merged_keys(items: list[Any]) -> dict[str, Any]:
    """Return one template holding every key that any dict in `items` has (the Arrow struct's fields)."""
    merged: dict[str, Any] = {}
    for item in items:
        if isinstance(item, Mapping):
            for key, value in item.items():
                if merged.get(key) is None:
                    merged[key] = value
    return merged


def _with_lineage(row: dict[str, Any], dialogue: Dialogue | None, parent: Dialogue | None) -> dict[str, Any]:
    """Add the id, parent id and operations (as JSON text) of a row's dialogue."""
    operations = dialogue.lineage.operations if dialogue is not None and dialogue.lineage else ()
    return {
        **row,
        "dialogdata_id": dialogue.id if dialogue is not None else None,
        "dialogdata_parent_id": parent.id if parent is not None else None,
        "dialogdata_operations": orjson.dumps(
            [{"name": op.name, "params": op.params, "seed": op.seed} for op in operations]
        ).decode(),
    }
