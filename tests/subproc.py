"""Run the CLI and the Action as a user does: a subprocess, bounded in time and memory."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENTRYPOINT = ROOT / "entrypoint.py"
MEMORY = 1 << 30  # address space for one run (prlimit --as): a run that holds every file fails
TIMEOUT = 120  # seconds; a run that hangs fails the test instead of the suite


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def memory_limit(memory: int) -> Callable[[], None]:
    """A ``preexec_fn`` that caps the child's address space (``prlimit --as``)."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return apply


def _decoded(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def ota(
    *args: str | bytes | Path,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    memory: int = MEMORY,
    timeout: int = TIMEOUT,
) -> Ran:
    """``ota-action ARGS`` in ``cwd`` (arguments may be bytes: names that are not UTF-8)."""
    environ = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": str(cwd)}
    environ.update(env or {})
    argv: list[str | bytes] = [sys.executable, "-m", "ota_action"]
    argv += [a if isinstance(a, bytes) else str(a) for a in args]
    result = subprocess.run(
        argv,
        cwd=cwd,
        env=environ,
        capture_output=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        preexec_fn=memory_limit(memory),
    )
    return Ran(result.returncode, _decoded(result.stdout), _decoded(result.stderr))


def action(
    inputs: Mapping[str, str], *, workspace: Path, runner: Path, memory: int = MEMORY, timeout: int = TIMEOUT
) -> tuple[Ran, str, str]:
    """The container Action's entry point on ``inputs``: (run, outputs file, step summary)."""
    runner.mkdir(parents=True, exist_ok=True)
    outputs, summary = runner / "set_output", runner / "step_summary"
    for path in (outputs, summary):
        path.write_text("")
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(runner),
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
        "RUNNER_TEMP": str(runner),
    }
    environ.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
    result = subprocess.run(
        [sys.executable, "-I", str(ENTRYPOINT)],
        cwd=workspace,
        env=environ,
        capture_output=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        preexec_fn=memory_limit(memory),
    )
    ran = Ran(result.returncode, _decoded(result.stdout), _decoded(result.stderr))
    return ran, outputs.read_text(errors="surrogateescape"), summary.read_text(errors="surrogateescape")


def every_file(root: Path) -> set[Path]:
    """Every path under ``root`` (links not followed), relative to it."""
    found = set()
    for folder, dirs, names in os.walk(root):
        for name in dirs + names:
            found.add((Path(folder) / name).relative_to(root))
    return found


def writing_output(pid: int, folder: Path) -> bool:
    """True while process ``pid`` is writing an output into ``folder``: a named temporary
    (``.ota-*.tmp``) exists there, or it holds an unnamed ``O_TMPFILE`` file there open
    (``/proc/PID/fd/N -> FOLDER/#INODE (deleted)``)."""
    if any(p.name.startswith(".ota-") for p in folder.iterdir()):
        return True
    try:
        links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    except OSError:
        return False
    return any(link.startswith(f"{folder}/#") for link in links)
