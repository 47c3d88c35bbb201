"""Hostile encodings: each case writes one file's bytes and names its encoding and fates by the contract."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

import orjson
import pytest

from tests.hostile.harness import assert_neighbours_survive, good_record, run_case, with_neighbours

FILE = "case.jsonl"
# Distinct everyday questions (never near duplicates of each other), in Simplified and Traditional Chinese.
ZH = [
    ("请问高血压患者每天应该怎样控制饮食？", "建议少吃盐，多吃蔬菜水果，并按时测量血压。"),
    ("我最近总是失眠，晚上睡不着怎么办？", "睡前不要喝咖啡，保持规律作息，必要时去医院看医生。"),
    ("信用卡逾期一天会影响个人征信吗？", "一般会有宽限期，请尽快还款并联系银行客服说明情况。"),
    ("孩子发烧三十八度五需要马上去医院吗？", "可以先物理降温，多喝水，如果持续不退请及时就医。"),
]
TW = [
    ("請問高血壓患者每天應該怎樣控制飲食？", "建議少吃鹽，多吃蔬菜水果，並按時測量血壓。"),
    ("我最近總是失眠，晚上睡不著怎麼辦？", "睡前不要喝咖啡，保持規律作息，必要時去醫院看醫生。"),
    ("信用卡逾期一天會影響個人信用嗎？", "一般會有寬限期，請盡快還款並聯絡銀行客服說明情況。"),
]
EN = [tuple(str(t["value"]) for t in good_record("enc", n)["conversations"]) for n in range(3)]
# Outside GBK: an emoji and a CJK Extension B ideograph, which GB18030 holds as four-byte sequences.
GB18030_ONLY = ("这个表情😀和汉字𠀀是什么意思？", "这是一个笑脸表情和一个扩展汉字。")
LATIN = [
    ("Grüße aus München: ist das Café heute geöffnet?", "Ja, bis achtzehn Uhr."),
    ("Where is the nearest pharmacy open tonight?", "On the main square, until ten."),
    ("Une crème brûlée et un thé, s'il vous plaît?", "Bien sûr, tout de suite."),
]
CP1252 = [
    ("Is the \u201cpremium\u201d card fee \u20ac40 a year?", "Yes \u2013 it is charged every January."),
    ("Can I change my PIN at any cash machine?", "Yes, at any machine of our bank."),
]


def _line(question: str, answer: str) -> str:
    """One ShareGPT JSON line, non-ASCII kept as text (as a GBK or UTF-16 file holds it)."""
    turns = [{"from": "human", "value": question}, {"from": "gpt", "value": answer}]
    return orjson.dumps({"conversations": turns}).decode()


def _text(pairs: list[tuple[str, str]], newline: str = "\n") -> str:
    """JSON Lines text of these dialogues."""
    return "".join(_line(q, a) + newline for q, a in pairs)


def _questions(pairs: list[tuple[str, str]]) -> tuple[str, ...]:
    """The user texts of these dialogues, as they must be written."""
    return tuple(q for q, _ in pairs)


def _one_bad(pairs: list[tuple[str, str]], codec: str, bad: bytes, at: int = 1) -> bytes:
    """The dialogues encoded with `codec`, with `bad` bytes put inside the question of line `at + 1`."""
    lines = [_line(q, a).encode(codec) for q, a in pairs]
    key = '"value":"'.encode(codec)
    head, tail = lines[at].split(key, 1)
    lines[at] = head + key + bad + tail
    return b"".join(line + "\n".encode(codec) for line in lines)


@dataclass(frozen=True)
class Case:
    """One file's bytes, the encoding the manifest must record, its reject codes at lines, and kept texts."""

    name: str
    body: bytes
    encoding: str
    texts: tuple[str, ...]
    codes: dict[str, int]
    lines: tuple[int, ...] = ()

    @property
    def records(self) -> int:
        """Every line with a dialogue is one record, kept or rejected."""
        return len(self.texts) + sum(self.codes.values())


_MIXED = [
    ("Line one\r\nline two\rline three: how many lines?", "Three, once normalised."),
    ("Does a CRLF line end matter?", "No, it is dropped with the line end."),
    ("And a line ending in LF only?", "That is the usual case."),
]
_BREAKS = [
    ("Does a line\u2028separator split this record?", "No: U+2028 is only a character\u2029here."),
    ("And the paragraph separator\u2029here?", "It stays inside the string too."),
    ("Is a next-line\u0085character kept as text?", "Yes, it is kept and flagged."),
]
# Binary junk at the head of a file: a PNG signature and header padded with NULs, on its own line.
_BINARY = b"\x89PNG\r\x1a\x00\x00\x00\x0dIHDR" + b"\x00" * 200 + b"\x08\x06\x00\x00\x00\x1f\xf3\xff\n"

CASES = [
    Case("UTF-8 with a BOM", codecs.BOM_UTF8 + _text(ZH).encode(), "utf-8-sig", _questions(ZH), {}),
    Case(
        "UTF-16 LE with a BOM and CRLF line ends",
        codecs.BOM_UTF16_LE + _text(ZH[:2] + EN, "\r\n").encode("utf-16-le"),
        "utf-16",
        _questions(ZH[:2] + EN),
        {},
    ),
    Case(
        "UTF-16 BE with a BOM",
        codecs.BOM_UTF16_BE + _text(EN + ZH[2:]).encode("utf-16-be"),
        "utf-16",
        _questions(EN + ZH[2:]),
        {},
    ),
    Case("UTF-16 LE without a BOM", _text(EN).encode("utf-16-le"), "utf-16-le", _questions(EN), {}),
    Case("UTF-16 BE without a BOM", _text(EN).encode("utf-16-be"), "utf-16-be", _questions(EN), {}),
    # An unpaired surrogate code unit cannot be decoded: its line alone is rejected.
    Case(
        "UTF-16 LE with an unpaired surrogate on one line",
        codecs.BOM_UTF16_LE + _one_bad(EN, "utf-16-le", b"\x00\xd8"),
        "utf-16",
        _questions([EN[0], EN[2]]),
        {"encoding.invalid": 1},
        lines=(2,),
    ),
    # GBK is a subset of GB18030: one decoder reads both, and the manifest names it.
    Case("GBK Chinese", _text(ZH).encode("gbk"), "gb18030", _questions(ZH), {}),
    Case(
        "GB18030 Chinese with characters outside GBK",
        _text([*ZH, GB18030_ONLY]).encode("gb18030"),
        "gb18030",
        _questions([*ZH, GB18030_ONLY]),
        {},
    ),
    Case(
        "GBK with one undecodable line",
        _one_bad(ZH, "gbk", b"\xff"),
        "gb18030",
        _questions([ZH[0], *ZH[2:]]),
        {"encoding.invalid": 1},
        lines=(2,),
    ),
    Case("Big5 Traditional Chinese", _text(TW).encode("big5"), "big5", _questions(TW), {}),
    Case(
        "invalid UTF-8 on one line among accented UTF-8 lines",
        _one_bad(LATIN, "utf-8", b"caf\xe9 "),
        "utf-8",
        _questions([LATIN[0], LATIN[2]]),
        {"encoding.invalid": 1},
        lines=(2,),
    ),
    Case(
        "invalid UTF-8 on one line among Chinese UTF-8 lines",
        _one_bad(ZH, "utf-8", b"\xe9t\xe9 "),
        "utf-8",
        _questions([ZH[0], *ZH[2:]]),
        {"encoding.invalid": 1},
        lines=(2,),
    ),
    Case(
        "invalid UTF-8 on one line among ASCII lines",
        _one_bad(EN, "utf-8", b"\xe9t\xe9 "),
        "utf-8",
        _questions([EN[0], EN[2]]),
        {"encoding.invalid": 1},
        lines=(2,),
    ),
    # Latin-1 and cp1252 are not supported: lines with their non-ASCII bytes do not decode and are rejected,
    # never guessed into other characters; ASCII lines read the same in every encoding.
    Case(
        "Latin-1 text",
        _text(LATIN).encode("latin-1"),
        "utf-8",
        _questions([LATIN[1]]),
        {"encoding.invalid": 2},
        lines=(1, 3),
    ),
    Case(
        "cp1252 text",
        _text(CP1252).encode("cp1252"),
        "utf-8",
        _questions([CP1252[1]]),
        {"encoding.invalid": 1},
        lines=(1,),
    ),
    # CRLF and LF both end a line; CR and CRLF inside a text become LF by the text policy.
    Case(
        "mixed line ends: CRLF and LF between records, CR and CRLF inside texts",
        (_line(*_MIXED[0]) + "\r\n" + _line(*_MIXED[1]) + "\r\n" + _line(*_MIXED[2]) + "\n").encode(),
        "utf-8",
        ("Line one\nline two\nline three: how many lines?", *_questions(_MIXED[1:])),
        {},
    ),
    # JSON Lines ends a line with LF only (jsonlines.org): a lone CR joins two records into one bad line.
    Case(
        "a lone CR between two records",
        (_line(*EN[0]) + "\r" + _line(*EN[1]) + "\n" + _line(*EN[2]) + "\n").encode(),
        "utf-8",
        _questions([EN[2]]),
        {"json.invalid": 1},
        lines=(1,),
    ),
    # Unicode line breaks are characters inside a JSON string, never line ends of the container; NEL is a C1
    # control, kept (and flagged) by the text policy.
    Case(
        "U+2028, U+2029 and U+0085 (NEL) inside strings",
        _text(_BREAKS).encode(),
        "utf-8",
        _questions(_BREAKS),
        {},
    ),
    Case("a file of only a UTF-8 BOM", codecs.BOM_UTF8, "utf-8-sig", (), {}),
    Case("an empty file", b"", "utf-8", (), {}),
    Case(
        "a NUL-heavy binary prefix",
        _BINARY + _text(EN).encode(),
        "utf-8",
        _questions(EN),
        {"encoding.invalid": 1},
        lines=(1,),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_encoded_file(tmp_path, case):
    """The file's encoding is recorded, its lines get their fates with exact texts, its neighbours survive."""
    raw = tmp_path / "raw"
    tags = with_neighbours(raw)
    (raw / FILE).write_bytes(case.body)
    outcome = run_case(raw, tmp_path / "out")
    entry = outcome.input(FILE)
    assert (entry["encoding"], entry["records"]) == (case.encoding, case.records)
    assert dict(outcome.reject_codes(FILE)) == case.codes
    assert tuple(r["source"]["line"] for r in outcome.rejects) == case.lines
    # Exactly the expected texts were read, character for character: nothing garbled was kept.
    assert entry["fates"]["kept"] == len(case.texts)
    assert set(case.texts) <= set(outcome.written)
    assert_neighbours_survive(outcome, tags)
