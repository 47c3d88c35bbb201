"""Augmentation against peers, same run: char noise vs nlpaug, gazetteer matching vs spaCy's EntityRuler.

Run (in `.bench/venv`, which has nlpaug and spaCy): `python benchmarks/bench_augment.py [--n 20000]
[--repeat 3] [--workdir .bench] [--profile]`. The dialogues come from the benchmark corpus
(`bench_ingest.corpus`, half Chinese, half English), read once with `dialogdata.read`, not timed.

1. Character noise on the user turns. dialogdata's `char_noise` perturbation, timed two ways: on each
   turn text (one seeded RNG), and as the public `Adversarial(kinds=["char_noise"]).augment` on the
   dialogues holding those turns (which adds per-dialogue seeding, new turns and dialogues, lineage).
   nlpaug's `KeyboardAug().augment` gets the same texts as one list, with its defaults, and once more
   configured to touch letters only. Noise levels are each library's defaults. Correctness: the share
   of outputs in which CJK characters, punctuation, digits or spacing were altered, measured.
2. Gazetteer matching on every turn. dialogdata's `Gazetteer.find` against blank spaCy pipelines
   (`zh`, which tokenises by character, for texts with Han characters; `en` otherwise) with an
   `entity_ruler` holding the same terms as phrase patterns on LOWER, run with `nlp.pipe`. Matching
   only: both sides return (start, end, label) per text; no substitution is timed. Agreement compares
   the sets of (text index, start, end, label) and explains each difference.

Every case runs on the Chinese part and on the English part separately (dialogdata's char_noise has
nothing to do in Chinese, so the English part is the like-for-like figure); "all" is their sum per
repeat. Cases alternate within each repeat so machine noise lands on all of them; medians are
reported. Nothing downloads a model. Prints Markdown tables; writes `<workdir>/bench_augment.json`.
"""

from __future__ import annotations

import argparse
import functools
import gc
import platform
import random
import re
import statistics
import string
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# Corpus generation and reuse are shared, so every benchmark reads the same files.
from common import checks_table, code_state, corpus, write_result  # noqa: E402
from common import row as table_row  # noqa: E402

TARGET_SPEEDUP = 5.0
SPACY_BATCH = 1000
PROFILE_TOP = 15
LANGS = ("zh", "en")
_PARTS = {"zh": "Chinese part", "en": "English part", "all": "all"}
EXAMPLES = 8

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_PUNCTUATION = r"\u3000-\u303f\uff00-\uffef"  # CJK symbols and punctuation, full-width forms
# What each correctness column compares: a text reduced to the characters of one kind (or to its
# pattern of words and spaces); an output is counted when its reduction differs from its input's.
_SKELETONS: dict[str, Callable[[str], str]] = {
    "cjk_chars": functools.partial(re.compile(f"[^{_CJK}]").sub, ""),
    "cjk_punctuation": functools.partial(re.compile(f"[^{_CJK_PUNCTUATION}]").sub, ""),
    "ascii_punctuation": functools.partial(re.compile(f"[^{re.escape(string.punctuation)}]").sub, ""),
    "digits": functools.partial(re.compile(r"[^0-9]").sub, ""),
    "spacing": functools.partial(re.compile(r"\S+").sub, "x"),
    "outside_letters": functools.partial(re.compile(r"[A-Za-z]").sub, ""),
}
_PROTECTED = ("cjk_chars", "cjk_punctuation", "ascii_punctuation")


@dataclass(slots=True)
class Case:
    """One case, run per language: `run` is timed, `outputs` makes its result comparable (untimed)."""

    name: str
    group: str
    timed: str
    run: Callable[[str], Any]
    outputs: Callable[[str, Any], Any]
    peer: str | None = None
    seconds: dict[str, list[float]] = field(default_factory=lambda: {lang: [] for lang in LANGS})
    result: dict[str, Any] = field(default_factory=dict)


def language(text: str) -> str:
    """zh for a text with Han characters, else en."""
    return "zh" if _HAN.search(text) else "en"


# --- character noise --------------------------------------------------------------------------


def user_texts(dialogues: Sequence[Any]) -> list[str]:
    """The user turns that `Adversarial` perturbs, in dialogue order."""
    from dialogdata.schemas import Role

    return [t.content for d in dialogues for t in d.turns if t.role is Role.USER and t.content]


def by_language(dialogues: Sequence[Any]) -> dict[str, list[Any]]:
    """Split the dialogues: zh when a user turn has Han characters (the corpus has no mixed ones)."""
    out: dict[str, list[Any]] = {lang: [] for lang in LANGS}
    for d in dialogues:
        out["zh" if any(_HAN.search(t) for t in user_texts([d])) else "en"].append(d)
    return out


def noise_cases(dialogues: dict[str, list[Any]], texts: dict[str, list[str]], seed: int) -> list[Case]:
    """dialogdata's char_noise (on texts, and through the augmenter) and nlpaug's KeyboardAug."""
    import nlpaug.augmenter.char as nac

    from dialogdata.augmenters.adversarial import _PERTURB, Adversarial

    augmenter = Adversarial(kinds=["char_noise"], seed=seed)
    perturb, rate = _PERTURB["char_noise"], augmenter.rate

    def on_texts(lang: str) -> list[str]:
        rng = random.Random(seed)
        return [perturb(text, rng, rate) for text in texts[lang]]

    def on_dialogues(lang: str) -> list[list[Any]]:
        return [augmenter.augment(d) for d in dialogues[lang]]

    def flatten(lang: str, children: list[list[Any]]) -> list[str]:
        """The user turns after augmentation; a dialogue left unchanged (skipped) keeps its own."""
        pairs = zip(dialogues[lang], children, strict=True)
        return user_texts([kids[0] if kids else d for d, kids in pairs])

    keyboard = nac.KeyboardAug()
    letters_only = nac.KeyboardAug(include_special_char=False, include_numeric=False)
    peer = "nlpaug KeyboardAug()"
    return [
        Case(
            "dialogdata char_noise",
            "noise",
            f"the char_noise function (`_PERTURB['char_noise']`, rate {rate}, one seeded RNG) on each "
            "user turn text",
            on_texts,
            _same,
            peer,
        ),
        Case(
            "dialogdata Adversarial.augment",
            "noise",
            "`Adversarial(kinds=['char_noise']).augment(dialogue)` on each dialogue holding those user "
            "turns: per-dialogue RNG, the same perturbation, new Turn and Dialogue with lineage and id; "
            "a dialogue left unchanged (every Chinese one) is compared and skipped",
            on_dialogues,
            flatten,
            peer,
        ),
        Case(
            peer,
            "noise",
            "`KeyboardAug().augment(texts)` on the same texts as one list (defaults: aug_word_p=0.3, "
            "aug_char_p=0.3, min_char=4, digits and special characters included): validate, strip, "
            "tokenise, sample, substitute, detokenise",
            lambda lang: _nlpaug(keyboard, texts[lang], seed),
            _same,
        ),
        Case(
            "nlpaug KeyboardAug(letters only)",
            "noise",
            "the same with include_special_char=False, include_numeric=False",
            lambda lang: _nlpaug(letters_only, texts[lang], seed),
            _same,
            peer,
        ),
    ]


def _same(lang: str, out: Any) -> Any:
    """The result is already the outputs."""
    return out


def _nlpaug(augmenter: Any, texts: list[str], seed: int) -> list[str]:
    """nlpaug draws from the global RNGs, so seed both for a repeatable output."""
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    out: list[str] = augmenter.augment(texts)
    return out


def damage(before: list[str], after: list[str]) -> dict[str, int]:
    """Count the outputs in which each kind of character outside Latin letters was altered."""
    counts: Counter[str] = Counter(turns=len(before))
    for old, new in zip(before, after, strict=True):
        counts["changed"] += old != new
        altered = {kind for kind, skeleton in _SKELETONS.items() if skeleton(old) != skeleton(new)}
        counts.update(altered)
        counts["protected"] += bool(altered.intersection(_PROTECTED))
    return dict(counts)


def damage_example(before: list[str], after: list[str]) -> dict[str, str] | None:
    """The first turn whose text outside Latin letters changed."""
    skeleton = _SKELETONS["outside_letters"]
    for old, new in zip(before, after, strict=True):
        if skeleton(old) != skeleton(new):
            return {"before": old, "after": new}
    return None


# --- gazetteer matching -----------------------------------------------------------------------


def all_texts(dialogues: Sequence[Any]) -> dict[str, list[str]]:
    """Every non-empty turn, as `EntitySubstitution` would scan them, split by script."""
    out: dict[str, list[str]] = {lang: [] for lang in LANGS}
    for d in dialogues:
        for t in d.turns:
            if t.content:
                out[language(t.content)].append(t.content)
    return out


def spacy_pipelines(gazetteer: Any) -> dict[str, Any]:
    """Blank zh and en pipelines, each with an entity_ruler holding every gazetteer term as a phrase."""
    import spacy

    patterns = [
        {"label": label, "pattern": term} for label, terms in gazetteer.terms.items() for term in terms
    ]
    pipelines = {}
    for lang in LANGS:
        nlp = spacy.blank(lang)
        ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
        ruler.add_patterns(patterns)
        pipelines[lang] = nlp
    return pipelines


def match_cases(texts: dict[str, list[str]], gazetteer: Any, pipelines: dict[str, Any]) -> list[Case]:
    """dialogdata's Gazetteer.find against spaCy's EntityRuler on the same texts, matching only."""

    def ours(lang: str) -> list[list[Any]]:
        return [gazetteer.find(text) for text in texts[lang]]

    def theirs(lang: str) -> list[list[tuple[int, int, str]]]:
        docs = pipelines[lang].pipe(texts[lang], batch_size=SPACY_BATCH)
        return [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in docs]

    return [
        Case(
            "dialogdata Gazetteer.find",
            "match",
            "`load_gazetteer('default').find(text)` on each text: one Aho-Corasick pass, boundary "
            "checks, leftmost-longest selection, a list of Span(start, end, label, term)",
            ours,
            lambda lang, out: {
                (lang, i, s.start, s.end, s.label) for i, spans in enumerate(out) for s in spans
            },
            "spaCy blank + EntityRuler",
        ),
        Case(
            "spaCy blank + EntityRuler",
            "match",
            f"`nlp.pipe(texts, batch_size={SPACY_BATCH})` through blank `zh` (texts with Han characters; "
            "one token per character) or blank `en` (the others), each + "
            "entity_ruler(phrase_matcher_attr='LOWER'): tokenise, phrase-match, set doc.ents, read "
            "(start_char, end_char, label_)",
            theirs,
            lambda lang, out: {(lang, i, *span) for i, spans in enumerate(out) for span in spans},
        ),
    ]


def agreement(
    ours: set[tuple[str, int, int, int, str]],
    theirs: set[tuple[str, int, int, int, str]],
    texts: dict[str, list[str]],
    pipelines: dict[str, Any],
) -> dict[str, Any]:
    """Count the spans of each, and explain every span only one of them found."""
    only = {"dialogdata": ours - theirs, "spaCy": theirs - ours}
    reasons: Counter[tuple[str, str]] = Counter()
    examples: list[dict[str, Any]] = []
    for finder, spans in only.items():
        other: dict[tuple[str, int], list[tuple[int, int, str]]] = {}
        for lang, i, start, end, label in theirs if finder == "dialogdata" else ours:
            other.setdefault((lang, i), []).append((start, end, label))
        for lang, i, start, end, label in sorted(spans):
            text = texts[lang][i]
            reason, detail = _explain(text, start, end, other.get((lang, i), []), pipelines[lang])
            reasons[finder, reason] += 1
            if len(examples) < EXAMPLES:
                context = text[max(0, start - 25) : end + 25].replace("\n", " ")
                examples.append(
                    {"found_by": finder, "text": f"{lang}#{i}", "span": text[start:end], "label": label}
                    | {"context": context, "reason": reason, "detail": detail}
                )
    return {
        "dialogdata_spans": len(ours),
        "spacy_spans": len(theirs),
        "both": len(ours & theirs),
        "dialogdata_only": len(only["dialogdata"]),
        "spacy_only": len(only["spaCy"]),
        "reasons": [{"found_by": f, "reason": r, "count": c} for (f, r), c in reasons.most_common()],
        "examples": examples,
    }


def _explain(text: str, start: int, end: int, other: list[tuple[int, int, str]], nlp: Any) -> tuple[str, str]:
    """Say why one matcher found `text[start:end]` and the other (`other`: its spans in `text`) did not."""
    from dialogdata.gazetteers.gazetteer import is_word_char

    rivals = [(s, e) for s, e, _ in other if s < end and e > start]
    if (start, end) in rivals:
        return "same span, other label", ""
    if rivals:
        shown = ", ".join(f"{text[s:e]!r} [{s}:{e}]" for s, e in rivals)
        return (
            "overlap resolved differently (EntityRuler keeps the match with the most tokens, dialogdata "
            "the leftmost-longest)",
            f"the other kept {shown}",
        )
    doc = nlp.make_doc(text)
    starts, ends = {t.idx for t in doc}, {t.idx + len(t) for t in doc}
    if start not in starts or end not in ends:
        tokens = [t.text for t in doc if t.idx < end and t.idx + len(t) > start]
        return (
            "spaCy's tokenizer puts no token boundary there, and a phrase pattern matches whole tokens only",
            f"spaCy tokens {tokens}",
        )
    left = start > 0 and is_word_char(text[start - 1]) and is_word_char(text[start])
    right = end < len(text) and is_word_char(text[end]) and is_word_char(text[end - 1])
    if left or right:
        return (
            "dialogdata's word-boundary rule: a word character touches the term",
            f"before {text[start - 1 : start]!r}, after {text[end : end + 1]!r}",
        )
    return "other", ""


# --- timing, report -------------------------------------------------------------------------


def time_case(case: Case, lang: str) -> float:
    """Run one case on one language once and return its wall time; keep the first result's outputs."""
    gc.collect()
    start = time.perf_counter()
    result = case.run(lang)
    seconds = time.perf_counter() - start
    if lang not in case.result:
        case.result[lang] = case.outputs(lang, result)
    return seconds


def profile(cases: list[Case]) -> None:
    """cProfile one untimed run of each dialogdata case (both languages), to stderr."""
    import cProfile
    import pstats

    for case in cases:
        if case.name.startswith("dialogdata"):
            profiler = cProfile.Profile()
            for lang in LANGS:
                profiler.runcall(case.run, lang)
            print(f"\ncProfile of {case.name}, top {PROFILE_TOP} by own time:", file=sys.stderr)
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(PROFILE_TOP)


def summarise(cases: list[Case], units: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """Median seconds per language and in all (the sum of a repeat's languages), rates and speed-ups."""
    median: dict[str, dict[str, float]] = {}
    totals: dict[str, list[float]] = {}
    for c in cases:
        totals[c.name] = [sum(run) for run in zip(*(c.seconds[lang] for lang in LANGS), strict=True)]
        median[c.name] = {lang: statistics.median(c.seconds[lang]) for lang in LANGS}
        median[c.name]["all"] = statistics.median(totals[c.name])
    rows = []
    for c in cases:
        n = units[c.group]
        rows.append(
            {"case": c.name, "group": c.group, "timed": c.timed, "peer": c.peer}
            | {
                "runs_seconds": c.seconds,
                "all_runs_seconds": totals[c.name],
                "median_seconds": median[c.name],
            }
            | {"per_second": {part: n[part] / median[c.name][part] for part in (*LANGS, "all")}}
            | {
                "speedup": {part: median[c.peer][part] / median[c.name][part] for part in (*LANGS, "all")}
                if c.peer
                else None
            }
        )
    return rows


def bench(n: int, repeat: int, workdir: Path, seed: int, profiled: bool) -> dict[str, Any]:
    """Read the corpus, build every case, run them `repeat` times interleaved, and check the results."""
    import dialogdata as dd
    from dialogdata.gazetteers import load_gazetteer

    path, _ = corpus(workdir, n, seed)
    dialogues = list(dd.read(path))
    split = by_language(dialogues)
    users = {lang: user_texts(split[lang]) for lang in LANGS}
    texts = all_texts(dialogues)
    start = time.perf_counter()
    gazetteer = load_gazetteer("default")
    gazetteer.find("warm up")  # builds the automaton
    setup = {"dialogdata_seconds": time.perf_counter() - start}
    start = time.perf_counter()
    pipelines = spacy_pipelines(gazetteer)
    for nlp in pipelines.values():
        nlp("warm up 高血压")
    setup["spacy_seconds"] = time.perf_counter() - start
    cases = noise_cases(split, users, seed) + match_cases(texts, gazetteer, pipelines)
    for i in range(repeat):
        for case in cases:
            for lang in LANGS:
                case.seconds[lang].append(time_case(case, lang))
            runs = ", ".join(f"{lang} {case.seconds[lang][-1]:.2f} s" for lang in LANGS)
            print(f"run {i + 1}/{repeat} {case.name}: {runs}", file=sys.stderr)
    if profiled:
        profile(cases)
    units = {
        group: {lang: len(parts[lang]) for lang in LANGS}
        for group, parts in (("noise", users), ("match", texts))
    }
    for counts in units.values():
        counts["all"] = sum(counts.values())
    named = {c.name: c for c in cases}
    noise = {
        c.name: {lang: damage(users[lang], c.result[lang]) for lang in LANGS}
        for c in cases
        if c.group == "noise"
    }
    result = {
        "corpus": {"path": str(path), "records": n, "seed": seed, "dialogues": len(dialogues)},
        "units": units,
        "text_chars": sum(len(t) for lang in LANGS for t in texts[lang]),
        "repeat": repeat,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": _versions(),
        "code": code_state(),
        "setup": setup,
        "cases": summarise(cases, units),
        "noise_damage": noise,
        "nlpaug_example": damage_example(users["zh"], named["nlpaug KeyboardAug()"].result["zh"]),
        "spans": agreement(
            set().union(*named["dialogdata Gazetteer.find"].result.values()),
            set().union(*named["spaCy blank + EntityRuler"].result.values()),
            texts,
            pipelines,
        ),
    }
    result["rows"] = side_by_side(result)
    result["checks"] = checks(result)
    return result


def _versions() -> dict[str, str]:
    """The peers' versions, so a table can be traced to what produced it."""
    import nlpaug
    import spacy

    return {"nlpaug": nlpaug.__version__, "spacy": spacy.__version__}


def side_by_side(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each dialogdata case beside its peer, on all texts and on the English part (the like-for-like one)."""
    names = {"noise": "char noise", "match": "gazetteer"}
    peers = {"noise": "nlpaug", "match": "spaCy EntityRuler"}
    units = {"noise": "user turns", "match": "texts"}
    setups = {
        "noise": "nlpaug KeyboardAug with its defaults",
        "match": f"matching only, the same terms, spaCy nlp.pipe in batches of {SPACY_BATCH:,}",
    }
    out = []
    medians = {case["case"]: case["median_seconds"] for case in result["cases"]}
    for case in result["cases"]:
        if not case["case"].startswith("dialogdata"):
            continue
        via = " (Adversarial.augment)" if "Adversarial" in case["case"] else ""
        for part in ("all", "en"):
            scope = "" if part == "all" else ", English part"
            out.append(
                table_row(
                    f"{names[case['group']]}{via} vs {peers[case['group']]}{scope}",
                    case["case"],
                    case["median_seconds"][part],
                    case["peer"],
                    medians[case["peer"]][part],
                    # The aim is a speed-up of at least 5x: a time ratio of at most 1/5.
                    aim=1 / TARGET_SPEEDUP,
                    note=(
                        f"{result['units'][case['group']][part]:,} {units[case['group']]} in one process, "
                        f"median of {result['repeat']} interleaved run(s); {setups[case['group']]}"
                    ),
                )
            )
    return out


def checks(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The aims: at least 5x the peer's speed, no CJK or punctuation damage, the same spans."""
    out = []
    for row in result["cases"]:
        if row["case"].startswith("dialogdata"):
            for part in ("all", "en"):
                speedup = row["speedup"][part]
                out.append(
                    {
                        "name": f"{row['case']} speed / {row['peer']} ({_PARTS[part]})",
                        "measured": f"{speedup:.1f}x",
                        "target": f">= {TARGET_SPEEDUP:.0f}x",
                        "ok": speedup >= TARGET_SPEEDUP,
                    }
                )
    for name, by_lang in result["noise_damage"].items():
        if name.startswith("dialogdata"):
            altered = sum(counts.get("protected", 0) for counts in by_lang.values())
            out.append(
                {
                    "name": f"{name}: outputs with CJK characters or punctuation altered",
                    "measured": f"{altered}",
                    "target": "0",
                    "ok": altered == 0,
                }
            )
    spans = result["spans"]
    differ = spans["dialogdata_only"] + spans["spacy_only"]
    unexplained = sum(r["count"] for r in spans["reasons"] if r["reason"] == "other")
    out.append(
        {
            "name": "gazetteer spans found by only one of dialogdata / spaCy, left unexplained",
            "measured": f"{unexplained} ({differ} differ, of {spans['both'] + differ:,})",
            "target": "0",
            "ok": unexplained == 0,
        }
    )
    return out


def markdown(result: dict[str, Any]) -> str:
    """Render the timings, the correctness columns, the span agreement and the checks."""
    u, c = result["units"], result["corpus"]
    dirty = " + uncommitted changes" if result["code"]["dirty"] else ""
    lines = [
        f"Corpus: `{c['path']}` ({c['dialogues']:,} dialogues, seed {c['seed']}). Char noise: "
        f"{u['noise']['all']:,} user turns ({u['noise']['zh']:,} in Chinese dialogues, {u['noise']['en']:,} "
        f"in English ones). Matching: {u['match']['all']:,} turns, {result['text_chars'] / 1e6:.1f} M "
        f"characters ({u['match']['zh']:,} with Han characters, {u['match']['en']:,} without). "
        f"{result['repeat']} run(s) per case, interleaved; medians. Python {result['python']}, nlpaug "
        f"{result['versions']['nlpaug']}, spaCy {result['versions']['spacy']}; commit "
        f"{result['code']['commit'][:10]}{dirty}.",
        "",
        "| case | zh s | en s | all s (runs) | all per second | speed vs peer: zh / en / all |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for row in result["cases"]:
        unit = "user turns/s" if row["group"] == "noise" else "texts/s"
        m, x = row["median_seconds"], row["speedup"]
        runs = ", ".join(f"{s:.2f}" for s in row["all_runs_seconds"])
        vs = f"{x['zh']:.1f}x / {x['en']:.1f}x / **{x['all']:.1f}x**" if x else "(peer)"
        lines.append(
            f"| {row['case']} | {m['zh']:.2f} | {m['en']:.2f} | {m['all']:.2f} ({runs}) | "
            f"{row['per_second']['all']:,.0f} {unit} | {vs} |"
        )
    lines += ["", "What each timing includes (every case in one process, single-threaded):"]
    lines += [f"- {row['case']}: {row['timed']}." for row in result["cases"]]
    setup = result["setup"]
    lines.append(
        "- Not timed: reading the corpus, splitting it by language, building the matchers once "
        f"(dialogdata: load the bundled lists and build the automaton, {setup['dialogdata_seconds']:.3f} s; "
        f"spaCy: two blank pipelines and their patterns, {setup['spacy_seconds']:.2f} s)."
    )
    lines += [
        "",
        "Char-noise correctness: share of the outputs in which characters of each kind were substituted, "
        "dropped or added, or the spacing (the pattern of words and spaces) changed, measured on each "
        "case's outputs against its inputs:",
        "",
        "| case | turns | outputs changed | CJK characters | CJK punctuation | ASCII punctuation "
        "| any of these three | digits | spacing | anything but Latin letters |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    kinds = ("changed", *_PROTECTED, "protected", "digits", "spacing", "outside_letters")
    for name, by_lang in result["noise_damage"].items():
        for lang, k in by_lang.items():
            cells = [f"{lang} {k['turns']:,}"] + [_share(k.get(kind, 0), k["turns"]) for kind in kinds]
            lines.append(f"| {name} | {' | '.join(cells)} |")
    example = result["nlpaug_example"]
    if example:
        lines += ["", f"nlpaug on a Chinese turn: `{example['before']}` -> `{example['after']}`"]
    s = result["spans"]
    lines += [
        "",
        "Gazetteer span agreement, as sets of (text, start, end, label):",
        "",
        "| spans by dialogdata | spans by spaCy | in both | dialogdata only | spaCy only |",
        "|--:|--:|--:|--:|--:|",
        f"| {s['dialogdata_spans']:,} | {s['spacy_spans']:,} | {s['both']:,} | {s['dialogdata_only']:,} | "
        f"{s['spacy_only']:,} |",
    ]
    if s["reasons"]:
        lines += ["", "| found only by | why | spans |", "|---|---|--:|"]
        lines += [f"| {r['found_by']} | {r['reason']} | {r['count']:,} |" for r in s["reasons"]]
        lines += ["", "Examples:"]
        lines += [
            f"- {e['found_by']} only: {e['span']!r} ({e['label']}) in text {e['text']}, "
            f"`...{e['context']}...`: {e['detail']}"
            for e in s["examples"]
        ]
    lines += checks_table(result["checks"])
    return "\n".join(lines)


def _share(count: int, total: int) -> str:
    """A count as a percentage of its total, with the count."""
    return f"{100 * count / total:.1f}% ({count:,})" if total else "-"


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="dialogues in the corpus")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the median is reported")
    parser.add_argument("--workdir", type=Path, default=Path(".bench"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true", help="also profile the dialogdata cases (stderr)")
    args = parser.parse_args(argv)
    if args.n < 1 or args.repeat < 1:
        parser.error("--n and --repeat must be >= 1")
    result = bench(args.n, args.repeat, args.workdir, args.seed, args.profile)
    out = write_result(args.workdir, "augment", result)
    print(markdown(result))
    print(f"\nresults: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
