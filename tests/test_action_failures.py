"""A failed Action step: refused once, nothing written where it must not be, no hang.

Run the way the runner runs the Action (``entrypoint.py`` in a subprocess, bounded by a
timeout), with the runner's step-summary file replaced by what a hostile or broken
workflow can give: a symbolic link out of the workspace, a dangling link, a FIFO, a
directory.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.test_action import ZBOTA, FakeRunner, Run

UNKNOWN = {"command": "no-such-command"}


@pytest.fixture
def runner(tmp_path: Path) -> FakeRunner:
    fake = FakeRunner(tmp_path)
    (fake.workspace / "firmware").mkdir()
    (fake.workspace / "firmware" / "app.hex").write_bytes(
        (Path(__file__).parent.parent / "examples" / "firmware" / "app.hex").read_bytes()
    )
    return fake


def _summary_mentions(run: Run) -> list[str]:
    """Every annotation that speaks of the step summary."""
    return [c.message for c in run.commands if "GITHUB_STEP_SUMMARY" in c.message]


def _outside(runner: FakeRunner) -> Path:
    target = runner.root / "outside" / "summary.md"
    target.parent.mkdir()
    target.write_text("before\n", encoding="utf-8")
    return target


@pytest.mark.parametrize("inputs", [ZBOTA, UNKNOWN], ids=["work-refused", "failed-before"])
def test_summary_link_out_of_workspace_refused_once(runner: FakeRunner, inputs: dict[str, str]) -> None:
    target = _outside(runner)
    link = runner.root / "file_commands" / "summary-link"
    link.symlink_to(target)
    run = runner.run(inputs, {"GITHUB_STEP_SUMMARY": str(link)})
    assert run.code == 2, run.stdout + run.stderr
    assert target.read_text(encoding="utf-8") == "before\n"  # nothing appended through the link
    mentions = _summary_mentions(run)
    assert len(mentions) == 1, run.stdout
    assert "is a symbolic link" in mentions[0]
    assert run.outputs_text == ""
    assert "Traceback" not in run.stdout + run.stderr
    if inputs is ZBOTA:
        assert not (runner.workspace / "dist").exists()  # refused before any work


def test_dangling_summary_link_creates_nothing(runner: FakeRunner) -> None:
    target = runner.root / "outside" / "made.md"
    link = runner.root / "file_commands" / "summary-link"
    link.symlink_to(target)
    run = runner.run(UNKNOWN, {"GITHUB_STEP_SUMMARY": str(link)})
    assert run.code == 2
    assert not os.path.lexists(target)
    assert not target.parent.exists()
    assert len(_summary_mentions(run)) == 1


@pytest.mark.parametrize("inputs", [ZBOTA, UNKNOWN], ids=["work-refused", "failed-before"])
def test_summary_fifo_does_not_hang(runner: FakeRunner, inputs: dict[str, str]) -> None:
    fifo = runner.root / "file_commands" / "summary-fifo"
    os.mkfifo(fifo)
    run = runner.run(inputs, {"GITHUB_STEP_SUMMARY": str(fifo)})  # FakeRunner.run: timeout=120
    assert run.code == 2, run.stdout + run.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    mentions = _summary_mentions(run)
    assert len(mentions) == 1, run.stdout
    assert "is not a regular file" in mentions[0]
    assert "Traceback" not in run.stdout + run.stderr
    if inputs is UNKNOWN:
        (warning,) = run.annotations("warning")
        assert warning.message.endswith("is not a regular file; this failure is not in the step summary")


def test_output_fifo_does_not_hang(runner: FakeRunner) -> None:
    fifo = runner.root / "file_commands" / "output-fifo"
    os.mkfifo(fifo)
    run = runner.run(ZBOTA, {"GITHUB_OUTPUT": str(fifo)})
    assert run.code == 2, run.stdout + run.stderr
    (error,) = run.annotations("error")
    assert error.message.startswith("GITHUB_OUTPUT is not a regular file")
    assert not (runner.workspace / "dist").exists()


def test_summary_fifo_with_a_reader_is_still_refused(runner: FakeRunner) -> None:
    fifo = runner.root / "file_commands" / "summary-fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        run = runner.run(UNKNOWN, {"GITHUB_STEP_SUMMARY": str(fifo)})
        assert run.code == 2
        assert os.read(reader, 100) == b""  # nothing was written into it
    finally:
        os.close(reader)
    assert len(_summary_mentions(run)) == 1


def test_summary_directory_is_refused_once(runner: FakeRunner) -> None:
    folder = runner.root / "file_commands" / "summary-dir"
    folder.mkdir()
    run = runner.run(UNKNOWN, {"GITHUB_STEP_SUMMARY": str(folder)})
    assert run.code == 2
    assert list(folder.iterdir()) == []
    mentions = _summary_mentions(run)
    assert len(mentions) == 1
    assert "is a directory" in mentions[0]


def test_a_plain_failure_still_writes_its_summary(runner: FakeRunner) -> None:
    run = runner.run(UNKNOWN)
    assert run.code == 2
    assert "❌" in run.summary
    assert "unknown command" in run.summary
    assert _summary_mentions(run) == []


@pytest.mark.parametrize(
    ("environ", "coloured"),
    [
        ({"NO_COLOR": "", "FORCE_COLOR": "1"}, True),  # empty NO_COLOR is unset (no-color.org)
        ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),
        ({"FORCE_COLOR": "1"}, True),
        ({}, False),
    ],
)
def test_log_and_summary_follow_one_colour_rule(
    environ: dict[str, str], coloured: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from ota_action.edges import log, style

    for name in ("NO_COLOR", "FORCE_COLOR", "GITHUB_ACTIONS", "OTA_LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    try:
        log.configure(stream=out, default_format="console").info("colour.check", n=1)
    finally:
        log.reset()
    assert ("\x1b[" in out.getvalue()) is coloured
    assert style.use_colour(io.StringIO()) is coloured
