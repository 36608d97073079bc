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
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements" / "runtime.txt"
STAMP = "ota-action-cache-key.txt"
KEYED = ("pyproject.toml", "entrypoint.py", "requirements/runtime.txt")
KEYED_TREES = ("ota_action",)


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


def _usable(venv: Path, key: str) -> bool:
    stamp = venv / STAMP
    python = venv_python(venv)
    if not (python.is_file() and stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == key):
        return False
    probe = [str(python), "-I", "-c", "import ota_action.doors.action.run, ota_action.doors.cli"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def _pip(python: Path, *args: str) -> None:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    # pip's own messages go to stderr: stdout carries only the step outputs.
    command = [str(python), "-m", "pip", "install", "--quiet", *args]
    subprocess.run(command, check=True, env=env, stdout=sys.stderr)


def install(venv: Path, key: str) -> bool:
    """Make ``venv`` hold this checkout; True when an existing one was reused."""
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


def main(argv: list[str]) -> int:
    if argv[:1] == ["key"]:
        temp = Path(os.environ.get("RUNNER_TEMP") or ROOT.parent)
        print(f"key={cache_key()}")
        print(f"path={temp / 'ota-action-venv'}")
        return 0
    if argv[:1] == ["install"] and len(argv) == 3:
        venv, key = Path(argv[1]), argv[2]
        reused = install(venv, key)
        print(f"python={venv_python(venv)}")
        print(f"reused={str(reused).lower()}")
        return 0
    print("usage: install.py key | install.py install VENV KEY", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
