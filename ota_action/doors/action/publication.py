"""What a run shows and leaves: annotations, the text, the step summary, outputs, rollback."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ota_action.doors.action.ownership import give_to_workspace_owner
from ota_action.edges import github
from ota_action.errors import OtaActionError

if TYPE_CHECKING:
    from ota_action.results import Result


class Reporter:
    """The stream a run prints to, in the runner's workflow-command language on GitHub."""

    def __init__(self, out: TextIO, on_github: bool) -> None:
        self.out = out
        self.on_github = on_github

    def emit(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def warn(self, message: str) -> None:
        """A warning about the run itself (a deprecated variable): annotated on GitHub."""
        if self.on_github:
            self.annotate("warning", [message], "ota-action")
        else:
            self.emit(f"warning: {message}")

    def annotate(self, kind: str, messages: Iterable[str], title: str) -> None:
        items = list(messages)
        for message in items[: github.ANNOTATIONS_PER_KIND]:
            self.emit(github.command(kind, message, title=title))
        if len(items) > github.ANNOTATIONS_PER_KIND:
            extra = len(items) - github.ANNOTATIONS_PER_KIND
            self.emit(github.command(kind, f"{extra} more; see the step summary", title=title))

    def show_text(self, chunks: Iterable[str]) -> None:
        """The human summary, written as it is produced (a batch streams one line per file,
        so memory stays flat); on GitHub inside stop-commands, since it holds user strings."""
        token = uuid.uuid4().hex if self.on_github else None
        if token is not None:
            self.emit(f"::stop-commands::{token}")
        for chunk in chunks:
            self.out.write(chunk)
        if token is not None:
            self.emit(f"::{token}::")

    def summary(self, markdown: str) -> None:
        from ota_action.edges import log

        path = os.environ.get("GITHUB_STEP_SUMMARY")
        if not path:
            return
        written, truncated = github.append_summary(Path(path), markdown)
        log.get().info("action.summary", bytes=written, truncated=truncated)


def publish(reporter: Reporter, result: Result, created: list[Path], workspace: Path, started: float) -> int:
    """Publish; when that fails part-way, take back everything this run wrote and re-raise."""
    publication = github.Publication(os.environ)
    publication.directories = created
    result_file = os.environ.get("OTA_RESULT_FILE")
    publication.written = [*result.written(), *([Path(result_file)] if result_file else [])]
    try:
        return _publish(reporter, result, created, workspace, started)
    except OtaActionError:
        publication.rollback()
        raise


def _publish(reporter: Reporter, result: Result, created: list[Path], workspace: Path, started: float) -> int:
    from ota_action.edges import log

    logger = log.get()
    reporter.show_text(result.text_chunks())
    reporter.summary(result.markdown())
    if result.warnings:
        reporter.annotate("warning", result.warnings, f"ota-action {result.command}")
    if not result.ok:
        # A verdict, not a failure of the tool: the outputs (counts, summary-json) are
        # still set, so a later step (if: always()) can read which files failed.
        reporter.annotate("error", result.errors, f"ota-action {result.command}: invalid file")
        logger.error("action.failed", command=result.command, errors=len(result.errors), annotated=True)
    outputs_written = result.written()
    if outputs_written and reporter.on_github:
        owner = give_to_workspace_owner([*created, *outputs_written], workspace)
        if owner is not None:
            logger.info("action.chown", uid=owner[0], gid=owner[1], paths=owner[2])
    outputs = result.outputs(workspace)
    path = os.environ.get("GITHUB_OUTPUT")
    if path:
        written = github.append_outputs(Path(path), github.bound_outputs(outputs))
        logger.info("action.outputs", names=sorted(outputs), bytes=written)
    result_file = os.environ.get("OTA_RESULT_FILE")
    if result_file:
        github.write_result_file(Path(result_file), outputs["summary-json"] + "\n")
    logger.info(
        "action.done",
        command=result.command,
        exit_code=result.exit_code,
        seconds=round(time.perf_counter() - started, 4),
    )
    return result.exit_code
