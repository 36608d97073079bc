"""Front door 1: ``ota-action COMMAND [options]``.

Each command's options come from its settings model (name, help text, short flags,
positional or repeatable) through the option table generated from the models
(:mod:`ota_action.options.table`), so the CLI and the Action read the same fields and
building the parser needs no pydantic.  A read-only command (``verify``, ``inspect``)
is validated by the models' own field rules without pydantic either; the others load
their model.  ``--version`` and the top-level ``--help`` cost no more than argparse.

Exit status: 0 success, 1 an input file is invalid (``verify``), 2 a usage or input
error, 70 an internal error (a bug: it prints one line, ``OTA_DEBUG=1`` shows the
traceback).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from ota_action import __version__
from ota_action.commands import COMMANDS, CommandSpec, Runs
from ota_action.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    OtaActionError,
    internal_error_message,
)

if TYPE_CHECKING:
    from ota_action.options.fields import CommandOptions
    from ota_action.results import Result

PROG = "ota-action"


class UsageError(Exception):
    """An argparse-level problem (unknown option, missing argument)."""


def _top_help() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [
        f"usage: {PROG} [--version] [--help] COMMAND [options]",
        "",
        "Build, sign, inspect and verify Zigbee OTA upgrade files.",
        "",
        "commands:",
        *(f"  {name:<{width}}  {spec.summary}" for name, spec in COMMANDS.items()),
        "",
        f"Run '{PROG} COMMAND --help' for the options of a command.",
    ]
    return "\n".join(lines) + "\n"


def show_default(value: object, digits: int | None) -> str:
    """A default as the README writes it: codes in hex at their width (0x101E), counts in decimal."""
    if digits and isinstance(value, int) and not isinstance(value, bool):
        return f"0x{value:0{digits}X}"
    return str(value)


def describe_field(options: CommandOptions | None, field: str | None) -> str:
    """How the CLI spells a settings field in messages (``--mfg-id``, ``FILE``)."""
    if field is None:
        return ""
    spec = options.field(field) if options is not None else None
    return spec.flag if spec is not None else "--" + field.replace("_", "-")


def error_line(exc: OtaActionError, options: CommandOptions | None, source: str | None = None) -> str:
    """``--version (from environment variable OTA_VERSION) '100D': ...``: the option, where
    its value came from when the user did not type it, the value (never a secret's)."""
    from ota_action.safe_text import printable, shown

    where = describe_field(options, exc.field)
    message = printable(exc.spelt(lambda field: describe_field(options, field)))
    source = exc.source or source
    if where and source:
        where += f" (from environment variable {source})"
    if where and exc.value is not None:
        # A secret-adjacent option (--key-file, --key-env) is repeated only when it names a
        # file that exists: a passphrase typed there by mistake is not echoed.
        secret = options is not None and exc.field in options.secret_fields and not os.path.lexists(exc.value)
        return f"{where} {shown(exc.value, secret=secret)}: {message}"
    if where:
        return f"{where}: {message}"
    return message


def _source(options: CommandOptions, field: str | None, given: dict[str, Any]) -> str | None:
    """The variable a field's value came from, or None when it was given (or unknown)."""
    from ota_action.options.env import from_environment

    if field is None or field in given:
        return None
    triples = [(f.name, f.env, f.old_env) for f in options.fields]
    return from_environment(triples, {}, os.environ)[1].get(field)


def _emit(result: Result, as_json: bool, quiet: bool, out: TextIO) -> None:
    from ota_action.edges import style

    if as_json:
        for chunk in result.json_chunks():  # a batch streams: one file a line, as it is read
            out.write(chunk)
    else:
        colour = style.use_colour(out)
        for chunk in [result.verdict() + "\n"] if quiet else result.text_chunks():
            out.write(style.paint_text(chunk, colour))


def _settings(
    spec: CommandSpec, options: CommandOptions, parsed: dict[str, Any], warn: Callable[[str], None]
) -> tuple[Any, Callable[[Any], Result]]:
    """The validated settings and the runner: without pydantic for a light command (the
    models' own rules run by :mod:`ota_action.options.light`), else by its model."""
    command: Runs[Any, Result]
    if options.light and spec.light_runner is not None:
        from ota_action.options.light import load_light

        command = spec.light_runner()
        settings: Any = load_light(options, parsed, warn=warn)
    else:
        from ota_action.settings import load

        command = model = spec.load()
        settings = load(model.settings, parsed, warn=warn)
    # Secrets travel as objects: --key-env / --passphrase-env name where they are.
    secrets = command.secrets(settings, os.environ)
    return settings, lambda s: command.run(s, secrets)


def _parse(spec: CommandSpec, options: CommandOptions, argv: Sequence[str], out: TextIO) -> dict[str, Any]:
    """The command line as the option table spells it: a plain one read here, any other by
    the argparse parser (help, and every message about a line it refuses)."""
    from ota_action.doors import quick_args

    parsed = quick_args.parse(options, argv)
    if parsed is not None:
        return parsed
    from ota_action.doors.cli_parser import build_parser

    return build_parser(spec, options, out).parse(argv)


def run_command(spec: CommandSpec, argv: Sequence[str], out: TextIO, err: TextIO) -> int:
    from ota_action.edges import log
    from ota_action.options.table import TABLE

    options = TABLE[spec.name]
    prog = f"{PROG} {spec.name}"
    parsed: dict[str, Any] = {}
    try:
        parsed = _parse(spec, options, argv, out)
        if parsed.pop("verbose") or log.enabled_by_environment():
            log.configure(stream=err)
        quiet = parsed.pop("quiet")

        def warn(message: str) -> None:
            err.write(f"{prog}: warning: {message}\n")

        settings, run = _settings(spec, options, parsed, warn)
        result: Result = run(settings)
        _emit(result, settings.json_output, quiet, out)
    except UsageError as exc:
        from ota_action.safe_text import redact_lines

        err.write(f"{prog}: error: {redact_lines(str(exc)).strip()} (see --help)\n")
        return EXIT_USAGE
    except OtaActionError as exc:
        source = _source(options, exc.field, parsed)
        err.write(f"{prog}: error: {error_line(exc, options, source)}\n")
        return exc.exit_code
    return result.exit_code


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        if not args or args[0] in ("-h", "--help"):
            (out if args else err).write(_top_help())
            return EXIT_OK if args else EXIT_USAGE
        if args[0] == "--version":
            out.write(f"{PROG} {__version__}\n")
            return EXIT_OK
        spec = COMMANDS.get(args[0])
        if spec is None:
            from ota_action.safe_text import shown

            err.write(f"{PROG}: error: unknown command {shown(args[0])}; commands: {', '.join(COMMANDS)}\n")
            return EXIT_USAGE
        return run_command(spec, args[1:], out, err)
    except SystemExit as exc:  # argparse --help
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except KeyboardInterrupt as exc:
        # files.Terminated (SIGTERM/SIGHUP mid-write) is a KeyboardInterrupt: partial output
        # is already removed; exit as a shell reports death by that signal.
        signum = getattr(exc, "signum", None)
        err.write(f"{PROG}: {'stopped by signal ' + str(signum) if signum else 'interrupted'}\n")
        return 128 + signum if isinstance(signum, int) else EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        # OTA_DEBUG shows the traceback (without locals, secret-like lines redacted) but
        # never changes the exit status: 70 means a bug, whatever the environment says.
        if os.environ.get("OTA_DEBUG"):
            from ota_action.safe_text import debug_traceback

            err.write(debug_traceback(exc))
        err.write(f"{PROG}: {internal_error_message(exc)}\n")
        return EXIT_INTERNAL
