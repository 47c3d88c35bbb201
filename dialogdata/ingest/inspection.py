"""`dialogdata inspect`: what each input is (container, encoding, format and why), counts, samples."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dialogdata.ingest.mapping import DialogueMapping
from dialogdata.ingest.reader import Reader
from dialogdata.ingest.records import Reject
from dialogdata.schemas import Dialogue

REJECTS_SHOWN = 3


def inspect_files(
    paths: Sequence[str | Path],
    *,
    format: str = "auto",
    mapping: DialogueMapping | str | Path | None = None,
) -> dict[str, Any]:
    """Read `paths` and return, per input, the detection results, counts, a sample and the first rejects."""
    rejects: dict[str, list[Reject]] = {}
    samples: dict[str, Dialogue] = {}

    def keep(reject: Reject) -> None:
        shown = rejects.setdefault(reject.path, [])
        if len(shown) < REJECTS_SHOWN:
            shown.append(reject)

    reader = Reader(paths, format=format, mapping=mapping, on_reject=keep)
    for dialogue in reader:
        path = dialogue.source.path if dialogue.source else ""
        samples.setdefault(path, dialogue)
    files = [
        {
            "path": r.path,
            "container": r.container,
            "compression": r.compression,
            "encoding": r.encoding,
            "format": r.format,
            "evidence": r.evidence,
            "records": r.records,
            "dialogues": r.dialogues,
            "rejected": r.rejected,
            "reject_codes": dict(sorted(r.reject_codes.items())),
            "first_rejects": [x.to_dict() for x in rejects.get(r.path, [])],
            "sample": _sample(samples.get(r.path)),
        }
        for r in reader.reports
    ]
    return {"files": files, "skipped": [{"path": s.path, "reason": s.reason} for s in reader.skipped]}


def _sample(dialogue: Dialogue | None) -> list[dict[str, str]] | None:
    """Return a sample dialogue as role/content pairs (tool calls shown by name)."""
    if dialogue is None:
        return None
    turns = []
    for turn in dialogue.turns:
        calls = ", ".join(f"{c.name}({c.arguments})" for c in turn.tool_calls)
        turns.append(
            {"role": turn.role.value, "content": turn.content or (f"[calls {calls}]" if calls else "")}
        )
    return turns
