"""Writes :mod:`ota_action.options.table` from the settings models: ``python -m ota_action.doors.cli_table``.

The models stay the one description of each command's fields; the table is their
pydantic-free image, committed so that the CLI starts without importing pydantic.
``tests/test_options.py`` regenerates it in memory and fails when the committed file
differs, so a field added to a model without rerunning this cannot ship.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import types
import typing
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt, MinLen
from pydantic import BeforeValidator
from pydantic.fields import FieldInfo
from pydantic_settings import NoDecode

from ota_action.commands import COMMANDS
from ota_action.options.fields import CommandOptions, FieldSpec, Kind

TABLE_FILE = Path(__file__).resolve().parent.parent / "options" / "table.py"
LIGHT_RULES = "ota_action.options."
_KINDS = {
    bool: Kind.BOOL,
    Path: Kind.PATH,
    str: Kind.STR,
    int: Kind.INT,
    float: Kind.FLOAT,
    bytes: Kind.BYTES,
}
# A number's limits, in the order pydantic-core checks them (the first that fails is reported).
_BOUNDS = ((Le, "le"), (Lt, "lt"), (Ge, "ge"), (Gt, "gt"))


def _ref(function: Any) -> str:
    return f"{function.__module__}:{function.__qualname__}"


def _rules(metadata: typing.Iterable[Any]) -> tuple[tuple[str, ...], bool]:
    """The Before validators in the order pydantic runs them (last given first), and
    whether nothing else (a constraint, another kind of validator) is attached."""
    rules: list[str] = []
    plain = True
    for item in metadata:
        if isinstance(item, BeforeValidator):
            rules.append(_ref(item.func))
        elif item is not NoDecode and not isinstance(item, NoDecode | MinLen | Le | Lt | Ge | Gt):
            plain = plain and type(item).__module__.startswith("ota_action")  # HexDigits and such
    return tuple(reversed(rules)), plain


def _kind(annotation: Any) -> tuple[Kind, str]:
    """The light loader's kind of a (bare) type, and the class an INSTANCE must be."""
    if annotation in _KINDS:
        return _KINDS[annotation], ""
    if isinstance(annotation, type) and annotation.__module__.startswith("ota_action"):
        return Kind.INSTANCE, f"{annotation.__module__}:{annotation.__qualname__}"
    return Kind.OTHER, ""


def _union(annotation: Any) -> tuple[Kind, str, tuple[Kind, ...]]:
    """``int | VersionFrom``: kind UNION, its one INSTANCE member's class and the members'
    kinds; OTHER when a member is not one the light loader knows, or two are instances."""
    found = [_kind(a) for a in get_args(annotation)]
    refs = [ref for _, ref in found if ref]
    if any(kind is Kind.OTHER for kind, _ in found) or len(refs) > 1:
        return Kind.OTHER, "", ()
    return Kind.UNION, "".join(refs), tuple(kind for kind, _ in found)


def _bounds(metadata: typing.Iterable[Any]) -> tuple[tuple[str, int | float], ...]:
    items = list(metadata)
    return tuple(
        (name, getattr(item, name)) for cls, name in _BOUNDS for item in items if isinstance(item, cls)
    )


def _shape(info: FieldInfo) -> dict[str, Any]:
    """Kind, optional, list, rules and item rules of a field; kind OTHER when the light
    loader could not check it exactly as pydantic does."""
    rules, plain = _rules(info.metadata)
    annotation: Any = info.annotation
    optional = False
    if get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation):
        others = [a for a in get_args(annotation) if a is not type(None)]
        optional, annotation = True, others[0] if len(others) == 1 else Any
    many = get_origin(annotation) is list
    item_rules: tuple[str, ...] = ()
    if many:
        (annotation,) = get_args(annotation)
        if get_origin(annotation) is Annotated:
            item_rules, item_plain = _rules(annotation.__metadata__)
            plain, annotation = plain and item_plain, get_args(annotation)[0]
    elif get_origin(annotation) is Annotated:
        # ``Annotated[T, rule] | None``: the rule runs on any value but None, and every
        # rule here passes None through, so running it first is the same.
        inner, inner_plain = _rules(annotation.__metadata__)
        rules, plain, annotation = rules + inner, plain and inner_plain, get_args(annotation)[0]
    members: tuple[Kind, ...] = ()
    choices: tuple[str, ...] = ()
    if not plain:
        kind, type_ref = Kind.OTHER, ""
    elif get_origin(annotation) in (Union, types.UnionType):
        kind, type_ref, members = _union(annotation)
    elif get_origin(annotation) is Literal and all(isinstance(a, str) for a in get_args(annotation)):
        kind, type_ref, choices = Kind.LITERAL, "", get_args(annotation)
    else:
        kind, type_ref = _kind(annotation)
    bounds = _bounds(info.metadata)
    if bounds and kind not in (Kind.INT, Kind.FLOAT):
        kind = Kind.OTHER
    refs_light = all(r.startswith(LIGHT_RULES) and "<" not in r for r in rules + item_rules)
    default = None if info.is_required() else info.default
    if isinstance(default, list):
        default = tuple(default)
    if isinstance(default, Enum) and type_ref:
        default = default.value  # the light loader calls the class on it
    if not refs_light or not isinstance(default, bool | int | float | str | tuple | type(None)):
        kind = Kind.OTHER
    if kind is Kind.OTHER:
        default = None  # only the light loader reads it
    min_length = next((m.min_length for m in info.metadata if isinstance(m, MinLen)), 0)
    return {
        "kind": kind,
        "optional": optional,
        "many": many,
        "rules": rules,
        "item_rules": item_rules,
        "default": default,
        "type_ref": type_ref if kind in (Kind.INSTANCE, Kind.UNION) else "",
        "min_length": min_length,
        "bounds": bounds if kind is not Kind.OTHER else (),
        "members": members if kind is Kind.UNION else (),
        "choices": choices if kind is Kind.LITERAL else (),
    }


def field_spec(name: str, info: FieldInfo) -> FieldSpec:
    from ota_action.doors.cli import show_default
    from ota_action.settings import cli_of, deprecated_env_variable, env_variable, flag_of, hex_digits

    cli = cli_of(info)
    required = info.is_required()
    shown = None
    if info.default not in (None, False) and not required:
        shown = show_default(info.default, hex_digits(info))
    return FieldSpec(
        name=name,
        description=info.description or "",
        flag=flag_of(name, info),
        flags=cli.flags,
        metavar=cli.metavar or name.upper(),
        positional=cli.positional,
        hidden=cli.hidden,
        repeat=cli.repeat,
        boolean=info.annotation is bool,
        required=required,
        default_shown=shown,
        env=env_variable(name, info),
        old_env=deprecated_env_variable(name, info),
        **_shape(info),
    )


def _data_rules(model: Any) -> tuple[dict[str, list[str]], bool]:
    """Each field's cross-field rules, in the order pydantic runs them (a before
    ``field_validator`` runs ahead of the field's own rules, the last defined first), and
    whether the model has no other validator: only those made by
    :func:`ota_action.settings.data_rule` carry a pydantic-free rule the table can name."""
    decorators = model.__pydantic_decorators__
    others = any(getattr(decorators, kind) for kind in ("validators", "root_validators", "model_validators"))
    found: dict[str, list[str]] = {}
    for validator in reversed(list(decorators.field_validators.values())):
        rule = getattr(validator.func, "rule", None)
        if rule is None or validator.info.mode != "before" or not _ref(rule).startswith(LIGHT_RULES):
            others = True
            continue
        for name in validator.info.fields:
            found.setdefault(name, []).append(_ref(rule))
    return found, not others


def _with_data_rules(spec: FieldSpec, refs: list[str]) -> FieldSpec:
    if not refs or spec.kind is Kind.OTHER:
        return spec
    return spec._replace(rules=(*refs, *spec.rules), data_rules=tuple(refs))


def build() -> dict[str, CommandOptions]:
    """Every command's options, from its settings model."""
    table: dict[str, CommandOptions] = {}
    for name, spec in COMMANDS.items():
        model = spec.load().settings
        data_rules, plain = _data_rules(model)
        fields = tuple(
            _with_data_rules(field_spec(n, i), data_rules.get(n, [])) for n, i in model.model_fields.items()
        )
        light = plain and all(f.kind is not Kind.OTHER for f in fields)
        # cleandoc: Python 3.13 dedents docstrings when it compiles them, 3.11 and 3.12 do
        # not; the table must be the same text whichever Python writes or checks it.
        doc = inspect.cleandoc(model.__doc__) if model.__doc__ else spec.summary.strip()
        table[name] = CommandOptions(doc, fields, frozenset(model.secret_fields), light)
    return table


def _value(value: object) -> str:
    if isinstance(value, Kind):
        return f"Kind.{value.name}"
    if isinstance(value, tuple) and value and all(isinstance(v, Kind) for v in value):
        return f"({', '.join(_value(v) for v in value)},)"
    if isinstance(value, frozenset):
        return f"frozenset({sorted(value)!r})" if value else "frozenset()"
    return repr(value)


def _call(obj: Any, skip: tuple[str, ...] = ()) -> str:
    """``FieldSpec(name=..., ...)`` with only the values that differ from the defaults."""
    defaults = type(obj)(**{f: getattr(obj, f) for f in ("name", "description", "flag")}) if skip else None
    parts = []
    for field in obj._fields:
        value = getattr(obj, field)
        if defaults is not None and field not in skip and value == getattr(defaults, field):
            continue
        parts.append(f"{field}={_value(value)}")
    return f"{type(obj).__name__}({', '.join(parts)})"


def render(table: dict[str, CommandOptions]) -> str:
    lines = [
        '"""Each command\'s options: GENERATED from the settings models by',
        '``python -m ota_action.doors.cli_table``; do not edit (tests/test_options.py checks it)."""',
        "",
        "# ruff: noqa: E501",
        "# fmt: off",
        "from ota_action.options.fields import CommandOptions, FieldSpec, Kind",
        "",
        "TABLE: dict[str, CommandOptions] = {",
    ]
    for name, options in table.items():
        lines.append(f"    {name!r}: CommandOptions(")
        lines.append(f"        doc={options.doc!r},")
        lines.append("        fields=(")
        lines += [f"            {_call(f, ('name', 'description', 'flag'))}," for f in options.fields]
        lines.append("        ),")
        lines.append(f"        secret_fields={_value(options.secret_fields)},")
        lines.append(f"        light={options.light!r},")
        lines.append("    ),")
    lines += ["}", "# fmt: on", ""]
    return "\n".join(lines)


def main() -> int:
    TABLE_FILE.write_text(render(build()), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "ruff", "check", "-q", "--fix", str(TABLE_FILE)], check=False)
    print(f"wrote {TABLE_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
