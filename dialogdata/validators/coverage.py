"""Coverage: does the corpus fill the cells of a declared checklist, and how rare is each dialogue?

The dimensions are `entity_label` and `entity_term` (gazetteer matches in any turn), `turns`
(depth buckets), `length` (mean assistant reply length buckets), `question_type` (user turns),
`language` (by script) and `adversarial` (the `adversarial` tag). Counts are of dialogues, and
per-shard validators add up (`a + b`), so the result does not depend on order or splitting.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import msgspec

from dialogdata.errors import ConfigError
from dialogdata.gazetteers import Gazetteer, load_gazetteer
from dialogdata.schemas import Dialogue, Role
from dialogdata.validators.checklist import (
    BUCKETED,
    LANGUAGES,
    QUESTION_TYPES,
    Checklist,
    Dimension,
    parse_bucket,
    read_checklist,
)
from dialogdata.validators.issues import Issue

MISSING_CELL = "coverage.missing_cell"
THIN_CELL = "coverage.thin_cell"

Status = Literal["filled", "thin", "missing"]
_EPSILON = 1e-9
_SAMPLE = 400


class Cell(msgspec.Struct, frozen=True, kw_only=True):
    """One checklist cell: how many dialogues fill it, the minimum it asks for, and its status.

    `required` is False for a cell the checklist only asks for when present (`require = "present"`
    or `"domain"`) and that is absent; such a cell is reported but neither scored nor an issue.
    """

    dimension: str
    name: str
    count: int
    share: float
    minimum_count: int
    minimum_share: float
    status: Status
    required: bool = True


class CoverageResult(msgspec.Struct, frozen=True, kw_only=True):
    """What `Coverage.finish` found.

    - `cells`: every checklist cell, in checklist order.
    - `rarity`: dialogue id -> the rarity of its rarest checklist cell, `1 / count` (1.0 for a
      dialogue alone in a cell, near 0 for one whose cells are all common; 0.0 for a dialogue in
      no checklist cell), so augmentation can favour the dialogues that fill gaps.
    - `score`: the share of required cells that are filled (1.0 when none are required).
    - `observed`: dimension -> cell -> dialogue count, for every cell seen, listed or not.
    - `issues`: one `coverage.missing_cell` or `coverage.thin_cell` per required cell short of
      its minimum (corpus-level, so `turn` is None).
    """

    cells: list[Cell]
    rarity: dict[str, float]
    score: float
    metrics: dict[str, Any]
    issues: list[Issue]
    observed: dict[str, dict[str, int]]


@dataclass
class Tally:
    """The counts of a Coverage shard without its checklist and gazetteer: small to send between processes."""

    n: int
    counts: Counter[tuple[str, str]]
    domains: Counter[str]
    ids: list[str]
    members: list[tuple[int, ...]]


class Coverage:
    """Count which checklist cells a corpus fills; streaming, compact and mergeable.

    >>> from dialogdata import Dialogue, Turn, Role
    >>> cov = Coverage(checklist={"language": {"cells": ["zh", "en"]}})
    >>> cov.add(Dialogue(turns=(Turn(role=Role.USER, content="高血压吃什么药？"),)))
    >>> [(c.name, c.status) for c in cov.finish().cells]
    [('zh', 'filled'), ('en', 'missing')]
    """

    name: ClassVar[str] = "coverage"

    def __init__(
        self,
        *,
        checklist: str | Path | Mapping[str, Any] | None = None,
        gazetteer: str | Path | Gazetteer = "default",
    ) -> None:
        self.gazetteer = gazetteer if isinstance(gazetteer, Gazetteer) else load_gazetteer(gazetteer)
        self.checklist = _resolve(read_checklist(checklist), self.gazetteer)
        self._cells = tuple((d.name, c.name) for d in self.checklist.dimensions for c in d.cells or ())
        self._index = {cell: i for i, cell in enumerate(self._cells)}
        self._bounds = {
            d.name: tuple((parse_bucket(c.name), c.name) for c in d.cells or ())
            for d in self.checklist.dimensions
            if d.name in BUCKETED
        }
        self._enabled = frozenset(d.name for d in self.checklist.dimensions)
        self._label_domains = self.gazetteer.domains
        self._reset()

    def _reset(self) -> None:
        self._n = 0
        self._counts: Counter[tuple[str, str]] = Counter()
        self._domains: Counter[str] = Counter()
        self._ids: list[str] = []
        self._members: list[tuple[int, ...]] = []
        self._interned: dict[tuple[int, ...], tuple[int, ...]] = {}

    def cells_of(self, dialogue: Dialogue) -> dict[str, tuple[str, ...]]:
        """Return the cells `dialogue` falls in, per checked dimension (listed in the checklist or not)."""
        out: dict[str, tuple[str, ...]] = {}
        if self._enabled & {"entity_label", "entity_term"}:
            spans = [s for turn in dialogue.turns if turn.content for s in self.gazetteer.find(turn.content)]
            if "entity_label" in self._enabled:
                out["entity_label"] = tuple(sorted({s.label for s in spans}))
            if "entity_term" in self._enabled:
                out["entity_term"] = tuple(sorted({s.term for s in spans}))
        if "turns" in self._enabled:
            depth = sum(1 for t in dialogue.turns if t.role in (Role.USER, Role.ASSISTANT))
            out["turns"] = (self._bucket("turns", depth),)
        if "length" in self._enabled:
            replies = [len(t.content.strip()) for t in dialogue.turns if t.role is Role.ASSISTANT]
            replies = [n for n in replies if n]
            out["length"] = (self._bucket("length", sum(replies) // len(replies)) if replies else "none",)
        if "question_type" in self._enabled:
            kinds = {question_type(t.content) for t in dialogue.turns if t.role is Role.USER and t.content}
            out["question_type"] = tuple(k for k in QUESTION_TYPES if k in kinds)
        if "language" in self._enabled:
            # The first characters of each turn tell its script; the rest would only cost time.
            texts = (t.content[:_SAMPLE] for t in dialogue.turns if t.role in (Role.USER, Role.ASSISTANT))
            out["language"] = (language("\n".join(texts)),)
        if "adversarial" in self._enabled:
            out["adversarial"] = (dialogue.tags.get("adversarial") or "none",)
        return out

    def _bucket(self, dimension: str, value: int) -> str:
        for (low, high), name in self._bounds[dimension]:
            if low <= value <= high:
                return name
        return "other"

    def add(self, dialogue: Dialogue) -> None:
        """Count `dialogue` into its cells."""
        members = []
        for dimension, names in self.cells_of(dialogue).items():
            for name in names:
                self._counts[dimension, name] += 1
                index = self._index.get((dimension, name))
                if index is not None:
                    members.append(index)
            if dimension == "entity_label":
                self._domains.update({self._label_domains[label] for label in names})
        key = tuple(sorted(members))
        self._n += 1
        self._ids.append(dialogue.id)
        self._members.append(self._interned.setdefault(key, key))

    def update(self, dialogues: Iterable[Dialogue]) -> Coverage:
        """Count every dialogue of `dialogues`; return self, for chaining."""
        for dialogue in dialogues:
            self.add(dialogue)
        return self

    def fresh(self) -> Coverage:
        """Return an empty validator with the same checklist and gazetteer (shared, not copied)."""
        empty = object.__new__(Coverage)
        empty.__dict__.update(self.__dict__)
        empty._reset()
        return empty

    def tally(self) -> Tally:
        """Return the counts so far and start afresh: what a shard hands to `absorb` elsewhere."""
        counts = Tally(self._n, self._counts, self._domains, self._ids, self._members)
        self._reset()
        return counts

    def absorb(self, tally: Tally) -> None:
        """Add a shard's counts after those already here (so dialogues keep the order of the shards)."""
        self._n += tally.n
        self._counts.update(tally.counts)
        self._domains.update(tally.domains)
        self._ids.extend(tally.ids)
        self._members.extend(self._interned.setdefault(key, key) for key in tally.members)

    def __add__(self, other: Coverage) -> Coverage:
        """Return a validator holding the counts of both (same checklist and gazetteer required)."""
        if not isinstance(other, Coverage):
            return NotImplemented
        if other.checklist != self.checklist or other.gazetteer != self.gazetteer:
            raise ValueError("cannot add Coverage validators with different checklists or gazetteers")
        merged = self.fresh()
        merged._n = self._n + other._n
        merged._counts = self._counts + other._counts
        merged._domains = self._domains + other._domains
        merged._ids = self._ids + other._ids
        merged._members = self._members + other._members
        return merged

    def __radd__(self, other: object) -> Coverage:
        """Let `sum(shards)` start from 0."""
        if other == 0:
            return self
        return NotImplemented

    def finish(self) -> CoverageResult:
        """Return the cells with their statuses, each dialogue's rarity, the score and the issues."""
        cells = [
            self._cell(d, spec.name, spec.min_count, spec.min_share)
            for d in self.checklist.dimensions
            for spec in d.cells or ()
        ]
        required = [c for c in cells if c.required]
        score = sum(c.status == "filled" for c in required) / len(required) if required else 1.0
        counts = [self._counts[cell] for cell in self._cells]
        values = [max((1.0 / counts[i] for i in members), default=0.0) for members in self._members]
        rarity: dict[str, float] = {}
        for dialogue_id, value in zip(self._ids, values, strict=True):
            rarity[dialogue_id] = max(value, rarity.get(dialogue_id, 0.0))
        metrics = self._metrics(cells, score)
        metrics["rarity_mean"] = math.fsum(values) / len(values) if values else 0.0
        return CoverageResult(
            cells=cells,
            rarity=dict(sorted(rarity.items())),
            score=score,
            metrics=metrics,
            issues=[_issue(c) for c in required if c.status != "filled"],
            observed=self._observed(),
        )

    def _cell(self, dimension: Dimension, name: str, min_count: int, min_share: float) -> Cell:
        count = self._counts[dimension.name, name]
        share = count / self._n if self._n else 0.0
        if count == 0:
            status: Status = "missing"
        elif count >= min_count and share >= min_share - _EPSILON:
            status = "filled"
        else:
            status = "thin"
        if dimension.require == "present":
            required = count > 0
        elif dimension.require == "domain":
            required = self._domain_present(self._label_domains.get(name, ""), dimension.domain_min_share)
        else:
            required = True
        return Cell(
            dimension=dimension.name,
            name=name,
            count=count,
            share=share,
            minimum_count=min_count,
            minimum_share=min_share,
            status=status,
            required=required,
        )

    def _domain_present(self, domain: str, min_share: float) -> bool:
        count = self._domains[domain]
        return count > 0 and count / self._n >= min_share - _EPSILON

    def _observed(self) -> dict[str, dict[str, int]]:
        # Listed cells first, in checklist order; then any others seen, by name.
        observed: dict[str, dict[str, int]] = {d.name: {} for d in self.checklist.dimensions}
        for dimension, name in self._cells:
            if self._counts[dimension, name]:
                observed[dimension][name] = self._counts[dimension, name]
        for (dimension, name), count in sorted(self._counts.items()):
            observed[dimension].setdefault(name, count)
        return observed

    def _metrics(self, cells: list[Cell], score: float) -> dict[str, Any]:
        statuses = Counter(c.status for c in cells if c.required)
        metrics: dict[str, Any] = {
            "n_dialogues": self._n,
            "score": score,
            "n_cells": len(cells),
            "n_required": sum(statuses.values()),
            "n_filled": statuses["filled"],
            "n_thin": statuses["thin"],
            "n_missing": statuses["missing"],
            "domains": {d: self._domains[d] for d in sorted(set(self.gazetteer.domains.values()))},
        }
        terms = self.checklist.get("entity_term")
        if terms is not None and terms.top:
            ranked = sorted(
                ((n, c) for (d, n), c in self._counts.items() if d == "entity_term"),
                key=lambda x: (-x[1], x[0]),
            )
            metrics["top_terms"] = [
                {"term": t, "label": self.gazetteer.label_of(t), "count": c} for t, c in ranked[: terms.top]
            ]
        return metrics


def _resolve(checklist: Checklist, gazetteer: Gazetteer) -> Checklist:
    """Fill in vocabulary defaults and check entity cells against the gazetteer."""
    dimensions = []
    for dimension in checklist.dimensions:
        if dimension.cells is None:
            vocabulary = {"entity_label": gazetteer.labels, "question_type": QUESTION_TYPES}
            dimension = dimension.with_cells(vocabulary.get(dimension.name, LANGUAGES))
        where = f"checklist [{dimension.name}]"
        if dimension.name == "entity_term":
            dimension = _canonical_terms(dimension, gazetteer, where)
        for cell in dimension.cells or ():
            if dimension.name == "entity_label" and cell.name not in gazetteer.labels:
                known = ", ".join(gazetteer.labels)
                raise ConfigError(
                    f"{where}: label {cell.name!r} is not in gazetteer {gazetteer.name!r};"
                    f" expected one of: {known}"
                )
        dimensions.append(dimension)
    return Checklist(dimensions=tuple(dimensions))


def _canonical_terms(dimension: Dimension, gazetteer: Gazetteer, where: str) -> Dimension:
    """Spell each term cell as the gazetteer does, since matches are counted under that spelling."""
    cells = []
    for cell in dimension.cells or ():
        term = gazetteer.canonical(cell.name)
        if term is None:
            raise ConfigError(f"{where}: term {cell.name!r} is not in gazetteer {gazetteer.name!r}")
        cells.append(msgspec.structs.replace(cell, name=term))
    return msgspec.structs.replace(dimension, cells=tuple(cells))


def _issue(cell: Cell) -> Issue:
    where = f"{cell.dimension}={cell.name}"
    expected = f"expected at least {cell.minimum_count} dialogue{'s' if cell.minimum_count != 1 else ''}"
    if cell.minimum_share:
        expected += f" and {cell.minimum_share:.1%} of the corpus"
    if cell.status == "missing":
        return Issue(code=MISSING_CELL, message=f"coverage cell {where} is missing: no dialogue; {expected}")
    found = f"{cell.count} dialogue{'s' if cell.count != 1 else ''} ({cell.share:.1%})"
    return Issue(code=THIN_CELL, message=f"coverage cell {where} is thin: {found}; {expected}")


# Question types. Sentences end at these marks; a turn takes the type of its last question.
_SENTENCES = re.compile(r"[^.!?。！？;；\n]+[.!?。！？;；]*")
_LEAD = r"^(?:(?:so|and|but|then|ok|okay|well|hi|hello|doctor|also)\W+)*"
_EN = {
    "why": re.compile(_LEAD + r"(?:why|how come)\b"),
    "how": re.compile(_LEAD + r"how\b"),
    "what": re.compile(_LEAD + r"(?:what|which|who|whom|whose|where|when)\b"),
    "request": re.compile(
        _LEAD + r"(?:please|pls|help me|tell me|give me|show me|explain|describe|list|write|translate|"
        r"recommend|suggest|i want|i'd like|i would like|i need|let me know|(?:can|could|would|will) you)\b"
    ),
    "yes_no": re.compile(
        _LEAD + r"(?:is|are|am|was|were|do|does|did|can|could|should|would|will|shall|may|might|must|"
        r"have|has|had|isn't|aren't|don't|doesn't|didn't|can't|won't|shouldn't)\b"
    ),
}
_EN_ANYWHERE = {
    "why": re.compile(r"\b(?:why|how come)\b"),
    "how": re.compile(r"\bhow\b"),
    "what": re.compile(r"\b(?:what|which|who|whom|whose|where|when)\b"),
}
_ZH = {
    "why": re.compile(r"为什么|为何|为啥|怎么会|怎么回事|咋回事|什么原因|原因是什么"),
    "how": re.compile(r"怎么|怎样|如何|咋办|咋样|多少|多久|多长|多大|多高|多远|几[天次个岁年月周片粒]"),
    "what": re.compile(r"什么|啥|哪|谁|何时|几点|几号"),
    "yes_no": re.compile(r"[吗么嘛][\s?？]*$|是否|([\u4e00-\u9fff])不\1|可不可以|需不需要"),
    "request": re.compile(r"^(?:请(?!问)|麻烦|帮我|帮忙|给我|告诉我|我想|我要|我需要|推荐|介绍一下)"),
}
_EN_OR = re.compile(r"\bor\b")


def question_type(text: str) -> str:
    """Classify a user turn: what, how, why, yes_no, choice, request or statement (zh/en cue words)."""
    found = "statement"
    for match in _SENTENCES.finditer(text.lower()):
        kind = _sentence_type(match.group().strip())
        if kind == "request" and found != "statement":
            continue
        if kind is not None:
            found = kind
    return found


def _sentence_type(sentence: str) -> str | None:
    # The Chinese cue words cannot occur in an ASCII sentence, so their searches are skipped there.
    chinese = not sentence.isascii()
    asked = sentence.endswith(("?", "？")) or sentence.rstrip("?？").endswith(("吗", "呢"))
    if asked and (
        ("还是" in sentence and not sentence.rstrip("?？").endswith("吗")) or _EN_OR.search(sentence)
    ):
        return "choice"
    for kind in ("why", "how", "what"):
        if (chinese and _ZH[kind].search(sentence)) or _EN[kind].search(sentence):
            return kind
        if asked and _EN_ANYWHERE[kind].search(sentence):
            return kind
    if (chinese and _ZH["request"].search(sentence)) or _EN["request"].search(sentence):
        return "request"
    if asked or (chinese and _ZH["yes_no"].search(sentence)) or _EN["yes_no"].search(sentence):
        return "yes_no"
    return None


# Languages by script: Han characters and words in other scripts, one unit each. Han and kana are found
# in runs and their characters counted, which makes one string per run rather than per character.
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]+")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")
_OTHER_WORD = re.compile(
    r"[^\W\d_A-Za-z\u00c0-\u024f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]+"
)
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff]+")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_DOMINANT = 0.75


def language(text: str) -> str:
    """Return zh, en, mixed or other: the script with >= 75% of the words (a Han character is one)."""
    if text.isascii():
        # Only Latin words can occur, and they are then all the words.
        return "en" if _ASCII_LETTER.search(text) else "other"
    zh = sum(map(len, _HAN.findall(text)))
    en = len(_LATIN_WORD.findall(text))
    other = len(_OTHER_WORD.findall(text))
    kana = sum(map(len, _KANA.findall(text)))
    if kana and kana >= 0.1 * (zh + kana):
        # Japanese writes with Han characters too; its kana say the Han characters are not Chinese.
        zh, other = 0, other + zh
    total = zh + en + other
    if not total:
        return "other"
    for name, units in (("zh", zh), ("en", en), ("other", other)):
        if units >= _DOMINANT * total:
            return name
    return "mixed"
