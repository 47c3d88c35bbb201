"""Schema candidates side by side: construction and from_dict of 100k dialogues.

Compares msgspec Structs (what dialogdata uses), pydantic v2 frozen models and frozen
dataclasses with a hand-written from_dict, all computing the same content id.
Run: `make bench` (installs pydantic) or `python benchmarks/bench_schema.py [N] [--repeat 3]
[--workdir .bench]`. Prints a table; writes `<workdir>/bench_schema.json`.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dialogdata.schemas import Dialogue, Role, Turn, content_id

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import row, write_result

OURS = "msgspec (dialogdata)"

ZH = "患者您好请问高血压需要长期服药吗建议低盐饮食并定期复查血压信用卡额度调整需要提供收入证明"
EN = [
    "the",
    "patient",
    "reports",
    "a",
    "mild",
    "headache",
    "since",
    "yesterday",
    "please",
    "check",
    "blood",
    "pressure",
]


def make_records(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Deterministic raw canonical dicts: 2-8 turns, mixed Chinese and English."""
    rng = random.Random(seed)
    records = []
    for i in range(n):
        turns = []
        for t in range(rng.randint(1, 4) * 2):
            if rng.random() < 0.5:
                text = "".join(rng.choice(ZH) for _ in range(rng.randint(10, 120)))
            else:
                text = " ".join(rng.choice(EN) for _ in range(rng.randint(5, 60)))
            turns.append({"role": "user" if t % 2 == 0 else "assistant", "content": text})
        records.append({"turns": turns, "meta": {"n": i}})
    return records


# --- candidate 2: pydantic v2 --------------------------------------------------------------


def pydantic_models() -> tuple[Any, Any] | None:
    """Equivalent frozen pydantic models, or None when pydantic is not installed."""
    try:
        import pydantic
    except ImportError:
        return None

    class PTurn(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(frozen=True)
        role: Role
        content: str = ""
        name: str | None = None
        tool_calls: tuple[dict[str, Any], ...] = ()
        tool_call_id: str | None = None
        loss: bool | None = None
        meta: dict[str, Any] = pydantic.Field(default_factory=dict)

    class PDialogue(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(frozen=True)
        id: str = ""
        turns: tuple[PTurn, ...]
        tools: tuple[Any, ...] = ()
        meta: dict[str, Any] = pydantic.Field(default_factory=dict)
        tags: dict[str, str] = pydantic.Field(default_factory=dict)
        scores: dict[str, float] = pydantic.Field(default_factory=dict)

        def model_post_init(self, context: Any) -> None:
            if not self.id:
                object.__setattr__(self, "id", content_id(self.turns))  # type: ignore[arg-type]

    return PTurn, PDialogue


# --- candidate 3: frozen dataclasses ------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class DTurn:
    role: Role
    content: str = ""
    name: str | None = None
    tool_calls: tuple[Any, ...] = ()
    tool_call_id: str | None = None
    loss: bool | None = None
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, slots=True)
class DDialogue:
    turns: tuple[DTurn, ...]
    id: str = ""
    tools: tuple[Any, ...] = ()
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    scores: dict[str, float] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", content_id(self.turns))  # type: ignore[arg-type]


def dataclass_from_dict(d: dict[str, Any]) -> DDialogue:
    """Hand-written from_dict with the checks the others do for free (types of role/content)."""
    turns = []
    for t in d["turns"]:
        content = t.get("content", "")
        if not isinstance(content, str):
            raise TypeError("content must be a string")
        turns.append(DTurn(role=Role(t["role"]), content=content, meta=t.get("meta", {})))
    return DDialogue(turns=tuple(turns), meta=d.get("meta", {}))


# --- harness -------------------------------------------------------------------------------


def timed(fn: Callable[[], object], repeat: int = 3) -> tuple[float, float]:
    """Median wall time over `repeat` runs, and the peak traced memory of one run (MiB)."""
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    gc.collect()
    tracemalloc.start()
    kept = fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    del kept
    return statistics.median(times), peak


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000, help="dialogues (default 100,000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per case; the median is reported")
    parser.add_argument("--workdir", type=Path, default=Path(".bench"))
    args = parser.parse_args(argv)
    if args.n < 1 or args.repeat < 1:
        parser.error("N and --repeat must be >= 1")
    n, repeat = args.n, args.repeat
    records = make_records(n)
    cases: dict[str, dict[str, Callable[[], object]]] = {
        OURS: {
            "construct": lambda: [
                Dialogue(
                    turns=tuple(Turn(role=Role(t["role"]), content=t["content"]) for t in r["turns"]),
                    meta=r["meta"],
                )
                for r in records
            ],
            "from_dict": lambda: [Dialogue.from_dict(r) for r in records],
        },
        "frozen dataclasses": {
            "construct": lambda: [
                DDialogue(
                    turns=tuple(DTurn(role=Role(t["role"]), content=t["content"]) for t in r["turns"]),
                    meta=r["meta"],
                )
                for r in records
            ],
            "from_dict": lambda: [dataclass_from_dict(r) for r in records],
        },
    }
    models = pydantic_models()
    if models is not None:
        p_turn, p_dialogue = models
        cases["pydantic v2"] = {
            "construct": lambda: [
                p_dialogue(
                    turns=tuple(p_turn(role=Role(t["role"]), content=t["content"]) for t in r["turns"]),
                    meta=r["meta"],
                )
                for r in records
            ],
            "from_dict": lambda: [p_dialogue.model_validate(r) for r in records],
        }
    else:
        print("pydantic not installed: `pip install -e '.[bench]'` to include it", file=sys.stderr)
    base = None
    turns = sum(len(r["turns"]) for r in records)
    print(f"{n:,} dialogues, {turns:,} turns")
    print(f"{'candidate':<22} {'construct s':>12} {'from_dict s':>12} {'vs msgspec':>11} {'peak MiB':>9}")
    results: dict[str, dict[str, float]] = {}
    for name, fns in cases.items():
        construct, _ = timed(fns["construct"], repeat)
        from_dict, peak = timed(fns["from_dict"], repeat)
        base = base or from_dict
        results[name] = {"construct_seconds": construct, "from_dict_seconds": from_dict, "peak_mib": peak}
        print(f"{name:<22} {construct:>12.3f} {from_dict:>12.3f} {from_dict / base:>10.2f}x {peak:>9.1f}")
    label = f"{n // 1000}k" if n % 1000 == 0 else f"{n:,}"
    ours = results[OURS]
    rows = [
        row(
            f"schema from_dict {label} vs {name}",
            "msgspec Dialogue.from_dict",
            ours["from_dict_seconds"],
            "pydantic v2 model_validate" if name == "pydantic v2" else f"{name}, hand-written from_dict",
            theirs["from_dict_seconds"],
            # A choice between candidates, not a target: no aim.
            aim=None,
            note=(
                f"{turns:,} turns in one process, median of {repeat}; traced peak "
                f"{ours['peak_mib']:.1f} vs {theirs['peak_mib']:.1f} MiB"
            ),
        )
        for name, theirs in results.items()
        if name != OURS
    ]
    payload = {"n": n, "turns": turns, "repeat": repeat, "cases": results, "rows": rows, "checks": []}
    out = write_result(args.workdir, "schema", payload)
    print(f"\nresults: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
