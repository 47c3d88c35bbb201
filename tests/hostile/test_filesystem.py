"""Hostile file systems: links, loops, FIFOs, empty and misnamed files, junk, deep folders, odd names.

Each case writes entries into the input folder beside the good neighbour files, builds, and names the
exact fate of every path it wrote: read (with its records, kept dialogues and reject codes) or skipped
(with a fragment of the reason). The archive cases reuse `Fate`, `Case` and `run_table_case`.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.hostile.harness import Outcome, assert_neighbours_survive, good_lines, run_case, with_neighbours

NEIGHBOUR_FILES = ("0000-before.jsonl", "zzzz-after.jsonl")
JUNK = "hidden or junk file"
NOT_CONTAINER = "not a dialogue container"
LOOP = "link loop"
JUNK_NAMES = (".DS_Store", "Thumbs.db", "desktop.ini", "x.jsonl~", ".x.jsonl.swp", "~$x.csv", ".x.jsonl")


@dataclass(frozen=True)
class Fate:
    """The expected manifest entry of one input: source records, dialogues kept and deduplicated, rejects."""

    records: int
    kept: int = 0
    codes: Mapping[str, int] = field(default_factory=dict)
    deduplicated: int = 0


@dataclass(frozen=True)
class Case:
    """Entries a case writes under the input root, and the fate of each path it wrote.

    `inputs` and `skipped` list every case path the manifest must hold (neighbours aside); None leaves
    them to `check` (where more than one fate would be correct). `tags` are good dialogues inside the
    case that must be written, `absent` tags that must not be. `make` may return a context manager that
    wraps the build (a watchdog, a cleanup).
    """

    name: str
    make: Callable[[Path], AbstractContextManager[Any] | None]
    inputs: Mapping[str, Fate] | None = field(default_factory=dict)
    skipped: Mapping[str, str] | None = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    check: Callable[[Outcome, Path], None] | None = None


def body(tag: str) -> bytes:
    """A JSONL file of good dialogues marked `tag`."""
    return b"\n".join(good_lines(tag)) + b"\n"


def check_case(outcome: Outcome, case: Case, tmp_path: Path, neighbours: list[str]) -> None:
    """Assert the fate of every path the case wrote, and that every good dialogue around it survived."""
    inputs = {i["path"]: i for i in outcome.manifest["inputs"] if i["path"] not in NEIGHBOUR_FILES}
    if case.inputs is not None:
        assert sorted(inputs) == sorted(case.inputs)
        for path, fate in case.inputs.items():
            fates = inputs[path]["fates"]
            got = (fates["source_records"], fates["kept"], fates["deduplicated"])
            assert got == (fate.records, fate.kept, fate.deduplicated), path
            assert dict(outcome.reject_codes(path)) == dict(fate.codes), path
    skipped = outcome.skipped()
    if case.skipped is not None:
        assert sorted(skipped) == sorted(case.skipped)
        for path, reason in case.skipped.items():
            assert reason in skipped[path], (path, skipped[path])
    for tag in case.absent:
        assert not outcome.kept_tags(tag), tag
    if case.check is not None:
        case.check(outcome, tmp_path)
    assert_neighbours_survive(outcome, [*neighbours, *case.tags])


def run_table_case(tmp_path: Path, case: Case) -> Outcome:
    """Write the neighbours and the case, build inside the case's guard, and check the fates."""
    raw = tmp_path / "raw"
    neighbours = with_neighbours(raw)
    with case.make(raw) or contextlib.nullcontext():
        outcome = run_case(raw, tmp_path / "out")
    check_case(outcome, case, tmp_path, neighbours)
    return outcome


def _outside(raw: Path) -> Path:
    """A folder beside the input root holding good dialogues that must never be read."""
    outside = raw.parent / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret.jsonl").write_bytes(body("outsider"))
    return outside


def _link_out_file(raw: Path) -> None:
    os.symlink(_outside(raw) / "secret.jsonl", raw / "leak.jsonl")


def _link_out_folder(raw: Path) -> None:
    os.symlink(_outside(raw), raw / "leakdir")


def _link_loop(raw: Path) -> None:
    os.symlink("loop-b.jsonl", raw / "loop-a.jsonl")
    os.symlink("loop-a.jsonl", raw / "loop-b.jsonl")


def _self_loop(raw: Path) -> None:
    os.symlink("self.jsonl", raw / "self.jsonl")


def _dangling(raw: Path) -> None:
    os.symlink("gone.jsonl", raw / "dangling.jsonl")


def _link_inside(raw: Path) -> None:
    (raw / "target.jsonl").write_bytes(body("target"))
    # "inlink" sorts before "target", so the link is read first and the target's copies are duplicates.
    os.symlink("target.jsonl", raw / "inlink.jsonl")


@contextlib.contextmanager
def _never_opened(fifo: Path) -> Iterator[None]:
    """Watch a FIFO during the build: a reader blocked on it is released (so no hang) and reported."""
    opened, done = [], threading.Event()

    def watch() -> None:
        while not done.is_set():
            try:
                # Opening for writing without blocking succeeds only when a reader has the FIFO open.
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                time.sleep(0.02)
                continue
            opened.append(True)
            os.close(fd)  # the reader sees end of file and the build goes on

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
    assert not opened, "the FIFO was opened"


def _fifo(raw: Path) -> AbstractContextManager[None]:
    os.mkfifo(raw / "pipe.jsonl")
    return _never_opened(raw / "pipe.jsonl")


def _unreadable(raw: Path) -> None:
    path = raw / "locked.jsonl"
    path.write_bytes(body("locked"))
    path.chmod(0)
    try:
        path.open("rb").close()
    except PermissionError:
        return
    pytest.skip("chmod 000 does not stop reads here (running as root)")


def _empty(name: str) -> Callable[[Path], None]:
    def make(raw: Path) -> None:
        (raw / name).write_bytes(b"")

    return make


def _jsonl_as_csv(raw: Path) -> None:
    (raw / "lines.csv").write_bytes(body("asv"))


def _csv_as_jsonl(raw: Path) -> None:
    (raw / "table.jsonl").write_bytes(b"question,answer\nhow do I reset my pin?,use the app settings\n")


def _parquet_as_json(raw: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table({"question": ["how do I reset my pin?"], "answer": ["In the app."]}), buffer)
    (raw / "columns.json").write_bytes(buffer.getvalue())


def _parquet_codes(outcome: Outcome, tmp_path: Path) -> None:
    """Binary bytes read as JSON: every record is a reject for bad bytes or bad JSON, none is kept."""
    entry = outcome.input("columns.json")
    assert entry["fates"]["kept"] == 0 and entry["fates"]["rejected"] == entry["records"] >= 1
    assert set(outcome.reject_codes("columns.json")) <= {"encoding.invalid", "json.invalid"}


def _os_junk(raw: Path) -> None:
    for name in JUNK_NAMES:
        (raw / name).write_bytes(body("junked"))


def _not_containers(raw: Path) -> None:
    (raw / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + body("pictured"))
    (raw / "noext").write_bytes(body("noext"))


def _chain(raw: Path, depth: int) -> Path:
    """Make `depth` nested folders one by one (os.makedirs recurses) and return the innermost."""
    folder = raw
    for _ in range(depth):
        folder = folder / "d"
        folder.mkdir()
    return folder


def _deep(raw: Path) -> None:
    (_chain(raw, 100) / "deep.jsonl").write_bytes(body("deepdown"))


@contextlib.contextmanager
def _removed_chain(raw: Path, depth: int) -> Iterator[None]:
    """Remove the chain innermost first: shutil.rmtree (pytest's cleanup) recurses and would fail on it."""
    try:
        yield
    finally:
        folders = [raw / Path(*["d"] * n) for n in range(1, depth + 1)]
        for folder in reversed(folders):
            for child in folder.iterdir():
                if not child.is_dir():
                    child.unlink()
            folder.rmdir()


def _deeper(raw: Path) -> AbstractContextManager[None]:
    # Deeper than Python's recursion limit (1000): a recursive walk cannot get there.
    (_chain(raw, 1000) / "abyss.jsonl").write_bytes(body("abyss"))
    return _removed_chain(raw, 1000)


def _named(name: str, tag: str) -> Callable[[Path], None]:
    def make(raw: Path) -> None:
        # A bad line too, so the name also reaches rejects.jsonl, which must stay one JSON object per line.
        (raw / name).write_bytes(body(tag) + b"{broken\n")

    return make


def _non_utf8_name(raw: Path) -> None:
    (raw / os.fsdecode(b"latin-\xe9t\xe9.jsonl")).write_bytes(body("latin"))


def _non_utf8_check(outcome: Outcome, tmp_path: Path) -> None:
    """The file is accounted for under a name that JSON can carry (read, or skipped with a reason)."""
    paths = [i["path"] for i in outcome.manifest["inputs"]] + list(outcome.skipped())
    assert len([p for p in paths if p.startswith("latin-")]) == 1, paths


def _folder_named_like_file(raw: Path) -> None:
    (raw / "a.jsonl").mkdir()
    (raw / "a.jsonl" / "inner.jsonl").write_bytes(body("infolder"))
    (raw / "b.jsonl").mkdir()


CASES = [
    Case("symlink to a file outside the root", _link_out_file,
         skipped={"leak.jsonl": "link pointing outside the input folder"}, absent=("outsider",)),
    Case("symlink to a folder outside the root", _link_out_folder,
         skipped={"leakdir": "link to a folder (not followed)"}, absent=("outsider",)),
    Case("symlink loop a -> b -> a", _link_loop, skipped={"loop-a.jsonl": LOOP, "loop-b.jsonl": LOOP}),
    Case("symlink to itself", _self_loop, skipped={"self.jsonl": LOOP}),
    Case("dangling symlink", _dangling, skipped={"dangling.jsonl": "cannot be read"}),
    Case("symlink inside the root to a file inside the root", _link_inside,
         inputs={"inlink.jsonl": Fate(3, kept=3), "target.jsonl": Fate(3, deduplicated=3)}, tags=("target",)),
    Case("FIFO is never opened (no hang)", _fifo, skipped={"pipe.jsonl": "not a regular file"}),
    Case("unreadable file (chmod 000)", _unreadable,
         inputs={"locked.jsonl": Fate(1, codes={"file.unreadable": 1})}),
    Case("empty .jsonl", _empty("empty.jsonl"), inputs={"empty.jsonl": Fate(0)}),
    Case("empty .json", _empty("empty.json"), inputs={"empty.json": Fate(0)}),
    Case("empty .csv", _empty("empty.csv"), inputs={"empty.csv": Fate(0)}),
    Case("empty .yaml", _empty("empty.yaml"), inputs={"empty.yaml": Fate(0)}),
    Case("empty .parquet", _empty("empty.parquet"), inputs={"empty.parquet": Fate(0)}),
    Case("JSONL content in .csv", _jsonl_as_csv,
         inputs={"lines.csv": Fate(3, codes={"format.undetected": 3})}),
    Case("CSV content in .jsonl", _csv_as_jsonl, inputs={"table.jsonl": Fate(2, codes={"json.invalid": 2})}),
    Case("Parquet bytes in .json", _parquet_as_json, inputs=None, check=_parquet_codes),
    Case("OS and editor junk, hidden files", _os_junk, skipped=dict.fromkeys(JUNK_NAMES, JUNK),
         absent=("junked",)),
    Case("a .png and a file without extension", _not_containers,
         skipped={"photo.png": NOT_CONTAINER, "noext": NOT_CONTAINER}, absent=("pictured", "noext")),
    Case("folder nested 100 deep", _deep, inputs={"d/" * 100 + "deep.jsonl": Fate(3, kept=3)},
         tags=("deepdown",)),
    Case("folder nested 1000 deep", _deeper, inputs={"d/" * 1000 + "abyss.jsonl": Fate(3, kept=3)},
         tags=("abyss",)),
    Case("name with spaces and unicode", _named("my chats 对话 ü.jsonl", "spaced"),
         inputs={"my chats 对话 ü.jsonl": Fate(4, kept=3, codes={"json.invalid": 1})}, tags=("spaced",)),
    Case("name with a newline", _named("two\nlines.jsonl", "nlname"),
         inputs={"two\nlines.jsonl": Fate(4, kept=3, codes={"json.invalid": 1})}, tags=("nlname",)),
    Case("name with leading dashes", _named("--overwrite -rf.jsonl", "dashed"),
         inputs={"--overwrite -rf.jsonl": Fate(4, kept=3, codes={"json.invalid": 1})}, tags=("dashed",)),
    # Skipped, shown with its bytes escaped: an escaped stand-in read as an input could name another file.
    Case("name that is not UTF-8", _non_utf8_name, skipped={"latin-\\xe9t\\xe9.jsonl": "not valid UTF-8"},
         check=_non_utf8_check),
    Case("folders named like files (a.jsonl/, empty b.jsonl/)", _folder_named_like_file,
         inputs={"a.jsonl/inner.jsonl": Fate(3, kept=3)}, tags=("infolder",)),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_filesystem_case(tmp_path, case):
    run_table_case(tmp_path, case)
