"""A finding: one thing a command noticed, with a stable code and a message for people."""

from __future__ import annotations

import enum
from typing import NamedTuple


class Level(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


class Finding(NamedTuple):
    """One thing a command noticed.  ``code`` is stable (kebab-case, never reworded), so CI
    can allow or deny a specific finding from ``--json``; ``message`` is for people."""

    level: Level
    code: str
    message: str

    @classmethod
    def error(cls, code: str, message: str) -> Finding:
        return cls(Level.ERROR, code, message)

    @classmethod
    def warning(cls, code: str, message: str) -> Finding:
        return cls(Level.WARNING, code, message)

    @classmethod
    def note(cls, code: str, message: str) -> Finding:
        return cls(Level.NOTE, code, message)
