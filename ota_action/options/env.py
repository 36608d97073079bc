"""Where a field's value comes from when the command line does not give it: ``OTA_*``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def from_environment(
    fields: Iterable[tuple[str, str, str | None]], given: Mapping[str, Any], environ: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """For each (field, variable, older variable) that ``given`` lacks, its ``OTA_*`` value.

    Returns (values, field -> variable, warnings).  Empty means unset.  A value under a
    field's older variable name is taken with a deprecation warning; the new name wins
    when both are set.
    """
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    warnings: list[str] = []
    for name, variable, old in fields:
        if name in given:
            continue
        if environ.get(variable, "").strip():
            values[name], sources[name] = environ[variable], variable
        elif old is not None and environ.get(old, "").strip():
            values[name], sources[name] = environ[old], old
            warnings.append(f"environment variable {old} is deprecated; use {variable}")
    return values, sources, warnings
