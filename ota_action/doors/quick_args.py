"""The plain command lines of every command read without argparse (issue 25).

Importing argparse and building a command's parser costs ~4 ms of every run (argparse
itself, the ``shutil`` and ``locale`` its help formatter and messages pull in, an
``add_argument`` per option); ``verify FILE`` or a ``zbota`` line of known options needs
none of it. :func:`parse` reads a command line made only of the spellings argparse would
accept *unambiguously* - a known option with its value (``-o FILE``, ``--outfile=FILE``),
a known flag (``--json``, ``--no-json``), one run of positional words - into exactly the
dictionary the argparse parser of :mod:`ota_action.doors.cli_parser` returns, from the
same option table. Anything else (help, ``--``, an unknown or abbreviated option, a value
that starts with ``-``, positionals in two places, a missing required option, a flag
given a value) returns None, and argparse reads the line with its own messages.
``tests/test_quick_args.py`` checks the two agree on every line either accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ota_action.options.fields import CommandOptions, FieldSpec

# The options every command's parser adds beside its fields (cli_parser.build_parser).
COMMON_FLAGS = {"--verbose": "verbose", "--quiet": "quiet"}


def _spellings(options: CommandOptions) -> tuple[dict[str, tuple[FieldSpec, object]], list[FieldSpec]]:
    """Each option spelling -> (its field, the flag's value, or None for an option that
    takes a value), and the positional fields, as the argparse parser declares them."""
    known: dict[str, tuple[FieldSpec, object]] = {}
    positional: list[FieldSpec] = []
    for f in options.fields:
        if f.hidden:
            continue
        if f.positional:
            positional.append(f)
            continue
        flags = (f.flag, *f.flags)
        for flag in flags:
            known[flag] = (f, True if f.boolean else None)
        if f.boolean and flags[0].startswith("--"):  # BooleanOptionalAction's --no- forms
            for flag in flags:
                if flag.startswith("--"):
                    known["--no-" + flag[2:]] = (f, False)
    return known, positional


def parse(options: CommandOptions, argv: Sequence[str]) -> dict[str, Any] | None:
    """argparse's dictionary for a plain command line, or None for argparse to read it."""
    known, positionals = _spellings(options)
    if len(positionals) > 1:
        return None
    values: dict[str, Any] = {"verbose": False, "quiet": False}
    words: list[str] = []
    runs = 0  # separate runs of positional words
    previous_was_word = False
    index = 0
    while index < len(argv):
        word = argv[index]
        index += 1
        if not word.startswith("-") or word == "-":
            if word == "-":
                return None  # argparse's own reading of "-" (a positional, or a value)
            if not previous_was_word:
                runs += 1
            words.append(word)
            previous_was_word = True
            continue
        previous_was_word = False
        if word in COMMON_FLAGS:
            values[COMMON_FLAGS[word]] = True
            continue
        flag, eq, attached = word.partition("=")
        if flag not in known or (eq and not flag.startswith("--")):
            return None  # -h, --, an unknown or abbreviated option, -oVALUE, -o=VALUE
        spec, flag_value = known[flag]
        if flag_value is not None:
            if eq:
                return None  # a flag given a value: argparse's message says so
            values[spec.name] = flag_value
            continue
        if eq:
            value = attached
        else:
            if index >= len(argv) or argv[index].startswith("-"):
                return None  # no value, or one argparse may take for an option
            value = argv[index]
            index += 1
        if value == "--":
            return None  # argparse's own reading (cli_parser keeps an explicit "--")
        if spec.repeat:
            values.setdefault(spec.name, []).append(value)
        else:
            values[spec.name] = value
    if not _positional(positionals, words, runs, values, leading=bool(argv) and not argv[0].startswith("-")):
        return None
    required = [f for f in options.fields if f.required and not f.hidden and not f.positional]
    if any(f.name not in values for f in required):
        return None  # argparse names what is missing
    return values


def _positional(
    fields: list[FieldSpec], words: list[str], runs: int, values: dict[str, Any], *, leading: bool
) -> bool:
    """Put the positional words where argparse would, or False where it might not."""
    if not fields:
        return not words
    field = fields[0]
    if runs > 1:
        return False  # argparse takes the first run only and refuses the rest
    if not field.required and not (leading or not words):
        return False  # an optional positional after an option: argparse's own matching
    if field.many:
        if not words:
            return not field.required
        values[field.name] = words
        return True
    if len(words) > 1:
        return False
    if words:
        values[field.name] = words[0]
        return True
    return not field.required
