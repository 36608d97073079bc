"""Validate a light command's fields without pydantic, by the models' own rules.

Only commands the generated table marks ``light`` come here: each of their fields is a
bool, a path, a string, an integer, a float with its bounds, bytes, an instance of one of
our classes (an enum), a union of an integer and one such class, one of a ``Literal``'s
strings, or a list of them, whose
validators live in :mod:`ota_action.options` (``rules``, ``zigbee_rules``); a rule across
fields (``--version`` read by ``--version-scheme``) gets the fields validated before it,
as pydantic's ``info.data``.  The rules run in the order pydantic runs them, the type
conversion is pydantic's lax mode (:mod:`ota_action.options.lax`), and problems become the same InputError
:func:`ota_action.settings.load` raises; ``tests/test_options.py`` feeds both loaders
the same values and compares the results.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from ota_action.options.env import from_environment
from ota_action.options.fields import CommandOptions, FieldSpec, Kind
from ota_action.options.lax import Problem, check_bounds, convert
from ota_action.options.problems import decimal_warnings, field_problem


class FieldValues:
    """A command's validated settings as attributes, frozen like the pydantic model."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.__dict__.update(values)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{name}: settings are frozen")

    def __repr__(self) -> str:
        return f"FieldValues({', '.join(sorted(self.__dict__))})"


def _rule(ref: str) -> Callable[..., Any]:
    module, _, name = ref.partition(":")
    function: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return function


def _instance(type_ref: str, value: Any) -> Any:
    cls = _rule(type_ref)
    if isinstance(cls, type) and isinstance(value, cls):
        return value
    raise Problem(f"Input should be an instance of {type_ref.rpartition(':')[2]}")


_EXACT = {Kind.INT: int, Kind.FLOAT: float, Kind.STR: str, Kind.BOOL: bool, Kind.BYTES: bytes}


def _union(spec: FieldSpec, value: Any) -> Any:
    """Smart mode: a member the value already is exactly (an int that is not a bool, an
    instance of ``type_ref``) wins; else the first member that converts it; else the first
    member's error, counted once per member as pydantic reports them."""
    cls = _rule(spec.type_ref) if spec.type_ref else None
    for kind in spec.members:
        if kind is Kind.INSTANCE and isinstance(cls, type) and isinstance(value, cls):
            return value
        if type(value) is _EXACT.get(kind):
            return value
    problems: list[Problem] = []
    for kind in spec.members:
        try:
            return _instance(spec.type_ref, value) if kind is Kind.INSTANCE else convert(kind, value)
        except Problem as exc:
            problems.append(exc)
    raise Problem(str(problems[0]), count=len(problems))


def _literal(choices: tuple[str, ...], value: Any) -> str:
    if isinstance(value, str) and value in choices:
        return value
    quoted = [f"'{c}'" for c in choices]
    words = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    raise Problem(f"Input should be {words}")


def _item(spec: FieldSpec, value: Any) -> Any:
    for ref in spec.item_rules:
        value = _rule(ref)(value)
    if spec.kind is Kind.INSTANCE:
        return _instance(spec.type_ref, value)
    if spec.kind is Kind.UNION:
        return _union(spec, value)
    if spec.kind is Kind.LITERAL:
        return _literal(spec.choices, value)
    converted = convert(spec.kind, value)
    if spec.bounds:
        check_bounds(converted, spec.bounds)
    return converted


def check_field(spec: FieldSpec, value: Any, data: Mapping[str, Any] | None = None) -> Any:
    """The value of one field after its rules and conversion, or Problem / ValueError.

    ``data`` holds the fields validated before this one, for its cross-field rules."""
    for ref in spec.rules:
        if ref in spec.data_rules:
            value = _rule(ref)(value, MappingProxyType(dict(data or {})))
        else:
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
    problems: list[tuple[str, Problem]] = []
    for spec in options.fields:
        if spec.name not in merged:
            if spec.required:
                problems.append((spec.name, Problem("is required")))
            else:
                result[spec.name] = _default(spec)
            continue
        try:
            result[spec.name] = check_field(spec, merged[spec.name], result)
        except ValueError as exc:
            problem = exc if isinstance(exc, Problem) else Problem(str(exc))
            problems.append((spec.name, problem))
    if problems:
        name, first = problems[0]
        raise field_problem(
            name,
            first.item,
            str(first),
            more=sum(p.count for _, p in problems) - 1,
            merged=merged,
            secret_fields=options.secret_fields,
            sources=sources,
        )
    for decimal in decimal_warnings((f.name for f in options.fields), merged):
        if warn is not None:
            warn(decimal)
    return FieldValues(result)
