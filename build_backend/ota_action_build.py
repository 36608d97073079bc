"""PEP 517 build backend: setuptools, with its scratch space outside the checkout.

setuptools builds in the source tree (``build/`` and ``ota_action.egg-info/``), so a plain
``pip install .`` would leave both behind in the user's checkout, or in the action's own
checkout on a runner. Every hook here is setuptools' own, run with an extra distutils
configuration (``DIST_EXTRA_CONFIG``) that moves ``build_base`` and ``egg_base`` into a
temporary directory removed afterwards. The wheel and sdist are unchanged.
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from setuptools import build_meta as _setuptools  # type: ignore[import-untyped]

F = TypeVar("F", bound=Callable[..., Any])


@contextlib.contextmanager
def _scratch_outside_the_tree() -> Iterator[None]:
    with tempfile.TemporaryDirectory(prefix="ota-action-build-") as tmp:
        config = Path(tmp) / "setup.cfg"
        base = Path(tmp).as_posix()
        config.write_text(f"[build]\nbuild_base = {base}/build\n[egg_info]\negg_base = {base}\n", "utf-8")
        previous = os.environ.get("DIST_EXTRA_CONFIG")
        os.environ["DIST_EXTRA_CONFIG"] = str(config)
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop("DIST_EXTRA_CONFIG", None)
            else:
                os.environ["DIST_EXTRA_CONFIG"] = previous


def _out_of_tree(hook: F) -> F:
    @functools.wraps(hook)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _scratch_outside_the_tree():
            return hook(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


get_requires_for_build_wheel = _out_of_tree(_setuptools.get_requires_for_build_wheel)
get_requires_for_build_sdist = _out_of_tree(_setuptools.get_requires_for_build_sdist)
get_requires_for_build_editable = _out_of_tree(_setuptools.get_requires_for_build_editable)
prepare_metadata_for_build_wheel = _out_of_tree(_setuptools.prepare_metadata_for_build_wheel)
prepare_metadata_for_build_editable = _out_of_tree(_setuptools.prepare_metadata_for_build_editable)
build_wheel = _out_of_tree(_setuptools.build_wheel)
build_sdist = _out_of_tree(_setuptools.build_sdist)
build_editable = _out_of_tree(_setuptools.build_editable)
