"""Encoding detection and per-line decoding: every supported encoding, bad bytes as data, chunk boundaries."""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Callable
from typing import Literal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dialogdata.ingest.encoding import ENCODINGS, Line, decode_text, detect_encoding, iter_lines

HEAD = 64 << 10  # what the reader passes to detect_encoding

Shape = Callable[[int, str], str]
BOMS = (codecs.BOM_UTF8, "\ufeff".encode("gb18030"))

MEDICAL = "患者主诉头痛三天，血压150/95，建议内科就诊。"
CARD = "請問信用卡額度如何調整？"

# Realistic short turns in both scripts, written for these tests (not converted from each other).
SIMPLIFIED = [
    MEDICAL,
    "医生您好，我最近总是失眠，晚上两三点才能睡着，白天没精神，需要吃药吗？",
    "孩子发烧38.5度，咳嗽有痰，已经吃了退烧药，还要去医院吗？",
    "糖尿病患者空腹血糖7.8，餐后两小时11.2，目前口服二甲双胍。",
    "您好，我的快递三天了还没到，订单号是20240315001，麻烦帮我查一下。",
    "请问这款手机支持双卡双待吗？电池容量多大？",
    "我想退货，衣服尺码偏小，吊牌还在，可以七天无理由退换吗？",
    "信用卡账单已经出了，最低还款额是多少？逾期会影响征信吗？",
    "亲，您的订单已发货，预计明天下午送达，请保持电话畅通。",
    "你好，请问周末营业吗？我想预约周六上午十点的位置，两个人。",
    "帮我写一首关于春天的五言绝句，要有桃花和燕子。",
    "用户反馈登录后页面一直转圈，刷新也没用，浏览器是Chrome 120。",
    "腰疼半个月了，弯腰的时候特别明显，拍片显示腰椎间盘突出。",
    "宝宝六个月了，可以开始添加辅食吗？先吃米粉还是蛋黄？",
    "胃不舒服，吃完饭就胀气，偶尔反酸，是胃炎吗？",
]
TRADITIONAL = [
    CARD,
    "您好，我想詢問一下貸款的利率和還款方式，謝謝。",
    "這個週末有空嗎？我們一起去看電影吧，聽說那部片很好看。",
    "醫生說我的膽固醇偏高，需要注意飲食，少吃油炸的東西。",
    "我的包裹已經寄出三天了，為什麼追蹤系統還是顯示處理中？",
    "請問這台筆電的保固期是多久？電池也在保固範圍內嗎？",
    "捷運站附近有沒有推薦的餐廳？最好是不用排隊的。",
    "帳戶被鎖住了，密碼輸入錯誤太多次，要怎麼解鎖？",
    "颱風要來了，明天會不會停班停課？",
    "小孩最近一直咳嗽，晚上睡覺的時候特別嚴重，該看哪一科？",
    "健保卡遺失了要去哪裡補辦？需要帶什麼證件？",
    "媽媽血壓有點高，每天早上量大概一百四十左右。",
    "請問高鐵票可以退票嗎？手續費是多少？",
    "手機螢幕摔破了，維修大概要多少錢？需要幾天？",
    "最近天氣變化大，記得多穿一件外套，小心感冒。",
]


def as_csv(index: int, text: str) -> str:
    """One CSV row as Excel writes it: id, quoted text, department."""
    return f'{index},"{text}",2024-03-15\n'


def as_jsonl(index: int, text: str) -> str:
    """One JSON Lines record of a user turn."""
    return (
        json.dumps({"id": index, "messages": [{"role": "user", "content": text}]}, ensure_ascii=False) + "\n"
    )


def jsonl_file(texts: list[str], size: int) -> str:
    """A JSON Lines file of at least `size` characters cycling through `texts`."""
    lines: list[str] = []
    while sum(map(len, lines)) < size:
        lines.append(as_jsonl(len(lines), texts[len(lines) % len(texts)]))
    return "".join(lines)


def read_all(data: bytes, encoding: str, chunk_size: int = 1 << 20) -> list[Line]:
    """Run iter_lines over in-memory bytes."""
    return list(iter_lines(io.BytesIO(data), encoding, chunk_size=chunk_size))


def texts(lines: list[Line]) -> list[str | None]:
    """The decoded texts of lines."""
    return [line.text for line in lines]


# --- detection ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (codecs.BOM_UTF8 + b'{"a": 1}\n', "utf-8-sig"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        ('{"a": "中"}\n'.encode("utf-16"), "utf-16"),
        (codecs.BOM_UTF16_LE + '{"a": 1}\n'.encode("utf-16-le"), "utf-16"),
        (codecs.BOM_UTF16_BE + '{"a": 1}\n'.encode("utf-16-be"), "utf-16"),
    ],
)
def test_encoding_detects_bom(data: bytes, expected: str) -> None:
    assert detect_encoding(data, complete=True) == expected
    assert detect_encoding(data, complete=False) == expected


@pytest.mark.parametrize("codec", ["utf-32-le", "utf-32-be"])
def test_encoding_utf32_is_not_taken_for_utf16(codec: str) -> None:
    data = codecs.BOM_UTF32_LE if codec.endswith("le") else codecs.BOM_UTF32_BE
    data += '{"a": 1}\n'.encode(codec)
    assert detect_encoding(data, complete=True) not in ("utf-16", "utf-16-le", "utf-16-be")


@pytest.mark.parametrize(
    "text",
    ["", "plain ascii\n", '{"content": "你好"}\n', "emoji 😀 and ü\n", MEDICAL, CARD, "\u2028\n"],
)
def test_encoding_detects_utf8(text: str) -> None:
    assert detect_encoding(text.encode("utf-8"), complete=True) == "utf-8"


@pytest.mark.parametrize(("text", "cut"), [("中文", 1), ("中文", 2), ("😀", 1), ("😀", 3), ("ü", 1)])
def test_encoding_utf8_head_may_end_mid_character(text: str, cut: int) -> None:
    head = (MEDICAL + text).encode("utf-8")[:-cut]
    assert detect_encoding(head, complete=False) == "utf-8"
    # As a whole file it is UTF-8 with a broken end: still UTF-8, so only the last line is rejected.
    assert detect_encoding(head, complete=True) == "utf-8"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize(
    "text",
    [
        '{"role": "user", "content": "hello"}\n',
        as_jsonl(1, MEDICAL),
        as_csv(1, CARD),
        jsonl_file(SIMPLIFIED, 2000),
        "".join(SIMPLIFIED),  # CJK only: no ASCII, so no NUL bytes at all
        "".join(TRADITIONAL),
        "医生您好，我最近总是失眠。",
    ],
)
def test_encoding_detects_utf16_without_bom(codec: str, text: str) -> None:
    assert detect_encoding(text.encode(codec), complete=True) == codec


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_encoding_utf16_head_may_end_mid_code_unit(codec: str) -> None:
    data = jsonl_file(SIMPLIFIED, HEAD).encode(codec)
    assert detect_encoding(data[: HEAD - 1], complete=False) == codec


@pytest.mark.parametrize("shape", [as_csv, as_jsonl, lambda _i, text: text + "\n", lambda _i, text: text])
@pytest.mark.parametrize("text", SIMPLIFIED)
def test_encoding_detects_short_gbk(shape: Shape, text: str) -> None:
    # The case that matters most: a one-line GBK export must not be taken for Big5.
    assert detect_encoding(shape(7, text).encode("gbk"), complete=True) == "gb18030"


@pytest.mark.parametrize("shape", [as_csv, as_jsonl, lambda _i, text: text + "\n", lambda _i, text: text])
@pytest.mark.parametrize("text", TRADITIONAL)
def test_encoding_detects_short_big5(shape: Shape, text: str) -> None:
    assert detect_encoding(shape(7, text).encode("big5"), complete=True) == "big5"


def test_encoding_detects_one_line_medical_csv_as_gb18030() -> None:
    row = f"1001,{MEDICAL},内科,2024-03-15\r\n".encode("gbk")
    assert 25 <= len(row) // 2 <= 40
    assert detect_encoding(row, complete=True) == "gb18030"


@given(st.lists(st.sampled_from(SIMPLIFIED), min_size=1, max_size=4), st.sampled_from([as_csv, as_jsonl]))
def test_encoding_detects_any_short_gbk_document(parts: list[str], shape: Shape) -> None:
    data = "".join(shape(i, part) for i, part in enumerate(parts)).encode("gbk")
    assert detect_encoding(data, complete=True) == "gb18030"


@given(st.lists(st.sampled_from(TRADITIONAL), min_size=1, max_size=4), st.sampled_from([as_csv, as_jsonl]))
def test_encoding_detects_any_short_big5_document(parts: list[str], shape: Shape) -> None:
    data = "".join(shape(i, part) for i, part in enumerate(parts)).encode("big5")
    assert detect_encoding(data, complete=True) == "big5"


@pytest.mark.parametrize(
    ("corpus", "codec", "expected"),
    [
        (SIMPLIFIED, "gbk", "gb18030"),
        (SIMPLIFIED, "gb18030", "gb18030"),
        (TRADITIONAL, "big5", "big5"),
        (TRADITIONAL, "gbk", "gb18030"),  # Traditional text saved on a mainland Windows
        (SIMPLIFIED, "utf-8", "utf-8"),
    ],
)
@pytest.mark.parametrize("cut", [0, 1])
def test_encoding_detects_from_a_64k_head(corpus: list[str], codec: str, expected: str, cut: int) -> None:
    data = jsonl_file(corpus, HEAD).encode(codec)
    assert len(data) > HEAD
    # The head of a big file may stop inside a character.
    head = data[: HEAD - cut]
    assert detect_encoding(head, complete=False) == expected


@pytest.mark.parametrize(
    ("corpus", "codec", "expected"),
    [(SIMPLIFIED, "gbk", "gb18030"), (TRADITIONAL, "big5", "big5"), (SIMPLIFIED, "utf-8", "utf-8")],
)
def test_encoding_one_bad_byte_does_not_change_detection(
    corpus: list[str], codec: str, expected: str
) -> None:
    data = bytearray(jsonl_file(corpus, 4000).encode(codec))
    data[len(data) // 2] = 0xFF
    assert detect_encoding(bytes(data), complete=True) == expected


@pytest.mark.parametrize(
    "data",
    [
        "Müller sagte: Grüße aus Köln. Café crème, s'il vous plaît.\n".encode("latin-1"),
        "Smörgåsbord och kött, tack. ¿Dónde está la estación?\n".encode("cp1252"),
        bytes(range(0x80, 0x100)),
        b"\xfd\xff\xfe",
    ],
)
def test_encoding_falls_back_to_utf8_when_nothing_fits(data: bytes) -> None:
    # Not Chinese either: per-line UTF-8 decoding will reject the bad lines instead of garbling them.
    assert detect_encoding(data, complete=True) == "utf-8"


LATIN = [
    "Grüße aus München: ist das Café heute geöffnet?",
    "Where is the nearest pharmacy open tonight?",
    "Une crème brûlée et un thé, s'il vous plaît?",
]


@pytest.mark.parametrize("bad", [b"caf\xe9 ", b"Gr\xfc\xdfe ", b"\x93quoted\x94", b"\xff"])
@pytest.mark.parametrize("corpus", [LATIN, SIMPLIFIED[:3], TRADITIONAL[:3]])
def test_encoding_utf8_with_a_few_bad_sequences_is_utf8(corpus: list[str], bad: bytes) -> None:
    # One line pasted in from Latin-1 or cp1252: only that line is rejected, the others are not garbled.
    lines = [as_jsonl(i, text).encode() for i, text in enumerate(corpus)]
    lines[1] = lines[1].replace(b'"content": "', b'"content": "' + bad)
    assert detect_encoding(b"".join(lines), complete=True) == "utf-8"


@pytest.mark.parametrize(
    ("corpus", "codec"), [(SIMPLIFIED, "gbk"), (TRADITIONAL, "gbk"), (TRADITIONAL, "big5")]
)
def test_encoding_gbk_and_big5_are_never_taken_for_damaged_utf8(corpus: list[str], codec: str) -> None:
    # Their bytes make a valid UTF-8 sequence now and then, of any script, and far less often than not.
    expected = "big5" if codec == "big5" else "gb18030"
    for text in corpus:
        # Every prefix, cut anywhere: a valid sequence or two by chance must not tip a short text.
        for cut in range(6, len(text) + 1):
            assert detect_encoding(text[:cut].encode(codec), complete=True) == expected, text[:cut]


def test_encoding_stray_nul_in_utf8_is_not_utf16() -> None:
    data = as_jsonl(1, "hello there, how are you today?").encode() + b"\x00"
    assert detect_encoding(data, complete=True) == "utf-8"


@given(st.binary(max_size=300), st.booleans())
def test_encoding_detection_always_names_a_supported_encoding(data: bytes, complete: bool) -> None:
    assert detect_encoding(data, complete=complete) in ENCODINGS


# --- iter_lines ---------------------------------------------------------------------------------------

SAMPLE_LINES = ["first line", MEDICAL, "", "emoji 😀 kept", "tab\there", CARD, "last"]


def encodable(lines: list[str], encoding: str) -> list[str]:
    """The lines that `encoding` can represent."""
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    out = []
    for line in lines:
        try:
            line.encode(codec)
        except UnicodeEncodeError:
            continue
        out.append(line)
    return out


def encode_lines(
    lines: list[str], encoding: str, *, newline: str = "\n", final_newline: bool = True
) -> bytes:
    """Encode lines as a file in `encoding` ("utf-16" adds a BOM, as does "utf-8-sig")."""
    body = newline.join(lines) + (newline if final_newline and lines else "")
    return body.encode(encoding)


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 1 << 20])
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_encoding_iter_lines_round_trips(encoding: str, chunk_size: int) -> None:
    lines = encodable(SAMPLE_LINES, encoding)
    got = read_all(encode_lines(lines, encoding), encoding, chunk_size)
    assert texts(got) == lines
    assert [line.number for line in got] == list(range(1, len(lines) + 1))
    assert all(line.error is None for line in got)


@given(
    lines=st.lists(
        st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"), max_size=20), max_size=8
    ),
    encoding=st.sampled_from(ENCODINGS),
    newline=st.sampled_from(["\n", "\r\n"]),
    final_newline=st.booleans(),
    chunk_size=st.integers(min_value=1, max_value=9),
)
def test_encoding_iter_lines_gives_back_any_lines(
    lines: list[str], encoding: str, newline: str, final_newline: bool, chunk_size: int
) -> None:
    assume(encodable(lines, encoding) == lines)
    # Without a final newline an empty last line leaves no trace in the bytes.
    assume(final_newline or not lines or lines[-1] != "")
    if encoding == "utf-8-sig" or encoding == "utf-16":
        # A U+FEFF starting the text would read as the BOM.
        assume(not (lines and lines[0].startswith("\ufeff")))
    data = encode_lines(lines, encoding, newline=newline, final_newline=final_newline)
    assert texts(read_all(data, encoding, chunk_size)) == lines


@given(
    data=st.binary(max_size=200).filter(lambda b: b"\r" not in b and not b.startswith(BOMS)),
    encoding=st.sampled_from(["utf-8", "gb18030", "big5"]),
    chunk_size=st.integers(min_value=1, max_value=9),
)
def test_encoding_any_bytes_become_lines_with_text_or_error(
    data: bytes, encoding: str, chunk_size: int
) -> None:
    got = read_all(data, encoding, chunk_size)
    assert all((line.text is None) != (line.error is None) for line in got)
    # Nothing is lost or invented: the raw lines put back together are the file.
    assert b"\n".join(line.raw for line in got) + (b"\n" if data.endswith(b"\n") else b"") == data


def test_encoding_empty_file_has_no_lines() -> None:
    assert read_all(b"", "utf-8") == []
    assert read_all(b"", "utf-16") == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a\nb\n", ["a", "b"]),
        (b"a\nb", ["a", "b"]),
        (b"\n", [""]),
        (b"a\n\n\nb\n", ["a", "", "", "b"]),
        (b"a\r\nb\r\n", ["a", "b"]),
        (b"a\r\n\r\nb", ["a", "", "b"]),
        (b"one\rstill one\n", ["one\rstill one"]),
        (b"a\r\r\n", ["a\r"]),
        ("a\u2028b\u2029c\x85d\n".encode(), ["a\u2028b\u2029c\x85d"]),
    ],
)
@pytest.mark.parametrize("chunk_size", [1, 2, 1 << 20])
def test_encoding_only_lf_ends_a_line(data: bytes, expected: list[str], chunk_size: int) -> None:
    assert texts(read_all(data, "utf-8", chunk_size)) == expected


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_encoding_utf16_crlf_and_lone_cr(encoding: str) -> None:
    data = "a\r\nb\rc\r\n\u2028\n".encode(encoding)
    assert texts(read_all(data, encoding, 3)) == ["a", "b\rc", "\u2028"]


def test_encoding_raw_keeps_line_bytes_without_terminator() -> None:
    data = "中文\r\nok\n".encode("gbk")
    got = read_all(data, "gb18030")
    assert [line.raw for line in got] == ["中文".encode("gbk"), b"ok"]


def test_encoding_utf8_sig_strips_bom_only_from_line_one() -> None:
    data = codecs.BOM_UTF8 + "a\n\ufeffb\n".encode()
    got = read_all(data, "utf-8-sig", 2)
    assert texts(got) == ["a", "\ufeffb"]
    assert got[0].raw == b"a"


def test_encoding_plain_utf8_drops_a_bom_too() -> None:
    assert texts(read_all(codecs.BOM_UTF8 + b"a\n", "utf-8")) == ["a"]


@pytest.mark.parametrize("chunk_size", [1, 2, 7, 1 << 20])
def test_encoding_gbk_bad_byte_fails_only_its_line(chunk_size: int) -> None:
    good = [as_csv(i, text).rstrip("\n") for i, text in enumerate(SIMPLIFIED[:4])]
    bad = "2,".encode("gbk") + b'"\xff' + "头痛".encode("gbk")
    data = b"\n".join(
        [good[0].encode("gbk"), good[1].encode("gbk"), bad, *(g.encode("gbk") for g in good[2:])]
    )
    got = read_all(data + b"\n", "gb18030", chunk_size)
    assert [line.number for line in got] == [1, 2, 3, 4, 5]
    assert texts(got) == [good[0], good[1], None, good[2], good[3]]
    assert got[2].raw == bad
    assert got[2].error == "expected GB18030 text, found byte 0xff at offset 3"


@pytest.mark.parametrize("chunk_size", [1, 4, 1 << 20])
def test_encoding_utf8_bad_bytes_fail_only_their_line(chunk_size: int) -> None:
    data = "好的\n".encode() + b"bad \xc3\x28 here\n" + "谢谢\n".encode() + b"cut \xe4\xb8\n" + b"end"
    got = read_all(data, "utf-8", chunk_size)
    assert texts(got) == ["好的", None, "谢谢", None, "end"]
    assert got[1].error == "expected UTF-8 text, found byte 0xc3 at offset 4"
    assert got[3].error == (
        "expected UTF-8 text, found byte 0xe4 at offset 4 (a character cut off by the end of the line)"
    )


def test_encoding_utf8_lone_surrogate_is_an_error() -> None:
    got = read_all(b"a\n\xed\xa0\x80\nb\n", "utf-8")
    assert texts(got) == ["a", None, "b"]


def test_encoding_big5_text_and_bad_byte() -> None:
    data = f"{CARD}\n".encode("big5") + b"\xa4\n" + "謝謝".encode("big5")
    got = read_all(data, "big5", 3)
    assert texts(got) == [CARD, None, "謝謝"]
    assert (
        got[1].error
        == "expected Big5 text, found byte 0xa4 at offset 0 (a character cut off by the end of the line)"
    )


@pytest.mark.parametrize(("encoding", "byteorder"), [("utf-16-le", "little"), ("utf-16-be", "big")])
@pytest.mark.parametrize("chunk_size", [1, 3, 1 << 20])
def test_encoding_utf16_lone_surrogate_fails_only_its_line(
    encoding: str, byteorder: Literal["little", "big"], chunk_size: int
) -> None:
    lone = (0xD800).to_bytes(2, byteorder)
    data = "前\n".encode(encoding) + "x".encode(encoding) + lone + "y\n后\n".encode(encoding)
    got = read_all(data, encoding, chunk_size)
    assert texts(got) == ["前", None, "后"]
    label = "UTF-16LE" if byteorder == "little" else "UTF-16BE"
    assert got[1].error == f"expected {label} text, found unpaired surrogate 0xd800 at offset 2"


def test_encoding_utf16_odd_trailing_byte_fails_last_line() -> None:
    data = "ok\nab".encode("utf-16-le") + b"c"
    got = read_all(data, "utf-16-le")
    assert texts(got) == ["ok", None]
    assert got[1].error == (
        "expected UTF-16LE text, found byte 0x63 at offset 4 (a character cut off by the end of the line)"
    )


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        # U+0A2A then U+4E00: little-endian bytes 2A 0A 00 4E hold "\n\x00" at an odd offset.
        ("utf-16-le", "\u0a2a\u4e00"),
        # U+4E00 then U+0A2A: big-endian bytes 4E 00 0A 2A hold "\x00\n" at an odd offset.
        ("utf-16-be", "\u4e00\u0a2a"),
    ],
)
@pytest.mark.parametrize("chunk_size", [1, 2, 3, 4, 5])
def test_encoding_utf16_splits_only_on_aligned_newlines(encoding: str, text: str, chunk_size: int) -> None:
    data = f"{text}\nnext\n".encode(encoding)
    assert texts(read_all(data, encoding, chunk_size)) == [text, "next"]


@pytest.mark.parametrize("byteorder", ["utf-16-le", "utf-16-be"])
def test_encoding_utf16_bom_sets_byte_order(byteorder: str) -> None:
    bom = codecs.BOM_UTF16_LE if byteorder.endswith("le") else codecs.BOM_UTF16_BE
    data = bom + "第一\n第二\n".encode(byteorder)
    got = read_all(data, "utf-16", 1)
    assert texts(got) == ["第一", "第二"]
    assert got[0].raw == "第一".encode(byteorder)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_encoding_utf16_and_utf8_twins_read_the_same(encoding: str) -> None:
    text = jsonl_file(SIMPLIFIED + TRADITIONAL, 3000).replace("\n", "\r\n", 5) + "no newline 😀"
    utf16 = read_all(text.encode(encoding), encoding, 7)
    utf8 = read_all(text.encode("utf-8"), "utf-8", 7)
    assert texts(utf16) == texts(utf8)
    assert all(line.text is not None for line in utf16)


def test_encoding_detected_encoding_reads_every_line() -> None:
    for corpus, codec in ((SIMPLIFIED, "gbk"), (TRADITIONAL, "big5"), (SIMPLIFIED, "utf-16-le")):
        data = jsonl_file(corpus, 2000).encode(codec)
        encoding = detect_encoding(data[:HEAD], complete=True)
        assert texts(read_all(data, encoding)) == jsonl_file(corpus, 2000).splitlines()


class CountingStream(io.BytesIO):
    """A stream that records the size of each read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads: list[int] = []

    def read(self, size: int | None = -1, /) -> bytes:
        self.reads.append(-1 if size is None else size)
        return super().read(size)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "utf-16"])
def test_encoding_reads_in_chunks_never_the_whole_file(encoding: str) -> None:
    data = ("line of text 中文\n" * 500).encode(encoding)
    stream = CountingStream(data)
    lines = list(iter_lines(stream, encoding, chunk_size=64))
    assert len(lines) == 500
    assert max(stream.reads) == 64
    assert all(size > 0 for size in stream.reads)


def test_encoding_iter_lines_is_lazy() -> None:
    stream = CountingStream(b"a\n" * 1000)
    first = next(iter(iter_lines(stream, "utf-8", chunk_size=10)))
    assert first.text == "a"
    # A first small read looks for a BOM; then one chunk is enough.
    assert sum(stream.reads) <= 4 + 10


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("UTF8", "好\n".encode(), "好"),
        ("GBK", "好\n".encode("gbk"), "好"),
        ("cp936", "好\n".encode("gbk"), "好"),
        ("GB2312", "好\n".encode("gb2312"), "好"),
        ("Big5", "好\n".encode("big5"), "好"),
        ("UTF-16LE", "好\n".encode("utf-16-le"), "好"),
        ("utf_16", "好\n".encode("utf-16"), "好"),
    ],
)
def test_encoding_accepts_other_spellings_of_supported_names(name: str, data: bytes, expected: str) -> None:
    assert texts(read_all(data, name)) == [expected]
    assert decode_text(data, name) == (expected + "\n", None)


def test_encoding_unknown_encoding_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unsupported encoding 'latin-1'"):
        list(iter_lines(io.BytesIO(b"a"), "latin-1"))
    with pytest.raises(ValueError, match="unsupported encoding"):
        decode_text(b"a", "shift_jis")
    with pytest.raises(ValueError, match="unsupported encoding 'no-such-codec'"):
        decode_text(b"a", "no-such-codec")


# --- decode_text --------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_encoding_decode_text_round_trips_and_strips_bom(encoding: str) -> None:
    text = "\n".join(encodable(SAMPLE_LINES, encoding)) + "\n"
    data = text.encode(encoding)
    assert decode_text(data, encoding) == (text, None)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "utf-16-be"])
def test_encoding_decode_text_strips_explicit_bom(encoding: str) -> None:
    assert decode_text(("\ufeff[1, 2]").encode(encoding), encoding) == ("[1, 2]", None)


def test_encoding_decode_text_names_line_and_byte() -> None:
    data = "[\n".encode("gbk") + as_jsonl(1, MEDICAL).encode("gbk") + b'  {"x": "\xff"}\n]'
    text, error = decode_text(data, "gb18030")
    assert text is None
    assert error == "line 3: expected GB18030 text, found byte 0xff at offset 9"


def test_encoding_decode_text_counts_utf16_lines_by_code_unit() -> None:
    lone = (0xDC00).to_bytes(2, "little")
    data = (
        "[\n\u0a2a\u4e00,\n".encode("utf-16-le") + "  ".encode("utf-16-le") + lone + "]".encode("utf-16-le")
    )
    text, error = decode_text(data, "utf-16-le")
    assert text is None
    assert error == "line 3: expected UTF-16LE text, found unpaired surrogate 0xdc00 at offset 4"


def test_encoding_decode_text_reports_truncated_file() -> None:
    text, error = decode_text("完整".encode() + b"\xe4\xb8", "utf-8")
    assert text is None
    assert error == (
        "line 1: expected UTF-8 text, found byte 0xe4 at offset 6"
        " (a character cut off by the end of the file)"
    )
