"""``keygen``: a P-256 pair, the private file 0600 and never overwritten, ATFK and CI-secret forms."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.conftest import run_cli


def _keygen(tmp_path: Path, *extra: str | Path) -> dict[str, str]:
    result = run_cli("keygen", "--private-out", tmp_path / "keys" / "private.pem", "--json", *extra)
    assert result.code == 0, result.err
    assert result.err == ""
    data: dict[str, str] = json.loads(result.out)
    return data


def test_keygen_writes_a_p256_pair(tmp_path: Path) -> None:
    data = _keygen(tmp_path, "--public-out", tmp_path / "keys" / "public.pem")
    private_path = tmp_path / "keys" / "private.pem"
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    private = serialization.load_pem_private_key(private_path.read_bytes(), None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    assert private.curve.name == "secp256r1"
    assert private_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----\n")  # PKCS#8, as Digi's steps
    public = serialization.load_pem_public_key((tmp_path / "keys" / "public.pem").read_bytes())
    point = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert (
        public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        == point
    )
    assert data["fk"] == point.hex().upper()
    assert len(data["fk"]) == 130
    assert data["atfk"] == "ATFK" + point.hex().upper()
    assert data["public_key_fingerprint"] == hashlib.sha256(point).hexdigest()
    # the CI-secret form is one line and decodes to the private file's exact bytes
    assert "\n" not in data["private_key_base64"]
    assert base64.b64decode(data["private_key_base64"]) == private_path.read_bytes()
    assert b"PRIVATE" not in (tmp_path / "keys" / "public.pem").read_bytes()


def test_keygen_text_output(tmp_path: Path) -> None:
    result = run_cli("keygen", "--private-out", tmp_path / "k.pem")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == f"P-256 private key written to: {tmp_path / 'k.pem'} (mode 0600)"
    secret = base64.b64encode((tmp_path / "k.pem").read_bytes()).decode()
    assert f"  {secret}" in lines
    assert any(line.startswith("  ATFK04") and len(line) == 2 + 4 + 130 for line in lines)
    assert not (tmp_path / "public.pem").exists()


def test_keygen_refuses_to_overwrite(tmp_path: Path) -> None:
    existing = tmp_path / "k.pem"
    existing.write_text("precious")
    result = run_cli("keygen", "--private-out", existing)
    assert result.code == 2
    assert result.err == (
        f"ota-action keygen: error: --private-out {str(existing)!r}: already exists; "
        "keygen never overwrites a key file\n"
    )
    assert existing.read_text() == "precious"
    public = tmp_path / "p.pem"
    public.write_text("also precious")
    result = run_cli("keygen", "--private-out", tmp_path / "new.pem", "--public-out", public)
    assert result.code == 2
    assert "--public-out" in result.err
    assert not (tmp_path / "new.pem").exists()  # nothing written when any check fails
    same = run_cli("keygen", "--private-out", tmp_path / "x.pem", "--public-out", tmp_path / "x.pem")
    assert same.code == 2
    assert "is the same file as --private-out" in same.err


def test_keygen_key_signs_an_xbee_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The base64 line keygen prints works as the CI secret xbee-fs reads."""
    data = _keygen(tmp_path, "--public-out", tmp_path / "keys" / "public.pem")
    monkeypatch.setenv("OTA_SIGNING_KEY", data["private_key_base64"])
    image = tmp_path / "xbfs.bin"
    image.write_bytes(b"\x00" * 100)
    out = tmp_path / "fs.fsota"
    result = run_cli("xbee-fs", image, "-o", out, "-v", "100D", "--json")
    assert result.code == 0, result.err
    built = json.loads(result.out)
    assert built["fk"] == data["fk"]
    assert built["key_form"] == "base64 of PEM (PKCS#8)"
    blob = out.read_bytes()
    public = serialization.load_pem_public_key((tmp_path / "keys" / "public.pem").read_bytes())
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(blob[62 + 2048 :], blob[62 : 62 + 2048], ec.ECDSA(hashes.SHA256()))
    verified = run_cli("verify", out, "--public-key", tmp_path / "keys" / "public.pem")
    assert verified.code == 0, verified.out


def test_keygen_help_says_it_prints_the_private_key() -> None:
    result = run_cli("keygen", "--help")
    assert result.code == 0
    text = " ".join(result.out.split())
    assert "on purpose, the private key as one line of base64" in text
    assert "--private-out PATH" in text
