from io import StringIO
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rich.console import Console

from dialogdata._progress import NoProgress, RichProgress, progress_for_terminal
from dialogdata.build import BuildResult
from dialogdata.cli import _print_summary


class _Clock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def _console() -> Console:
    return Console(file=StringIO(), force_terminal=True, color_system=None, width=100)


def _last_frame(console: Console) -> str:
    """The display as it stays on screen once the live display stopped."""
    assert isinstance(console.file, StringIO)
    return console.file.getvalue().rsplit("\x1b[2K", 1)[-1]


def _run_stages(progress: RichProgress, clock: _Clock) -> None:
    progress.start("read")
    for _ in range(1234):
        clock.now += 1 / 1024  # exact in binary, so the figures are too
        progress.advance("read")
    progress.end("read")
    progress.start("conflict")
    progress.end("conflict")
    progress.start("write", total=1000)
    for _ in range(600):
        clock.now += 1 / 64
        progress.advance("write")
    progress.end("write")


def test_progress_rich_shows_each_stage_and_its_final_count():
    console, clock = _console(), _Clock()
    with RichProgress(console=console, clock=clock) as progress:
        _run_stages(progress, clock)
    lines = _last_frame(console).splitlines()
    by_stage = {line.split()[0]: line for line in lines if line.strip() and not line.startswith("\x1b")}
    assert set(by_stage) == {"read", "conflict", "write"}
    assert " 1,234 " in by_stage["read"] and "1,024/s" in by_stage["read"]
    assert " 0 " in by_stage["conflict"]
    assert " 600/1,000 " in by_stage["write"] and "64/s" in by_stage["write"]
    assert "0:00:09" in by_stage["write"]


def test_progress_rich_batches_advances_into_few_rich_updates(monkeypatch):
    clock = _Clock()
    progress = RichProgress(console=_console(), clock=clock)
    calls = []
    monkeypatch.setattr(progress._bars, "advance", lambda task, steps: calls.append(steps))
    progress.start("write", total=20_000)
    for _ in range(10_000):
        progress.advance("write")
    assert calls == []
    for _ in range(10_000):
        clock.now += 0.001
        progress.advance("write")
    progress.end("write")
    assert len(calls) <= 102
    assert sum(calls) == 20_000


def test_progress_rich_hands_over_pending_steps_on_exit_even_after_an_error():
    console, clock = _console(), _Clock()

    def stopped_by_an_error() -> None:
        with RichProgress(console=console, clock=clock) as progress:
            progress.start("write", total=10)
            progress.advance("write", 7)
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        stopped_by_an_error()
    assert " 7/10 " in _last_frame(console)


def test_progress_rich_counts_a_stage_advanced_before_it_started_and_a_stage_run_twice():
    console, clock = _console(), _Clock()
    with RichProgress(console=console, clock=clock) as progress:
        progress.advance("read", 3)
        progress.end("read")
        progress.start("read", total=2)
        progress.advance("read", 2)
        progress.end("read")
    frame = [line for line in _last_frame(console).splitlines() if line.startswith("read")]
    assert len(frame) == 2
    assert " 3 " in frame[0] and " 2/2 " in frame[1]


def test_progress_none_is_silent(capsys):
    with NoProgress() as progress:
        progress.start("read")
        progress.advance("read", 5)
        progress.end("read")
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(
    ("stream", "term", "expected"),
    [
        (StringIO(), "xterm-256color", NoProgress),
        (_Terminal(), "xterm-256color", RichProgress),
        (_Terminal(), "dumb", NoProgress),
    ],
)
def test_progress_for_terminal_shows_bars_only_on_a_terminal_that_redraws(
    monkeypatch, stream, term, expected
):
    monkeypatch.setenv("TERM", term)
    assert type(progress_for_terminal(stream=stream)) is expected


@pytest.fixture
def plain_stderr(monkeypatch):
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)


def _check(
    name: str, value: Any, threshold: Any, kind: str, passed: bool, message: str = "fine"
) -> dict[str, Any]:
    return {
        "name": name,
        "value": value,
        "threshold": threshold,
        "kind": kind,
        "passed": passed,
        "message": message,
    }


FATES = {
    "source_records": 1200,
    "kept": 1010,
    "rejected": 40,
    "filtered": 100,
    "deduplicated": 50,
    "augmented": 400,
    "written": 1410,
}


def test_cli_summary_of_a_passed_gate_shows_fates_scores_checks_and_paths(capsys, plain_stderr):
    result = BuildResult(out=Path("out/demo"), fates=FATES, gate_passed=True)
    result.scores = {"coverage": 0.71, "consistency": 0.912345, "conflict": 0.12}
    result.gate_checks = [
        _check("reject share", 0.033333, 0.5, "max", True),
        _check("dialogues written", 1410, 1, "min", True),
        _check("mean consistency", 0.912345, 0.8, "min", True),
    ]
    _print_summary(result)
    out, err = capsys.readouterr()
    assert out == ""
    lines = [" ".join(line.split()) for line in err.splitlines()]
    fates = "kept 1,010, rejected 40, filtered 100, deduplicated 50; augmented 400; written 1,410"
    assert f"source records 1,200: {fates}" in lines
    assert "mean scores: consistency 0.912, conflict 0.120, coverage 0.710" in lines
    assert "gate check value threshold result" in lines
    assert "reject share 3.3% <= 50.0% pass" in lines
    assert "dialogues written 1,410 >= 1 pass" in lines
    assert "mean consistency 0.912 >= 0.8 pass" in lines
    assert "gate passed (3 checks)" in lines
    assert "output: out/demo/" in lines
    assert f"report: {Path('out/demo/reports/summary.html')}" in lines
    assert "\x1b[" not in err


def test_cli_summary_of_a_failed_gate_says_why_and_what_the_exit_code_means(capsys, plain_stderr):
    reasons = ["100.0% of source records were rejected (at most 50.0% allowed)"]
    fates = {**FATES, "kept": 0, "rejected": 1200, "written": 0}
    result = SimpleNamespace(
        out=Path("out"),
        report=Path("out/reports/summary.html"),
        fates=fates,
        gate_passed=False,
        gate_reasons=reasons,
        exit_code=1,
        scores={},
        gate_checks=[
            _check("reject share", 1.0, 0.5, "max", False, reasons[0]),
            _check("groups across splits", 0, 0, "max", True),
        ],
    )
    _print_summary(result)
    lines = [" ".join(line.split()) for line in capsys.readouterr().err.splitlines()]
    assert "reject share 100.0% <= 50.0% FAIL" in lines
    assert "groups across splits 0 <= 0 pass" in lines
    assert "gate FAILED (1 of 2 checks):" in lines
    assert f"- {reasons[0]}" in lines
    assert "exit code 1: the outputs are written but not marked complete (no _SUCCESS)" in lines
    assert not any(line.startswith("mean scores") for line in lines)


def test_cli_summary_without_scores_or_checks_still_gives_the_verdict(capsys, plain_stderr):
    result = BuildResult(out=Path("out"), fates=FATES, gate_passed=False, gate_reasons=["no dialogue"])
    del result.scores, result.gate_checks  # the fields as they were before the gate had checks
    _print_summary(result)
    err = capsys.readouterr().err
    assert "gate check" not in err
    assert "gate FAILED:\n  - no dialogue\n" in err


def test_cli_summary_prints_markup_in_data_literally(capsys, plain_stderr):
    out = Path("runs/[red]x[/red] [bold]")
    result = BuildResult(out=out, fates=FATES, gate_passed=False, gate_reasons=["bad [blink]file[/blink]"])
    result.gate_checks = [_check("[red]check", "[i]v", None, "", False)]
    _print_summary(result)
    err = capsys.readouterr().err
    assert f"output: {out}/\n" in err
    assert f"report: {out / 'reports' / 'summary.html'}\n" in err
    assert "- bad [blink]file[/blink]" in err
    assert "[red]check [i]v - FAIL" in " ".join(err.split())
