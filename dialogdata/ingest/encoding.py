"""Per-file encoding detection and line-by-line decoding where one bad line never spoils the rest.

Supported: UTF-8 (with or without BOM), UTF-16 (LE/BE, with or without BOM), GB18030 (and so GBK and
GB2312) and Big5. Bytes that do not decode are reported as data, never replaced or guessed away.

Detection, in order: a BOM; BOM-less UTF-16 (NUL bytes on one side of the code units, or, without any
NUL, a reading that is all CJK); valid UTF-8, or UTF-8 whose valid multibyte characters far outnumber a
few bad sequences (a Latin-1 line pasted in: only that line is rejected); then GB18030 against Big5.
Their byte ranges overlap and GB18030 accepts nearly anything, so each reading is weighed by the
characters it produces: common characters of either script, each standard's own frequent and infrequent
tiers, and what only a wrong reading makes (kana, Cyrillic, box drawing, private use). Measured on real
zh_CN / zh_TW sentences as CSV, JSON Lines and plain lines: right in 27,999 of 28,000 with 5-200 Chinese
characters (the miss: an exact tie, which goes to GB18030), 85-99% with 1-3, where the bytes are often
valid in every candidate.
"""

from __future__ import annotations

import codecs
from collections import Counter
from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "gb18030", "big5")
CHUNK_SIZE = 1 << 20

_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Reasons Python gives when the bytes stop in the middle of a character.
_CUT_REASONS = frozenset({"unexpected end of data", "incomplete multibyte sequence", "truncated data"})

# Roughly the 750 most frequent characters of modern written Chinese (Simplified), and below the same
# characters in Traditional form as Taiwan writes them (converted once with OpenCC s2t/s2tw/s2twp, kept
# where Big5 has them). Real text is ~75% these characters; text decoded with the wrong one of GB18030 or
# Big5 is scattered over the whole table and hits them ~10% of the time, so they outvote byte statistics.
_SIMPLIFIED = (
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里"
    "用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实"
    "日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应战向头文体政"
    "美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员"
    "解水名真论处走义各入几口认条平系气题活尔更别打女变四神总何电数安少报才结反受目太量再感建务做接必场件"
    "计管期市直德资命山金指克许统区保至队形社便空决治展马科司五基眼书非则听白却界达光放强即像难且权思王象"
    "完设式色路记南品住告类求据程北边死张该交规万取拉格望觉术领共确传师观清今切院让识候带导争运笑飞风步改"
    "收根干造言联持组每济车亲极林服快办议往元英士证近失转夫令准布始怎呢存未远叫台单影具罗字爱击流备兵连调"
    "深商算质团集百需价花党华城石级整府离况亚请技际约示复病息究线似官火断精满支视消越器容照须九增研写称企"
    "八功吗包片史委乎查轻易早曾除农找装广显吧阿李标谈吃图念六引历首医局突专费号尽另周较注语仅考落青随选列"
    "武红响虽推势参希古众构房半节土投某案黑维革划敌致陈律足态护七兴派孩验责营星够章音跟志底站严巴例防族供"
    "效续施留讲型料终答紧黄绝奇察母京段依批群项故按河米围江织害斗双境客纪采举杀攻父苏密低朝友诉止细愿千值"
    "仍男钱破网热助倒育属坐帝限船脸职速刻乐否刚威毛状率甚独球般普怕弹校苦创假久错承印晚兰试股拿脑预谁益阳"
    "若哪微尼继送急血惊伤素药适波夜省初喜卫源食险待述陆习置居劳财环排福纳欢雷警获模充负云停木游龙树疑层冷"
    "洲冲射略范竟句室异激汉村哈策演简卡罪判担州静退既衣您宗积余痛检差富灵协角占配征修皮挥胜降阶审沉坚善妈"
)
_TRADITIONAL = (
    "的一是不了在人有我他這個們中來上大和國地到以說時要就出會可也你對生能而子那得於下自之年過發後作用道行所"
    "然家種事成方多經麼去法學如都同現當沒動面起看定天分還進好小部其些主樣理心她本前開但因只從想實日軍者意無"
    "力它與長把機十民第公此已工使情明性知全三又關點正業外將兩高間由問很最重並物手應戰向頭文體政美相見被利什"
    "二等產或新己制身果加西斯月話合回特代內信表化老給世位次度門任常先海通教兒原東聲提立及比員解水名真論處走"
    "義各入幾口認條平系氣題活爾更別打女變四神總何電數安少報才結反受目太量再感建務做接必場件計管期市直德資命"
    "山金指克許統區保至隊形社便空決治展馬科司五基眼書非則聽白卻界達光放強即像難且權思王象完設式色路記南品住"
    "告類求據程北邊死張該交規萬取拉格望覺術領共確傳師觀清今切院讓識候帶導爭運笑飛風步改收根幹造言聯持組每濟"
    "車親極林服快辦議往元英士證近失轉夫令準布始怎呢存未遠叫臺單影具羅字愛擊流備兵連調深商算質團集百需價花黨"
    "華城石級整府離況亞請技際約示復病息究線似官火斷精滿支視消越器容照須九增研寫稱企八功嗎包片史委乎查輕易早"
    "曾除農找裝廣顯吧阿李標談喫圖念六引歷首醫局突專費號盡另周較注語僅考落青隨選列武紅響雖推勢參希古構房半節"
    "土投某案黑維革劃敵致陳律足態護七興派孩驗責營星夠章音跟志底站嚴巴例防族供效續施留講型料終答緊黃絕奇察母"
    "京段依批項故按河米圍江織害鬥雙境客紀採舉殺攻父蘇密低朝友訴止細願千值仍男錢破網熱助倒育屬坐帝限船臉職速"
    "刻樂否剛威毛狀率甚獨球般普怕彈校苦創假久錯承印晚蘭試股拿腦預誰益陽若哪微尼繼送急血驚傷素藥適波夜省初喜"
    "衛源食險待述陸習置居勞財環排福納歡雷警獲模充負雲停木遊龍樹疑層冷洲衝射略範竟句室異激漢村哈策演簡卡罪判"
    "擔州靜退既衣您宗積餘痛檢差富靈協角佔配徵修皮揮勝降階審沉堅善媽為著裡吃眾群"
)
# One set for both decodings: a GBK file may hold Traditional text too, and Big5 has many characters that
# Simplified text shares.
_COMMON = frozenset(_SIMPLIFIED + _TRADITIONAL)

# Evidence weights per non-ASCII character, by how likely real text is to contain it.
_W_COMMON = 3.0  # in the list above
_W_LEVEL1 = 1.0  # the standard's own "frequent" tier: GB2312 level 1 (3755), Big5 level 1 (5401)
_W_PUNCT = 0.5  # full-width punctuation, digits and letters
_W_LEVEL2 = -1.0  # the "less frequent" tier: GB2312 level 2, Big5 level 2
_W_RARE = -3.0  # kana, Greek, Cyrillic, box drawing, private use, GBK extensions: what wrong decoding makes
_W_ERROR = -5.0  # a byte sequence that does not decode at all
# The winner must look like Chinese, or lines are rejected rather than garbled: most of its characters
# plausible (Latin-1 or broken UTF-8 read as GBK are mostly extension characters), and, given enough text,
# a fair share common (real text: 50-85% from 20 characters on; EUC-KR Korean read as GBK: ~10%).
_MIN_PLAUSIBLE = 0.5
_MIN_COMMON = 0.2
_COMMON_MIN_CHARS = 20
# Per character, what a UTF-16 reading must score (see _utf16_score) to be taken.
_UTF16_MIN_SCORE = 0.3
# Valid non-ASCII characters (of the text's script) per undecodable sequence for damaged UTF-8.
_UTF8_MIN_VALID_PER_ERROR = 3
# Errors tolerated per decoded character when guessing: one bad byte must not hide a whole file's encoding.
_MAX_ERROR_SHARE = 0.05


class Line(NamedTuple):
    """One physical line: its bytes, and its text or why it has none."""

    number: int
    raw: bytes
    text: str | None
    error: str | None


def detect_encoding(head: bytes, *, complete: bool) -> str:
    """Return the codec name for a file whose first bytes are `head` (`complete`: head is the whole file)."""
    if not head.startswith(_UTF32_BOMS):
        # FF FE 00 00 is UTF-32's BOM, not UTF-16's followed by NUL: UTF-32 falls through, unsupported.
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith(_UTF16_BOMS):
            return "utf-16"
    utf8_errors, utf8_text = _decode_stats(head, "utf-8", complete=complete)
    utf8 = utf8_errors == 0 or _is_damaged_utf8(utf8_text, utf8_errors)
    if b"\x00" in head or not utf8:
        guess = _utf16_without_bom(head, complete=complete, utf8=utf8)
        if guess is not None:
            return guess
    return "utf-8" if utf8 else _chinese(head, complete=complete)


def _decode_stats(data: bytes, codec: str, *, complete: bool) -> tuple[int, str]:
    """Return (undecodable sequences, text) of `data`; a cut-off last character is fine unless `complete`."""
    # "replace" only to count and score, never as output; a real U+FFFD in the data counts as damage too.
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    text = decoder.decode(data, final=complete)
    return text.count("\ufffd"), text


def _is_damaged_utf8(text: str, errors: int) -> bool:
    """Tell UTF-8 with a few bad sequences (a Latin-1 line pasted in) from text in another encoding."""
    # GBK, Big5 or Latin-1 bytes make a valid multibyte sequence only now and then, and a character from
    # anywhere in U+0080-U+07FF when they do; real text keeps to a script or two (Latin-1 and Latin
    # Extended-A, Cyrillic, ...), so only characters of its two most used 128-character blocks count,
    # everything from U+0800 (CJK) as one block.
    blocks: Counter[int] = Counter()
    for char, count in Counter(text).items():
        if char > "\x7f" and char != "\ufffd":
            blocks[min(ord(char) >> 7, 0x10)] += count
    in_script = sum(count for _, count in blocks.most_common(2))
    return in_script >= _UTF8_MIN_VALID_PER_ERROR * errors


def _utf16_without_bom(head: bytes, *, complete: bool, utf8: bool) -> str | None:
    """Return utf-16-le or utf-16-be when one of them reads `head` as text and the other does not."""
    nuls = head.count(0)
    if utf8 and nuls * 20 < len(head):
        # A stray NUL in otherwise valid UTF-8 is damage, not UTF-16: UTF-16 JSON or CSV is full of NULs.
        return None
    if not nuls and len(head) < 8:
        return None  # a few GBK or Big5 bytes can pass for CJK code units by chance
    best, best_score = None, 0.0
    for codec in ("utf-16-le", "utf-16-be"):
        errors, text = _decode_stats(head, codec, complete=complete)
        if errors > len(text) // 200:
            continue
        if not nuls and sum(map(_is_cjk, text)) < 0.95 * len(text):
            continue  # ASCII in UTF-16 always brings NULs: without them, only CJK text is left
        score = _utf16_score(text) - _UTF16_MIN_SCORE * len(text)
        if score > best_score:
            best, best_score = codec, score
    return best


def _is_cjk(char: str) -> bool:
    """Tell what pure Chinese UTF-16 is made of: ideographs, CJK and full-width punctuation, dashes."""
    return (
        "\u4e00" <= char <= "\u9fff"
        or "\u3000" <= char <= "\u303f"
        or "\uff01" <= char <= "\uffef"
        or "\u2010" <= char <= "\u2027"
    )


def _utf16_score(text: str) -> float:
    """Weigh a UTF-16 reading: ASCII text and common Chinese count for it, controls and private use against.

    Read with the wrong byte order, or from 8-bit bytes, ASCII becomes random ideographs (U+6100 for "a"),
    which are rarely common ones: so a right reading scores about 1 a character, a wrong one about 0.
    """
    score = 0.0
    for char, count in Counter(text).items():
        if " " <= char <= "~" or char in "\t\n\r":
            score += count
        elif char in _COMMON:
            score += 2 * count
        elif char < " " or "\ue000" <= char <= "\uf8ff" or char == "\ufffd":
            score -= 2 * count
    return score


class _Reading(NamedTuple):
    """The evidence that one decoding of the head is Chinese text."""

    score: float
    chars: int  # non-ASCII characters
    plausible: int  # of those, ones that count for it: common, level 1 or punctuation
    common: int  # of those, ones in the common-character list
    errors: int


def _chinese(head: bytes, *, complete: bool) -> str:
    """Return gb18030 or big5, whichever reading of `head` looks like Chinese; utf-8 when neither does."""
    readings = {codec: _read(head, codec, complete=complete) for codec in ("gb18030", "big5")}
    viable = {codec: r for codec, r in readings.items() if r.errors <= 2 + _MAX_ERROR_SHARE * r.chars}
    if not viable:
        return "utf-8"
    # max() keeps the first of equals: GB18030 wins a tie, as GBK files are far more common than Big5.
    codec = max(viable, key=lambda c: viable[c].score)
    best = viable[codec]
    if best.plausible < _MIN_PLAUSIBLE * best.chars:
        return "utf-8"
    if best.chars >= _COMMON_MIN_CHARS and best.common < _MIN_COMMON * best.chars:
        return "utf-8"  # fluent-looking but random characters: EUC-KR or other text read as Chinese
    return codec


def _read(head: bytes, codec: str, *, complete: bool) -> _Reading:
    """Decode the head with `codec` and weigh each non-ASCII character by how likely real text holds it."""
    errors, text = _decode_stats(head, codec, complete=complete)
    classify = _gb_class if codec == "gb18030" else _big5_class
    score, chars, plausible, common = _W_ERROR * errors, 0, 0, 0
    for char, count in Counter(text).items():
        if char.isascii() or char == "\ufffd":
            continue
        weight = _W_COMMON if char in _COMMON else classify(char)
        score += weight * count
        chars += count
        plausible += count if weight > 0 else 0
        common += count if weight == _W_COMMON else 0
    return _Reading(score, chars, plausible, common, errors)


def _gb_class(char: str) -> float:
    """Weigh a character by where GB2312 puts it; characters outside GB2312 are rare in GBK text."""
    try:
        code = char.encode("gb2312")
    except UnicodeEncodeError:
        return _W_RARE
    lead = code[0]
    if 0xB0 <= lead <= 0xD7:
        return _W_LEVEL1
    if lead >= 0xD8:
        return _W_LEVEL2
    # Rows 1-3 are punctuation, numbering and full-width ASCII; rows 4-9 kana, Greek, Cyrillic, pinyin, boxes.
    return _W_PUNCT if lead <= 0xA3 else _W_RARE


def _big5_class(char: str) -> float:
    """Weigh a character by where Big5 puts it (it always has one: it was decoded from Big5)."""
    code = int.from_bytes(char.encode("big5"), "big")
    if 0xA440 <= code <= 0xC67E:
        return _W_LEVEL1
    if code >= 0xC940:
        return _W_LEVEL2
    # A140-A2FE: punctuation, units, digits, full-width letters; then Greek and bopomofo.
    return _W_PUNCT if code <= 0xA343 else _W_RARE


class _Layout(NamedTuple):
    """How the lines of one encoding look in bytes."""

    codec: str  # the Python codec that decodes one line once its BOM is gone
    label: str  # the encoding's name in error messages
    newline: bytes
    cr: bytes
    unit: int  # code unit size: a newline only counts at a multiple of it from the line's start
    bom: bytes


_ASCII_LAYOUTS = {
    # 0x0A never occurs inside a multi-byte character of these, so splitting bytes on it is exact.
    "utf-8": _Layout("utf-8", "UTF-8", b"\n", b"\r", 1, codecs.BOM_UTF8),
    "gb18030": _Layout("gb18030", "GB18030", b"\n", b"\r", 1, "\ufeff".encode("gb18030")),
    "big5": _Layout("big5", "Big5", b"\n", b"\r", 1, b""),
}
_LE = _Layout("utf-16-le", "UTF-16LE", b"\n\x00", b"\r\x00", 2, codecs.BOM_UTF16_LE)
_BE = _Layout("utf-16-be", "UTF-16BE", b"\x00\n", b"\x00\r", 2, codecs.BOM_UTF16_BE)
_LAYOUTS = {**_ASCII_LAYOUTS, "utf-8-sig": _ASCII_LAYOUTS["utf-8"], "utf-16-le": _LE, "utf-16-be": _BE}


def _layout(encoding: str, start: bytes) -> _Layout:
    """Return the layout for an encoding name, given the data's first two bytes (for "utf-16")."""
    name = _canonical(encoding)
    if name == "utf-16":
        # The BOM decides; without one, little-endian, as Windows writes it.
        return _BE if start == codecs.BOM_UTF16_BE else _LE
    return _LAYOUTS[name]


def _canonical(encoding: str) -> str:
    """Return the supported name for a spelling of it ("UTF8", "GBK", "cp936"); raise ValueError if none."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        name = encoding
    # GB2312 and GBK are subsets of GB18030: one decoder reads all three.
    name = "gb18030" if name in ("gbk", "gb2312") else name
    if name not in ENCODINGS:
        raise ValueError(f"unsupported encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")
    return name


def iter_lines(stream: BinaryIO, encoding: str, *, chunk_size: int = CHUNK_SIZE) -> Iterator[Line]:
    """Yield every physical line of a binary stream decoded with `encoding`; a bad line stops nothing."""
    start = stream.read(4)  # long enough for any BOM
    layout = _layout(encoding, start[:2])
    if layout.bom and start.startswith(layout.bom):
        # A BOM is never content, whatever the encoding's name says; a file of just a BOM has no lines.
        start = start[len(layout.bom) :]
    for number, raw in enumerate(_split(stream, layout, start, chunk_size), start=1):
        yield _decode_line(number, raw, layout)


def decode_text(data: bytes, encoding: str) -> tuple[str | None, str | None]:
    """Decode a whole document: (text, None), or (None, an error naming the 1-based line and the byte)."""
    layout = _layout(encoding, data[:2])
    if layout.bom and data.startswith(layout.bom):
        data = data[len(layout.bom) :]
    try:
        return data.decode(layout.codec), None
    except UnicodeDecodeError as exc:
        number, start = _line_at(data, layout, exc.start)
        return None, f"line {number}: {_describe(exc, data, layout, start, end='file')}"


def _line_at(data: bytes, layout: _Layout, offset: int) -> tuple[int, int]:
    """Return the 1-based number and the start offset of the line holding byte `offset`."""
    number, start = 1, 0
    while 0 <= (end := _find_newline(data, layout, start, start)) < offset:
        number, start = number + 1, end + len(layout.newline)
    return number, start


def _split(stream: BinaryIO, layout: _Layout, prefix: bytes, chunk_size: int) -> Iterator[bytes]:
    """Yield the raw lines of a stream, without terminators, reading `chunk_size` bytes at a time."""
    buf = bytearray(prefix)
    checked = 0  # no newline starts before this offset of `buf`
    while True:
        chunk = stream.read(chunk_size)
        buf += chunk
        start = 0
        while (end := _find_newline(buf, layout, start, checked)) >= 0:
            yield _strip_cr(bytes(buf[start:end]), layout)
            start = checked = end + len(layout.newline)
        del buf[:start]
        # A newline may straddle the next chunk boundary: its first byte can be the last one here.
        checked = max(0, len(buf) - len(layout.newline) + 1)
        if not chunk:
            break
    if buf:
        # The last line had no newline.
        yield _strip_cr(bytes(buf), layout)


def _find_newline(buf: bytes | bytearray, layout: _Layout, start: int, scan: int) -> int:
    """Return the offset of the next newline on a code unit boundary of the line at `start`, or -1."""
    pos = max(start, scan)
    while (pos := buf.find(layout.newline, pos)) >= 0:
        if (pos - start) % layout.unit == 0:
            return pos
        pos += 1
    return -1


def _strip_cr(raw: bytes, layout: _Layout) -> bytes:
    """Drop the carriage return of a CRLF terminator."""
    if raw.endswith(layout.cr) and (len(raw) - len(layout.cr)) % layout.unit == 0:
        return raw[: -len(layout.cr)]
    return raw


def _decode_line(number: int, raw: bytes, layout: _Layout) -> Line:
    """Decode one line; bytes that do not decode make it a line without text, with the reason."""
    try:
        return Line(number, raw, raw.decode(layout.codec), None)
    except UnicodeDecodeError as exc:
        return Line(number, raw, None, _describe(exc, raw, layout, 0, end="line"))


def _describe(exc: UnicodeDecodeError, data: bytes, layout: _Layout, line_start: int, *, end: str) -> str:
    """Say what was expected and what was found where, the offset counted from the line's start."""
    byte = data[exc.start]
    if layout.unit == 2 and exc.end - exc.start == 2:
        unit = int.from_bytes(data[exc.start : exc.end], "little" if layout is _LE else "big")
        found, cut = f"unpaired surrogate 0x{unit:04x}", False
    else:
        found = f"byte 0x{byte:02x}"
        # The CJK codecs call a stray 0x80 or 0xFF at the very end "incomplete" too; no character starts so.
        cut = exc.reason in _CUT_REASONS and (layout.unit == 2 or 0x80 < byte < 0xFF)
    note = f" (a character cut off by the end of the {end})" if cut else ""
    return f"expected {layout.label} text, found {found} at offset {exc.start - line_start}{note}"
