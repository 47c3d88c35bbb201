"""Hostile archives: zip slip, decompression bombs, corrupt and truncated streams, odd zip members.

Each case writes one archive beside the good neighbour files and names the fate of every input and
skipped member it holds (see `tests.hostile.test_filesystem.Case`). The build reads with the default
limits (8 GiB decompressed), so the bomb case lowers the limit the Reader is constructed with; the
Reader itself is also tested with a small limit on a gzip, a zstd and a zip bomb.
"""

from __future__ import annotations

import functools
import gzip
import io
import stat
import warnings
import zipfile
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO
from unittest import mock

import pytest

import dialogdata.ingest.reader as reader_module
from dialogdata.ingest.reader import Reader
from dialogdata.ingest.records import Limits
from tests.hostile.harness import Outcome, good_record
from tests.hostile.test_filesystem import Case, Fate, body, run_table_case

LIMIT = 1 << 20
"""The decompressed-size limit of the bomb cases: 1 MiB, so a 4 MiB bomb is over it."""
BOMB = b" " * (4 << 20)
UNSAFE = "unsafe member name"
UNREADABLE_IN_ZIP = "not a container that can be read from inside a zip"
SLIP = ("../../evil.jsonl", "/etc/dialogdata-evil.jsonl", "..\\..\\evil.jsonl", "a/../../evil.jsonl")
SLIP_SKIPPED = [f"slip.zip/{name}" for name in SLIP]
MIXED_SKIPPED = {
    "mixed.zip/__MACOSX/._chat.jsonl": "hidden or junk",
    "mixed.zip/.DS_Store": "hidden or junk",
    "mixed.zip/docs/": "folder",
    "mixed.zip/chat.jsonl~": "hidden or junk",
    "mixed.zip/cover.png": UNREADABLE_IN_ZIP,
}


def _zip(
    target: Path | IO[bytes], members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED
) -> None:
    """Write a zip with `members` in the given order (duplicate names allowed, as in hostile zips)."""
    with warnings.catch_warnings(), zipfile.ZipFile(target, "w", compression) as archive:
        warnings.simplefilter("ignore")  # zipfile warns on a duplicate name, which one case wants
        for name, data in members:
            archive.writestr(name, data)


def _zip_bytes(members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """The bytes of a zip holding `members`."""
    buffer = io.BytesIO()
    _zip(buffer, members, compression)
    return buffer.getvalue()


def _small_limits() -> AbstractContextManager[object]:
    """Lower the decompressed-size limit the build's Reader gets: the build has no option for it."""
    return mock.patch.object(reader_module, "Limits", functools.partial(Limits, max_decompressed_bytes=LIMIT))


def _zstd(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor().compress(data)


def _zip_slip(raw: Path) -> None:
    _zip(raw / "slip.zip", [*((name, body("evil")) for name in SLIP), ("ok.jsonl", body("slipok"))])


def _nothing_outside(outcome: Outcome, tmp_path: Path) -> None:
    """No member was extracted anywhere: not beside the root, not above it, not at its absolute path."""
    assert not Path("/etc/dialogdata-evil.jsonl").exists()
    for folder in (tmp_path.parent, tmp_path, tmp_path / "raw", tmp_path / "out"):
        assert not (folder / "evil.jsonl").exists(), folder
    assert not list(tmp_path.rglob("*evil*")), "an unsafe member left a file"


def _gzip_bomb(raw: Path) -> AbstractContextManager[object]:
    (raw / "bomb.jsonl.gz").write_bytes(gzip.compress(BOMB))
    return _small_limits()


def _corrupt_gzip(raw: Path) -> None:
    # A valid gzip header, then bytes that are no deflate stream.
    (raw / "corrupt.jsonl.gz").write_bytes(gzip.compress(b"")[:10] + b"\xff" * 64)


def _truncated_gzip(raw: Path) -> None:
    # Only the 8-byte trailer (CRC and size) is cut: every line decompresses before the error.
    (raw / "cut.jsonl.gz").write_bytes(gzip.compress(body("gzcut"))[:-8])


def _truncated_gzip_check(outcome: Outcome, tmp_path: Path) -> None:
    """The lines before the cut are read (the rest of the file is one file-level reject)."""
    entry = outcome.input("cut.jsonl.gz")
    assert entry["fates"]["kept"] == 3 and entry["fates"]["rejected"] == 1
    assert [r["source"]["index"] for r in outcome.rejects if r["source"]["path"] == "cut.jsonl.gz"] == [None]


def _truncated_zstd(raw: Path) -> None:
    (raw / "cut.jsonl.zst").write_bytes(_zstd(body("zstcut"))[:-4])


def _corrupt_zstd(raw: Path) -> None:
    (raw / "corrupt.jsonl.zst").write_bytes(b"\x28\xb5\x2f\xfd" + b"\x00not a zstd frame" * 4)


def _truncated_zip(raw: Path) -> None:
    data = _zip_bytes([("a.jsonl", body("zipcut") * 20)])
    (raw / "cut.zip").write_bytes(data[:-40])  # the end of the central directory is gone


def _corrupt_member(raw: Path) -> None:
    data = bytearray(_zip_bytes([("a.jsonl", body("deflated") * 20)]))
    data[40:44] = b"\xff\xff\xff\xff"  # the first bytes of the deflate stream (the local header is 37 bytes)
    (raw / "damaged.zip").write_bytes(bytes(data))


def _zip_in_zip(raw: Path) -> None:
    inner = _zip_bytes([("inner.jsonl", body("nested"))])
    _zip(raw / "outer.zip", [("inner.zip", inner), ("ok.jsonl", body("outerok"))])


def _symlink_member(raw: Path) -> None:
    with zipfile.ZipFile(raw / "links.zip", "w") as archive:
        link = zipfile.ZipInfo("passwd.jsonl")
        link.create_system = 3  # Unix, so that external_attr holds a file mode
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")  # a link's data is its target
        archive.writestr("ok.jsonl", body("linkok"))


def _empty_zip(raw: Path) -> None:
    _zip(raw / "empty.zip", [])


def _empty_zip_check(outcome: Outcome, tmp_path: Path) -> None:
    """The empty archive is in the manifest: an input with zero records (as an empty file is), or skipped."""
    inputs = {i["path"]: i["records"] for i in outcome.manifest["inputs"] if i["path"].startswith("empty")}
    skipped = [p for p in outcome.skipped() if p.startswith("empty")]
    assert inputs == {"empty.zip": 0} or (not inputs and skipped == ["empty.zip"]), (inputs, skipped)


def _junk_members(raw: Path) -> None:
    members = [
        ("__MACOSX/._chat.jsonl", b"\x00\x05\x16\x07junk"),
        (".DS_Store", b"\x00\x00\x00\x01Bud1"),
        ("docs/", b""),
        ("chat.jsonl~", body("backup")),
        ("cover.png", b"\x89PNG\r\n\x1a\n"),
        ("chat.jsonl", body("zipgood")),
    ]
    _zip(raw / "mixed.zip", members)


def _good_gzip(raw: Path) -> None:
    (raw / "good.jsonl.gz").write_bytes(gzip.compress(body("gzgood")))


def _duplicate_check(outcome: Outcome, tmp_path: Path) -> None:
    """The run completes and each member is read (its dialogues all written) or skipped with a reason."""
    read = [t for t in ("dupfirst", "dupsecond") if outcome.kept_tags(t) == {f"{t}-{n}" for n in range(3)}]
    skipped = [p for p in outcome.skipped() if p.startswith("dup.zip/")]
    assert read and len(read) + len(skipped) == 2, (read, skipped)


def _duplicate_names(raw: Path) -> None:
    # A zip may hold two members of one name; the second one must not hide or double the first.
    _zip(raw / "dup.zip", [("chat.jsonl", body("dupfirst")), ("chat.jsonl", body("dupsecond"))])


def _encrypted_member(raw: Path) -> None:
    members = [("secret.jsonl", body("sealed")), ("ok.jsonl", body("openok"))]
    data = bytearray(_zip_bytes(members, zipfile.ZIP_STORED))
    # Set the "encrypted" flag of the first member in its local header and its central directory entry.
    data[6] |= 0x1
    data[data.index(b"PK\x01\x02") + 8] |= 0x1
    (raw / "sealed.zip").write_bytes(bytes(data))


def _parquet_gzip(raw: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    rows = [good_record("pqgz", n)["conversations"] for n in range(3)]
    table = pa.table({"question": [r[0]["value"] for r in rows], "answer": [r[1]["value"] for r in rows]})
    pq.write_table(table, buffer)
    (raw / "table.parquet.gz").write_bytes(gzip.compress(buffer.getvalue()))


CASES = [
    Case("zip slip: ../, absolute, backslash and a/../../ members", _zip_slip,
         inputs={"slip.zip/ok.jsonl": Fate(3, kept=3)}, skipped=dict.fromkeys(SLIP_SKIPPED, UNSAFE),
         tags=("slipok",), absent=("evil",), check=_nothing_outside),
    Case("gzip bomb past the decompressed limit", _gzip_bomb,
         inputs={"bomb.jsonl.gz": Fate(1, codes={"file.too_large": 1})}),
    Case("corrupt gzip stream", _corrupt_gzip,
         inputs={"corrupt.jsonl.gz": Fate(1, codes={"archive.corrupt": 1})}),
    Case("truncated gzip keeps the lines before the cut", _truncated_gzip, inputs=None,
         tags=("gzcut",), check=_truncated_gzip_check),
    Case("truncated zstd", _truncated_zstd,
         inputs={"cut.jsonl.zst": Fate(1, codes={"archive.corrupt": 1})}),
    Case("corrupt zstd", _corrupt_zstd, inputs={"corrupt.jsonl.zst": Fate(1, codes={"archive.corrupt": 1})}),
    Case("truncated zip (no central directory)", _truncated_zip,
         inputs={"cut.zip": Fate(1, codes={"archive.corrupt": 1})}),
    Case("zip member with a corrupt deflate stream", _corrupt_member,
         inputs={"damaged.zip/a.jsonl": Fate(1, codes={"archive.corrupt": 1})}),
    Case("zip inside a zip", _zip_in_zip, inputs={"outer.zip/ok.jsonl": Fate(3, kept=3)},
         skipped={"outer.zip/inner.zip": UNREADABLE_IN_ZIP}, tags=("outerok",), absent=("nested",)),
    Case("zip with a symlink member", _symlink_member, inputs={"links.zip/ok.jsonl": Fate(3, kept=3)},
         skipped={"links.zip/passwd.jsonl": "link"}, tags=("linkok",)),
    Case("empty zip", _empty_zip, inputs={"empty.zip": Fate(0)}, check=_empty_zip_check),
    Case("zip with junk members beside a good one", _junk_members,
         inputs={"mixed.zip/chat.jsonl": Fate(3, kept=3)}, skipped=MIXED_SKIPPED,
         tags=("zipgood",), absent=("backup",)),
    Case(".gz of a good JSONL file", _good_gzip, inputs={"good.jsonl.gz": Fate(3, kept=3)}, tags=("gzgood",)),
    # The name opens the last member, as extracting the archive leaves it; the earlier one is skipped.
    Case("zip with two members of one name", _duplicate_names, inputs={"dup.zip/chat.jsonl": Fate(3, kept=3)},
         skipped={"dup.zip/chat.jsonl": "duplicate member name"}, tags=("dupsecond",), absent=("dupfirst",),
         check=_duplicate_check),
    Case("zip with an encrypted member", _encrypted_member, inputs={"sealed.zip/ok.jsonl": Fate(3, kept=3)},
         skipped={"sealed.zip/secret.jsonl": "encrypted"}, tags=("openok",), absent=("sealed",)),
    Case(".parquet.gz", _parquet_gzip, inputs={"table.parquet.gz": Fate(3, kept=3)}, tags=("pqgz",)),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_archive_case(tmp_path, case):
    run_table_case(tmp_path, case)


BOMBS = {
    "bomb.jsonl.gz": lambda: gzip.compress(BOMB),
    "bomb.jsonl.zst": lambda: _zstd(BOMB),
    "bomb.zip": lambda: _zip_bytes([("bomb.jsonl", BOMB)]),
}


@pytest.mark.parametrize("name", BOMBS)
def test_reader_stops_a_bomb_at_its_limit(tmp_path, name):
    """The Reader with a small limit rejects the whole bomb as file.too_large and reads its neighbour."""
    (tmp_path / name).write_bytes(BOMBS[name]())
    (tmp_path / "good.jsonl").write_bytes(body("rdgood"))
    reader = Reader([tmp_path], limits=Limits(max_decompressed_bytes=LIMIT))
    dialogues = list(reader)
    assert len(dialogues) == 3
    assert [(r.code, r.index) for r in reader.rejects] == [("file.too_large", None)]
    assert "1,048,576 bytes" in reader.rejects[0].message
