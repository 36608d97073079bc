"""Set up the portable action's virtual environment (run by portable/action.yml).

``python install.py key`` prints the cache key and the venv path as step outputs: the
key covers this checkout's code and locked requirements plus the interpreter and
platform, so a cached venv is reused only where it was built.

``python install.py install VENV KEY`` makes VENV hold exactly this checkout: the
hash-locked runtime requirements (``--require-hashes``), then the package itself, built
from the action's own checkout without network build isolation. A venv restored from
the cache with the same key (stamp file) that imports cleanly is reused as is. Prints
``python=`` (the venv's interpreter) and ``reused=`` as step outputs.

Standard library only, Windows/macOS/Linux: it runs before anything is installed.

What it is given is checked before anything is touched, and refused with one line on
stderr and exit 2 (never a traceback, never a hang): a venv path that is a symbolic link
(deleting it would delete the wrong thing), a file, a FIFO or a device (``rmtree`` would
block opening a FIFO); a path or ``RUNNER_TEMP`` holding a line break or another control
character (it would forge a second step output, and ``actions/cache`` reads a
multi-line ``path`` as several paths); a cache key that is not one we make.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements" / "runtime.txt"
STAMP = "ota-action-cache-key.txt"
KEYED = ("pyproject.toml", "entrypoint.py", "requirements/runtime.txt")
KEYED_TREES = ("ota_action",)
EXIT_USAGE = 2
KEY = re.compile(r"ota-action-venv-[A-Za-z0-9._-]{1,200}")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
PROBE_SECONDS = 120  # a restored interpreter that does not answer is not reused


class SetupError(Exception):
    """What install.py was given cannot be used: exit 2 with this message."""


def _one_line(what: str, value: str) -> str:
    """``value`` if it is one line of printable text; SetupError otherwise (never echoing it raw)."""
    if CONTROL.search(value):
        raise SetupError(
            f"{what} {value!a} holds a line break or another control character; "
            "a path given to later steps must be one line"
        )
    return value


def check_venv_path(venv: Path) -> None:
    """A venv path is absent or a real directory; anything else is refused before use."""
    _one_line("the venv path", str(venv))
    try:
        st = os.lstat(venv)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise SetupError(f"the venv path {str(venv)!a} cannot be checked ({exc.strerror})") from None
    if stat.S_ISLNK(st.st_mode):
        raise SetupError(
            f"the venv path {str(venv)!a} is a symbolic link; give a real directory "
            "(the venv there is deleted and rebuilt)"
        )
    if not stat.S_ISDIR(st.st_mode):
        kind = (
            "a FIFO"
            if stat.S_ISFIFO(st.st_mode)
            else "a file"
            if stat.S_ISREG(st.st_mode)
            else "not a directory"
        )
        raise SetupError(
            f"the venv path {str(venv)!a} is {kind}; give a directory (or a path that does not exist)"
        )


def cache_key() -> str:
    digest = hashlib.sha256()
    files = [ROOT / name for name in KEYED]
    for tree in KEYED_TREES:
        files += sorted((ROOT / tree).rglob("*.py"))
    for path in files:
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    python = ".".join(map(str, sys.version_info[:3]))
    system = f"{platform.system()}-{platform.machine()}".lower()
    return f"ota-action-venv-{system}-py{python}-{digest.hexdigest()[:24]}"


def venv_python(venv: Path) -> Path:
    return venv / "Scripts" / "python.exe" if os.name == "nt" else venv / "bin" / "python"


def _stamp(venv: Path) -> str | None:
    """The key a venv was built for (at most a line is read; only a regular file counts)."""
    path = venv / STAMP
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        with path.open("rb") as handle:
            return handle.read(512).decode("utf-8", "replace").strip()
    except OSError:
        return None


def _usable(venv: Path, key: str) -> bool:
    python = venv_python(venv)
    if not (python.is_file() and _stamp(venv) == key):
        return False
    probe = [str(python), "-I", "-c", "import ota_action.doors.action.run, ota_action.doors.cli"]
    try:
        done = subprocess.run(probe, capture_output=True, check=False, timeout=PROBE_SECONDS)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _pip(python: Path, *args: str) -> None:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    # pip's own messages go to stderr: stdout carries only the step outputs.
    command = [str(python), "-m", "pip", "install", "--quiet", *args]
    subprocess.run(command, check=True, env=env, stdout=sys.stderr)


def install(venv: Path, key: str) -> bool:
    """Make ``venv`` hold this checkout; True when an existing one was reused."""
    check_venv_path(venv)
    if _usable(venv, key):
        return True
    if venv.exists():
        shutil.rmtree(venv)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, stdout=sys.stderr)
    python = venv_python(venv)
    _pip(python, "--require-hashes", "--no-deps", "-r", str(REQUIREMENTS))
    _pip(python, "--no-deps", "--no-build-isolation", str(ROOT))
    (venv / STAMP).write_text(key + "\n", encoding="utf-8")
    return False


def _run(argv: list[str]) -> int:
    if argv[:1] == ["key"]:
        temp = Path(_one_line("RUNNER_TEMP", os.environ.get("RUNNER_TEMP") or str(ROOT.parent)))
        venv = temp / "ota-action-venv"
        check_venv_path(venv)
        print(f"key={cache_key()}")
        print(f"path={venv}")
        return 0
    if argv[:1] == ["install"] and len(argv) == 3:
        venv, key = Path(argv[1]), argv[2]
        if not KEY.fullmatch(key):
            raise SetupError(f"the cache key {key!a} is not one install.py key makes")
        reused = install(venv, key)
        print(f"python={venv_python(venv)}")
        print(f"reused={str(reused).lower()}")
        return 0
    print("usage: install.py key | install.py install VENV KEY", file=sys.stderr)
    return EXIT_USAGE


def main(argv: list[str]) -> int:
    try:
        return _run(argv)
    except SetupError as exc:
        print(f"install.py: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except subprocess.CalledProcessError as exc:
        print(
            f"install.py: {Path(str(exc.cmd[0])).name} failed (exit {exc.returncode}); see its messages",
            file=sys.stderr,
        )
        return 1
    except OSError as exc:
        print(f"install.py: {exc.filename!a}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
