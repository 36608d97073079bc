"""pydantic's lax-mode conversions of the kinds the light loader checks, and its words.

Each function here turns a value into its field's type exactly as pydantic-core does in
lax mode (``"5"`` is the int 5, ``" 1e3 "`` the float 1000.0, ``"yes"`` True) or raises
:class:`Problem` with pydantic's own message, so a bad value reads the same whichever
loader checked it.  ``tests/test_options.py`` holds the two to the same outcome.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

from ota_action.options.fields import Kind

_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})
# pydantic-core reads a number from text after trimming Unicode White_Space, which (unlike
# str.strip) excludes the separators U+001C-U+001F.
_NOT_TRIMMED = frozenset("\x1c\x1d\x1e\x1f")
_INT_TEXT = re.compile(r"[+-]?[0-9]+(?:_[0-9]+)*(?:\.0+)?")
_INT_MESSAGE = "Input should be a valid integer"
_FLOAT_MESSAGE = "Input should be a valid number"
_BOUND_WORDS = {
    "gt": "greater than",
    "ge": "greater than or equal to",
    "lt": "less than",
    "le": "less than or equal to",
}


class Problem(ValueError):
    """A value that is not of its field's type (pydantic's wording), at ``item``; ``count``
    is how many errors pydantic reports for it (a union reports one per member)."""

    def __init__(self, message: str, item: int | None = None, count: int = 1) -> None:
        super().__init__(message)
        self.item = item
        self.count = count


def _number_text(value: str | bytes) -> str | None:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    stripped = text.strip()
    if not stripped.isascii() or any(c in _NOT_TRIMMED for c in text):
        return None
    return stripped


def to_int(value: Any) -> int:
    if isinstance(value, int):
        return int(value)  # a bool is 1 or 0 in lax mode
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Problem("Input should be a finite number")
        if not value.is_integer():
            raise Problem(f"{_INT_MESSAGE}, got a number with a fractional part")
        return int(value)
    if isinstance(value, str | bytes):
        text = _number_text(value)
        if text is None or not _INT_TEXT.fullmatch(text):
            raise Problem(f"{_INT_MESSAGE}, unable to parse string as an integer")
        return int(text.split(".", 1)[0].replace("_", ""))
    raise Problem(_INT_MESSAGE)


def to_float(value: Any) -> float:
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:
            raise Problem(_FLOAT_MESSAGE) from None
    if isinstance(value, str | bytes):
        text = _number_text(value)
        try:
            return float(text) if text is not None else float("x")
        except ValueError:
            raise Problem(f"{_FLOAT_MESSAGE}, unable to parse string as a number") from None
    raise Problem(_FLOAT_MESSAGE)


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise Problem("Input should be a valid boolean, unable to interpret input")


def convert(kind: Kind, value: Any) -> Any:
    """``value`` as a ``kind`` (not INSTANCE nor UNION: those need their class)."""
    if kind is Kind.BOOL:
        return to_bool(value)
    if kind is Kind.PATH:
        if isinstance(value, str | os.PathLike):
            return Path(value)
        raise Problem("Input is not a valid path")
    if kind is Kind.STR:
        if isinstance(value, str):
            return value
        raise Problem("Input should be a valid string")
    if kind is Kind.INT:
        return to_int(value)
    if kind is Kind.FLOAT:
        return to_float(value)
    if kind is Kind.BYTES:
        if isinstance(value, bytes):
            return value
        if isinstance(value, str):
            return value.encode()
        raise Problem("Input should be a valid bytes")
    raise TypeError(f"the light loader cannot check a field of kind {kind}")  # the table is wrong


def check_bounds(value: int | float, bounds: tuple[tuple[str, int | float], ...]) -> None:
    """The first limit ``value`` breaks, in pydantic-core's order and words (NaN breaks all)."""
    for name, limit in bounds:
        ok = {
            "gt": value > limit,
            "ge": value >= limit,
            "lt": value < limit,
            "le": value <= limit,
        }[name]
        if not ok:
            raise Problem(f"Input should be {_BOUND_WORDS[name]} {limit}")
