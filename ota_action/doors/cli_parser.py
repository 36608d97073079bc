"""The argparse parser of a command, from its option table: help, and every command line
:mod:`ota_action.doors.quick_args` leaves to it, with messages that point at the fix.

Apart from :mod:`ota_action.doors.cli` so that a plain command line imports no argparse
(issue 25); the parser is built from the same table, and
``tests/test_quick_args.py`` keeps the two readings the same.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from ota_action.doors.cli import PROG, UsageError

if TYPE_CHECKING:
    from ota_action.commands import CommandSpec
    from ota_action.options.fields import CommandOptions

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
