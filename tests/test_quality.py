"""Lint, types and architecture are part of the tests: ruff (lint + format), mypy (strict on
ota_action) and import-linter (the arrows between the packages)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_lint() -> None:
    result = _run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = _run("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy() -> None:
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_contracts() -> None:
    """The architecture's arrows (pyproject.toml [tool.importlinter]): doors above commands
    above the core, and a core that imports no door, edge, settings library or logger."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


MODULE_LINES = 400
FUNCTION_LINES = 80


def test_modules_and_functions_stay_small() -> None:
    """No module over 400 lines, no function over 80: a module that grows past that holds
    two jobs, and the second one gets a room of its own (see CONTRIBUTING.md)."""
    import ast

    too_big = []
    for path in sorted((ROOT / "ota_action").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        name = path.relative_to(ROOT).as_posix()
        if (lines := source.count("\n")) > MODULE_LINES:
            too_big.append(f"{name}: {lines} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > FUNCTION_LINES:
                    too_big.append(f"{name}:{node.lineno} {node.name}(): {length} lines")
    assert not too_big, "\n".join(too_big)
