"""What the generated option table holds for each field and each command (pure data).

Named tuples: every command's start-up creates these two classes and the table's
hundreds of rows, and a named tuple's rows are made by the C tuple constructor
(CONTRIBUTING.md, "Records").
"""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple


class Kind(Enum):
    """The type a field's text becomes after its rules ran (``OTHER``: only pydantic knows)."""

    BOOL = "bool"
    PATH = "path"
    STR = "str"
    INT = "int"
    BYTES = "bytes"
    FLOAT = "float"  # pydantic's lax number, then ``bounds``
    INSTANCE = "instance"  # what the rules return must be an instance of ``type_ref``
    UNION = "union"  # one of ``members`` (an INSTANCE member is of ``type_ref``), as smart mode picks
    LITERAL = "literal"  # one of the strings ``choices``
    OTHER = "other"


class FieldSpec(NamedTuple):
    """One settings field as the CLI spells it and as the light loader checks it."""

    name: str
    description: str
    flag: str  # the main spelling, as messages name it: --mfg-id, FILE
    flags: tuple[str, ...] = ()  # extra spellings (-m)
    metavar: str = ""
    positional: bool = False
    hidden: bool = False
    repeat: bool = False
    many: bool = False  # a list
    boolean: bool = False
    required: bool = False
    default_shown: str | None = None  # as --help shows it; None: no default worth showing
    env: str = ""
    old_env: str | None = None  # the deprecated variable, still read with a warning
    kind: Kind = Kind.OTHER
    optional: bool = False  # None is a valid value
    default: object = None  # the default of an optional field (light loader)
    rules: tuple[str, ...] = ()  # "module:function" run on the whole value, in order
    item_rules: tuple[str, ...] = ()  # run on each item of a list, in order
    type_ref: str = ""  # "module:Class" of an INSTANCE field (an enum's default is its value)
    min_length: int = 0  # a list needs at least this many items
    # A number's limits as the model declares them, in the order pydantic checks them:
    # (("le", 3600), ("gt", 0)).
    bounds: tuple[tuple[str, int | float], ...] = ()
    members: tuple[Kind, ...] = ()  # the kinds of a UNION, in the order it is declared
    choices: tuple[str, ...] = ()  # the values of a LITERAL, in the order it is declared
    # The rules among ``rules`` that also take the fields validated before this one, as
    # ``rule(value, data)``: a cross-field rule, which the model's field_validator calls.
    data_rules: tuple[str, ...] = ()


class CommandOptions(NamedTuple):
    """A command's fields, the ones never echoed, and whether it loads without pydantic."""

    doc: str
    fields: tuple[FieldSpec, ...]
    secret_fields: frozenset[str] = frozenset()
    light: bool = False  # every field's rules and type are pydantic-free

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)
