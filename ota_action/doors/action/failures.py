"""A failure as the Action reports it: the input at fault, the message, the exit status."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ota_action.doors.action.secrets import SECRET_INPUTS
from ota_action.edges import github
from ota_action.errors import EXIT_USAGE, OtaActionError
from ota_action.records import record

if TYPE_CHECKING:
    from ota_action.doors.action.publication import Reporter
    from ota_action.settings import CommandSettings


@record(frozen=False)
class Failure(Exception):
    """An error as the Action reports it: which input is at fault, and the exit status."""

    message: str
    input: str | None = None
    exit_code: int = EXIT_USAGE
    value: str | None = None

    @property
    def title(self) -> str:
        return f"Input {self.input}" if self.input else "ota-action failed"

    def line(self) -> str:
        from ota_action.safe_text import shown

        if self.input and self.value is not None:
            secret = self.input.split(" ")[0] in SECRET_INPUTS
            return f"input {self.input} = {shown(self.value, secret=secret)}: {self.message}"
        if self.input:
            return f"input {self.input}: {self.message}"
        return self.message


def input_name(field: str) -> str:
    """The Action input that sets a settings field (``mfg_id`` -> ``mfg-id``)."""
    return field.replace("_", "-")


def from_error(
    exc: OtaActionError, inputs: Mapping[str, str], model: type[CommandSettings] | None = None
) -> Failure:
    """The failure an engine error is: its settings field spelt as the input that sets it."""
    message = exc.spelt(lambda field: f"input {input_name(field)}")
    if exc.field is None:
        return Failure(message, None, exc.exit_code)
    from ota_action.settings import source_of

    name = input_name(exc.field)
    given = {n.replace("-", "_") for n in inputs}
    env_name = exc.source or source_of(model, exc.field, dict.fromkeys(given), os.environ)
    if name not in inputs and env_name:
        name = f"{name} (from {env_name})"
    return Failure(message, name, exc.exit_code, exc.value)


def report(reporter: Reporter, failure: Failure, command: str) -> int:
    """Annotate the failure, log it, put it in the step summary; returns its exit status."""
    from ota_action.edges import log
    from ota_action.results import md_escape

    reporter.emit(github.command("error", failure.line(), title=failure.title))
    log.get().error(
        "action.failed",
        command=command or None,
        input=failure.input,
        exit_code=failure.exit_code,
        annotated=True,
    )
    heading = f"### ❌ ota-action {command}".rstrip()
    try:
        reporter.summary(f"{heading}\n\n{md_escape(failure.line())}\n")
    except OtaActionError as exc:
        # The summary file cannot take it (a link, a FIFO, a directory): nothing is written
        # there, and the reason is said once -- not again when it is the failure itself.
        if not failure.message.startswith(github.SUMMARY_VARIABLE):
            problem = getattr(exc, "problem", "") or exc.message
            warning = f"{problem}; this failure is not in the step summary"
            reporter.emit(github.command("warning", warning, title="ota-action"))
    return failure.exit_code
