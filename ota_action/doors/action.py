"""Front door 2: the GitHub Action (also ``docker run IMAGE`` with no arguments).

Inputs arrive as ``INPUT_<NAME>`` variables (the runner upper-cases the input name and
keeps its hyphens: ``mfg-id`` -> ``INPUT_MFG-ID``; an omitted input is ``''``).  Input
``command`` picks the command; every other input is the settings field of the same
name (``mfg-id`` -> ``mfg_id``) and is validated by the very model the CLI uses, so the
two doors cannot drift.  ``OTA_*`` variables fill whatever no input gives (GitLab,
Jenkins and other CI systems use those with a plain ``docker run``).

The secrets ``signing-key`` and ``signing-key-passphrase`` (or, with no input,
``OTA_SIGNING_KEY`` / ``OTA_SIGNING_KEY_PASSPHRASE``) are not settings fields: before
anything else is printed every form of them is masked (``::add-mask::``, see
:mod:`ota_action.edges.masking`) and they are taken *out* of ``os.environ`` into
:class:`~ota_action.secret.Secret` objects, which reach the signer as an argument.
Messages about them name the input ("input signing-key").  A command that does not
sign refuses them (exit 2).

Results: outputs to ``$GITHUB_OUTPUT`` (random heredoc delimiters), a Markdown step
summary, ``::error``/``::warning`` annotations naming the input at fault.  A verdict
(``verify`` finding a file invalid, exit 1) still sets the outputs; a failure (exit 2 or
70) sets none, and what a failed publication wrote is rolled back.  Files written into
the workspace are given to the workspace's owner.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import typing
import uuid
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ota_action.commands import COMMANDS, Command
from ota_action.edges import files, github
from ota_action.edges.masking import mask_forms
from ota_action.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    InputError,
    OtaActionError,
    internal_error_message,
)
from ota_action.secret import KeyMaterial, Secret
from ota_action.values import split_lines

if TYPE_CHECKING:
    from pydantic.fields import FieldInfo

    from ota_action.results import Result
    from ota_action.settings import CommandSettings

# Secret inputs, and the variable that stands for each when no input is given.
SECRET_INPUTS = {
    "signing-key": "OTA_SIGNING_KEY",
    "signing-key-passphrase": "OTA_SIGNING_KEY_PASSPHRASE",
}
# Commands a CI workspace should never run: a private key generated there is exposed.
NOT_IN_ACTION = {"keygen": "generate keys on a trusted machine and store the private key as a secret"}


@dataclass
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


def read_inputs(environ: Mapping[str, str]) -> dict[str, str]:
    """Every non-empty ``INPUT_*`` variable, by lower-case input name."""
    return {
        key[len("INPUT_") :].lower(): value
        for key, value in environ.items()
        if key.startswith("INPUT_") and value.strip()
    }


@dataclass
class TakenSecrets:
    """The secrets taken out of the environment at start-up, as objects."""

    inputs: dict[str, Secret]  # by input name
    variables: dict[str, str]  # OTA_SIGNING_KEY...: handed on in memory only
    masked: set[int]  # id() of every Secret whose forms were masked

    def given(self) -> KeyMaterial:
        """What the Action holds, in its own words for a missing key or passphrase."""
        return KeyMaterial(
            key=self.inputs.get("signing-key"),
            passphrase=self.inputs.get("signing-key-passphrase"),
            missing="give the P-256 private key from a secret (PEM, or one line of base64 of PEM "
            "or DER), or a key file in input key-file",
            missing_field="signing_key",
            unlock_hint="input signing-key-passphrase",
        )


def take_secrets(environ: MutableMapping[str, str]) -> tuple[TakenSecrets, list[str]]:
    """Remove the secret inputs and variables from ``environ``; returns them and what to mask.

    Every value is masked, the input and the variable both: a variable set for another
    step is still a secret.
    """
    inputs: dict[str, Secret] = {}
    variables: dict[str, str] = {}
    values: list[str] = []
    for name, variable in SECRET_INPUTS.items():
        given = environ.pop(f"INPUT_{name.upper()}", "")
        fallback = environ.pop(variable, "")
        values += [v for v in (given, fallback) if v.strip()]
        if given.strip():
            inputs[name] = Secret(
                given, source=f"input {name}", field=name.replace("-", "_"), named_by_field=True
            )
        if fallback.strip():
            variables[variable] = fallback
    return TakenSecrets(inputs, variables, {id(s) for s in inputs.values()}), mask_forms(values)


def _is_list(info: FieldInfo) -> bool:
    return typing.get_origin(info.annotation) is list


def settings_values(
    command: str, model: type[CommandSettings], inputs: Mapping[str, str], *, signs: bool = False
) -> dict[str, Any]:
    """Map inputs onto the model's fields; multi-line inputs of list fields become lists."""
    values: dict[str, Any] = {}
    for name, raw in sorted(inputs.items()):
        if name == "command" or name in SECRET_INPUTS:
            continue
        field = name.replace("-", "_")
        info = model.model_fields.get(field)
        if info is None:
            known = [input_name(f) for f in model.model_fields if f != "json_output"]
            known += list(SECRET_INPUTS) if signs else []
            raise Failure(f"is not used by command {command} (its inputs: {', '.join(sorted(known))})", name)
        if _is_list(info):
            values[field] = split_lines(raw)
        else:
            values[field] = raw.strip() if "\n" not in raw.strip() else raw
    return values


def _from_error(
    exc: OtaActionError, inputs: Mapping[str, str], model: type[CommandSettings] | None = None
) -> Failure:
    if exc.field is None:
        return Failure(exc.message, None, exc.exit_code)
    from ota_action.settings import source_of

    name = input_name(exc.field)
    given = {n.replace("-", "_") for n in inputs}
    env_name = exc.source or source_of(model, exc.field, dict.fromkeys(given), os.environ)
    if name not in inputs and env_name:
        name = f"{name} (from {env_name})"
    return Failure(exc.message, name, exc.exit_code, exc.value)


def _workspace() -> Path:
    return Path(os.environ.get("GITHUB_WORKSPACE") or os.getcwd()).resolve()


def _relative(path: Path, workspace: Path) -> str | None:
    from ota_action.results.base import relative_to

    return relative_to(path, workspace)


def _missing_ancestors(path: Path, workspace: Path) -> list[Path]:
    """Directories between the workspace and ``path`` that do not exist yet."""
    missing = []
    for parent in path.resolve().parents:
        if parent == workspace or not parent.is_relative_to(workspace):
            break
        if not parent.exists():
            missing.append(parent)
    return missing


def give_to_workspace_owner(paths: Iterable[Path], workspace: Path) -> tuple[int, int, int] | None:
    """chown what we created to the workspace's owner, so later steps can delete it.

    Only root can (and only in a container need to): elsewhere this is a no-op.
    """
    st = workspace.stat()
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or (st.st_uid, st.st_gid) == (0, 0):
        return None
    count = 0
    for path in paths:
        if path.exists():
            os.chown(path, st.st_uid, st.st_gid, follow_symlinks=False)
            count += 1
    return st.st_uid, st.st_gid, count


class ActionRun:
    """One run of the Action: the stream it prints to and what it knows so far."""

    def __init__(self, out: TextIO, secrets: TakenSecrets | None = None) -> None:
        self.out = out
        self.secrets = secrets or TakenSecrets({}, {}, set())
        self.on_github = os.environ.get("GITHUB_ACTIONS") == "true"
        self.command = ""
        self.inputs: dict[str, str] = {}
        self.workspace = _workspace()
        self.started = time.perf_counter()

    # -- printing --------------------------------------------------------------------------
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

    def show_text(self, text: str) -> None:
        """The human summary; on GitHub inside stop-commands, since it holds user strings."""
        if not self.on_github:
            self.out.write(text)
            return
        token = uuid.uuid4().hex
        self.emit(f"::stop-commands::{token}")
        self.out.write(text)
        self.emit(f"::{token}::")

    def summary(self, markdown: str) -> None:
        from ota_action.edges import log

        path = os.environ.get("GITHUB_STEP_SUMMARY")
        if not path:
            return
        written, truncated = github.append_summary(Path(path), markdown)
        log.get().info("action.summary", bytes=written, truncated=truncated)

    # -- the run ---------------------------------------------------------------------------
    def fail(self, failure: Failure) -> int:
        from ota_action.edges import log
        from ota_action.results import md_escape

        self.emit(github.command("error", failure.line(), title=failure.title))
        log.get().error(
            "action.failed",
            command=self.command or None,
            input=failure.input,
            exit_code=failure.exit_code,
            annotated=True,
        )
        heading = f"### ❌ ota-action {self.command}".rstrip()
        with contextlib.suppress(OtaActionError):  # a broken summary file is already reported
            self.summary(f"{heading}\n\n{md_escape(failure.line())}\n")
        return failure.exit_code

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
            settings = load(model, values, warn=self.warn)
            outfile = getattr(settings, "outfile", None)
            created: list[Path] = []
            if isinstance(outfile, Path):
                if self.on_github and _relative(outfile, self.workspace) is None:
                    raise InputError(
                        "must be inside the workspace, where later steps can read it",
                        field="outfile",
                        value=str(outfile),
                    )
                files.check_output_path(outfile)  # a bad name is exit 2, not an OSError below
                created = _missing_ancestors(outfile, self.workspace)
            # The OTA_* secrets were taken out of os.environ; they reach the command in memory.
            environ = {**os.environ, **self.secrets.variables}
            secrets = runner.secrets(settings, environ, self.secrets.given())
            self.mask_new(secrets)
            result = runner.run(settings, secrets)
        except OtaActionError as exc:
            raise _from_error(exc, self.inputs, model) from None
        return self.finish(result, created)

    def mask_new(self, secrets: KeyMaterial) -> None:
        """Mask a secret found only now (in a variable input key-env names) before use."""
        for secret in secrets.secrets():
            if id(secret) in self.secrets.masked:
                continue
            self.secrets.masked.add(id(secret))
            if secret.reveal() in self.secrets.variables.values():
                continue  # masked at start-up
            if self.on_github:
                for form in mask_forms([secret.reveal()]):
                    self.emit(github.add_mask(form))

    def finish(self, result: Result, created: list[Path]) -> int:
        """Publish; when that fails part-way, take back everything this run wrote."""
        publication = github.Publication(os.environ)
        publication.directories = created
        result_file = os.environ.get("OTA_RESULT_FILE")
        publication.written = [*result.written(), *([Path(result_file)] if result_file else [])]
        try:
            return self._publish(result, created)
        except OtaActionError as exc:
            publication.rollback()
            raise Failure(exc.message) from None

    def _publish(self, result: Result, created: list[Path]) -> int:
        from ota_action.edges import log

        logger = log.get()
        self.show_text(result.text())
        self.summary(result.markdown())
        if result.warnings:
            self.annotate("warning", result.warnings, f"ota-action {result.command}")
        if not result.ok:
            # A verdict, not a failure of the tool: the outputs (counts, summary-json) are
            # still set, so a later step (if: always()) can read which files failed.
            self.annotate("error", result.errors, f"ota-action {result.command}: invalid file")
            logger.error("action.failed", command=result.command, errors=len(result.errors), annotated=True)
        outputs_written = result.written()
        if outputs_written and self.on_github:
            owner = give_to_workspace_owner([*created, *outputs_written], self.workspace)
            if owner is not None:
                logger.info("action.chown", uid=owner[0], gid=owner[1], paths=owner[2])
        outputs = result.outputs(self.workspace)
        path = os.environ.get("GITHUB_OUTPUT")
        if path:
            written = github.append_outputs(Path(path), outputs)
            logger.info("action.outputs", names=sorted(outputs), bytes=written)
        result_file = os.environ.get("OTA_RESULT_FILE")
        if result_file:
            github.write_result_file(Path(result_file), outputs["summary-json"] + "\n")
        logger.info(
            "action.done",
            command=result.command,
            exit_code=result.exit_code,
            seconds=round(time.perf_counter() - self.started, 4),
        )
        return result.exit_code


def _take_secrets(out: TextIO, on_github: bool) -> TakenSecrets:
    """Take every secret out of ``os.environ`` and mask all its forms, before any output."""
    taken, forms = take_secrets(os.environ)
    if on_github:
        # Outside GitHub nothing consumes ::add-mask:: and printing it would show the secret.
        for form in forms:
            out.write(github.add_mask(form) + "\n")
        out.flush()
    return taken


def main(out: TextIO | None = None) -> int:
    """Run the Action from the environment; returns the exit status."""
    out = out or sys.stdout
    on_github = os.environ.get("GITHUB_ACTIONS") == "true"
    secrets = _take_secrets(out, on_github)  # before anything else is printed
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
