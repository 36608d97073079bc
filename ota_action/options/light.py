"""Validate a read-only command's fields without pydantic, by the models' own rules.

Only commands the generated table marks ``light`` come here: each of their fields is a
bool, a path, a string, an integer, bytes or an instance of one of our classes (or a
list of them) whose validators live in :mod:`ota_action.options` (``rules``,
``zigbee_rules``).  The rules run in the order pydantic runs them, the
type conversion is pydantic's (lax mode), and problems become the same InputError
:func:`ota_action.settings.load` raises; ``tests/test_options.py`` feeds both loaders
the same values and compares the results.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ota_action.options.env import from_environment
from ota_action.options.fields import CommandOptions, FieldSpec, Kind
from ota_action.options.problems import decimal_warnings, field_problem

_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


class Problem(ValueError):
    """A value that is not of its field's type (pydantic's wording), at ``item``."""

    def __init__(self, message: str, item: int | None = None) -> None:
        super().__init__(message)
        self.item = item


class FieldValues:
    """A command's validated settings as attributes, frozen like the pydantic model."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.__dict__.update(values)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{name}: settings are frozen")

    def __repr__(self) -> str:
        return f"FieldValues({', '.join(sorted(self.__dict__))})"


def _rule(ref: str) -> Callable[[Any], Any]:
    module, _, name = ref.partition(":")
    function: Callable[[Any], Any] = getattr(importlib.import_module(module), name)
    return function


def _convert(kind: Kind, value: Any) -> Any:
    if kind is Kind.BOOL:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise Problem("Input should be a valid boolean, unable to interpret input")
    if kind is Kind.PATH:
        if isinstance(value, str | os.PathLike):
            return Path(value)
        raise Problem("Input is not a valid path")
    if kind is Kind.STR:
        if isinstance(value, str):
            return value
        raise Problem("Input should be a valid string")
    if kind is Kind.INT:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise Problem("Input should be a valid integer")
    if kind is Kind.BYTES:
        if isinstance(value, bytes):
            return value
        if isinstance(value, str):
            return value.encode()
        raise Problem("Input should be a valid bytes")
    raise TypeError(f"the light loader cannot check a field of kind {kind}")  # the table is wrong


def _item(spec: FieldSpec, value: Any) -> Any:
    for ref in spec.item_rules:
        value = _rule(ref)(value)
    if spec.kind is Kind.INSTANCE:
        cls = _rule(spec.type_ref)
        if isinstance(cls, type) and isinstance(value, cls):
            return value
        raise Problem(f"Input should be an instance of {spec.type_ref.rpartition(':')[2]}")
    return _convert(spec.kind, value)


def check_field(spec: FieldSpec, value: Any) -> Any:
    """The value of one field after its rules and conversion, or Problem / ValueError."""
    for ref in spec.rules:
        value = _rule(ref)(value)
    if value is None and spec.optional:
        return None
    if not spec.many:
        return _item(spec, value)
    if not isinstance(value, list | tuple):
        raise Problem("Input should be a valid list")
    items = []
    for index, item in enumerate(value):
        try:
            items.append(_item(spec, item))
        except ValueError as exc:
            raise Problem(str(exc), index) from None
    if len(items) < spec.min_length:
        many = "item" if spec.min_length == 1 else "items"
        raise Problem(
            f"List should have at least {spec.min_length} {many} after validation, not {len(items)}"
        )
    return items


def _default(spec: FieldSpec) -> Any:
    if isinstance(spec.default, tuple):
        return list(spec.default)
    if spec.kind is Kind.INSTANCE and spec.default is not None:
        return _rule(spec.type_ref)(spec.default)  # an enum from its value
    return spec.default


def load_light(
    options: CommandOptions,
    values: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> FieldValues:
    """:func:`ota_action.settings.load` for a light command: same values, same errors."""
    environ = os.environ if environ is None else environ
    triples = [(f.name, f.env, f.old_env) for f in options.fields]
    from_env, sources, notices = from_environment(triples, values, environ)
    for notice in notices:
        if warn is not None:
            warn(notice)
    merged = {**from_env, **values}
    unknown = [name for name in merged if options.field(name) is None]
    if unknown:
        raise field_problem(
            unknown[0],
            None,
            "is not an option of this command",
            more=0,
            merged=merged,
            secret_fields=options.secret_fields,
            sources=sources,
        )
    result: dict[str, Any] = {}
    problems: list[tuple[str, int | None, str]] = []
    for spec in options.fields:
        if spec.name not in merged:
            if spec.required:
                problems.append((spec.name, None, "is required"))
            else:
                result[spec.name] = _default(spec)
            continue
        try:
            result[spec.name] = check_field(spec, merged[spec.name])
        except ValueError as exc:
            problems.append((spec.name, exc.item if isinstance(exc, Problem) else None, str(exc)))
    if problems:
        name, item, message = problems[0]
        raise field_problem(
            name,
            item,
            message,
            more=len(problems) - 1,
            merged=merged,
            secret_fields=options.secret_fields,
            sources=sources,
        )
    for decimal in decimal_warnings((f.name for f in options.fields), merged):
        if warn is not None:
            warn(decimal)
    return FieldValues(result)
