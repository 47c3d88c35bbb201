"""`aug.for_datasets(format)` inside `datasets.Dataset.map(..., batched=True)`, on real `Dataset`s."""

import orjson
import pytest
from datasets import Dataset

from dialogdata.augmenters import Adversarial, EntitySubstitution, RoleSwap
from dialogdata.ingest import parse_record

SHAREGPT = [
    {
        "conversations": [
            {"from": "human", "value": f"How do I raise the limit of card {i}?"},
            {"from": "gpt", "value": "Apply in the mobile banking app."},
            {"from": "human", "value": "And the annual fee?"},
            {"from": "gpt", "value": "The first year is free."},
        ],
        "system": "You are a bank assistant." if i % 2 else None,
        "category": f"cards-{i}",
    }
    for i in range(7)
]
OPENAI = [
    {
        "messages": [
            {"role": "user", "content": "我有高血压，能吃阿司匹林吗？"},
            {"role": "assistant", "content": "高血压患者请遵医嘱服用阿司匹林。"},
        ]
    },
    {
        "messages": [
            {"role": "user", "content": "Book me a cardiology appointment."},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "book", "arguments": '{"department": "cardiology"}'},
                    }
                ],
            },
            {"role": "tool", "content": '{"ok": true}', "tool_call_id": "call_1"},
            {"role": "assistant", "content": "Booked with cardiology."},
        ]
    },
    {
        "messages": [
            {"role": "user", "content": "Is diabetes hereditary?"},
            {"role": "assistant", "content": "Partly; diabetes risk runs in families."},
        ]
    },
]


def _without_nulls(value):
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def test_role_swap_map_keeps_rows_and_adds_children_in_the_same_format():
    ds = Dataset.from_list(SHAREGPT)
    out = ds.map(RoleSwap(seed=1).for_datasets("sharegpt"), batched=True, batch_size=3)
    rows = out.to_list()
    assert len(rows) == 14
    for parent_row, child_row in zip(rows[::2], rows[1::2], strict=True):
        assert parent_row == SHAREGPT[rows.index(parent_row) // 2]
        parent = parse_record(_without_nulls(parent_row), "sharegpt")
        child = parse_record(_without_nulls(child_row), "sharegpt")
        (expected,) = RoleSwap(seed=1).augment(parent)
        assert child.turns == expected.turns
        assert child_row["category"] == parent_row["category"]
        assert child_row["system"] is None


@pytest.mark.parametrize("batch_size", [1, 2, 5])
def test_map_output_does_not_depend_on_batch_size(batch_size):
    ds = Dataset.from_list(SHAREGPT)
    function = Adversarial(seed=3, p=0.6).for_datasets("sharegpt")
    reference = ds.map(function, batched=True, batch_size=len(SHAREGPT)).to_list()
    assert ds.map(function, batched=True, batch_size=batch_size).to_list() == reference
    assert len(SHAREGPT) < len(reference) < 2 * len(SHAREGPT)


def test_map_output_does_not_depend_on_num_proc():
    ds = Dataset.from_list(SHAREGPT * 3)
    function = Adversarial(seed=3).for_datasets("sharegpt")
    one = ds.map(function, batched=True, batch_size=4).to_list()
    two = ds.map(function, batched=True, batch_size=4, num_proc=2).to_list()
    assert one == two


def test_entities_map_on_openai_rows_with_tool_calls_and_lineage():
    ds = Dataset.from_list(OPENAI)
    out = ds.map(
        EntitySubstitution(seed=2).for_datasets("openai", lineage=True, keep_originals=False),
        batched=True,
        remove_columns=ds.column_names,
    )
    rows = out.to_list()
    assert len(rows) == 3
    first = parse_record(_without_nulls(rows[0]), "openai")
    assert "高血压" not in first.turns[0].content and "阿司匹林" not in first.turns[0].content
    calls = [m for m in rows[1]["messages"] if m["tool_calls"]]
    assert "cardiology" not in calls[0]["tool_calls"][0]["function"]["arguments"]
    operations = orjson.loads(rows[2]["dialogdata_operations"])
    assert operations[0]["name"] == "entities" and operations[0]["seed"] == 2
    original = parse_record(OPENAI[2], "openai")
    assert rows[2]["dialogdata_parent_id"] == original.id
    assert rows[2]["dialogdata_id"] == parse_record(_without_nulls(rows[2]), "openai").id


def test_unreadable_rows_stay_and_are_counted():
    rows = [*SHAREGPT[:2], {"conversations": [], "system": None, "category": "empty"}]
    swap = RoleSwap()
    out = Dataset.from_list(rows).map(swap.for_datasets("sharegpt"), batched=True).to_list()
    assert len(out) == 5 and out[-1]["category"] == "empty"
    assert swap.skipped["unreadable:format.no_turns"] == 1
