"""Record classes: typed, frozen by default, made without the :mod:`dataclasses` module.

``@record`` is ``@dataclass(frozen=True)`` for this project's needs, and type checkers see
it as exactly that (:func:`typing.dataclass_transform`, PEP 681).  Why our own: every
command's start-up defines the record classes of the modules it imports (zbota fifteen,
verify a dozen), and on CPython 3.11 ``import dataclasses`` costs ~4 ms (it imports
``inspect``, which imports ``ast``, ``dis`` and ``tokenize``) and each frozen dataclass
~0.4 ms to create (one ``exec`` per generated method): ~10 ms of zbota's ~57 ms, which
issue 25 budgets at 4x Simplicity Commander's ~13 ms.  A record class costs ~0.02 ms to
define (docs/speed.md has the measurements): its ``__repr__``, ``__eq__`` and
``__hash__`` are shared functions reading the class's field list, and its ``__init__``
is generated, as a dataclass's is, the first time the class is instantiated, so it runs
as fast per instance (the batch verify makes several records per file).

What it keeps of dataclasses, and tests against them (tests/test_records.py): fields
from annotations in definition order, inherited from record bases; ``ClassVar``
annotations are not fields; defaults and :func:`field` (``default``,
``default_factory``, ``init``, ``repr``, ``compare``); ``kw_only``; ``__post_init__``;
a user-written ``__init__``/``__repr__``/``__eq__``/``__hash__`` is kept; frozen
instances refuse assignment with :class:`FrozenInstanceError` (an ``AttributeError``)
and hash by their compared fields, mutable ones are unhashable; ``__match_args__``;
:func:`replace` and :func:`fields`; pickling.  What it leaves out because nothing here
uses it: ``order``, ``slots``, ``InitVar``, ``KW_ONLY``, per-field ``kw_only``,
``asdict``.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any, ClassVar, Final, TypeVar, dataclass_transform, overload

_T = TypeVar("_T")


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final[Any] = _Missing()


class FrozenInstanceError(AttributeError):
    """An assignment to a field of a frozen record (as :class:`dataclasses.FrozenInstanceError`)."""


class Field:
    """One field of a record class: its name and what :func:`field` said of it."""

    __slots__ = ("compare", "default", "default_factory", "init", "name", "repr")

    def __init__(
        self,
        default: object = MISSING,
        default_factory: Callable[[], object] | Any = MISSING,
        init: bool = True,
        repr: bool = True,
        compare: bool = True,
    ) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.init = init
        self.repr = repr
        self.compare = compare

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, default={self.default!r}, init={self.init}, repr={self.repr})"


@overload
def field(*, default: _T, init: bool = ..., repr: bool = ..., compare: bool = ...) -> _T: ...
@overload
def field(
    *, default_factory: Callable[[], _T], init: bool = ..., repr: bool = ..., compare: bool = ...
) -> _T: ...
@overload
def field(*, init: bool = ..., repr: bool = ..., compare: bool = ...) -> Any: ...
def field(
    *,
    default: Any = MISSING,
    default_factory: Any = MISSING,
    init: bool = True,
    repr: bool = True,
    compare: bool = True,
) -> Any:
    """A field with more to say than its default (as :func:`dataclasses.field`)."""
    return Field(default, default_factory, init, repr, compare)


def _is_classvar(annotation: object) -> bool:
    """Whether an annotation (a string under ``from __future__ import annotations``) is a ClassVar."""
    if isinstance(annotation, str):
        text = annotation.strip()
        for prefix in ("ClassVar", "typing.ClassVar"):
            if text == prefix or text.startswith(prefix + "["):
                return True
        return False
    return annotation is ClassVar or getattr(annotation, "__origin__", None) is ClassVar


def _collect(cls: type) -> tuple[Field, ...]:
    """The class's fields: its record bases' first (a redefined one keeps its place), then its own."""
    found: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        for item in base.__dict__.get("__record_fields__", ()):
            found[item.name] = item
    for name, annotation in cls.__annotations__.items():
        if _is_classvar(annotation):
            continue
        value = cls.__dict__.get(name, MISSING)
        if isinstance(value, Field):
            item = value
            if item.default is MISSING:
                delattr(cls, name)  # no default, no class attribute (as in a dataclass)
            else:
                setattr(cls, name, item.default)
        else:
            item = Field(default=value)
        if item.default is not MISSING and type(item.default).__hash__ is None:  # list, dict, set
            raise ValueError(
                f"mutable default {type(item.default)} for field {name} is not allowed: use default_factory"
            )
        item.name = name
        found[name] = item
    return tuple(found.values())


def _check_order(cls: type, fields: tuple[Field, ...], kw_only: bool) -> None:
    if kw_only:
        return
    seen_default = ""
    for item in fields:
        if not item.init:
            continue
        if item.default is not MISSING or item.default_factory is not MISSING:
            seen_default = seen_default or item.name
        elif seen_default:
            raise TypeError(f"{cls.__name__}: non-default argument {item.name!r} follows default argument")


def _init_source(
    fields: tuple[Field, ...], frozen: bool, kw_only: bool, post_init: bool
) -> tuple[str, dict[str, Any]]:
    """The source of a record's ``__init__`` and the names it refers to."""
    names: dict[str, Any] = {"__missing": MISSING, "__set": object.__setattr__}
    params: list[str] = []
    body: list[str] = []
    for item in fields:
        value = item.name
        if item.default_factory is not MISSING:
            names[f"__factory_{item.name}"] = item.default_factory
            if item.init:
                params.append(f"{item.name}=__missing")
                value = f"__factory_{item.name}() if {item.name} is __missing else {item.name}"
            else:
                value = f"__factory_{item.name}()"
        elif item.default is not MISSING:
            if not item.init:
                continue  # the class attribute holds the default, as in a dataclass
            names[f"__default_{item.name}"] = item.default
            params.append(f"{item.name}=__default_{item.name}")
        elif item.init:
            params.append(item.name)
        else:
            continue  # set by __post_init__
        body.append(
            f"  __set(__self, {item.name!r}, {value})" if frozen else f"  __self.{item.name} = {value}"
        )
    if post_init:
        body.append("  __self.__post_init__()")
    signature = ", ".join(["__self", *(["*"] if kw_only and params else []), *params])
    return f"def __init__({signature}):\n" + ("\n".join(body) or "  pass") + "\n", names


def _lazy_init(cls: type, frozen: bool, kw_only: bool) -> Callable[..., None]:
    """An ``__init__`` that writes the class's real one on first use, then calls it."""

    def __init__(self: object, *args: object, **kwargs: object) -> None:
        source, names = _init_source(cls.__record_fields__, frozen, kw_only, hasattr(cls, "__post_init__"))  # type: ignore[attr-defined]
        exec(source, names)  # noqa: S102 - generated from the class's own field names, as dataclasses does
        real = names["__init__"]
        real.__qualname__ = f"{cls.__qualname__}.__init__"
        cls.__init__ = real  # type: ignore[misc]
        real(self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _repr(self: object) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in type(self).__record_repr__)  # type: ignore[attr-defined]
    return f"{type(self).__qualname__}({shown})"


def _eq(self: object, other: object) -> object:  # bool, or NotImplemented
    if other.__class__ is self.__class__:
        key: Callable[[object], object] = self.__class__.__record_key__  # type: ignore[attr-defined]
        return key(self) == key(other)
    return NotImplemented


def _hash(self: object) -> int:
    return hash(self.__class__.__record_key__(self))  # type: ignore[attr-defined]


def _frozen_setattr(self: object, name: str, value: object) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: object, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _no_key(self: object) -> tuple[()]:
    return ()


def _make(cls: type[_T], frozen: bool, kw_only: bool) -> type[_T]:
    for base in cls.__mro__[1:]:
        if "__record_fields__" in base.__dict__ and base.__dict__["__record_frozen__"] != frozen:
            raise TypeError(
                f"cannot inherit {'frozen' if frozen else 'non-frozen'} record from a "
                f"{'non-frozen' if frozen else 'frozen'} one"
            )
    fields = _collect(cls)
    _check_order(cls, fields, kw_only)
    own = cls.__dict__
    compared = tuple(f.name for f in fields if f.compare)
    extra: dict[str, object] = {
        "__record_fields__": fields,
        "__record_frozen__": frozen,
        "__record_repr__": tuple(f.name for f in fields if f.repr),
        "__record_key__": attrgetter(*compared) if len(compared) > 1 else _single_key(compared),
    }
    if "__init__" not in own:
        extra["__init__"] = _lazy_init(cls, frozen, kw_only)
    if "__repr__" not in own:
        extra["__repr__"] = _repr
    if "__eq__" not in own:
        extra["__eq__"] = _eq
    explicit_hash = "__hash__" in own and not (own["__hash__"] is None and "__eq__" in own)
    if not explicit_hash:
        extra["__hash__"] = _hash if frozen else None
    if frozen:
        if "__setattr__" in own or "__delattr__" in own:
            raise TypeError(f"{cls.__name__}: a frozen record cannot define __setattr__ or __delattr__")
        extra["__setattr__"] = _frozen_setattr
        extra["__delattr__"] = _frozen_delattr
    if "__match_args__" not in own:
        extra["__match_args__"] = () if kw_only else tuple(f.name for f in fields if f.init)
    for name, value in extra.items():
        setattr(cls, name, value)
    return cls


def _single_key(compared: tuple[str, ...]) -> Callable[[object], object]:
    if not compared:
        return _no_key
    getter = attrgetter(compared[0])
    return lambda self: (getter(self),)


@overload
def record(cls: type[_T], /) -> type[_T]: ...
@overload
def record(*, frozen: bool = ..., kw_only: bool = ...) -> Callable[[type[_T]], type[_T]]: ...
@dataclass_transform(frozen_default=True, field_specifiers=(field, Field))
def record(
    cls: type[_T] | None = None, /, *, frozen: bool = True, kw_only: bool = False
) -> type[_T] | Callable[[type[_T]], type[_T]]:
    """Make ``cls`` a record class (``@record`` or ``@record(kw_only=True, frozen=False)``)."""
    if cls is None:
        return lambda inner: _make(inner, frozen, kw_only)
    return _make(cls, frozen, kw_only)


def fields(instance_or_class: object) -> tuple[Field, ...]:
    """A record's fields, in order (as :func:`dataclasses.fields`)."""
    found = getattr(instance_or_class, "__record_fields__", None)
    if found is None:
        raise TypeError("fields() takes a record class or instance")
    return tuple(found)


def replace(instance: _T, /, **changes: Any) -> _T:
    """A copy of a record with some fields changed (as :func:`dataclasses.replace`)."""
    for item in instance.__record_fields__:  # type: ignore[attr-defined]
        if not item.init:
            if item.name in changes:
                raise ValueError(f"field {item.name!r} is init=False and cannot be replaced")
            continue
        if item.name not in changes:
            changes[item.name] = getattr(instance, item.name)
    return instance.__class__(**changes)
