"""``ota_action.records`` behaves as :mod:`dataclasses` does, class for class.

Each class below is defined twice from one source, once with ``@dataclass(...)`` and once
with ``@record(...)``, and every test makes both do the same thing and compares what
they did: the standard library is the oracle.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any, ClassVar

import pytest

from ota_action import records

SOURCE = '''
from __future__ import annotations
from typing import ClassVar

@deco(**frozen_kw)
class Base:
    """A base with a class variable and a default."""
    command: ClassVar[str] = "base"
    findings: tuple[str, ...] = ()

    def word(self) -> str:
        return self.command

@deco(**frozen_kw)
class Child(Base):
    command: ClassVar[str] = "child"
    path: str
    size: int = 0
    parts: list[int] = field(default_factory=list)
    secret: str | None = field(default=None, repr=False)
    note: str = field(default="", compare=False)

@deco(**frozen)
class Point:
    x: int
    y: int = 7

@deco(**frozen)
class Empty:
    pass

@deco(**frozen)
class Derived:
    raw: bytes
    length: int = field(init=False, default=-1)
    tags: list[str] = field(init=False, default_factory=list)

@deco(**frozen)
class PostInit:
    value: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "doubled", self.value * 2)

@deco(**frozen)
class OwnMethods:
    value: int

    def __repr__(self) -> str:
        return "own"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OwnMethods)

    __hash__ = object.__hash__

@deco(**frozen)
class Redefined(Point):
    x: int = 1
    z: int = 2

@deco(frozen=False)
class Mutable:
    items: list[int] = field(default_factory=list)
    count: int = 0
'''


def build(deco: Any, field: Any, *, frozen: bool) -> dict[str, Any]:
    namespace: dict[str, Any] = {
        # dataclasses resolves a string "ClassVar" in the class's module: this one
        "__name__": __name__,
        "deco": deco,
        "field": field,
        "frozen": {"frozen": frozen},
        "frozen_kw": {"frozen": frozen, "kw_only": True},
    }
    exec(compile(SOURCE, f"<{deco.__module__}>", "exec"), namespace)  # noqa: S102 - our own source
    return namespace


KEPT = ClassVar  # what dataclasses finds when it resolves the string "ClassVar" here

PAIRS = {
    frozen: (
        build(dataclasses.dataclass, dataclasses.field, frozen=frozen),
        build(records.record, records.field, frozen=frozen),
    )
    for frozen in (True, False)
}
NAMES = ["Base", "Child", "Point", "Empty", "Derived", "PostInit", "OwnMethods", "Redefined", "Mutable"]


def outcome(make: Any) -> tuple[str, Any]:
    """What a call did: its value's repr, or its exception's type and message."""
    try:
        return "ok", make()
    except Exception as error:
        message = str(error).replace("Base.__init__", "__init__").replace("Child.__init__", "__init__")
        return type(error).__name__, message.split("__init__()")[-1]


CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("Base", (), {}),
    ("Base", (), {"findings": ("a",)}),
    ("Base", ("positional",), {}),
    ("Child", (), {"path": "p"}),
    ("Child", (), {"path": "p", "size": 3, "parts": [1], "secret": "s3cr3t", "note": "n"}),
    ("Child", (), {}),
    ("Child", (), {"path": "p", "bogus": 1}),
    ("Child", ("p",), {}),
    ("Point", (1,), {}),
    ("Point", (1, 2), {}),
    ("Point", (), {"y": 2, "x": 1}),
    ("Point", (), {}),
    ("Point", (1, 2, 3), {}),
    ("Point", (1,), {"x": 2}),
    ("Empty", (), {}),
    ("Derived", (b"ab",), {}),
    ("Derived", (b"ab",), {"length": 3}),
    ("PostInit", (4,), {}),
    ("OwnMethods", (1,), {}),
    ("Redefined", (), {}),
    ("Redefined", (5, 6, 7), {}),
    ("Mutable", (), {}),
    ("Mutable", ([1], 2), {}),
]


def _view(value: Any) -> Any:
    if isinstance(value, tuple) and value and value[0] == "ok":
        obj = value[1]
        return ("ok", repr(obj).split(".")[-1], sorted(vars(obj).items()))
    return value


@pytest.mark.parametrize("frozen", [True, False])
@pytest.mark.parametrize(("name", "args", "kwargs"), CALLS)
def test_construction_matches_dataclasses(
    frozen: bool, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    ours_ns, theirs_ns = PAIRS[frozen][1], PAIRS[frozen][0]
    ours = outcome(lambda: ours_ns[name](*args, **kwargs))
    theirs = outcome(lambda: theirs_ns[name](*args, **kwargs))
    assert _view(ours) == _view(theirs)


@pytest.mark.parametrize("frozen", [True, False])
def test_repr_eq_hash_and_match_args_match(frozen: bool) -> None:
    theirs, ours = PAIRS[frozen]
    samples: list[tuple[str, dict[str, Any]]] = [
        ("Child", {"path": "p", "size": 3, "secret": "s3cr3t", "note": "a"}),
        ("Point", {"x": 1}),
        ("Empty", {}),
        ("Derived", {"raw": b"x"}),
        ("Redefined", {"z": 9}),
        ("OwnMethods", {"value": 1}),
    ]
    for name, kwargs in samples:
        a, b = theirs[name](**kwargs), ours[name](**kwargs)
        assert repr(a).replace("Child(", "Child(") == repr(b), name
        assert "s3cr3t" not in repr(b)
        assert (a == theirs[name](**kwargs)) == (b == ours[name](**kwargs)), name
        assert (a != theirs[name](**{**kwargs})) == (b != ours[name](**{**kwargs})), name
        assert (type(a).__hash__ is None) == (type(b).__hash__ is None), name
        if name != "OwnMethods":
            assert _hashes(a, theirs[name], kwargs) == _hashes(b, ours[name], kwargs), name
        assert getattr(type(a), "__match_args__", None) == getattr(type(b), "__match_args__", None), name
    # compare=False leaves a field out of equality, in both
    assert theirs["Child"](path="p", note="a") == theirs["Child"](path="p", note="b")
    assert ours["Child"](path="p", note="a") == ours["Child"](path="p", note="b")
    assert ours["Point"](1) != ours["Redefined"](1)  # another class never equals
    assert ours["Point"](1).__eq__(theirs["Point"](1)) is NotImplemented
    assert ours["Child"](path="p").word() == "child"
    assert ours["Base"]().word() == "base"
    assert "command" not in [f.name for f in records.fields(ours["Child"])]
    assert [f.name for f in records.fields(ours["Child"])] == [
        f.name for f in dataclasses.fields(theirs["Child"])
    ]
    assert [f.name for f in records.fields(ours["Redefined"])] == [
        f.name for f in dataclasses.fields(theirs["Redefined"])
    ]


def _hashes(instance: Any, cls: Any, kwargs: dict[str, Any]) -> tuple[str, Any]:
    """Whether an equal instance hashes the same, or how hashing failed."""
    return outcome(lambda: hash(instance) == hash(cls(**kwargs)))


def test_frozen_records_refuse_assignment_and_mutable_ones_take_it() -> None:
    theirs, ours = PAIRS[True]
    for namespace, error in ((theirs, dataclasses.FrozenInstanceError), (ours, records.FrozenInstanceError)):
        point = namespace["Point"](1)
        with pytest.raises(error):
            point.x = 2
        with pytest.raises(error):
            del point.x
        with pytest.raises(AttributeError):
            point.other = 1
    mutable = PAIRS[False][1]["Mutable"]()
    mutable.count = 3
    mutable.items.append(1)
    assert mutable == PAIRS[False][1]["Mutable"]([1], 3)
    assert PAIRS[False][1]["Mutable"]().items is not mutable.items  # a factory per instance
    with pytest.raises(TypeError):
        hash(mutable)


def test_replace_fields_pickle_and_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    theirs, ours = PAIRS[True]
    a = dataclasses.replace(theirs["Child"](path="p", size=1), size=2)
    b = records.replace(ours["Child"](path="p", size=1), size=2)
    assert repr(a) == repr(b)
    with pytest.raises(ValueError, match="init=False"):
        records.replace(ours["Derived"](b"x"), length=1)
    with pytest.raises(TypeError):
        records.replace(ours["Point"](1), w=1)
    with pytest.raises(TypeError):
        records.fields(object())
    child = ours["Child"](path="p", parts=[1, 2])
    # pickle finds a class by its module and name: the record Child, for this test
    monkeypatch.setitem(globals(), "Child", ours["Child"])
    again = pickle.loads(pickle.dumps(child))  # noqa: S301 - our own bytes
    assert again == child
    assert copy.copy(child) == child
    assert copy.deepcopy(child).parts is not child.parts


def test_definitions_refused_as_dataclasses_refuses_them() -> None:
    for deco in (dataclasses.dataclass(frozen=True), records.record):
        with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):

            @deco
            class Bad:
                a: int = 0
                b: int

        with pytest.raises(TypeError):

            @deco
            class OwnSetattr:
                a: int

                def __setattr__(self, name: str, value: object) -> None: ...

        with pytest.raises(ValueError, match="mutable default <class 'list'> for field items is not allowed"):

            @deco
            class MutableDefault:
                items: list[int] = []  # noqa: RUF012 - the mistake both refuse

    for frozen, other in (
        (dataclasses.dataclass(frozen=True), dataclasses.dataclass),
        (records.record, records.record(frozen=False)),
    ):

        @frozen
        class Frozen:
            a: int = 0

        with pytest.raises(TypeError, match=r"cannot inherit non-frozen .* from a frozen one"):

            @other
            class Thawed(Frozen):
                b: int = 0

    with pytest.raises(ValueError, match="both default and default_factory"):
        records.field(default=1, default_factory=list)  # type: ignore[call-overload]


def test_defining_a_record_imports_no_dataclasses_machinery() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from ota_action.records import record\n"
        "@record\nclass A:\n    x: int\n"
        "A(1)\n"
        "print(sorted(m for m in ('dataclasses', 'inspect', 'ast', 'dis') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
