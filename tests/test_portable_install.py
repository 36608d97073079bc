"""portable/install.py given what a broken cache or a hostile runner gives: a venv path that
is a symbolic link, a file or a FIFO, a line break in ``RUNNER_TEMP``.  Each is refused
with one line on stderr and exit 2 -- no traceback, no hang, nothing touched, and no
forged step output.  Run as the composite action runs it (a subprocess, with a timeout)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

INSTALL = ROOT / "portable" / "install.py"
KEY = "ota-action-venv-linux-x86_64-py3.12.0-0123456789abcdef01234567"


def _install(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **(env or {})}
    return subprocess.run(
        [sys.executable, "-I", str(INSTALL), *args], capture_output=True, text=True, timeout=120, env=environ
    )


def _refused(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""  # no step output at all
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("install.py: ")
    assert result.stderr.count("\n") == 1
    for fragment in fragments:
        assert fragment in result.stderr


def test_venv_path_that_is_a_symlink(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("mine")
    link = tmp_path / "venv"
    link.symlink_to(precious)
    _refused(_install("install", str(link), KEY), "is a symbolic link")
    assert (precious / "keep.txt").read_text() == "mine"
    assert link.is_symlink()


def test_venv_path_that_is_a_file(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    venv.write_text("not a venv")
    _refused(_install("install", str(venv), KEY), "is a file")
    assert venv.read_text() == "not a venv"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_venv_path_that_is_a_fifo(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    os.mkfifo(venv)
    _refused(_install("install", str(venv), KEY), "is a FIFO")  # _install times out on a hang
    assert stat.S_ISFIFO(os.lstat(venv).st_mode)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_key_step_refuses_a_fifo_where_the_venv_goes(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "ota-action-venv")
    _refused(_install("key", env={"RUNNER_TEMP": str(tmp_path)}), "is a FIFO")


@pytest.mark.parametrize("temp", ["/tmp/x\npython=/evil/python", "/tmp/x\rkey=forged", "/tmp/\x1b[31mred"])
def test_control_characters_in_runner_temp_forge_nothing(temp: str) -> None:
    result = _install("key", env={"RUNNER_TEMP": temp})
    _refused(result, "RUNNER_TEMP", "line break or another control character")
    assert "\x1b" not in result.stderr


def test_newline_in_the_venv_path_forges_nothing(tmp_path: Path) -> None:
    venv = f"{tmp_path}/v\nreused=true"
    _refused(_install("install", venv, KEY), "control character")
    assert not Path(venv).exists()


def test_a_key_install_py_did_not_make_is_refused(tmp_path: Path) -> None:
    _refused(_install("install", str(tmp_path / "venv"), "x\nreused=true"), "cache key")
    assert not (tmp_path / "venv").exists()


def test_key_step_prints_exactly_two_outputs(tmp_path: Path) -> None:
    result = _install("key", env={"RUNNER_TEMP": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split("=", 1)[0] for line in lines] == ["key", "path"]
    assert lines[1] == f"path={tmp_path / 'ota-action-venv'}"
