"""Names a package exports but imports only when first asked for (PEP 562).

A package's ``__init__`` re-exports the names its callers have always imported from it;
importing them eagerly would load every module of the package for a command that needs
one (``verify`` would pay for the Intel HEX reader through ``results``).  The package says
where each name lives and sets ``__getattr__ = lazy_names(__name__, homes, globals())``.
A module re-exporting a sibling's names does the same with its package's name
(``edges.files``: ``verify`` reads files and never loads the atomic-output machinery).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(
    package: str, homes: Mapping[str, tuple[str, ...]], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A module ``__getattr__`` importing ``package.<module>`` for each name ``homes`` lists
    under that module, once: the value is kept in ``namespace`` (the module's globals)."""
    home_of = {name: module for module, names in homes.items() for name in names}
    owner = namespace.get("__name__", package)

    def getattr_(name: str) -> Any:
        module = home_of.get(name)
        if module is None:
            raise AttributeError(f"module {owner!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    return getattr_
