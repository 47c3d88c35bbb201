"""spaCy pipelines for EntitySubstitution: load one without ever downloading, and read clean entity spans.

spaCy is imported inside these functions only, so `dialogdata --help` never pays for it.
"""

from __future__ import annotations

import contextlib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dialogdata.errors import UsageError
from dialogdata.gazetteers import Span
from dialogdata.gazetteers.gazetteer import is_word_char

if TYPE_CHECKING:
    from spacy.language import Language

# Edge characters a statistical model may sweep into an entity (quotes, brackets, commas, full stops):
# trimmed, so a stray `"` is never taken for a name. Symbols such as "+" in "C++" are kept.
_TRIMMED = frozenset(("Ps", "Pe", "Pi", "Pf", "Po", "Zs", "Zl", "Zp", "Cc"))


def load_pipeline(model: str | Path) -> Language:
    """Load an installed spaCy pipeline package or a pipeline saved with `nlp.to_disk`; never download."""
    import spacy

    target = _locate(model)
    try:
        nlp = spacy.load(target)
    except Exception as error:  # a pipeline is user input: whatever stops it loading is a usage problem
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UsageError(f"cannot load spaCy pipeline {str(model)!r}: {first}") from error
    check_pipeline(nlp, str(model))
    return nlp


def _locate(model: str | Path) -> str | Path:
    """Return the installed package name or the pipeline folder `model` names, or raise a `UsageError`."""
    from spacy.util import is_package

    if not str(model).strip():
        raise UsageError("model is empty; expected a spaCy pipeline name or the path of a saved pipeline")
    path = Path(model).expanduser()
    # spaCy's own order: an installed package first, then a folder.
    if isinstance(model, str) and is_package(model):
        return model
    if path.is_dir():
        if not (path / "config.cfg").is_file():
            raise UsageError(
                "not a saved spaCy pipeline (no config.cfg); save one with nlp.to_disk(path)", path=str(path)
            )
        return path
    if path.exists():
        raise UsageError("a saved spaCy pipeline is a folder (nlp.to_disk); found a file", path=str(path))
    if isinstance(model, str) and not _is_path_like(model):
        raise UsageError(
            f"spaCy pipeline {model!r} is not installed; install it (python -m spacy download {model},"
            " or pip install its package) or pass the path of a saved pipeline"
        )
    raise UsageError("spaCy pipeline folder not found", path=str(path))


def _is_path_like(model: str) -> bool:
    """Whether `model` reads as a path ("./ner", "models/zh") rather than a package name."""
    return "/" in model or "\\" in model or model.startswith((".", "~"))


def check_pipeline(nlp: Language, where: str) -> None:
    """Raise a `UsageError` unless some enabled component of `nlp` sets `doc.ents`."""
    if not any("doc.ents" in nlp.get_pipe_meta(name).assigns for name in nlp.pipe_names):
        raise UsageError(
            f"spaCy pipeline {where!r} finds no entities: no enabled component sets doc.ents"
            ' (add "ner" or "entity_ruler"; a custom component declares assigns=["doc.ents"])'
        )


def describe(nlp: Language) -> tuple[str, str]:
    """Return the pipeline's name ("en_core_web_sm") and version, for lineage."""
    meta: Mapping[str, object] = nlp.meta
    return f"{nlp.lang}_{meta.get('name') or 'pipeline'}", str(meta.get("version") or "0.0.0")


def entity_spans(nlp: Language, texts: Sequence[str]) -> list[list[Span]]:
    """Return each text's entities from `doc.ents`, trimmed and on word boundaries, as gazetteer spans.

    Texts are parsed in one `nlp.pipe` batch of the caller's texts only, so what the model finds
    never depends on other dialogues. Texts longer than `nlp.max_length` are left to the gazetteer.
    """
    unique = [text for text in dict.fromkeys(texts) if text.strip() and len(text) <= nlp.max_length]
    found: dict[str, list[Span]] = {}
    # A memory zone frees the strings each batch adds to the vocabulary; a long run would grow without it.
    zone = nlp.memory_zone() if hasattr(nlp, "memory_zone") else contextlib.nullcontext()
    with zone:
        for text, doc in zip(unique, nlp.pipe(unique), strict=True):
            spans = (_clean(text, ent.start_char, ent.end_char, ent.label_) for ent in doc.ents)
            found[text] = [span for span in spans if span is not None]
    return [found.get(text, []) for text in texts]


def _clean(text: str, start: int, end: int, label: str) -> Span | None:
    """Trim an entity's edges; drop it unless it holds a letter or digit and sits on word boundaries."""
    while start < end and unicodedata.category(text[start]) in _TRIMMED:
        start += 1
    while end > start and unicodedata.category(text[end - 1]) in _TRIMMED:
        end -= 1
    if not any(ch.isalnum() for ch in text[start:end]) or not on_boundaries(text, start, end):
        return None
    return Span(start, end, label, text[start:end])


def on_boundaries(text: str, start: int, end: int) -> bool:
    """Whether `text[start:end]` neither starts nor ends inside a spaced-script word ("Ann" of "Anna")."""
    if start > 0 and is_word_char(text[start - 1]) and is_word_char(text[start]):
        return False
    return not (end < len(text) and is_word_char(text[end - 1]) and is_word_char(text[end]))


def find_terms(text: str, labels: Mapping[str, str]) -> list[Span]:
    """Return every whole-word, case-sensitive mention of the terms of `labels`, leftmost-longest."""
    candidates = []
    for term, label in labels.items():
        start = text.find(term)
        while start != -1:
            if on_boundaries(text, start, start + len(term)):
                candidates.append((start, -len(term), term, label))
            start = text.find(term, start + 1)
    return _leftmost_longest(candidates)


def _leftmost_longest(candidates: Iterable[tuple[int, int, str, str]]) -> list[Span]:
    """Keep non-overlapping candidates (start, -length, term, label), leftmost first, longest at a tie."""
    spans: list[Span] = []
    cursor = 0
    for start, negative_size, term, label in sorted(candidates):
        if start >= cursor:
            cursor = start - negative_size
            spans.append(Span(start, cursor, label, term))
    return spans


def overlaps(span: Span, others: Sequence[Span]) -> bool:
    """Whether `span` shares a character with any of `others`."""
    return any(span.start < other.end and other.start < span.end for other in others)


def merge(primary: Sequence[Span], secondary: Iterable[Span]) -> list[Span]:
    """Return `primary` plus the spans of `secondary` that overlap none of it, sorted by position."""
    kept = [span for span in secondary if not overlaps(span, primary)]
    return sorted([*primary, *kept], key=lambda span: span.start)
