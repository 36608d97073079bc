"""Where the programs under test live, and the versions of everything on this machine."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.measure import rss_method

LIBRARIES = ("ota-action", "cryptography", "intelhex", "zigpy", "pydantic", "pydantic-settings", "structlog")


def ota_action() -> list[str]:
    """How a user starts ota-action: the console script beside this interpreter, else ``-m``."""
    script = Path(sys.executable).with_name("ota-action")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "ota_action"]


def child_env(**extra: str) -> dict[str, str]:
    """The environment of every timed process: ours, minus PYTHONDONTWRITEBYTECODE.

    A user's ``pip install`` leaves byte-compiled modules behind; a CI image that sets
    PYTHONDONTWRITEBYTECODE (as this sandbox does) would otherwise time ota-action
    compiling its own sources on every run.  The untimed warm-up run writes the .pyc.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def hexmerge() -> list[str] | None:
    """intelhex's ``hexmerge.py`` (installed into the environment's bin by intelhex)."""
    script = Path(sys.executable).with_name("hexmerge.py")
    found = str(script) if script.is_file() else shutil.which("hexmerge.py")
    return None if found is None else [sys.executable, found]


def srec_cat() -> str | None:
    return shutil.which("srec_cat")


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _srec_cat_version() -> str | None:
    path = srec_cat()
    if path is None:
        return None
    try:
        out = subprocess.run(
            [path, "-version"], check=False, capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    first = out.splitlines()[0] if out else ""
    return first.removeprefix("srec_cat version ").strip() or None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _openssl() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"cryptography_openssl": None, "system_libcrypto": None}
    try:
        from cryptography.hazmat.backends.openssl.backend import backend

        versions["cryptography_openssl"] = backend.openssl_version_text()
    except ImportError:
        pass
    import ctypes

    for name in ("libcrypto.so.3", "libcrypto.so"):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.OpenSSL_version.restype = ctypes.c_char_p
        text = lib.OpenSSL_version(0)
        versions["system_libcrypto"] = text.decode() if text else None
        break
    return versions


def machine() -> dict[str, Any]:
    from ota_action.formats.zigbee.integrity import backend

    return {
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "libraries": {name: _version(name) for name in LIBRARIES},
        "srec_cat": _srec_cat_version(),
        **_openssl(),
        "aes_backend_default": backend().name,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "rss_method": rss_method(),
    }
