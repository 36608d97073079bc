"""Exceptions the core raises and the front doors turn into messages and exit codes.

Every error carries the *settings field* it is about (``mfg_id``, ``tags``...), not a
command-line flag or an Action input name: the CLI and the Action each translate the
field into their own spelling, so one error reads right through either door.  An error
that tells the user to set *another* option carries it as a :class:`Hint` (its settings
field), which each door spells its own way (:meth:`OtaActionError.spelt`): ``use
--drop-signatures`` in the CLI, ``use input drop-signatures`` in the Action.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

# The one exit-status table both front doors use.
EXIT_OK = 0  # done; the file is valid
EXIT_INVALID = 1  # a file given to read is invalid (verify), or not the format it claims
EXIT_USAGE = 2  # a usage or input error: the message names the option or input
EXIT_INTERNAL = 70  # a bug (EX_SOFTWARE): one line, the traceback only with OTA_DEBUG=1
EXIT_INTERRUPTED = 130  # Ctrl-C / SIGINT, as shells report it


def internal_error_message(exc: BaseException) -> str:
    """The one line a user sees for a bug, through either door (never the exception text,
    which could carry a value from a file or a secret)."""
    return (
        f"internal error ({type(exc).__name__}); this is a bug, please report it. "
        "Set OTA_DEBUG=1 to see the traceback."
    )


OPTION = "{option}"


def plain_spelling(field: str) -> str:
    """A settings field as neither door spells it (``drop_signatures`` -> ``drop-signatures``):
    what :attr:`OtaActionError.message` shows where no door renders the error."""
    return field.replace("_", "-")


class Hint(NamedTuple):
    """Advice naming another settings field: ``text`` holds ``{option}`` where its spelling
    goes, and starts with its own separator (``"; use {option} to insert it"``)."""

    field: str
    text: str

    def spelt(self, spell: Callable[[str], str]) -> str:
        return self.text.replace(OPTION, spell(self.field))


class OtaActionError(Exception):
    """Base class of every error that is shown to a user as a one-line message."""

    exit_code = EXIT_USAGE

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: str | None = None,
        source: str | None = None,
        hint: Hint | None = None,
    ):
        self.hint = hint
        self.message = message + (hint.spelt(plain_spelling) if hint else "")
        super().__init__(self.message)
        self.base_message = message
        self.field = field
        self.value = value
        self.source = source  # the environment variable the value came from, if it did

    def spelt(self, spell: Callable[[str], str]) -> str:
        """The message with its hint's field spelt by a door (``spell("min_hwv")``)."""
        return self.base_message + (self.hint.spelt(spell) if self.hint else "")


class InputError(OtaActionError):
    """A user-supplied value or input file is wrong (exit status 2)."""


class FormatError(OtaActionError):
    """A file given to read is not what it claims to be (exit status 1)."""

    exit_code = EXIT_INVALID
