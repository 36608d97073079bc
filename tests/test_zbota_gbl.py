"""``zbota --gbl``: .s37 → signed GBL → OTA file in one run (issue 24).

Oracles: the same run split in two (``gbl`` then ``zbota -t 0x0000:app.gbl``) must give the
same bytes (RFC 6979: our in-memory signatures are deterministic); Simplicity Commander's
``ota create`` on that GBL must give the same OTA file; Commander's ``gbl3 parse --verify``
checks the signature of the GBL inside; srec_cat writes the S-record input.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from ota_action.formats.zigbee.image import parse_image
from tests.conftest import need_tool, run_cli
from tests.test_action import FakeRunner, runner  # noqa: F401  (the fixture)
from tests.test_gbl import ADDRESS, AES_KEY, DATA, _pem, commander, parse, public_pem

KEY = ec.derive_private_key(0x6B1, ec.SECP256R1())
HEADER = ["-m", "0x1002", "-i", "0x0001", "-v", "0x01020304", "--string", "app"]


@pytest.fixture
def s37(tmp_path: Path) -> Path:
    binary = tmp_path / "app.bin"
    binary.write_bytes(DATA)
    out = tmp_path / "app.s37"
    subprocess.run(
        [need_tool("srec_cat"), str(binary), "-binary", "-offset", hex(ADDRESS), "-o", str(out), "-motorola"],
        check=True, timeout=60,
    )  # fmt: skip
    return out


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTA_SIGNING_KEY", _pem(KEY))
    monkeypatch.setenv("GBL_AES_KEY", AES_KEY.hex())


def _upgrade_image(ota: Path) -> bytes:
    data = ota.read_bytes()
    parsed = parse_image(data)
    (element,) = [e for e in parsed.elements if e.tag == 0]
    return data[element.data_offset : element.data_offset + element.length]


OPTION_SETS = {
    "plain": [],
    "lz4": ["--compress", "lz4"],
    "signed-lzma": ["--sign", "--compress", "lzma"],
    "signed-encrypted": ["--sign", "--encrypt-key-env", "GBL_AES_KEY", "--app-version", "7"],
}


@pytest.mark.parametrize("options", list(OPTION_SETS))
@pytest.mark.usefixtures("keys")
def test_one_step_equals_gbl_then_zbota_and_commanders_ota_create(
    tmp_path: Path, s37: Path, options: str
) -> None:
    extra = OPTION_SETS[options]
    one = tmp_path / "one.ota"
    result = run_cli("zbota", "-o", one, *HEADER, "-t", f"0x0000:{s37}", "--gbl", *extra)
    assert result.code == 0, result.err
    gbl = tmp_path / "app.gbl"
    assert run_cli("gbl", "-o", gbl, s37, *extra).code == 0
    two = tmp_path / "two.ota"
    assert run_cli("zbota", "-o", two, *HEADER, "-t", f"0x0000:{gbl}").code == 0
    assert one.read_bytes() == two.read_bytes()
    assert _upgrade_image(one) == gbl.read_bytes()
    theirs = tmp_path / "commander.ota"
    done = subprocess.run(
        [commander(), "ota", "create", "--upgrade-image", str(gbl), "--manufacturer-id", "0x1002",
         "--image-type", "0x0001", "--firmware-version", "0x01020304", "--string", "app", "-o", str(theirs)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert one.read_bytes() == theirs.read_bytes()
    if "--sign" in extra:
        verify = ["--verify", str(public_pem(tmp_path, KEY))]
        if "--encrypt-key-env" in extra:
            aes = tmp_path / "aes.txt"
            aes.write_text(f"TOKEN_MFG_SECURE_BOOTLOADER_KEY: {AES_KEY.hex().upper()}\n")
            verify += ["--decrypt", str(aes)]
        parsed, app = parse(tmp_path, _upgrade_image(one), *verify)
        assert parsed.returncode == 0, parsed.stdout + parsed.stderr
        assert app == DATA


@pytest.mark.usefixtures("keys")
def test_verify_names_the_key_and_the_text_says_what_was_built(tmp_path: Path, s37: Path) -> None:
    out = tmp_path / "app.ota"
    result = run_cli("zbota", "-o", out, *HEADER, "-t", f"0x0000:{s37}", "--gbl", "--sign")
    assert result.code == 0, result.err
    assert f"GBL3 built from {s37} (signed, key fingerprint" in result.out
    checked = run_cli("verify", out, "--public-key", public_pem(tmp_path, KEY))
    assert checked.code == 0, checked.out + checked.err
    assert "GBL signature: valid" in checked.out


@pytest.mark.usefixtures("keys")
def test_a_wrong_key_or_a_gbl_option_without_gbl_writes_nothing(tmp_path: Path, s37: Path) -> None:
    out = tmp_path / "app.ota"
    other = public_pem(tmp_path, ec.derive_private_key(0x0BAD, ec.SECP256R1()))
    cases = {
        ("--gbl", "--sign", "--expect-public-key", str(other)): "expect",
        ("--sign",): "--sign: makes a GBL; give --gbl",
        ("--compress", "lz4"): "--compress: makes a GBL; give --gbl",
        ("--gbl", "--prepare", "telink"): "--prepare: applies to a Telink image",
        ("--gbl", "--key-file", str(other)): "--key-file: signs with this key only together with --sign",
    }
    for args, problem in cases.items():
        result = run_cli("zbota", "-o", out, *HEADER, "-t", f"0x0000:{s37}", *args)
        assert result.code == 2, (args, result.err)
        assert problem in result.err, (args, result.err)
        assert "PRIVATE KEY" not in result.err
        assert not out.exists()
    null_only = run_cli("zbota", "-o", out, *HEADER, "-t", "0x0000:16", "--gbl")
    assert null_only.code == 2
    assert "--gbl: needs exactly one upgrade image file" in null_only.err


def test_the_action_builds_a_signed_gbl_ota_in_one_step(runner: FakeRunner, tmp_path: Path) -> None:  # noqa: F811
    (runner.workspace / "app.bin").write_bytes(DATA)
    inputs = {
        "command": "zbota",
        "outfile": "dist/app.ota",
        "mfg-id": "0x1002",
        "image-type": "0x0001",
        "version": "0x01020304",
        "tags": "0x0000:app.bin",
        "gbl": "true",
        "address": hex(ADDRESS),
        "compress": "lzma",
        "sign": "true",
        "signing-key": _pem(KEY),
    }
    run = runner.run(inputs, {})
    assert run.code == 0, run.stdout + run.stderr
    written = run.workspace / run.outputs["ota-file"]
    parsed, app = parse(tmp_path, _upgrade_image(written), "--verify", str(public_pem(tmp_path, KEY)))
    assert parsed.returncode == 0, parsed.stdout + parsed.stderr
    assert app == DATA
    assert "PRIVATE KEY" not in run.summary + run.outputs_text + run.stderr


def test_the_action_refuses_a_key_zbota_would_not_use(runner: FakeRunner) -> None:  # noqa: F811
    (runner.workspace / "app.bin").write_bytes(DATA)
    inputs = {
        "command": "zbota",
        "outfile": "dist/app.ota",
        "mfg-id": "0x1002",
        "image-type": "0x0001",
        "version": "1",
        "tags": "0x0000:app.bin",
        "signing-key": _pem(KEY),
    }
    run = runner.run(inputs, {})
    assert run.code == 2
    assert "is not used by command zbota unless gbl and sign are true" in run.stdout + run.stderr
    assert not (run.workspace / "dist" / "app.ota").exists()
    assert "PRIVATE KEY" not in run.summary + run.outputs_text + run.stderr  # stdout masks it line by line
