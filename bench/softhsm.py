"""A real PKCS#11 token for the benchmark and the tests: SoftHSM2, set up with its own tools.

Tokens are created with ``softhsm2-util`` and keys generated with OpenSC's
``pkcs11-tool``, so the token, its keys and the public key read back from it are made
by independent software, not by the code under test.  Each user gets its own
``SOFTHSM2_CONF`` and token directory under a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "7391-token-pin"
SO_PIN = "2468-so-pin"


@dataclass(frozen=True)
class SoftHsm:
    """A SoftHSM2 configuration (its own token directory) and the tokens made in it."""

    root: Path

    @property
    def conf(self) -> Path:
        return self.root / "softhsm2.conf"

    def env(self) -> dict[str, str]:
        return {"SOFTHSM2_CONF": str(self.conf)}

    def _run(self, *args: str) -> str:
        result = subprocess.run(
            list(args),
            env={**os.environ, **self.env()},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stdout} {result.stderr}")
        return result.stdout

    def init_token(self, label: str, pin: str = PIN) -> None:
        self._run(
            _tool("softhsm2-util"),
            "--init-token",
            "--free",
            "--label",
            label,
            "--pin",
            pin,
            "--so-pin",
            SO_PIN,
        )

    def generate_key(
        self, token: str, label: str, key_id: str, pin: str = PIN, key_type: str = "EC:prime256v1"
    ) -> None:
        """A pair in ``token`` (P-256 unless ``key_type``, pkcs11-tool's: ``EC:edwards25519``,
        ``rsa:2048``), made by pkcs11-tool (OpenSC), not by us."""
        self._run(
            *self._tool_args(token, pin),
            "--keypairgen",
            "--key-type",
            key_type,
            "--label",
            label,
            "--id",
            key_id,
        )

    def public_key_der(self, token: str, label: str, pin: str = PIN) -> bytes:
        """The public key as pkcs11-tool reads it back (DER SubjectPublicKeyInfo)."""
        out = self.root / f"{token}-{label}.der"
        self._run(
            *self._tool_args(token, pin),
            "--read-object",
            "--type",
            "pubkey",
            "--label",
            label,
            "-o",
            str(out),
        )
        return out.read_bytes()

    def _tool_args(self, token: str, pin: str) -> list[str]:
        return [_tool("pkcs11-tool"), "--module", MODULE, "--token-label", token, "--login", "--pin", pin]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is not installed (requirements/apt.txt)")
    return path


def make_softhsm(root: Path) -> SoftHsm:
    """A fresh SoftHSM2 configuration whose tokens live under ``root``."""
    (root / "tokens").mkdir(parents=True)
    hsm = SoftHsm(root)
    hsm.conf.write_text(
        f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n",
        encoding="utf-8",
    )
    return hsm


def uri(token: str, label: str, *, module: bool = True) -> str:
    text = f"pkcs11:token={token};object={label}"
    return f"{text}?module-path={MODULE}" if module else text
