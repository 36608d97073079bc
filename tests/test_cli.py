"""The front door itself: version, help, start-up imports, errors."""

from __future__ import annotations

import subprocess
import sys

from ota_action import __version__
from tests.conftest import ROOT, run_cli


def test_version() -> None:
    result = run_cli("--version")
    assert (result.code, result.out) == (0, f"ota-action {__version__}\n")


def test_help_lists_every_command() -> None:
    result = run_cli("--help")
    assert result.code == 0
    for name in ("zbota", "inspect", "verify"):
        assert f"  {name}" in result.out


def test_no_arguments_is_a_usage_error() -> None:
    result = run_cli()
    assert result.code == 2
    assert "usage: ota-action" in result.err


def test_command_help_shows_elcap_short_options() -> None:
    result = run_cli("zbota", "--help")
    assert result.code == 0
    for flag in ("-o", "-m", "-i", "-v", "-t", "-c", "-d", "-ic", "--min-hwv", "--align", "--json"):
        assert flag in result.out


def test_version_imports_nothing_heavy() -> None:
    """--version must cost no more than bare Python: no pydantic, cryptography or structlog."""
    code = (
        "import sys; from ota_action.doors.cli import main; main(['--version']);"
        "heavy = [m for m in ('pydantic', 'pydantic_settings', 'cryptography', 'structlog', 'intelhex')"
        " if m in sys.modules]; print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.splitlines()[-1] == "[]"


def test_python_dash_m_and_console_script_agree() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ota_action", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout == f"ota-action {__version__}\n"


def test_verbose_logs_structured_lines_to_stderr(tmp_path: object) -> None:
    import pathlib

    out = pathlib.Path(str(tmp_path)) / "a.ota"
    env_run = subprocess.run(
        [sys.executable, "-m", "ota_action", "zbota", "-o", str(out), "-m", "1", "-i", "1", "-v", "1",
         "-t", "0x0000:4", "--verbose"],
        capture_output=True, text=True, check=True, env={"OTA_LOG_FORMAT": "json", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    import json

    event = json.loads(env_run.stderr.splitlines()[-1])
    assert event["event"] == "zbota.written"
    assert event["size"] == 66
    assert "Total Image Size: 66 bytes" in env_run.stdout
