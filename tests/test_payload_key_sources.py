"""gbl and mcuboot sign with every key source of the port, not only an in-memory key:
a PKCS#11 token (SoftHSM2) and a signer command (openssl standing in for a KMS CLI).
Commander and imgtool check the results."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from ota_action.edges import log
from tests.conftest import need_tool, run_cli
from tests.softhsm import MODULE, PIN, TOKEN, SoftHsm, shared_softhsm, uri
from tests.test_gbl import ADDRESS, DATA, parse
from tests.test_mcuboot import APP, imgtool

# Signs the hex digest on stdin with openssl and prints the DER signature (a KMS CLI's job).
SIGNER = r"""
import subprocess, sys
digest = bytes.fromhex(sys.stdin.read().strip())
sys.stdout.buffer.write(subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", sys.argv[1]],
                        input=digest, capture_output=True, check=True, timeout=60).stdout)
"""


@pytest.fixture(scope="session")
def hsm(tmp_path_factory: pytest.TempPathFactory) -> SoftHsm:
    need_tool("softhsm2-util")
    need_tool("pkcs11-tool")
    return shared_softhsm(tmp_path_factory.mktemp("softhsm"))


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("OTA_SIGNING_KEY", "OTA_SIGNING_KEY_PASSPHRASE", "OTA_SIGNING_KEY_URI", "OTA_SIGN_COMMAND"):
        monkeypatch.delenv(name, raising=False)
    yield
    log.reset()


def test_gbl_signed_in_a_pkcs11_token_verifies_in_commander(
    tmp_path: Path, hsm: SoftHsm, clean: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTA_PKCS11_PIN", PIN)
    firmware = tmp_path / "app.bin"
    firmware.write_bytes(DATA)
    out = tmp_path / "app.gbl"
    result = run_cli(
        "gbl",
        "-o",
        out,
        firmware,
        "--address",
        hex(ADDRESS),
        "--sign",
        "--key-uri",
        uri(TOKEN, "xbee"),
        "--pkcs11-module",
        MODULE,
        "--json",
    )
    assert result.code == 0, result.err
    assert json.loads(result.out)["signed"] is True
    assert PIN not in result.out + result.err
    public = serialization.load_der_public_key(hsm.public_key_der(TOKEN, "xbee"))
    pem = tmp_path / "token.pem"
    pem.write_bytes(
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    done, app = parse(tmp_path, out.read_bytes(), "--verify", str(pem))
    assert done.returncode == 0, done.stdout + done.stderr
    assert app == DATA


def test_mcuboot_signed_by_a_signer_command_verifies_in_imgtool(tmp_path: Path, clean: None) -> None:
    need_tool("openssl")
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.derive_private_key(0x5C, ec.SECP256R1())
    private, public, script = tmp_path / "kms.pem", tmp_path / "kms-pub.pem", tmp_path / "signer.py"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    script.write_text(SIGNER, encoding="utf-8")
    app = tmp_path / "app.bin"
    app.write_bytes(APP)
    out = tmp_path / "app.signed.bin"
    command = f"{sys.executable} {script} {private}"
    result = run_cli(
        "mcuboot",
        "-o",
        out,
        app,
        "--pad-header",
        "--image-version",
        "3.0.0+1",
        "--sign",
        "--sign-command",
        command,
        "--expect-public-key",
        public,
    )
    assert result.code == 0, result.err
    done = imgtool("verify", "-k", public, out)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Image version: 3.0.0+1" in done.stdout
