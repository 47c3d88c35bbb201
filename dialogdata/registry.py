"""The one registry of built-in names (formats, exporters, augmenters), resolved lazily on use."""

from __future__ import annotations

import importlib
from typing import Any, Literal

from dialogdata.errors import UsageError

Kind = Literal["format", "exporter", "augmenter"]

# Detection tries formats in this order; the first with the most votes wins.
FORMATS: dict[str, str] = {
    "openai": "dialogdata.ingest.formats.openai:OpenAI",
    "sharegpt": "dialogdata.ingest.formats.sharegpt:ShareGPT",
    "chatglm3": "dialogdata.ingest.formats.chatglm3:ChatGLM3",
    "alpaca": "dialogdata.ingest.formats.alpaca:Alpaca",
    "utterances": "dialogdata.ingest.formats.utterances:Utterances",
    "qa": "dialogdata.ingest.formats.qa:QA",
    "utterance_table": "dialogdata.ingest.formats.tables:UtteranceTable",
}
EXPORTERS: dict[str, str] = {
    "openai": "dialogdata.export.formats.openai:OpenAIExporter",
    "sharegpt": "dialogdata.export.formats.sharegpt:ShareGPTExporter",
    "chatglm3": "dialogdata.export.formats.chatglm3:ChatGLM3Exporter",
    "alpaca": "dialogdata.export.formats.alpaca:AlpacaExporter",
}
AUGMENTERS: dict[str, str] = {
    "role_swap": "dialogdata.augmenters.role_swap:RoleSwap",
    "adversarial": "dialogdata.augmenters.adversarial:Adversarial",
    "entities": "dialogdata.augmenters.entities:EntitySubstitution",
}
_TABLES: dict[Kind, dict[str, str]] = {"format": FORMATS, "exporter": EXPORTERS, "augmenter": AUGMENTERS}
_LABELS: dict[Kind, str] = {"format": "format", "exporter": "output format", "augmenter": "augmenter"}


def resolve(kind: Kind, name: str) -> Any:
    """Import and return the object registered as `name`, or raise a `UsageError` listing the names."""
    table = _TABLES[kind]
    if name not in table:
        known = ", ".join(sorted(table))
        raise UsageError(f"unknown {_LABELS[kind]} {name!r}; expected one of: {known}")
    module, _, attribute = table[name].partition(":")
    return getattr(importlib.import_module(module), attribute)
