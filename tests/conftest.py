"""Shared fixtures: the optional real-file corpus, the CI no-skip rule, and an in-process CLI runner.

The real-file corpus (opt-in)
-----------------------------
A fresh clone tests itself with inputs the tests build (synthetic files). Real OTA files
from vendors are an extra, switched on by one variable that lists corpus folders,
separated like PATH (``:`` on Linux/macOS, ``;`` on Windows)::

    OTA_TEST_CORPUS=/path/to/corpus/ota:/path/to/corpus/ota-vendor ./scripts/test

A folder is known by its name (the last path component): ``ota``, ``ota-vendor``...
Tests ask for one with the ``corpus_dir`` fixture (or ``corpus``, short for
``corpus_dir("ota")``)::

    def test_vendor_files(corpus_dir: CorpusDir) -> None:
        for path in sorted(corpus_dir("ota-vendor").iterdir()): ...

or, for module-level data, with :func:`corpus_path` plus ``pytestmark = pytest.mark.corpus``.

* Switched off (the variable unset or empty): every test that uses ``corpus``/``corpus_dir``
  or carries the ``corpus`` marker is *deselected* (not collected into the run, not
  skipped), so a fresh clone passes with nothing beside it, even under ``CI=true``.
* Switched on: a listed folder that does not exist, or a test asking for a folder the
  variable does not list, is a *failure*, never a skip.
* Never copy corpus files (or bytes of them) into the repository.

No skips in CI
--------------
Under ``CI=true`` any skipped test fails the session (``pytest_sessionfinish`` below):
CI can never pass by skipping. Locally, tests that need a system tool or root skip
(``need_tool``); they say why.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from ota_action.doors import cli

pytest_plugins = ("pytester",)  # tests/test_test_rules.py runs this conftest on sample tests

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"
CORPUS_VARIABLE = "OTA_TEST_CORPUS"
CORPUS_FIXTURES = frozenset({"corpus", "corpus_dir"})

CorpusDir = Callable[[str], Path]


def corpus_folders() -> dict[str, Path]:
    """The folders ``OTA_TEST_CORPUS`` lists, by folder name; empty when switched off."""
    raw = os.environ.get(CORPUS_VARIABLE, "")
    folders: dict[str, Path] = {}
    for part in raw.split(os.pathsep):
        if part.strip():
            path = Path(part.strip()).expanduser()
            folders[path.name] = path
    return folders


CORPUS_ON = bool(corpus_folders())


def corpus_path(name: str) -> Path:
    """The corpus folder called ``name``; fails the test (or the collection) when it cannot be used."""
    folders = corpus_folders()
    if not folders:
        pytest.fail(f"corpus {name!r} needed but {CORPUS_VARIABLE} is not set (mark the test `corpus`)")
    if name not in folders:
        pytest.fail(f"{CORPUS_VARIABLE} lists no folder named {name!r} (it lists {sorted(folders)})")
    path = folders[name]
    if not path.is_dir():
        pytest.fail(f"{CORPUS_VARIABLE} lists {path}, which is not a directory")
    return path


# The "ota" corpus folder when switched on; otherwise a path that never exists (kept for
# modules that fall back to synthetic data when it is absent).
CORPUS = corpus_folders().get("ota", ROOT / ".no-corpus" / "ota")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"corpus: needs the real-file corpus ({CORPUS_VARIABLE})")
    if not hasattr(config, "workerinput"):  # the controller, before any worker starts
        _unpack_commander()


def _unpack_commander() -> None:
    """Let silabs-pycommander unpack Simplicity Commander once, before the workers run it.

    Its wrapper makes the cache folder first and extracts into it after, and takes a
    folder that exists for a finished extraction: two workers that start it at once on a
    fresh machine race, and the second runs a half-written binary (a Commander oracle test
    failed so on a fresh machine).  ``--version`` unpacks it in ~0.4 s (hashing the archive).
    """
    wrapper = Path(sys.executable).with_name("pycommander-cli")
    if wrapper.is_file():
        subprocess.run([str(wrapper), "--version"], capture_output=True, check=False, timeout=600)


def pytest_sessionstart(session: pytest.Session) -> None:
    missing = [str(p) for p in corpus_folders().values() if not p.is_dir()]
    if missing:
        raise pytest.UsageError(f"{CORPUS_VARIABLE} lists missing folder(s): {', '.join(missing)}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Corpus tests are collected only when the corpus is switched on (deselected, not skipped)."""
    for item in items:
        if CORPUS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.corpus)
    if CORPUS_ON:
        return
    kept = [item for item in items if item.get_closest_marker("corpus") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


_SKIPPED: list[str] = []


def _note_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        _SKIPPED.append(report.nodeid)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _note_skip(report)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    _note_skip(report)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _SKIPPED:
        terminalreporter.section("skipped under CI=true (a failure)", red=True)
        for nodeid in _SKIPPED:
            terminalreporter.line(nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI=true a skip fails the run: CI must never pass by not testing."""
    if _SKIPPED and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def need_tool(name: str) -> str:
    """Path of a system tool; skip locally when missing, fail in CI (never skip there)."""
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} is required in CI (requirements/apt.txt) but is not installed")
        pytest.skip(f"{name} not installed (it comes from requirements/apt.txt)")
    return path


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(*args: str | Path) -> Result:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main([str(a) for a in args], out=out, err=err)
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def corpus_dir() -> CorpusDir:
    """``corpus_dir("ota-vendor")``: a corpus folder by name (tests using it need the corpus)."""
    return corpus_path


@pytest.fixture
def corpus() -> Path:
    """The ``ota`` corpus folder (tests using it need the corpus)."""
    return corpus_path("ota")
