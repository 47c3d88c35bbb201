"""Schema candidates side by side: construction and from_dict of 100k dialogues.

Compares msgspec Structs (what dialogdata uses), pydantic v2 frozen models and frozen
dataclasses with a hand-written from_dict, all computing the same content id.
Run: `make bench` (installs pydantic) or `python benchmarks/bench_schema.py [N]`.
"""

from __future__ import annotations

import dataclasses
import gc
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from dialogdata.schemas import Dialogue, Role, Turn, content_id

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


def main(n: int = 100_000) -> None:
    records = make_records(n)
    cases: dict[str, dict[str, Callable[[], object]]] = {
        "msgspec (dialogdata)": {
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
    print(f"{n:,} dialogues, {sum(len(r['turns']) for r in records):,} turns")
    print(f"{'candidate':<22} {'construct s':>12} {'from_dict s':>12} {'vs msgspec':>11} {'peak MiB':>9}")
    for name, fns in cases.items():
        construct, _ = timed(fns["construct"])
        from_dict, peak = timed(fns["from_dict"])
        base = base or from_dict
        print(f"{name:<22} {construct:>12.3f} {from_dict:>12.3f} {from_dict / base:>10.2f}x {peak:>9.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
