"""The payload commands through the container Action's door (issue 24: every new command and
option reaches action.yml, the typed results, the outputs and the step summary)."""

from __future__ import annotations

import hashlib
import json
import struct

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pygbl import GBL3Image

from tests.test_action import FakeRunner, runner  # noqa: F401  (the fixture)
from tests.test_telink import VERSION, application, ota_file, project_script

AES_HEX = "00112233445566778899AABBCCDDEEFF"
KEY = ec.derive_private_key(0xAC7, ec.SECP256R1())
PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)


def test_gbl_in_the_action_signs_encrypts_and_summarises(runner: FakeRunner) -> None:  # noqa: F811
    (runner.workspace / "app.bin").write_bytes(bytes(range(256)) * 32)
    inputs = {
        "command": "gbl",
        "image": "app.bin",
        "outfile": "dist/app.gbl",
        "address": "0x08006000",
        "compress": "lzma",
        "encrypt-key-env": "GBL_AES_KEY",
        "sign": "true",
        "signing-key": PEM.decode(),
    }
    run = runner.run(inputs, {"GBL_AES_KEY": AES_HEX})
    assert run.code == 0, run.stdout + run.stderr
    written = run.workspace / run.outputs["ota-file"]
    assert run.outputs["ota-file"] == "dist/app.gbl"
    assert hashlib.sha256(written.read_bytes()).hexdigest() == run.outputs["sha256"]
    image = GBL3Image.from_bytes(written.read_bytes())
    assert image.verify_signature(KEY.public_key())
    report = json.loads(run.outputs["summary-json"])
    assert (report["command"], report["compression"], report["encrypted"], report["signed"]) == (
        "gbl",
        "lzma",
        True,
        True,
    )
    assert "### ✅ ota-action gbl" in run.summary
    assert "| Encrypted | yes |" in run.summary
    assert "PRIVATE KEY" not in run.summary + run.outputs_text + run.stderr  # stdout masks it line by line
    for secret in (AES_HEX, AES_HEX.lower()):
        assert secret not in run.summary + run.outputs_text + run.stderr
    # the AES key, found in the variable encrypt-key-env names, is masked before it is used
    from tests.test_action import workflow_commands

    masks = [c.message for c in workflow_commands(run.stdout) if c.name == "add-mask"]
    assert AES_HEX in masks
    assert AES_HEX not in run.stdout.replace(f"::add-mask::{AES_HEX}\n", "")


def test_mcuboot_in_the_action(runner: FakeRunner) -> None:  # noqa: F811
    (runner.workspace / "app.bin").write_bytes(bytes(512) + bytes(range(256)) * 8)
    inputs = {
        "command": "mcuboot",
        "image": "app.bin",
        "outfile": "dist/app.signed.bin",
        "image-version": "1.4.0+2",
        "security-counter": "5",
        "sign": "true",
        "signing-key": PEM.decode(),
    }
    run = runner.run(inputs)
    assert run.code == 0, run.stdout + run.stderr
    data = (run.workspace / "dist" / "app.signed.bin").read_bytes()
    assert struct.unpack_from("<I", data)[0] == 0x96F3B83D
    assert struct.unpack_from("<BBHI", data, 20) == (1, 4, 0, 2)
    assert "| Version | 1.4.0+2 |" in run.summary
    assert "PRIVATE KEY" not in run.summary + run.outputs_text + run.stderr


def test_zbota_prepare_telink_in_the_action(runner: FakeRunner) -> None:  # noqa: F811
    (runner.workspace / "app.bin").write_bytes(application())
    inputs = {
        "command": "zbota",
        "outfile": "dist/app.zigbee",
        "mfg-id": "0x1141",
        "image-type": "0x0203",
        "version": "payload",
        "tags": "0x0000:app.bin",
        "prepare": "telink",
    }
    run = runner.run(inputs)
    assert run.code == 0, run.stdout + run.stderr
    assert (run.workspace / "dist" / "app.zigbee").read_bytes() == ota_file(
        project_script(application()), version=VERSION
    )
    nested = runner.run(
        {
            **inputs,
            "prepare": "",
            "version": "1",
            "tags": "0x0000:dist/app.zigbee",
            "outfile": "dist/twice.zigbee",
        }
    )
    assert nested.code == 2
    assert "allow-nested-ota" in nested.stdout + nested.stderr
