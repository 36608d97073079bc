"""Front door 2: the GitHub Action (also ``docker run IMAGE`` with no arguments).

Inputs arrive as ``INPUT_<NAME>`` variables (the runner upper-cases the input name and
keeps its hyphens: ``mfg-id`` -> ``INPUT_MFG-ID``; an omitted input is ``''``).  Input
``command`` picks the command; every other input is the settings field of the same
name (``mfg-id`` -> ``mfg_id``) and is validated by the very model the CLI uses, so the
two doors cannot drift.  ``OTA_*`` variables fill whatever no input gives (GitLab,
Jenkins and other CI systems use those with a plain ``docker run``).

The secrets ``signing-key`` and ``signing-key-passphrase`` are not settings fields:
every form of them is masked (``::add-mask::``) before anything else is printed, then
they are handed to the signing code as ``OTA_SIGNING_KEY`` /
``OTA_SIGNING_KEY_PASSPHRASE``.

Results: outputs to ``$GITHUB_OUTPUT`` (random heredoc delimiters), a Markdown step
summary, ``::error``/``::warning`` annotations naming the input at fault.  A failure
sets no outputs.  Files written into the workspace are given to the workspace's owner.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import typing
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ota_action import files, github, signing
from ota_action.commands import COMMANDS
from ota_action.errors import EXIT_USAGE, InputError, OtaActionError

if TYPE_CHECKING:
    from pydantic.fields import FieldInfo

    from ota_action.report import Report
    from ota_action.settings import CommandSettings

EXIT_INTERNAL = 70

# Secret inputs and the variables the signing code reads them from.
SECRET_INPUTS = {
    "signing-key": "OTA_SIGNING_KEY",
    "signing-key-passphrase": "OTA_SIGNING_KEY_PASSPHRASE",
}
# Settings fields that stand for a secret input: errors about them name that input.
SECRET_FIELDS = {
    "signing_key": "signing-key",
    "key_env": "signing-key",
    "key_file": "signing-key",
    "signing_key_passphrase": "signing-key-passphrase",
    "passphrase_env": "signing-key-passphrase",
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
    return SECRET_FIELDS.get(field, field.replace("_", "-"))


def read_inputs(environ: Mapping[str, str]) -> dict[str, str]:
    """Every non-empty ``INPUT_*`` variable, by lower-case input name."""
    return {
        key[len("INPUT_") :].lower(): value
        for key, value in environ.items()
        if key.startswith("INPUT_") and value.strip()
    }


def secret_values(environ: Mapping[str, str]) -> dict[str, str]:
    """The secrets given, by the variable the signing code reads (input wins over ``OTA_*``)."""
    found: dict[str, str] = {}
    for name, variable in SECRET_INPUTS.items():
        value = environ.get(f"INPUT_{name.upper()}", "") or environ.get(variable, "")
        if value.strip():
            found[variable] = value
    return found


def mask_forms(values: Iterable[str]) -> list[str]:
    """Every string to mask, longest first: :func:`signing.secret_forms` of each secret
    (each line, the whole one-line value, and for a key every derived form)."""
    forms = {form for value in values for form in signing.secret_forms(value)}
    return sorted(forms, key=lambda f: (-len(f), f))


def _is_list(info: FieldInfo) -> bool:
    return typing.get_origin(info.annotation) is list


def settings_values(command: str, model: type[CommandSettings], inputs: Mapping[str, str]) -> dict[str, Any]:
    """Map inputs onto the model's fields; multi-line inputs of list fields become lists."""
    values: dict[str, Any] = {}
    for name, raw in sorted(inputs.items()):
        if name == "command" or name in SECRET_INPUTS:
            continue
        field = name.replace("-", "_")
        info = model.model_fields.get(field)
        if info is None:
            known = ", ".join(sorted(input_name(f) for f in model.model_fields if f != "json_output"))
            raise Failure(f"is not used by command {command} (its inputs: {known})", name)
        if _is_list(info):
            values[field] = [line.strip() for line in raw.splitlines() if line.strip()]
        else:
            values[field] = raw.strip() if "\n" not in raw.strip() else raw
    return values


def _from_error(exc: OtaActionError, inputs: Mapping[str, str]) -> Failure:
    if exc.field is None:
        return Failure(exc.message, None, exc.exit_code)
    name = input_name(exc.field)
    env_name = f"OTA_{exc.field.upper()}"
    if name not in inputs and os.environ.get(env_name):
        name = f"{name} (from {env_name})"
    return Failure(exc.message, name, exc.exit_code, exc.value)


def _workspace() -> Path:
    return Path(os.environ.get("GITHUB_WORKSPACE") or os.getcwd()).resolve()


def _relative(path: Path, workspace: Path) -> str | None:
    """``path`` relative to the workspace, or None when it lies outside."""
    try:
        return path.resolve().relative_to(workspace).as_posix()
    except ValueError:
        return None


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


def outputs_of(report: Report, workspace: Path) -> dict[str, str]:
    """The step outputs; paths relative to the workspace (never a container path)."""
    data = report.data
    outputs: dict[str, str] = {}
    if report.outfile is not None:
        outputs["ota-file"] = _relative(report.outfile, workspace) or str(report.outfile)
    if data.get("sha256"):
        outputs["sha256"] = str(data["sha256"])
    size = data.get("size", data.get("file_size"))
    if size is not None:
        outputs["size"] = str(size)
    version = data.get("file_version")
    if isinstance(version, int):
        outputs["file-version"] = f"0x{version:08x}"
    elif version is not None:
        outputs["file-version"] = str(version)
    outputs["summary-json"] = json.dumps(report.as_json(), separators=(",", ":"))
    return outputs


class ActionRun:
    """One run of the Action: the stream it prints to and what it knows so far."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.on_github = os.environ.get("GITHUB_ACTIONS") == "true"
        self.command = ""
        self.inputs: dict[str, str] = {}
        self.workspace = _workspace()
        self.started = time.perf_counter()

    # -- printing --------------------------------------------------------------------------
    def emit(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

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
        from ota_action import log

        path = os.environ.get("GITHUB_STEP_SUMMARY")
        if not path:
            return
        written, truncated = github.append_summary(Path(path), markdown)
        log.get().info("action.summary", bytes=written, truncated=truncated)

    # -- the run ---------------------------------------------------------------------------
    def fail(self, failure: Failure) -> int:
        from ota_action import log
        from ota_action.render import md_escape

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
        from ota_action import log
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
        model = spec.settings_class()
        values = settings_values(command, model, self.inputs)
        logger.info("action.inputs", command=command, inputs=sorted(self.inputs), on_github=self.on_github)
        try:
            github.check_destinations(os.environ)  # before any work: where results will go
            settings = load(model, values)
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
            report = spec.runner()(settings)
        except OtaActionError as exc:
            raise _from_error(exc, self.inputs) from None
        return self.finish(report, created)

    def finish(self, report: Report, created: list[Path]) -> int:
        """Publish; when that fails part-way, take back everything this run wrote."""
        publication = github.Publication(os.environ)
        publication.directories = created
        result_file = os.environ.get("OTA_RESULT_FILE")
        publication.written = [p for p in (report.outfile, Path(result_file) if result_file else None) if p]
        try:
            return self._publish(report, created)
        except OtaActionError as exc:
            publication.rollback()
            raise Failure(exc.message) from None

    def _publish(self, report: Report, created: list[Path]) -> int:
        from ota_action import log, render

        logger = log.get()
        self.show_text(render.text(report))
        self.summary(render.markdown(report))
        if report.warnings:
            self.annotate("warning", report.warnings, f"ota-action {report.command}")
        if not report.ok:
            self.annotate("error", report.errors, f"ota-action {report.command}: invalid file")
            logger.error("action.failed", command=report.command, errors=len(report.errors), annotated=True)
            return report.exit_code
        if report.outfile is not None and self.on_github:
            owner = give_to_workspace_owner([*created, report.outfile], self.workspace)
            if owner is not None:
                logger.info("action.chown", uid=owner[0], gid=owner[1], paths=owner[2])
        outputs = outputs_of(report, self.workspace)
        path = os.environ.get("GITHUB_OUTPUT")
        if path:
            written = github.append_outputs(Path(path), outputs)
            logger.info("action.outputs", names=sorted(outputs), bytes=written)
        result_file = os.environ.get("OTA_RESULT_FILE")
        if result_file:
            github.write_result_file(Path(result_file), outputs["summary-json"] + "\n")
        logger.info(
            "action.done",
            command=report.command,
            exit_code=report.exit_code,
            seconds=round(time.perf_counter() - self.started, 4),
        )
        return report.exit_code


def _take_secrets(out: TextIO, on_github: bool) -> None:
    """Mask every form of each secret, then move it to the variable the signer reads."""
    secrets = secret_values(os.environ)
    if on_github:
        # Outside GitHub nothing consumes ::add-mask:: and printing it would show the secret.
        for form in mask_forms(secrets.values()):
            out.write(github.add_mask(form) + "\n")
        out.flush()
    for name in SECRET_INPUTS:
        os.environ.pop(f"INPUT_{name.upper()}", None)
    os.environ.update(secrets)


def main(out: TextIO | None = None) -> int:
    """Run the Action from the environment; returns the exit status."""
    out = out or sys.stdout
    on_github = os.environ.get("GITHUB_ACTIONS") == "true"
    _take_secrets(out, on_github)  # before anything else is printed
    from ota_action import log

    level = "debug" if os.environ.get("RUNNER_DEBUG") == "1" else None
    log.configure(
        stream=out,
        level=level,
        extra_processors=(log.one_line_values, log.Annotations(out)),
        default_format="console",
    )
    run = ActionRun(out)
    try:
        with files.confined(run.workspace):  # every path must resolve inside the workspace
            return run.run()
    except Failure as failure:
        return run.fail(failure)
    except KeyboardInterrupt as exc:  # files.Terminated: SIGTERM/SIGHUP, partial output removed
        signum = getattr(exc, "signum", None)
        return 128 + signum if isinstance(signum, int) else 130
    except Exception as exc:
        if os.environ.get("OTA_DEBUG"):  # shows the traceback, never changes the exit status
            from ota_action.safe_text import debug_traceback

            sys.stderr.write(debug_traceback(exc))
        return run.fail(
            Failure(
                f"internal error ({type(exc).__name__}); this is a bug, please report it. "
                "Set OTA_DEBUG=1 to see the traceback.",
                None,
                EXIT_INTERNAL,
            )
        )
