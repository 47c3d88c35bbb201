"""EntitySubstitution: each entity (gazetteer or spaCy model) becomes another of the same label, everywhere.

Finding. The gazetteer matches longest first, on word boundaries for Latin terms and anywhere between
CJK characters, so "高血压病" is never read as "高血压" + "病" and "Anna" never hits "Annapolis". With
`model`, a spaCy pipeline's `doc.ents` add spans: where a model span overlaps a gazetteer span the
gazetteer wins, and a model span whose text is a gazetteer term is left to the gazetteer. Model spans
are trimmed of edge punctuation and dropped unless they hold a letter or digit and sit on word
boundaries (a character-level Chinese model tags "Ann" inside "Anna"). A term the model tagged
anywhere in the dialogue is then replaced at each of its whole-word, case-sensitive mentions, in every
turn and tool argument, so the mapping holds where the model missed a mention; a term tagged with
several labels takes the label it got most often (the first label name at a tie).

Replacing. One mapping per dialogue, drawn from the per-dialogue RNG over the distinct (label, term)
pairs in sorted order: each term gets another term of its label from the gazetteer (or `entities`),
in the same script when there is one. No two entities end up with one name: a draw that would merge
two is undone and the entity stays. With `prefer_rare` a candidate seen `count` times is drawn with
weight 1 / (1 + count). A label with no other term (a model label such as PERSON that the gazetteer
lacks) follows `unpooled`: "keep" leaves its entities as they are, "shuffle" permutes the dialogue's
distinct entities of that label (and script) among themselves. Entities left as they were are counted
by label in `unreplaced`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import msgspec

from dialogdata.augmenters import _ner
from dialogdata.augmenters.base import Augmenter
from dialogdata.errors import ConfigError, InputError, UsageError
from dialogdata.gazetteers import Gazetteer, Span, load_gazetteer
from dialogdata.schemas import JSON, Dialogue, Turn

if TYPE_CHECKING:
    from spacy.language import Language

    from dialogdata.validators.coverage import CoverageResult

Unpooled = Literal["keep", "shuffle"]
COVERAGE = "coverage"
"""`prefer_rare="coverage"`: in a build, use the counts the Coverage validator observed in the corpus."""


class EntitySubstitution(Augmenter):
    """Replace entities with others of the same label, one consistent mapping per dialogue.

    `entities` ({label: [terms]} or a file) replaces `gazetteer` (a bundled name: medical, finance,
    default). `model` adds a spaCy pipeline's entities: an installed package name, the folder of a
    saved pipeline, or a loaded `Language`; nothing is ever downloaded. `prefer_rare` favours terms
    seen less often: {term: count}, a `CoverageResult` (its `entity_term` counts), or a .json/.toml
    file of either. `unpooled` ("keep" or "shuffle") rules entities whose label has no other term.
    A dialogue with nothing to replace is skipped and counted in `skipped["no_entities"]`.

    >>> from dialogdata import Dialogue, Turn, Role
    >>> d = Dialogue(turns=(Turn(role=Role.USER, content="高血压病要吃什么药？"),
    ...                     Turn(role=Role.ASSISTANT, content="高血压病请遵医嘱。")))
    >>> sub = EntitySubstitution(entities={"DISEASE": ["高血压病", "糖尿病"]})
    >>> [t.content for t in sub.augment(d)[0].turns]
    ['糖尿病要吃什么药？', '糖尿病请遵医嘱。']
    """

    name: ClassVar[str] = "entities"

    def __init__(
        self,
        *,
        entities: Mapping[str, Sequence[str]] | str | Path | None = None,
        gazetteer: str | Path = "default",
        model: str | Path | Language | None = None,
        seed: int = 0,
        p: float = 1.0,
        prefer_rare: Mapping[str, int] | CoverageResult | str | Path | None = None,
        unpooled: Unpooled = "keep",
    ) -> None:
        super().__init__(seed=seed, p=p)
        if unpooled not in ("keep", "shuffle"):
            raise UsageError(f"unpooled = {unpooled!r}; expected one of: keep, shuffle")
        self.unpooled = unpooled
        self.gazetteer, self.source = _gazetteer(entities, gazetteer)
        self._terms = self.gazetteer.terms
        self._model = model if isinstance(model, str | Path) else None
        self._nlp = _pipeline(model)
        self.model, self.model_version = _lineage(model, self._nlp)
        if not len(self.gazetteer) and not (self.model is not None and unpooled == "shuffle"):
            raise UsageError(
                "the gazetteer holds no terms; give entities={label: [terms]} or a gazetteer file"
            )
        # "coverage": the counts arrive from the build's Coverage result (see `observe`), before augmenting.
        self.from_coverage = prefer_rare == COVERAGE
        self.counts = None if self.from_coverage else _rare_counts(prefer_rare, self.gazetteer)
        self._counts_digest = _digest(self.counts)  # once, not per output: the table can be large
        # Label -> entities left as they were (once per dialogue): no other term of the label was free.
        self.unreplaced: Counter[str] = Counter()

    def observe(self, coverage: CoverageResult) -> None:
        """Take the corpus's term counts from Coverage when `prefer_rare="coverage"`."""
        if self.from_coverage:
            self.counts = _rare_counts(coverage, self.gazetteer)
            self._counts_digest = _digest(self.counts)

    @property
    def nlp(self) -> Language | None:
        """The spaCy pipeline, loaded once (again after unpickling, rather than pickled)."""
        if self._nlp is None and self._model is not None:
            self._nlp = _ner.load_pipeline(self._model)
        return self._nlp

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if self._model is not None:
            state["_nlp"] = None
        return state

    def params(self) -> dict[str, JSON]:
        """Return p, where the entities came from, the model, the rarity counts' digest and `unpooled`."""
        return {
            **super().params(),
            "gazetteer": self.source,
            "model": self.model,
            "model_version": self.model_version,
            "prefer_rare": self._counts_digest,
            "unpooled": self.unpooled,
        }

    def _augment(self, dialogue: Dialogue, rng: random.Random) -> list[Dialogue]:
        """Build one mapping from every entity in the dialogue, then rewrite every text with it."""
        texts = [t.content for t in dialogue.turns] + [
            c.arguments for t in dialogue.turns for c in t.tool_calls
        ]
        spans = {text: self.gazetteer.find(text) for text in texts}
        labels = self._model_labels(spans)
        found = {(s.label, s.term) for text_spans in spans.values() for s in text_spans}
        mapping = self._mapping(sorted(found | {(label, term) for term, label in labels.items()}), rng)
        if not mapping:
            self.skipped["no_entities"] += 1
            return []
        if labels:
            spans = {text: _ner.merge(gaz, _ner.find_terms(text, labels)) for text, gaz in spans.items()}
        turns = tuple(_turn(turn, spans, mapping) for turn in dialogue.turns)
        return [self.derive(dialogue, turns)]

    def _model_labels(self, spans: Mapping[str, list[Span]]) -> dict[str, str]:
        """Return term -> label for the model's entities that the gazetteer does not already cover."""
        if self.nlp is None:
            return {}
        texts = list(spans)
        votes: Counter[tuple[str, str]] = Counter()
        for text, entities in zip(texts, _ner.entity_spans(self.nlp, texts), strict=True):
            for span in entities:
                if not _ner.overlaps(span, spans[text]) and self.gazetteer.canonical(span.term) is None:
                    votes[span.term, span.label] += 1
        labels: dict[str, str] = {}
        for term, label in sorted(votes, key=lambda key: (-votes[key], key)):
            labels.setdefault(term, label)
        return labels

    def _mapping(self, entities: Sequence[tuple[str, str]], rng: random.Random) -> dict[str, str]:
        """Map each distinct (label, term) to another term of its label; count those left as they were."""
        mapping, stranded = self._draw(entities, rng)
        for _, terms in sorted(stranded.items()):
            if self.unpooled == "shuffle" and len(terms) > 1:
                mapping.update(_cycle(terms, rng))
        label_of = {term: label for label, term in entities}
        self.unreplaced.update(label_of[term] for term in _untangle(mapping, label_of))
        return mapping

    def _draw(
        self, entities: Sequence[tuple[str, str]], rng: random.Random
    ) -> tuple[dict[str, str], dict[tuple[str, bool], list[str]]]:
        """Draw, in sorted order, a free pool term for each entity; set aside those with no pool."""
        mapping: dict[str, str] = {}
        taken: set[str] = set()
        stranded: defaultdict[tuple[str, bool], list[str]] = defaultdict(list)
        for label, term in entities:
            pool = [t for t in self._terms.get(label, ()) if t != term]
            if not pool:
                stranded[label, _is_cjk(term)].append(term)
                continue
            other = self._pick(term, [t for t in pool if t not in taken], rng)
            if other is not None:
                mapping[term] = other
                taken.add(other)
        return mapping, stranded

    def _pick(self, term: str, pool: list[str], rng: random.Random) -> str | None:
        """Draw a term from `pool`, in the same script as `term` when there is one (None: pool empty)."""
        same = [t for t in pool if _is_cjk(t) == _is_cjk(term)]
        pool = same or pool
        if not pool:
            return None
        if self.counts is None:
            return rng.choice(pool)
        weights = [1.0 / (1 + self.counts.get(t, 0)) for t in pool]
        return rng.choices(pool, weights=weights)[0]


def _gazetteer(
    entities: Mapping[str, Sequence[str]] | str | Path | None, gazetteer: str | Path
) -> tuple[Gazetteer, str]:
    """Return the gazetteer to match and where it came from, for lineage."""
    if not isinstance(gazetteer, str | Path):
        raise UsageError(
            f"gazetteer: expected a bundled name or a file path; found {type(gazetteer).__name__}"
        )
    if isinstance(entities, Mapping):
        return Gazetteer(_checked_entities(entities), name="entities"), "entities"
    if entities is not None and not isinstance(entities, str | Path):
        raise UsageError(
            f"entities: expected {{label: [terms]}} or a file path; found {type(entities).__name__}"
        )
    source = entities if entities is not None else gazetteer
    return load_gazetteer(source), str(source)


def _checked_entities(entities: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Check {label: [terms]}: a bare string would otherwise be read as a list of characters."""
    for label, terms in entities.items():
        if (
            isinstance(terms, str)
            or not isinstance(terms, Sequence)
            or not all(isinstance(t, str) for t in terms)
        ):
            found = repr(terms)[:80]
            raise UsageError(f"entities[{label!r}]: expected a list of terms (strings); found {found}")
    return {str(label): list(terms) for label, terms in entities.items()}


def _pipeline(model: object) -> Language | None:
    """Return the spaCy pipeline `model` names or is (None without one); a bad value is a `UsageError`."""
    if model is None:
        return None
    if isinstance(model, str | Path):
        return _ner.load_pipeline(model)
    from spacy.language import Language

    if not isinstance(model, Language):
        raise UsageError(
            "model: expected a spaCy pipeline name, the path of a saved pipeline or a loaded Language;"
            f" found {type(model).__name__}"
        )
    _ner.check_pipeline(model, _ner.describe(model)[0])
    return model


def _lineage(model: object, nlp: Language | None) -> tuple[str | None, str | None]:
    """Return the model's name as the user gave it (or as the pipeline calls itself) and its version."""
    if nlp is None:
        return None, None
    name, version = _ner.describe(nlp)
    return (str(model) if isinstance(model, str | Path) else name), version


def _rare_counts(value: object, gazetteer: Gazetteer) -> dict[str, int] | None:
    """Return term -> count from a mapping, a Coverage result or a file, spelt as the gazetteer does."""
    if value is None:
        return None
    counts: dict[str, int] = {}
    for term, count in _count_table(value).items():
        if not isinstance(term, str) or isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise UsageError(
                f"prefer_rare: expected term = count (a whole number >= 0); found {term!r} = {count!r}"[:200]
            )
        key = gazetteer.canonical(term) or term
        counts[key] = counts.get(key, 0) + count
    return counts


def _count_table(value: object) -> Mapping[Any, Any]:
    """Return the {term: count} table that `value` holds, names or is."""
    if isinstance(value, str | Path):
        value = _read_counts(Path(value))
    elif not isinstance(value, Mapping):
        return _coverage_terms(value)
    # A Coverage result's whole `observed` table, saved to a file, holds the term counts under this key.
    terms = value.get("entity_term")
    return terms if isinstance(terms, Mapping) else value


def _coverage_terms(result: object) -> Mapping[str, Any]:
    """Return the `entity_term` counts of a Coverage result (anything with `.observed`)."""
    observed = getattr(result, "observed", None)
    if not isinstance(observed, Mapping):
        raise UsageError(
            "prefer_rare: expected {term: count}, a Coverage result or a .json/.toml file;"
            f" found {type(result).__name__}"
        )
    terms = observed.get("entity_term")
    if not isinstance(terms, Mapping):
        raise UsageError("prefer_rare: the Coverage result has no entity_term counts; check that dimension")
    return terms


def _read_counts(path: Path) -> Mapping[str, Any]:
    """Read {term: count} (or a Coverage `observed` table) from a .json or .toml file."""
    if path.suffix.lower() not in (".json", ".toml"):
        raise ConfigError(
            f"prefer_rare: expected a .json or .toml file; found {path.suffix!r}", path=str(path)
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise InputError(f"cannot read the counts file: {error.strerror}", path=str(path)) from None
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else msgspec.json.decode(text)
    except (tomllib.TOMLDecodeError, msgspec.DecodeError) as error:
        raise ConfigError(f"cannot parse the counts file: {error}", path=str(path)) from None
    if not isinstance(data, dict):
        raise ConfigError("expected a table mapping each term to its count", path=str(path))
    return data


def _digest(counts: Mapping[str, int] | None) -> str | None:
    """Return a short digest of the rarity counts: lineage tells runs apart without carrying the table."""
    if counts is None:
        return None
    blob = json.dumps(sorted(counts.items()), ensure_ascii=False).encode()
    return "blake2b:" + hashlib.blake2b(blob, digest_size=8).hexdigest()


def _untangle(mapping: dict[str, str], terms: Iterable[str]) -> list[str]:
    """Undo replacements onto a term that stays as it is, and return the terms that stay, sorted.

    Two entities must never end up with one name. When a label's pool runs out, a term stays, and a
    replacement drawn earlier onto its name is undone, which may in turn undo one onto that term.
    """
    kept = {term for term in terms if term not in mapping}
    inverse = {new: old for old, new in mapping.items()}
    clashes = sorted(kept & inverse.keys())
    while clashes:
        old = inverse.pop(clashes.pop())
        del mapping[old]
        kept.add(old)
        if old in inverse:
            clashes.append(old)
    return sorted(kept)


def _cycle(terms: Sequence[str], rng: random.Random) -> dict[str, str]:
    """Map each of `terms` to the next in a shuffled ring: a permutation that leaves no term in place."""
    ring = list(terms)
    rng.shuffle(ring)
    return {term: ring[(i + 1) % len(ring)] for i, term in enumerate(ring)}


def _turn(turn: Turn, spans: Mapping[str, Sequence[Span]], mapping: Mapping[str, str]) -> Turn:
    """Rewrite a turn's text and its tool calls' arguments."""
    calls = tuple(
        msgspec.structs.replace(c, arguments=_rewrite(c.arguments, spans[c.arguments], mapping, quote=True))
        for c in turn.tool_calls
    )
    content = _rewrite(turn.content, spans[turn.content], mapping)
    return msgspec.structs.replace(turn, content=content, tool_calls=calls)


def _rewrite(text: str, spans: Sequence[Span], mapping: Mapping[str, str], *, quote: bool = False) -> str:
    """Replace each mapped span on its exact boundaries; in tool arguments, escaped as JSON string text."""
    parts: list[str] = []
    cursor = 0
    for span in spans:
        other = mapping.get(span.term)
        if other is not None:
            # In a JSON string, a quote or backslash in the new term is escaped to keep the JSON valid.
            new = json.dumps(other, ensure_ascii=False)[1:-1] if quote else other
            parts += [text[cursor : span.start], new]
            cursor = span.end
    return "".join(parts) + text[cursor:]


@functools.lru_cache(maxsize=1 << 16)
def _is_cjk(term: str) -> bool:
    """Tell Chinese terms from Latin ones, so a replacement reads naturally in its sentence."""
    # Cached: every draw asks it of every term in the label's pool.
    return any("\u3400" <= ch <= "\u9fff" for ch in term)
