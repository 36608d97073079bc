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

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

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


_PLAIN_OPTION = re.compile(r"-{1,2}[A-Za-z][A-Za-z0-9-]{0,40}")
# Words that are plainly a yes/no, shown back when given to a flag (never a secret).
_BOOLEAN_WORD = re.compile(r"(?i)true|false|yes|no|on|off|1|0")


def _redact_unrecognized(message: str) -> str:
    """Name stray options but not stray values: a key pasted on the command line by mistake
    must not be repeated into a CI log by the error that rejects it."""
    prefix = "unrecognized arguments: "
    if not message.startswith(prefix):
        return message
    words = message[len(prefix) :].split(" ")
    shown = [w if _PLAIN_OPTION.fullmatch(w) else "<value>" for w in words]
    return prefix + " ".join(shown)


# Names other tools (Commander, zigpy-cli, objcopy, openssl) give these options, which no
# spelling distance finds: the first one the command has is suggested.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "--output": ("--outfile",),
    "--out": ("--outfile",),
    "--manufacturer": ("--mfg-id", "--manufacturer-name"),
    "--manufacturer-id": ("--mfg-id",),
    "--manufacturer-code": ("--mfg-id",),
    "--mfg-code": ("--mfg-id",),
    "--type": ("--image-type",),
    "--file-version": ("--version",),
    "--key": ("--key-file", "--public-key"),
    "--private-key": ("--key-file",),
    "--signing-key": ("--key-file",),
    "--pubkey": ("--public-key",),
}


def _suggest(word: str, options: Sequence[str]) -> str:
    """``; did you mean --tag?`` for ``--tagg`` (argparse does this only from Python 3.14),
    and ``--outfile`` for ``--output``, the name other tools use."""
    import difflib

    flag = word.split("=", 1)[0]
    synonym = next((o for o in _SYNONYMS.get(flag.lower(), ()) if o in options), None)
    close = difflib.get_close_matches(flag, [o for o in options if o.startswith("--")], n=1, cutoff=0.75)
    best = synonym or (close[0] if close else None)
    if best == "--key-file":
        return f"; did you mean {best}? (a key is never a command-line value: give its file)"
    return f"; did you mean {best}?" if best else ""


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

    def _flag_options(self) -> dict[str, str]:
        """Each spelling of a flag (an option that takes no value) -> its main spelling."""
        return {
            flag: action.option_strings[0]
            for action in self._actions
            if action.nargs == 0
            for flag in action.option_strings
        }

    def parse(self, argv: Sequence[str]) -> dict[str, Any]:
        """``parse_args`` with messages that point at the fix: a value given to a flag, a
        misspelt option (with a suggestion)."""
        args = list(argv)
        flags = self._flag_options()
        for word in args:
            flag, eq, value = word.partition("=")
            if eq and flag in flags:
                raise UsageError(_flag_takes_no_value(flags[flag], value))
        parsed, extras = self.parse_known_args(args)
        if extras:
            first = extras[0]
            if first.startswith("-") and _PLAIN_OPTION.fullmatch(first.split("=", 1)[0]):
                options = [o for a in self._actions for o in a.option_strings]
                raise UsageError(f"unknown option {first.split('=', 1)[0]}{_suggest(first, options)}")
            at = args.index(first)
            if at > 0 and args[at - 1] in flags:
                raise UsageError(_flag_takes_no_value(flags[args[at - 1]], first))
            self.error("unrecognized arguments: " + " ".join(extras))
        return vars(parsed)


def _flag_takes_no_value(flag: str, value: str) -> str:
    shown = f" {value}" if _BOOLEAN_WORD.fullmatch(value) else " <value>"
    return f"{flag} is a flag and takes no value: write {flag} alone, not {flag}{shown}"


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


def _usage(spec: CommandSpec, options: CommandOptions) -> str:
    """One line: the required options bare (no brackets), the rest as ``[options]``."""
    words = [f"{PROG} {spec.name}"]
    for f in options.fields:
        if f.hidden or f.positional or not f.required:
            continue
        flag = (f.flags or (f.flag,))[0]
        words.append(f"{flag} {f.metavar}")
        if f.repeat:
            words.append(f"[{flag} ...]")
    words.append("[options]")
    for f in options.fields:
        if f.positional:
            word = f"{f.metavar} [{f.metavar} ...]" if f.many else f.metavar
            words.append(word if f.required else f"[{word}]")
    return " ".join(words)


def _footer(options: CommandOptions) -> str:
    """Names one of this command's own variables (the first option's), never another's."""
    first = next(f for f in options.fields if f.name != "json_output" and not f.hidden)
    return (
        "Every option can also be set by the environment variable shown beside it, "
        f"e.g. {first.env} for {first.flag}; the command line wins."
    )


def build_parser(spec: CommandSpec, options: CommandOptions, out: TextIO | None = None) -> _Parser:
    """The argparse parser of one command, from its option table (made from its settings model)."""
    parser = _Parser(
        prog=f"{PROG} {spec.name}",
        usage=_usage(spec, options),
        description=options.doc or spec.summary,
        allow_abbrev=False,
        epilog=_footer(options),
        add_help=False,
    )
    parser.out = out
    required = parser.add_argument_group("required")
    optional = parser.add_argument_group("options")
    optional.add_argument("-h", "--help", action="help", help="show this help and exit")
    for f in options.fields:
        if f.hidden:
            continue
        notes = [f"env {f.env}"]
        if f.default_shown is not None:
            notes.insert(0, f"default: {f.default_shown}")
        help_text = f"{f.description} ({'; '.join(notes)})"
        if f.positional:
            # A positional the model does not require may be left out (matter's PAYLOAD,
            # index's FILE|DIR with --merge --check).
            extra: dict[str, Any] = {} if f.required else {"default": argparse.SUPPRESS}
            single = None if f.required else "?"
            parser.add_argument(
                f.name,
                metavar=f.metavar,
                nargs=("+" if f.required else "*") if f.many else single,
                help=help_text,
                **extra,
            )
            continue
        group = required if f.required else optional
        flags = [f.flag, *f.flags]
        kwargs: dict[str, Any] = {"dest": f.name, "default": argparse.SUPPRESS, "help": help_text}
        if f.boolean:
            kwargs["action"] = argparse.BooleanOptionalAction if flags[0].startswith("--") else "store_true"
        else:
            kwargs["metavar"] = f.metavar
            if f.repeat:
                kwargs["action"] = "append"
        group.add_argument(*flags, **kwargs)
    optional.add_argument(
        "--verbose",
        action="store_true",
        default=False,
        help="log each step as structured lines on stderr (also OTA_LOG_LEVEL)",
    )
    optional.add_argument(
        "--quiet",
        action="store_true",
        default=False,
        help="print only the one-line verdict (for logs of batch runs)",
    )
    return parser


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


def run_command(spec: CommandSpec, argv: Sequence[str], out: TextIO, err: TextIO) -> int:
    from ota_action.edges import log
    from ota_action.options.table import TABLE

    options = TABLE[spec.name]
    prog = f"{PROG} {spec.name}"
    parsed: dict[str, Any] = {}
    try:
        parsed = build_parser(spec, options, out).parse(argv)
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
