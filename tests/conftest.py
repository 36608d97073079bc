"""Shared fixtures: paths to the corpus and a helper to run the CLI in-process."""

from __future__ import annotations

import io
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from ota_action import cli

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "ota"
IN_CI = os.environ.get("CI") == "true"


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
def corpus() -> Path:
    if not CORPUS.is_dir():
        if IN_CI:
            pytest.fail(f"the OTA corpus is missing at {CORPUS}")
        pytest.skip("the OTA corpus (../shared/corpus/ota) is not beside the repository")
    return CORPUS
