"""One validation problem as the one-line InputError every door prints.

Shared by the pydantic loader (:func:`ota_action.settings.load`) and the light one
(:mod:`ota_action.options.light`), so a bad value reads the same whichever checked it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from ota_action.errors import InputError
from ota_action.safe_text import looks_like_secret


def field_problem(
    name: str,
    item: int | None,
    message: str,
    *,
    more: int,
    merged: Mapping[str, Any],
    secret_fields: Collection[str],
    sources: Mapping[str, str],
) -> InputError:
    """``name`` (item ``item`` of a list) is wrong: ``message``; ``more`` other problems.

    The value shown is the one the user gave (one line of a multi-line variable for a
    list item), never a secret's nor anything that looks like key material.
    """
    raw: Any = merged.get(name)
    if isinstance(raw, str) and item is not None:
        from ota_action.values import split_lines  # an error's path only

        raw = split_lines(raw)  # a list from one variable, one item a line
    if isinstance(raw, list | tuple) and item is not None and item < len(raw):
        raw = raw[item]
    shown = None
    if raw is not None and name not in secret_fields and not looks_like_secret(raw):
        shown = str(raw)
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return InputError(message, field=name or None, value=shown, source=sources.get(name))


def decimal_warnings(fields: Iterable[str], merged: Mapping[str, Any]) -> list[str]:
    """The warning for each bare decimal given where hex is usual (``-m 1234``), for the
    fields of ``fields`` that have one; a valid value is never changed."""
    names = set(fields) & {"mfg_id", "image_type"}  # values.HEX_USUAL's fields
    if not names:
        return []  # a command without them never imports values' input types
    from ota_action.values import HEX_USUAL, decimal_reading_warning

    found = (decimal_reading_warning(what, merged.get(f)) for f, what in HEX_USUAL.items() if f in names)
    return [warning for warning in found if warning is not None]
