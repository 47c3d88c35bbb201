import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogdata.augmenters import RoleSwap
from dialogdata.errors import UsageError
from dialogdata.export import SPLITS, LeakageCheck, SplitPlanner, assign_split, check_ratios
from dialogdata.testing import chat_dialogues

RATIOS = {"train": 0.8, "validation": 0.1, "test": 0.1}


@given(chat_dialogues(), st.integers(0, 1000))
def test_split_children_follow_their_original(dialogue, seed):
    for child in RoleSwap(trailing="keep").augment(dialogue):
        assert assign_split(child, RATIOS, seed=seed) == assign_split(dialogue, RATIOS, seed=seed)


def test_split_shares_follow_ratios_and_seed():
    from dialogdata import Dialogue, Role, Turn

    dialogues = [Dialogue(turns=(Turn(role=Role.USER, content=str(i)),)) for i in range(5000)]
    names = [assign_split(d, RATIOS, seed=0) for d in dialogues]
    assert 0.77 < names.count("train") / 5000 < 0.83
    assert 0.08 < names.count("validation") / 5000 < 0.12
    assert names != [assign_split(d, RATIOS, seed=1) for d in dialogues]
    assert {assign_split(d, {"train": 1.0}) for d in dialogues} == {"train"}


@pytest.mark.parametrize("ratios", [{"train": 0.5}, {"train": 1.2, "test": -0.2}, {"dev": 1.0}])
def test_check_ratios_rejects_bad_ratios(ratios):
    with pytest.raises(UsageError):
        check_ratios(ratios)


RATIO_CHOICES = [
    RATIOS,
    {"train": 0.7, "validation": 0.15, "test": 0.15},
    {"train": 0.9, "test": 0.1},
    {"train": 0.5, "validation": 0.5, "test": 0.0},
    {"train": 1 / 3, "validation": 1 / 3, "test": 1 / 3},
    {"train": 1.0},
]

# One entry per dialogue: (stratum number, group number or None for a dialogue on its own).
corpora = st.lists(st.tuples(st.integers(0, 4), st.none() | st.integers(0, 25)), min_size=1, max_size=150)
singletons = st.lists(st.integers(0, 4), min_size=1, max_size=150)


def _corpus(entries):
    """Return [(id, stratum)] and group_of for generated entries."""
    added = [(f"d{i}", f"s{stratum}") for i, (stratum, _) in enumerate(entries)]
    group_of = {f"d{i}": f"g{group}" for i, (_, group) in enumerate(entries) if group is not None}
    return added, group_of


def _plan(added, group_of, ratios, seed):
    planner = SplitPlanner()
    for dialogue_id, stratum in added:
        planner.add(dialogue_id, stratum)
    return planner.plan(group_of, ratios, seed=seed)


def _by_stratum(added, plan):
    """Return {stratum: {split: dialogues}} counted from split_of, by each dialogue's own stratum."""
    out = {}
    for dialogue_id, stratum in added:
        counts = out.setdefault(stratum, dict.fromkeys(SPLITS, 0))
        counts[plan.split_of(dialogue_id)] += 1
    return out


@given(corpora, st.sampled_from(RATIO_CHOICES), st.integers(0, 1000))
def test_planner_gives_each_group_one_used_split(entries, ratios, seed):
    added, group_of = _corpus(entries)
    plan = _plan(added, group_of, ratios, seed)
    seen = {}
    for dialogue_id, _ in added:
        split = plan.split_of(dialogue_id)
        assert ratios.get(split, 0.0) > 0
        seen.setdefault(group_of.get(dialogue_id, dialogue_id), set()).add(split)
    assert all(len(splits) == 1 for splits in seen.values())
    summary = plan.summary()["splits"]
    assert sum(s["dialogues"] for s in summary.values()) == len(added)
    assert sum(s["groups"] for s in summary.values()) == len(seen)
    assert all(summary[name] == {"groups": 0, "dialogues": 0} for name in SPLITS if not ratios.get(name))


@given(singletons, st.sampled_from(RATIO_CHOICES), st.integers(0, 1000))
def test_planner_singletons_hit_quotas_per_stratum_and_overall(strata, ratios, seed):
    added = [(f"d{i}", f"s{stratum}") for i, stratum in enumerate(strata)]
    plan = _plan(added, {}, ratios, seed)
    summary = plan.summary()
    assert summary["strata"] == _by_stratum(added, plan)
    for counts in summary["strata"].values():
        n = sum(counts.values())
        for name in SPLITS:
            quota = ratios.get(name, 0.0) * n
            assert math.floor(quota - 1e-9) <= counts[name] <= math.ceil(quota + 1e-9)
    for name in SPLITS:
        assert abs(summary["splits"][name]["dialogues"] - ratios.get(name, 0.0) * len(added)) < 1


@given(corpora, st.sampled_from(RATIO_CHOICES), st.integers(0, 1000))
def test_planner_groups_move_each_stratum_by_less_than_two_groups(entries, ratios, seed):
    # Strata from the group, so every dialogue counts in its own stratum.
    entries = [(group % 5 if group is not None else stratum, group) for stratum, group in entries]
    added, group_of = _corpus(entries)
    plan = _plan(added, group_of, ratios, seed)
    sizes = {}
    for dialogue_id, stratum in added:
        key = (stratum, group_of.get(dialogue_id, dialogue_id))
        sizes[key] = sizes.get(key, 0) + 1
    for stratum, counts in plan.summary()["strata"].items():
        n = sum(counts.values())
        largest = max(size for (s, _), size in sizes.items() if s == stratum)
        for name in SPLITS:
            assert abs(counts[name] - ratios.get(name, 0.0) * n) < 2 * largest - 1 + 1e-9


@given(corpora, st.sampled_from(RATIO_CHOICES), st.integers(0, 1000), st.randoms(use_true_random=False))
def test_planner_ignores_add_order_when_first_members_stay_first(entries, ratios, seed, rng):
    added, group_of = _corpus(entries)
    shuffled = list(added)
    rng.shuffle(shuffled)
    # Move each group's original first member back to the group's earliest position in the shuffle.
    first = {}
    for dialogue_id, _ in added:
        first.setdefault(group_of.get(dialogue_id, dialogue_id), dialogue_id)
    for key, dialogue_id in first.items():
        positions = [i for i, (d, _) in enumerate(shuffled) if group_of.get(d, d) == key]
        at = next(i for i in positions if shuffled[i][0] == dialogue_id)
        shuffled[positions[0]], shuffled[at] = shuffled[at], shuffled[positions[0]]
    a = _plan(added, group_of, ratios, seed)
    b = _plan(shuffled, group_of, ratios, seed)
    assert [a.split_of(d) for d, _ in added] == [b.split_of(d) for d, _ in added]
    assert a.summary() == b.summary()


@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_planner_seed_changes_the_assignment(seed, other):
    added = [(f"d{i}", f"s{i % 3}") for i in range(200)]
    a, b = _plan(added, {}, RATIOS, seed), _plan(added, {}, RATIOS, other)
    assert ([a.split_of(d) for d, _ in added] == [b.split_of(d) for d, _ in added]) == (seed == other)


def test_planner_splits_small_and_large_strata_in_ratio():
    added = [(f"big{i}", "big.jsonl|en") for i in range(1000)] + [
        (f"small{i}", "small.jsonl|de") for i in range(20)
    ]
    strata = _plan(added, {}, RATIOS, 7).summary()["strata"]
    assert strata["big.jsonl|en"] == {"train": 800, "validation": 100, "test": 100}
    assert strata["small.jsonl|de"] == {"train": 16, "validation": 2, "test": 2}


def test_planner_carries_remainders_so_tiny_strata_are_not_all_train():
    added = [(f"d{i}", f"file{i}.jsonl|en") for i in range(100)]
    summary = _plan(added, {}, RATIOS, 3).summary()
    assert {name: summary["splits"][name]["dialogues"] for name in SPLITS} == {
        "train": 80,
        "validation": 10,
        "test": 10,
    }


def test_planner_is_exact_where_hashing_is_not():
    added = [(f"d{i}", "chat.jsonl|en") for i in range(40)]
    for seed in range(20):
        summary = _plan(added, {}, RATIOS, seed).summary()["splits"]
        assert [summary[name]["dialogues"] for name in SPLITS] == [32, 4, 4]


def test_planner_group_takes_its_first_members_stratum_and_repeats_count_once():
    planner = SplitPlanner()
    for dialogue_id, stratum in [("a", "x"), ("b", "y"), ("a", "y"), ("c", "y")]:
        planner.add(dialogue_id, stratum)
    plan = planner.plan({"c": "a"}, {"train": 1.0}, seed=0)
    assert len(planner) == 4
    assert plan.summary() == {
        "splits": {
            "train": {"groups": 2, "dialogues": 3},
            "validation": {"groups": 0, "dialogues": 0},
            "test": {"groups": 0, "dialogues": 0},
        },
        "strata": {
            "x": {"train": 2, "validation": 0, "test": 0},
            "y": {"train": 1, "validation": 0, "test": 0},
        },
    }


def test_plan_falls_back_for_ids_never_added():
    from dialogdata import Dialogue, Role, Turn

    added = [(f"d{i}", "s") for i in range(50)]
    group_of = {"d3": "cluster", "late": "cluster"}
    plan = _plan(added, group_of, RATIOS, 5)
    assert plan.split_of("late") == plan.split_of("d3")
    anyone = Dialogue(turns=(Turn(role=Role.USER, content="hi"),))
    for stray in ("stray", "other", "x" * 40):
        assert plan.split_of(stray) == assign_split(anyone, RATIOS, seed=5, group=stray)


@given(corpora, st.sampled_from(RATIO_CHOICES), st.integers(0, 1000))
def test_leakage_is_zero_when_written_through_the_plan(entries, ratios, seed):
    added, group_of = _corpus(entries)
    plan = _plan(added, group_of, ratios, seed)
    check = LeakageCheck()
    for dialogue_id, _ in added:
        group = group_of.get(dialogue_id, dialogue_id)
        for written in (dialogue_id, f"{dialogue_id}~swap"):
            check.add(written, dialogue_id, group, plan.split_of(dialogue_id))
    pairs = [
        (a, b) for (a, _), (b, _) in itertools.pairwise(added) if group_of.get(a, a) == group_of.get(b, b)
    ]
    assert check.report(pairs) == dict.fromkeys(
        ("ids_across_splits", "roots_across_splits", "groups_across_splits", "pairs_across_splits"), 0
    )


def test_leakage_counts_planted_leaks():
    check = LeakageCheck()
    check.add("a", "a", "g1", "train")
    check.add("a~swap", "a", "g1", "train")
    check.add("b", "b", "g1", "test")  # b shares a's group but went to test
    check.add("c", "c", "c", "train")
    check.add("c~swap", "c", "c", "validation")  # a child away from its original
    check.add("d", "d", "d", "train")
    check.add("d", "d", "d", "test")  # the same text written twice
    check.add("e", "e", "e", "validation")
    pairs = [("a", "e"), ("e", "a"), ("a", "c"), ("a", "missing")]
    assert check.report(pairs) == {
        "ids_across_splits": 1,
        "roots_across_splits": 2,
        "groups_across_splits": 3,
        "pairs_across_splits": 1,
    }


def test_leakage_checks_add_up_across_shards():
    left, right = LeakageCheck(), LeakageCheck()
    left.add("a", "a", "g", "train")
    right.add("b", "b", "g", "test")
    assert left.report()["groups_across_splits"] == right.report()["groups_across_splits"] == 0
    assert (left + right).report()["groups_across_splits"] == 1


def test_leakage_rejects_unknown_split():
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        LeakageCheck().add("a", "a", "a", "dev")
