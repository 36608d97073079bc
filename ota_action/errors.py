"""Exceptions the core raises and the front doors turn into messages and exit codes.

Every error carries the *settings field* it is about (``mfg_id``, ``tags``...), not a
command-line flag or an Action input name: the CLI and the Action each translate the
field into their own spelling, so one error reads right through either door.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


class OtaActionError(Exception):
    """Base class of every error that is shown to a user as a one-line message."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, field: str | None = None, value: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.value = value


class InputError(OtaActionError):
    """A user-supplied value or input file is wrong (exit status 2)."""


class FormatError(OtaActionError):
    """A file given to read is not what it claims to be (exit status 1)."""

    exit_code = EXIT_INVALID
