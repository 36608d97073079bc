"""Outputs appear whole or not at all, even when the writer is killed with SIGKILL.

Issue 18: ``SIGKILL`` mid-write left a 55 MB ``.ota-*.tmp``, removed only an hour later.
Where the system has ``O_TMPFILE`` (Linux) the output is written unnamed and linked in
when complete; elsewhere the named temporary (and its later clean-up) stays.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ota_action.edges import outputs
from ota_action.edges.files import atomic_output, create_exclusive
from ota_action.errors import InputError
from tests.subproc import MEMORY, TIMEOUT, every_file, memory_limit, writing_output

LINUX = sys.platform.startswith("linux")


def _sparse(path: Path, size: int) -> None:
    with path.open("wb") as handle:
        handle.truncate(size)


@pytest.mark.skipif(not LINUX, reason="O_TMPFILE and /proc are Linux's")
@pytest.mark.parametrize("command", ["zbota", "rewrap"])
def test_sigkill_mid_write_leaves_nothing(tmp_path: Path, command: str) -> None:
    _sparse(tmp_path / "big.bin", 300 << 20)
    zb = ["zbota", "-m", "0x1234", "-i", "1", "-v", "1", "-t", "0:big.bin"]
    if command == "rewrap":  # a finished input to rewrap
        done = subprocess.run(
            [sys.executable, "-m", "ota_action", *zb, "-o", "in.ota"],
            cwd=tmp_path,
            capture_output=True,
            timeout=TIMEOUT,
        )
        assert done.returncode == 0, done.stderr
        (tmp_path / "big.bin").unlink()
        args = ["rewrap", "in.ota", "-o", "out/new.ota", "--version", "2"]
    else:
        args = [*zb, "-o", "out/new.ota"]
    (tmp_path / "out").mkdir()
    before = every_file(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ota_action", *args],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=memory_limit(MEMORY),  # noqa: PLW1509 - setrlimit only, no lock taken
    )
    deadline = time.monotonic() + TIMEOUT
    seen = False
    while time.monotonic() < deadline and proc.poll() is None:
        if writing_output(proc.pid, tmp_path / "out"):
            proc.kill()  # SIGKILL: no handler runs, nothing can clean up
            seen = True
            break
        time.sleep(0.0005)
    proc.wait(timeout=TIMEOUT)
    if not seen:
        pytest.fail(f"the output was never seen being written (exit {proc.returncode})")
    assert proc.returncode == -signal.SIGKILL
    assert every_file(tmp_path) == before  # no .ota-*.tmp, no partial new.ota
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.skipif(not LINUX, reason="O_TMPFILE and /proc are Linux's")
def test_an_unnamed_output_never_has_a_name_until_complete(tmp_path: Path) -> None:
    target = tmp_path / "app.ota"
    with atomic_output(target, mode=0o640) as handle:
        handle.write(b"x" * 1000)
        assert list(tmp_path.iterdir()) == []  # written, but under no name yet
    assert target.read_bytes() == b"x" * 1000
    assert target.stat().st_mode & 0o777 == 0o640
    with atomic_output(target) as handle:  # replacing an existing output
        handle.write(b"second")
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.ota"]
    with pytest.raises(RuntimeError, match="mid-write"):
        _fail_mid_write(target)
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.ota"]


def _fail_mid_write(target: Path) -> None:
    with atomic_output(target) as handle:
        handle.write(b"half")
        raise RuntimeError("failed mid-write")


def test_the_named_fallback_still_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Systems without O_TMPFILE (macOS, Windows, some file systems) keep today's temporary."""
    monkeypatch.setattr(outputs, "_unnamed", lambda directory, mode: None)
    target = tmp_path / "app.ota"
    with atomic_output(target) as handle:
        handle.write(b"data")
        assert [p.name.startswith(".ota-") for p in tmp_path.iterdir()] == [True]
    assert target.read_bytes() == b"data"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.ota"]
    create_exclusive(tmp_path / "key.pem", b"k", field="private_out")
    with pytest.raises(InputError, match="already exists"):
        create_exclusive(tmp_path / "key.pem", b"k", field="private_out")


@pytest.mark.skipif(not LINUX, reason="O_TMPFILE and /proc are Linux's")
def test_create_exclusive_links_once_and_never_replaces(tmp_path: Path) -> None:
    create_exclusive(tmp_path / "key.pem", b"secret", field="private_out", mode=0o600)
    assert (tmp_path / "key.pem").stat().st_mode & 0o777 == 0o600
    with pytest.raises(InputError, match="already exists; it is never overwritten"):
        create_exclusive(tmp_path / "key.pem", b"other", field="private_out")
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling.pem")
    with pytest.raises(InputError):
        create_exclusive(tmp_path / "dangling.pem", b"other", field="private_out")
    assert (tmp_path / "key.pem").read_bytes() == b"secret"
    assert not (tmp_path / "nowhere").exists()
