"""Front door 1: ``ota-action COMMAND [options]``.

Each command's options are generated from its settings model (name, help text, short
flags, positional or repeatable), so the CLI and the Action read the same fields.  The
command name is looked at before anything heavy is imported: ``--version`` and the
top-level ``--help`` cost no more than argparse.

Exit status: 0 success, 1 an input file is invalid (``verify``), 2 a usage or input
error, 70 an internal error (a bug: it prints one line, ``OTA_DEBUG=1`` shows the
traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from ota_action import __version__
from ota_action.commands import COMMANDS, CommandSpec
from ota_action.errors import EXIT_USAGE, OtaActionError

if TYPE_CHECKING:
    from ota_action.report import Report
    from ota_action.settings import CommandSettings

PROG = "ota-action"
EXIT_INTERNAL = 70


class UsageError(Exception):
    """An argparse-level problem (unknown option, missing argument)."""


_PLAIN_OPTION = re.compile(r"-{1,2}[A-Za-z][A-Za-z0-9-]{0,40}")


def _redact_unrecognized(message: str) -> str:
    """Name stray options but not stray values: a key pasted on the command line by mistake
    must not be repeated into a CI log by the error that rejects it."""
    prefix = "unrecognized arguments: "
    if not message.startswith(prefix):
        return message
    words = message[len(prefix) :].split(" ")
    shown = [w if _PLAIN_OPTION.fullmatch(w) else "<value>" for w in words]
    return prefix + " ".join(shown)


class _Parser(argparse.ArgumentParser):
    """Raises instead of exiting, and prints help to the stream main() was given."""

    out: TextIO | None = None

    def error(self, message: str) -> NoReturn:
        raise UsageError(_redact_unrecognized(message))

    def print_help(self, file: Any = None) -> None:
        super().print_help(file or self.out)

    def _get_values(self, action: argparse.Action, arg_strings: list[str]) -> Any:
        # argparse (3.11) drops a value of exactly "--" even when given as --string=--,
        # which would silently write "[]" into the header.
        if arg_strings == ["--"] and action.option_strings and action.nargs is None:
            return "--"
        return super()._get_values(action, arg_strings)


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


def _show_default(value: object, as_hex: bool) -> str:
    if as_hex and isinstance(value, int) and not isinstance(value, bool):
        return f"0x{value:02X}"
    return str(value)


def build_parser(
    spec: CommandSpec, model: type[CommandSettings], out: TextIO | None = None
) -> argparse.ArgumentParser:
    """The argparse parser of one command, generated from its settings model."""
    from ota_action.settings import cli_of, flag_of

    parser = _Parser(
        prog=f"{PROG} {spec.name}",
        description=(model.__doc__ or spec.summary).strip(),
        allow_abbrev=False,
        epilog="Every option can also be set as an OTA_<NAME> environment variable, "
        "e.g. OTA_MFG_ID; the command line wins.",
    )
    parser.out = out
    for name, info in model.model_fields.items():
        cli = cli_of(info)
        if cli.hidden:
            continue
        help_text = info.description or ""
        if info.is_required() and not cli.positional:
            help_text += " (required)"
        elif info.default not in (None, False) and not info.is_required():
            help_text += f" (default: {_show_default(info.default, cli.hex)})"
        if cli.positional:
            many = getattr(info.annotation, "__origin__", None) is list
            parser.add_argument(
                name,
                metavar=cli.metavar or name.upper(),
                nargs="+" if many else None,
                help=help_text,
            )
            continue
        flags = [flag_of(name, info), *cli.flags]
        kwargs: dict[str, Any] = {"dest": name, "default": argparse.SUPPRESS, "help": help_text}
        if info.annotation is bool:
            kwargs["action"] = argparse.BooleanOptionalAction if flags[0].startswith("--") else "store_true"
        else:
            kwargs["metavar"] = cli.metavar or name.upper()
            if cli.repeat:
                kwargs["action"] = "append"
        parser.add_argument(*flags, **kwargs)
    parser.add_argument(
        "--verbose",
        action="store_true",
        default=False,
        help="log each step as structured lines on stderr (also OTA_LOG_LEVEL)",
    )
    return parser


def describe_field(model: type[CommandSettings] | None, field: str | None) -> str:
    """How the CLI spells a settings field in messages (``--mfg-id``, ``FILE``)."""
    if field is None:
        return ""
    if model is not None and field in model.model_fields:
        from ota_action.settings import flag_of

        return flag_of(field, model.model_fields[field])
    return "--" + field.replace("_", "-")


def error_line(exc: OtaActionError, model: type[CommandSettings] | None) -> str:
    from ota_action.safe_text import printable, shown

    where = describe_field(model, exc.field)
    if where and exc.value is not None:
        # A secret-adjacent option (--key-file, --key-env) is repeated only when it names a
        # file that exists: a passphrase typed there by mistake is not echoed.
        secret = model is not None and exc.field in model.secret_fields and not os.path.lexists(exc.value)
        return f"{where} {shown(exc.value, secret=secret)}: {printable(exc.message)}"
    if where:
        return f"{where}: {printable(exc.message)}"
    return printable(exc.message)


def _emit(report: Report, as_json: bool, out: TextIO) -> None:
    if as_json:
        out.write(json.dumps(report.as_json(), indent=2) + "\n")
    else:
        from ota_action import render

        out.write(render.text(report))


def run_command(spec: CommandSpec, argv: Sequence[str], out: TextIO, err: TextIO) -> int:
    from ota_action import log
    from ota_action.settings import load

    model = spec.settings_class()
    prog = f"{PROG} {spec.name}"
    try:
        parsed = vars(build_parser(spec, model, out).parse_args(list(argv)))
        if parsed.pop("verbose") or log.enabled_by_environment():
            log.configure(stream=err)
        settings = load(model, parsed)
        report = spec.runner()(settings)
    except UsageError as exc:
        from ota_action.safe_text import redact_lines

        err.write(f"{prog}: error: {redact_lines(str(exc)).strip()} (see --help)\n")
        return EXIT_USAGE
    except OtaActionError as exc:
        err.write(f"{prog}: error: {error_line(exc, model)}\n")
        return exc.exit_code
    _emit(report, settings.json_output, out)
    return report.exit_code


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        if not args or args[0] in ("-h", "--help"):
            (out if args else err).write(_top_help())
            return 0 if args else EXIT_USAGE
        if args[0] == "--version":
            out.write(f"{PROG} {__version__}\n")
            return 0
        spec = COMMANDS.get(args[0])
        if spec is None:
            from ota_action.safe_text import shown

            err.write(f"{PROG}: error: unknown command {shown(args[0])}; commands: {', '.join(COMMANDS)}\n")
            return EXIT_USAGE
        return run_command(spec, args[1:], out, err)
    except SystemExit as exc:  # argparse --help
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt as exc:
        # files.Terminated (SIGTERM/SIGHUP mid-write) is a KeyboardInterrupt: partial output
        # is already removed; exit as a shell reports death by that signal.
        signum = getattr(exc, "signum", None)
        err.write(f"{PROG}: {'stopped by signal ' + str(signum) if signum else 'interrupted'}\n")
        return 128 + signum if isinstance(signum, int) else 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        # OTA_DEBUG shows the traceback (without locals, secret-like lines redacted) but
        # never changes the exit status: 70 means a bug, whatever the environment says.
        if os.environ.get("OTA_DEBUG"):
            from ota_action.safe_text import debug_traceback

            err.write(debug_traceback(exc))
        err.write(
            f"{PROG}: internal error ({type(exc).__name__}); this is a bug, please report it. "
            "Set OTA_DEBUG=1 to see the traceback.\n"
        )
        return EXIT_INTERNAL
