"""``keygen`` prints the GBL signing key's Silicon Labs token lines exactly as Commander writes them.

Oracle: Simplicity Commander's ``util keytotoken`` (``silabs-pycommander``, offline) on the
public key keygen wrote; its token file's lines (comments and blanks aside) must be ours.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.conftest import run_cli
from tests.test_gbl import commander


def _commander_tokens(tmp_path: Path, public: Path) -> list[str]:
    out = tmp_path / "tokens.txt"
    done = subprocess.run(
        [commander(), "util", "keytotoken", str(public), "-o", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return [
        line.strip() for line in out.read_text().splitlines() if line.strip() and not line.startswith("#")
    ]


def test_token_lines_equal_commanders_keytotoken(tmp_path: Path) -> None:
    private, public = tmp_path / "k.pem", tmp_path / "k.pub"
    result = run_cli("keygen", "--private-out", private, "--public-out", public, "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    theirs = _commander_tokens(tmp_path, public)
    assert report["gbl_tokens"] == theirs
    assert len(theirs) == 2
    # and they are the key's coordinates, as cryptography computes them
    loaded = serialization.load_pem_public_key(public.read_bytes())
    assert isinstance(loaded, ec.EllipticCurvePublicKey)
    key = loaded.public_numbers()
    assert theirs == [
        f"MFG_SIGNED_BOOTLOADER_KEY_X : {key.x:064X}",
        f"MFG_SIGNED_BOOTLOADER_KEY_Y : {key.y:064X}",
    ]
    text = run_cli("keygen", "--private-out", tmp_path / "k2.pem", "--public-out", tmp_path / "k2.pub")
    assert text.code == 0
    shown = [
        line.strip() for line in text.out.splitlines() if line.strip().startswith("MFG_SIGNED_BOOTLOADER_KEY")
    ]
    assert shown == _commander_tokens(tmp_path, tmp_path / "k2.pub")
