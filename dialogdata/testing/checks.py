"""Assertion helpers over build outputs."""

from __future__ import annotations

from typing import Any

FATE_KEYS = ("kept", "rejected", "filtered", "deduplicated")


def assert_fates_add_up(manifest: dict[str, Any]) -> None:
    """Assert every source record has one fate and written = kept + augmented, overall and per input."""
    scopes = [("corpus", manifest["fates"])] + [(i["path"], i["fates"]) for i in manifest["inputs"]]
    for name, fates in scopes:
        total = sum(fates[k] for k in FATE_KEYS)
        assert fates["source_records"] == total, (
            f"{name}: {fates['source_records']} source records, {total} fates"
        )
    fates = manifest["fates"]
    assert fates["written"] == fates["kept"] + fates["augmented"], f"written != kept + augmented: {fates}"
    summed = {k: sum(i["fates"][k] for i in manifest["inputs"]) for k in (*FATE_KEYS, "source_records")}
    assert all(summed[k] == fates[k] for k in summed), f"per-input fates {summed} do not add up to {fates}"
