"""The Action's entry point: one run, from ``INPUT_*`` variables to an exit status."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ota_action.commands import COMMANDS, Command
from ota_action.doors.action import failures, ownership
from ota_action.doors.action.failures import Failure
from ota_action.doors.action.inputs import NOT_IN_ACTION, read_inputs, settings_values
from ota_action.doors.action.publication import Reporter, publish
from ota_action.doors.action.secrets import TakenSecrets, mask_new, take_and_mask
from ota_action.edges import files, github, published
from ota_action.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    InputError,
    OtaActionError,
    internal_error_message,
)

if TYPE_CHECKING:
    from ota_action.results import Result


class ActionRun:
    """One run of the Action: the stream it prints to and what it knows so far."""

    def __init__(self, out: TextIO, secrets: TakenSecrets | None = None) -> None:
        self.on_github = os.environ.get("GITHUB_ACTIONS") == "true"
        self.reporter = Reporter(out, self.on_github)
        self.secrets = secrets or TakenSecrets({})
        self.command = ""
        self.inputs: dict[str, str] = {}
        self.workspace = ownership.workspace()
        self.started = time.perf_counter()

    def fail(self, failure: Failure) -> int:
        return failures.report(self.reporter, failure, self.command)

    def run(self) -> int:
        from ota_action.edges import log
        from ota_action.settings import load

        logger = log.get()
        self.inputs = read_inputs(os.environ)
        command = (self.inputs.get("command") or os.environ.get("OTA_COMMAND") or "").strip()
        self.command = command if command in COMMANDS else ""  # never log an unknown value
        available = [name for name in COMMANDS if name not in NOT_IN_ACTION]
        if not command:
            raise Failure(f"is required: one of {', '.join(available)}", "command")
        if command in NOT_IN_ACTION:
            raise Failure(f"{command} is not available in the Action: {NOT_IN_ACTION[command]}", "command")
        spec = COMMANDS.get(command)
        if spec is None:
            raise Failure(f"unknown command; commands: {', '.join(available)}", "command", value=command)
        runner: Command[Any, Result] = spec.load()
        if not runner.signs and self.secrets.inputs:
            name = sorted(self.secrets.inputs)[0]
            raise Failure(f"is not used by command {command}: it signs nothing; remove the input", name)
        model = runner.settings
        values = settings_values(command, model, self.inputs, signs=runner.signs)
        names = sorted([*self.inputs, *self.secrets.inputs])
        logger.info("action.inputs", command=command, inputs=names, on_github=self.on_github)
        try:
            github.check_destinations(os.environ)  # before any work: where results will go
            settings = load(model, values, warn=self.reporter.warn)
            outfile = getattr(settings, "outfile", None)
            if isinstance(outfile, Path):
                if self.on_github and ownership.relative(outfile, self.workspace) is None:
                    raise InputError(
                        "must be inside the workspace, where later steps can read it",
                        field="outfile",
                        value=str(outfile),
                    )
                files.check_output_path(outfile)  # a bad name is exit 2, not an OSError below
            created = ownership.folders_to_create(settings, self.workspace)
            # The secrets were taken out of os.environ; they reach the command as Secrets.
            secrets = runner.secrets(settings, os.environ, self.secrets.given(settings))
            mask_new(self.secrets, secrets, self.on_github, self.reporter.emit)
            publishing = published.INDEX_DIGESTS.set(True)  # the outputs sha512 and sha3-256
            try:
                result = runner.run(settings, secrets)
            except BaseException:
                ownership.remove_empty(created)  # the command removed its files; not its folders
                raise
            finally:
                published.INDEX_DIGESTS.reset(publishing)  # for this run only (in-process callers)
        except OtaActionError as exc:
            raise failures.from_error(exc, self.inputs, model) from None
        try:
            return publish(self.reporter, result, created, self.workspace, self.started)
        except OtaActionError as exc:
            raise Failure(exc.message) from None


def main(out: TextIO | None = None) -> int:
    """Run the Action from the environment; returns the exit status."""
    out = out or sys.stdout
    on_github = os.environ.get("GITHUB_ACTIONS") == "true"
    secrets = take_and_mask(os.environ, out, on_github)  # before anything else is printed
    from ota_action.edges import log

    level = "debug" if os.environ.get("RUNNER_DEBUG") == "1" else None
    log.configure(
        stream=out,
        level=level,
        extra_processors=(log.one_line_values, log.Annotations(out)),
        default_format="console",
    )
    run = ActionRun(out, secrets)
    try:
        with files.confined(run.workspace):  # every path must resolve inside the workspace
            return run.run()
    except Failure as failure:
        return run.fail(failure)
    except KeyboardInterrupt as exc:  # files.Terminated: SIGTERM/SIGHUP, partial output removed
        signum = getattr(exc, "signum", None)
        return 128 + signum if isinstance(signum, int) else EXIT_INTERRUPTED
    except Exception as exc:
        if os.environ.get("OTA_DEBUG"):  # shows the traceback, never changes the exit status
            from ota_action.safe_text import debug_traceback

            sys.stderr.write(debug_traceback(exc))
        return run.fail(Failure(internal_error_message(exc), None, EXIT_INTERNAL))
