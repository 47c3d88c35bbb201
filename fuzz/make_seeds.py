"""Write the seed corpora under fuzz/seeds/<harness>/: a few valid samples and small hostile ones.

Run from the repository root: `python -m fuzz.make_seeds` (it replaces the seed folders). Every seed
starts with its harness's option bytes (see each harness's docstring), zero meaning the defaults.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
import zipfile
from pathlib import Path

import zstandard

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "fuzz" / "seeds"
RAW = ROOT / "examples" / "raw"

# Option byte values (see fuzz/_harness.py): encoding 0 = detected, 7 + i = ENCODINGS[i] forced.
DETECTED, UTF8, UTF16, GB18030, BIG5 = 0, 7, 9, 12, 13
DEFAULT, TINY = 0, 1

OPENAI = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
OPENAI_TOOLS = {
    "messages": [
        {"role": "user", "content": "weather in Paris?"},
        {
            "role": "assistant",
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "w", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        {"role": "assistant", "content": [{"type": "text", "text": "Sunny."}], "weight": 1},
    ],
    "tools": [{"type": "function", "function": {"name": "w"}}],
}
SHAREGPT = {
    "conversations": [
        {"from": "human", "value": "hi"},
        {"from": "function_call", "value": '{"name": "f", "arguments": {"x": 1}}'},
        {"from": "observation", "value": "1"},
        {"from": "gpt", "value": "done"},
    ],
    "tools": '[{"name": "f"}]',
    "system": "be brief",
}
CHATGLM3 = {
    "conversations": [
        {"role": "system", "content": "s", "tools": [{"name": "f"}]},
        {"role": "user", "content": "q"},
        {"role": "tool", "name": "f", "parameters": {"a": 1}, "observation": {"r": 2}},
        {"role": "assistant", "content": "a", "loss": False},
    ]
}
ALPACA = {"instruction": "Sum", "input": "1 2", "output": "3", "system": "s", "history": [["a", "b"]]}
UTTERANCES = {"dialog": ["你好", {"text": "您好", "emotion": "joy"}], "topic": "greeting"}
QA = {"question": "问", "answer": "答", "department": "内科"}
TABLE = [
    {"dialogue_id": "d1", "speaker": "customer", "text": "card lost", "turn": "2"},
    {"dialogue_id": "d1", "speaker": "agent", "text": "blocked", "turn": "3"},
    {"dialogue_id": "d2", "speaker": "甲", "text": "你好", "turn": "x"},
]


def _line(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def _lines(path: Path, count: int) -> bytes:
    return b"".join(path.read_bytes().splitlines(keepends=True)[:count])


def _deep(depth: int) -> bytes:
    return b'{"messages": ' + b"[" * depth + b"]" * depth + b"}"


def jsonl_payloads() -> dict[str, bytes]:
    good = _lines(RAW / "bank_followup.jsonl", 2)
    return {
        "bank_followup": good,
        "clinic_openai": _lines(RAW / "clinic_openai.jsonl", 2),
        "formats": b"\n".join(map(_line, (OPENAI_TOOLS, SHAREGPT, CHATGLM3, ALPACA, UTTERANCES, QA))),
        "broken_and_blank": _line(OPENAI) + b'\n\n   \n{"messages": [{"role": "user", "content": "cut\n',
        "bom_crlf": b"\xef\xbb\xbf" + _line(OPENAI) + b"\r\n" + _line(OPENAI) + b"\r\n",
        "bad_utf8": _line(OPENAI) + b'\n{"messages": "\xb8\xdf\xff"}\n' + _line(OPENAI),
        "deep": _deep(120) + b"\n" + _deep(2000),
        "escapes": b'{"messages": [{"role": "user", "content": "\\ud800 \\u0000 \\u202e x"}]}\n[1e999, -0]\n',
        "scalars": b'"text"\n12345678901234567890123\nnull\ntrue\n["a", "b"]\n',
        "utf16le": b"\xff\xfe" + (_line(OPENAI).decode() + "\r\n").encode("utf-16-le") * 2,
        "gbk": _line({"messages": [{"role": "user", "content": "医生您好，头痛"}]}).decode().encode("gbk"),
    }


def json_payloads() -> dict[str, bytes]:
    array = json.loads((RAW / "bank_sharegpt.json").read_bytes())[:2]
    text = json.dumps(array, indent=1, ensure_ascii=False).encode()
    return {
        "bank_sharegpt": text,
        "truncated": text[: len(text) // 2],
        "keyed": json.dumps({"a": OPENAI, "b": ALPACA, "c": {"x": 1}}).encode(),
        "single": _line(SHAREGPT),
        "jsonl_as_json": _line(OPENAI) + b"\n" + _line(QA) + b"\n",
        "unbalanced": b'[{"messages": [1, }, {"a": ]]}, "str ] , [", 3]  trailing',
        "nested_arrays": b'[[["a", "b"]], ["x"], [], {}, null, ]',
        "empty": b"  \n",
        "bom_table": b"\xef\xbb\xbf" + json.dumps(TABLE, ensure_ascii=False).encode(),
    }


def csv_payloads() -> dict[str, bytes]:
    return {
        "qa": 'question,answer,department\n头痛怎么办,多休息,内科\n"a, q","multi\nline",x\n'.encode(),
        "table": (
            b"dialogue_id,speaker,text,turn\nd1,customer,card lost,1\nd1,agent,blocked,2\n"
            b"d2,a,b,1\nd2,c,d,2\n"
        ),
        "tsv": b"query\tresponse\nq1\tr1\nq2\tr2\n",
        "no_header": b"1,2,3\n4,5,6\n7,8\n",
        "field_count": b'question,answer\nq,a,extra\n"open quote,a\n',
        "gbk": "问,答\n头痛怎么办,多休息\n".encode("gbk"),
        "semicolon_crlf": b"prompt;completion\r\np;c\r\n\r\n",
        "nul_and_surrogate": b"question,answer\nq\x00,a\nq,\xed\xa0\x80\nq,\xff\n",
        "utf16": "question,answer\n你好,您好\n".encode("utf-16"),
    }


def yaml_payloads() -> dict[str, bytes]:
    return {
        "chatterbot": b"categories:\n- hello\nconversations:\n- - Hello\n  - Hi there\n- - NO\n  - 1984\n",
        "records": (
            b"- conversations:\n  - from: human\n    value: hi\n  - from: gpt\n    value: '2024-01-01'\n"
        ),
        "aliases": b"a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c, *c, *c]\n",
        "tags": b"- !!python/object:os.system {}\n- !custom x\n- ? complex key\n  : v\n",
        "invalid": b"- a: [1, 2\n- b: }\n\t- tab\n",
        "deep": b"- " + b"[" * 300 + b"]" * 300 + b"\n",
        "escapes": b'- {dialog: ["\\ud800", "\\x00\\u202e", "\\U0001F600"]}\n',
        "multi_doc": b"--- [a]\n--- [b]\n",
        "gbk": "- question: 问\n  answer: 答\n".encode("gbk"),
    }


def encoding_payloads() -> dict[str, bytes]:
    zh = "医生您好，我最近头痛，需要吃药吗？\n请遵医嘱。\r\n最后一行"
    tw = "醫生您好，我最近頭痛，需要吃藥嗎？\n請遵醫囑。"
    return {
        "utf8": zh.encode(),
        "utf8_bom": b"\xef\xbb\xbf" + zh.encode(),
        "gb18030": zh.encode("gb18030"),
        "big5": tw.encode("big5"),
        "utf16le": zh.encode("utf-16-le"),
        "utf16be_bom": b"\xfe\xff" + zh.encode("utf-16-be"),
        "utf32": "ab\n".encode("utf-32"),
        "mixed": zh.encode() + b"\n" + zh.encode("gbk") + b"\n\xff\xfe\n",
        "cr_only": b"a\rb\r\rc\r",
        "euckr": "안녕하세요 반갑습니다".encode("euc-kr"),
        "latin1": "café naïve".encode("latin-1"),
        "cut": zh.encode()[:-1],
    }


def formats_payloads() -> dict[str, bytes]:
    values = {
        "openai": OPENAI_TOOLS,
        "sharegpt": SHAREGPT,
        "chatglm3": CHATGLM3,
        "alpaca": ALPACA,
        "utterances": UTTERANCES,
        "utterance_list": ["a", "b", "c"],
        "qa": QA,
        "table": TABLE,
        "bad_types": {"messages": [{"role": 1, "content": {"a": 1}}], "tools": 3, "id": [1]},
        "wrong_shapes": {"conversations": [{"from": "x", "value": None}], "history": [[1]]},
    }
    out = {name: bytes([0]) + _line(value) for name, value in values.items()}
    # Python's json decoder (option bit 0): lone surrogates, NaN, Infinity, as other containers give them.
    out["surrogate_meta"] = b"\x01" + b'{"dialog": ["a", "b"], "\\udc80": "\\ud800", "n": NaN}'
    out["surrogate_tool"] = b"\x01" + (
        b'{"messages": [{"role": "assistant", "tool_calls": '
        b'[{"function": {"name": "\\udfff", "arguments": "\\ud800"}}]}]}'
    )
    return out


def reader_payloads() -> dict[str, bytes]:
    # byte 0: extension (0 .jsonl, 1 .json, 2 .csv, 3 .yaml, 4 .ndjson, 5 .tsv, 6 .yml); byte 1: wrapping
    # (0 none, 3 .gz, 4 .zst, 5 .zip, 6 .gz raw, 7 .zst raw, 8 .zip raw, 9 .zip two); byte 2: format, limits.
    return {
        "jsonl": bytes([0, 0, 0]) + _lines(RAW / "bank_followup.jsonl", 2),
        "jsonl_gz": bytes([0, 3, 0]) + _line(OPENAI) + b"\nnot json\n",
        "json_zip": bytes([1, 5, 0]) + json.dumps([OPENAI, ALPACA, 1]).encode(),
        "csv_table": bytes([2, 0, 0]) + csv_payloads()["table"],
        "csv_table_zst": bytes([2, 4, 0]) + b"dialogue_id,speaker,text\n,a,b\nd,x,\xed\xa0\x80\nd,y,z\n",
        "yaml_zip_two": bytes([3, 9, 0]) + yaml_payloads()["chatterbot"],
        "tsv_forced_format": bytes([5, 0, 8]) + b"a\tb\nq\tr\n",
        "jsonl_tiny": bytes([0, 0, 0x80]) + _line(OPENAI) * 3 + b"\n" + _deep(20),
        "gz_raw": bytes([0, 6, 0]) + gzip.compress(_line(OPENAI))[:-6],
        "zip_raw": bytes([1, 8, 0]) + b"PK\x03\x04" + b"\x00" * 40,
        "zst_raw": bytes([0, 7, 0]) + zstandard.ZstdCompressor().compress(_line(OPENAI) + b"\n"),
        "zip_methods_raw": bytes([0, 8, 0]) + _zip(_line(QA) + b"\n" + _line(OPENAI)),
    }


def _zip(payload: bytes) -> bytes:
    """A real archive to mutate: one member per compression method zipfile writes, and a folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("folder/", b"")
        for name, method in (("s", zipfile.ZIP_STORED), ("d", zipfile.ZIP_DEFLATED)):
            archive.writestr(f"{name}.jsonl", payload, compress_type=method)
        for name, method in (("b", zipfile.ZIP_BZIP2), ("l", zipfile.ZIP_LZMA)):
            archive.writestr(f"{name}.jsonl", payload, compress_type=method)
    return buffer.getvalue()


def main() -> None:
    """Replace fuzz/seeds/ with the corpora above."""
    prefixes = {
        "jsonl": (jsonl_payloads, [(DETECTED, DEFAULT), (UTF8, TINY)]),
        "json": (json_payloads, [(DETECTED, DEFAULT), (DETECTED, TINY | 0x80)]),
        "csv": (csv_payloads, [(DETECTED, DEFAULT, 0), (DETECTED, TINY, 3)]),
        "yaml": (yaml_payloads, [(DETECTED, DEFAULT), (UTF8, TINY)]),
        "encoding": (encoding_payloads, [(0, 0), (GB18030 - 7, 0x81), (BIG5 - 7, 2), (UTF16 - 7, 3)]),
    }
    shutil.rmtree(SEEDS, ignore_errors=True)
    for harness, (payloads, options) in prefixes.items():
        folder = SEEDS / harness
        folder.mkdir(parents=True)
        for name, payload in payloads().items():
            for number, head in enumerate(options):
                (folder / f"{name}-{number}.bin").write_bytes(bytes(head) + payload)
    for harness, payloads in (("formats", formats_payloads), ("reader", reader_payloads)):
        folder = SEEDS / harness
        folder.mkdir(parents=True)
        for name, payload in payloads().items():
            (folder / f"{name}.bin").write_bytes(payload)
    size = sum(p.stat().st_size for p in SEEDS.rglob("*.bin"))
    print(f"wrote {sum(1 for _ in SEEDS.rglob('*.bin'))} seeds, {size:,} bytes, under {SEEDS}")


if __name__ == "__main__":
    main()
