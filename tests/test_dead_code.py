"""Nothing in the package is left that nothing calls: vulture, configured in pyproject.toml
([tool.vulture]: what is kept on purpose is named there, with why)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_vulture_finds_no_dead_code() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vulture"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
