"""``xbee-fs --key-uri``: signing inside a real PKCS#11 token (SoftHSM2), checked by others.

The token is made by ``softhsm2-util`` and its key by OpenSC's ``pkcs11-tool``; the
public key the checks use is the one ``pkcs11-tool`` reads back out of the token, so
nothing here trusts the code under test.  Oracles: ``openssl dgst -verify`` on the
signed bytes and signature, digi-xbee's ``_OTAFile``, and Digi's recipe assembled by
hand (tests/test_xbee.py).

python-pkcs11 initialises the module once per process, so one SoftHSM2 configuration
serves the whole session (``SOFTHSM2_CONF`` is set before the first load).
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ota_action.edges import log
from ota_action.formats import xbee
from ota_action.secret import Secret
from ota_action.signing import pkcs11
from ota_action.signing.pkcs11_uri import parse_uri
from tests.conftest import ROOT, need_tool, run_cli
from tests.softhsm import MODULE, OTHER, PIN, TOKEN, SoftHsm, shared_softhsm, uri
from tests.test_xbee import digi_recipe


@pytest.fixture(scope="session")
def hsm(tmp_path_factory: pytest.TempPathFactory) -> SoftHsm:
    need_tool("softhsm2-util")
    need_tool("pkcs11-tool")
    return shared_softhsm(tmp_path_factory.mktemp("softhsm"))


@pytest.fixture
def pin(monkeypatch: pytest.MonkeyPatch, hsm: SoftHsm) -> Iterator[str]:
    for name in ("OTA_SIGNING_KEY", "OTA_SIGNING_KEY_PASSPHRASE", "OTA_PKCS11_MODULE", "OTA_SIGNING_KEY_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OTA_PKCS11_PIN", PIN)
    yield PIN
    log.reset()


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "xbfs.bin"
    path.write_bytes(bytes((i * 13 + 5) % 256 for i in range(5000)))
    return path


def _public_pem(hsm: SoftHsm, token: str, label: str, where: Path) -> Path:
    key = serialization.load_der_public_key(hsm.public_key_der(token, label))
    path = where / f"{token}-{label}.pem"
    path.write_bytes(
        key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return path


def _sign(image: Path, out: Path, *extra: str | Path) -> dict[str, object]:
    result = run_cli("xbee-fs", image, "-o", out, "-v", "100D", "--json", *extra)
    assert result.code == 0, result.err
    data: dict[str, object] = json.loads(result.out)
    return data


def _fails(image: Path, tmp_path: Path, *extra: str | Path) -> str:
    out = tmp_path / "never.fsota"
    result = run_cli("xbee-fs", image, "-o", out, "-v", "100D", *extra)
    assert result.code == 2, result.out + result.err
    assert result.out == ""
    assert not out.exists()
    assert PIN not in result.err
    return result.err


def test_token_signature_verifies_with_openssl_and_digi_xbee(
    hsm: SoftHsm, pin: str, image: Path, tmp_path: Path
) -> None:
    openssl = need_tool("openssl")
    out = tmp_path / "fs.fsota"
    data = _sign(image, out, "--key-uri", uri(TOKEN, "xbee"))
    public = _public_pem(hsm, TOKEN, "xbee", tmp_path)
    blob = out.read_bytes()
    signature = blob[62 + 6144 :]
    assert blob == digi_recipe(image.read_bytes(), signature, file_version=0x100D)
    assert 70 <= len(signature) <= 72
    assert data["key_form"] == "PKCS#11 token"
    assert data["reproducible"] is False
    (tmp_path / "img.bin").write_bytes(blob[62 : 62 + 6144])
    (tmp_path / "sig.bin").write_bytes(signature)
    checked = subprocess.run(
        [openssl, "dgst", "-sha256", "-verify", str(public), "-signature", "sig.bin", "img.bin"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.stdout.strip() == "Verified OK", checked.stderr
    from digi.xbee.firmware import _OTAFile

    parsed = _OTAFile(str(out))
    parsed.parse_file()
    assert (parsed.manufacturer_code, parsed.image_type, parsed.total_size) == (0x101E, 0x0100, len(blob))
    assert parsed.discard_size == 62
    # and verify names the token's key among two
    other = _public_pem(hsm, OTHER, "xbee", tmp_path)
    report = json.loads(run_cli("verify", out, "--public-key", other, "--public-key", public, "--json").out)
    assert report["valid"] is True
    assert f"public key {str(public)!r}" in report["signature"]


def test_module_from_the_environment_and_a_random_nonce(
    hsm: SoftHsm, pin: str, image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTA_PKCS11_MODULE", MODULE)
    monkeypatch.setenv("OTA_SIGNING_KEY_URI", uri(TOKEN, "xbee", module=False))
    _sign(image, tmp_path / "a.fsota")
    _sign(image, tmp_path / "b.fsota", "--key-uri", f"pkcs11:token={TOKEN};id=%01")
    a, b = (tmp_path / "a.fsota").read_bytes(), (tmp_path / "b.fsota").read_bytes()
    # SoftHSM2 signs with a random k: the signature differs, and with its length (70-72
    # bytes) the header's total size and the element length; every other byte is the same.
    assert a[62 : 62 + 6144] == b[62 : 62 + 6144]
    assert a[:52] == b[:52]
    assert a[56:58] == b[56:58]
    assert a[62 + 6144 :] != b[62 + 6144 :]


def test_expected_public_key_is_checked_before_anything_is_written(
    hsm: SoftHsm, pin: str, image: Path, tmp_path: Path
) -> None:
    right = _public_pem(hsm, TOKEN, "xbee", tmp_path)
    wrong = _public_pem(hsm, OTHER, "xbee", tmp_path)
    _sign(image, tmp_path / "ok.fsota", "--key-uri", uri(TOKEN, "xbee"), "--expect-public-key", right)
    err = _fails(image, tmp_path, "--key-uri", uri(TOKEN, "xbee"), "--expect-public-key", wrong)
    assert (
        "--expect-public-key: PKCS#11 key pkcs11:token=ota-ci;object=xbee holds the key with fingerprint"
        in err
    )
    fk = serialization.load_pem_public_key(wrong.read_bytes()).public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert "not the expected key" in _fails(
        image, tmp_path, "--key-uri", uri(TOKEN, "xbee"), "--expect-public-key", fk.hex()
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"OTA_PKCS11_PIN": "0000-wrong"}, "environment variable OTA_PKCS11_PIN is not the PIN of the token"),
        ({"OTA_PKCS11_PIN": ""}, "needs a PIN: put it in the secret OTA_PKCS11_PIN"),
        ({"uri": uri("no-such-token", "xbee")}, "no token matches pkcs11:token=no-such-token;object=xbee"),
        ({"uri": uri(TOKEN, "nothing")}, "no private key matches pkcs11:token=ota-ci;object=nothing"),
        ({"uri": f"pkcs11:token={TOKEN};object=xbee"}, "names no PKCS#11 module"),
        ({"uri": f"pkcs11:token={TOKEN};object=xbee?module-path=/nonexistent.so"}, "does not exist"),
        ({"uri": f"pkcs11:token={TOKEN};object=xbee?module-path=/dev/null"}, "is not a regular file"),
        ({"uri": f"pkcs11:token={TOKEN};object=xbee?module-path=/etc/hostname"}, "cannot be loaded"),
        ({"uri": f"pkcs11:token={TOKEN};object=xbee?pin-value={PIN}"}, "a PIN never goes in the URI"),
        ({"uri": "file:///key.pem"}, "is not a PKCS#11 URI"),
        ({"uri": f"pkcs11:token={TOKEN}"}, "names no key"),
    ],
)
def test_token_failures_exit_2_name_the_option_and_never_show_the_pin(
    hsm: SoftHsm,
    pin: str,
    image: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    change: dict[str, str],
    message: str,
) -> None:
    for name, value in change.items():
        if name != "uri":
            monkeypatch.setenv(name, value)
    err = _fails(image, tmp_path, "--key-uri", change.get("uri", uri(TOKEN, "xbee")))
    assert err.startswith("ota-action xbee-fs: error: --key-uri"), err
    assert message in err
    assert "Traceback" not in err


def test_two_key_sources_are_refused(
    hsm: SoftHsm, pin: str, image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTA_SIGNING_KEY", "whatever")
    err = _fails(image, tmp_path, "--key-uri", uri(TOKEN, "xbee"))
    assert "give exactly one key source" in err


def test_keygen_creates_the_key_in_the_token_and_it_signs(
    hsm: SoftHsm, pin: str, image: Path, tmp_path: Path
) -> None:
    result = run_cli(
        "keygen", "--key-uri", uri(TOKEN, "made-here"), "--public-out", tmp_path / "made.pem", "--json"
    )
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["private_out"] is None
    assert data["private_key_base64"] is None
    assert data["key_uri"] == "pkcs11:token=ota-ci;object=made-here"
    from_token = serialization.load_der_public_key(hsm.public_key_der(TOKEN, "made-here"))
    point = from_token.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    assert data["atfk"] == "ATFK" + point.hex().upper()
    assert (tmp_path / "made.pem").read_text() == data["public_key_pem"]
    text = run_cli("keygen", "--key-uri", uri(TOKEN, "made-here"))
    assert text.code == 2
    assert "already holds a key" in text.err
    _sign(
        image,
        tmp_path / "fs.fsota",
        "--key-uri",
        uri(TOKEN, "made-here"),
        "--expect-public-key",
        tmp_path / "made.pem",
    )
    signed = (tmp_path / "fs.fsota").read_bytes()
    assert isinstance(from_token, ec.EllipticCurvePublicKey)
    from_token.verify(signed[62 + 6144 :], xbee.pad(image.read_bytes()), ec.ECDSA(hashes.SHA256()))
    listed = run_cli("keygen", "--key-uri", uri(TOKEN, "made-too"))
    assert listed.code == 0, listed.err
    assert "P-256 key created in the token: pkcs11:token=ota-ci;object=made-too" in listed.out
    assert "-----BEGIN PUBLIC KEY-----" in listed.out
    assert "  ATFK04" in listed.out
    assert "Private key for a CI secret" not in listed.out


def test_the_token_signer_holds_no_pin_in_repr_or_pickle(hsm: SoftHsm, pin: str) -> None:
    parsed = parse_uri(uri(TOKEN, "xbee"), field="signing_key_uri")
    signer = pkcs11.open_signer(MODULE, parsed, Secret(PIN, source="test"), field="signing_key_uri")
    try:
        assert PIN not in repr(signer)
        assert PIN not in str(signer)
        with pytest.raises(TypeError):
            pickle.dumps(signer)
    finally:
        signer.close()


def test_the_pin_appears_on_no_channel_even_with_debug(hsm: SoftHsm, image: Path, tmp_path: Path) -> None:
    """Subprocess runs, successes and every failure, --verbose and OTA_DEBUG=1: stdout,
    stderr and every file written are searched for the PIN."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTA_")}
    base |= {"PYTHONPATH": str(ROOT), "OTA_DEBUG": "1", "OTA_LOG_LEVEL": "debug", **hsm.env()}
    cases = [
        (PIN, uri(TOKEN, "xbee"), 0),
        ("9999-wrong-pin", uri(TOKEN, "xbee"), 2),
        (PIN, uri("missing-token", "xbee"), 2),
        (PIN, uri(TOKEN, "missing-key"), 2),
    ]
    for index, (given, key_uri, expected) in enumerate(cases):
        env = {**base, "OTA_PKCS11_PIN": given}
        args = [
            sys.executable,
            "-m",
            "ota_action",
            "xbee-fs",
            str(image),
            "-o",
            str(tmp_path / f"o{index}" / "fs.fsota"),
        ]
        args += ["-v", "100D", "--key-uri", key_uri, "--verbose"]
        for extra in ([], ["--json"]):
            result = subprocess.run([*args, *extra], env=env, capture_output=True, timeout=120, cwd=tmp_path)
            assert result.returncode == expected, result.stderr
            for channel in (result.stdout, result.stderr):
                assert given.encode() not in channel
    for path in tmp_path.rglob("*"):
        if path.is_file() and path != image:
            assert PIN.encode() not in path.read_bytes(), path
