"""MCUboot images (issue 24) against imgtool's own command line, the oracle.

``ota-action mcuboot`` drives imgtool as a library and signs through the project's
signing port; ``imgtool sign`` (its CLI, in a child process) makes the reference image
and ``imgtool verify`` checks ours.  ECDSA signatures from imgtool use a random nonce,
so signed images are compared up to the signature TLV's value and checked whole by
``imgtool verify``.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.conftest import run_cli

APP = bytes((i * 31 + (i >> 7)) & 0xFF for i in range(10_000))
KEY = ec.derive_private_key(0x1CE, ec.SECP256R1())
SLOT = 0x40000


def imgtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("imgtool")), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def keys(tmp_path: Path, key: ec.EllipticCurvePrivateKey = KEY) -> tuple[Path, Path]:
    private, public = tmp_path / "key.pem", tmp_path / "pub.pem"
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
    return private, public


def tlvs(image: bytes) -> list[tuple[int, int, int]]:
    """(type, value offset, length) of every TLV, walked here from MCUboot's layout."""
    header_size, _protected = struct.unpack_from("<HH", image, 8)
    size = struct.unpack_from("<I", image, 12)[0]
    at = header_size + size
    out = []
    while at + 4 <= len(image):
        magic, total = struct.unpack_from("<HH", image, at)
        if magic not in (0x6907, 0x6908):
            break
        position = at + 4
        while position < at + total:
            kind, length = struct.unpack_from("<HH", image, position)
            out.append((kind, position + 4, length))
            position += 4 + length
        at += total
    return out


def same_but_signature(ours_: bytes, theirs: bytes) -> None:
    """Equal up to the unprotected TLV area, and in every TLV there but the signature's value
    (imgtool's ECDSA nonce is random, so its DER length, and the area's length, can differ)."""
    header_size, protected = struct.unpack_from("<HH", ours_, 8)
    area = header_size + struct.unpack_from("<I", ours_, 12)[0] + protected
    assert ours_[:area] == theirs[:area]

    def values(image: bytes) -> list[tuple[int, bytes]]:
        return [(kind, image[at : at + n]) for kind, at, n in tlvs(image) if kind != 0x22]

    assert values(ours_) == values(theirs)
    assert [t[0] for t in tlvs(ours_)] == [t[0] for t in tlvs(theirs)]


def ours(tmp_path: Path, *extra: str | Path, name: str = "ours.bin") -> Path:
    app = tmp_path / "app.bin"
    app.write_bytes(APP)
    out = tmp_path / name
    result = run_cli("mcuboot", "-o", out, app, "--pad-header", *extra)
    assert (result.code, result.err) == (0, ""), result.err
    return out


def reference(tmp_path: Path, *extra: str | Path) -> bytes:
    app = tmp_path / "app.bin"
    app.write_bytes(APP)
    out = tmp_path / "imgtool.bin"
    done = imgtool(
        "sign", "--pad-header", "--header-size", "0x200", "--align", "4", "-S", hex(SLOT), *extra, app, out
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out.read_bytes()


def test_unsigned_image_equals_imgtools(tmp_path: Path) -> None:
    out = ours(tmp_path, "--image-version", "2.1.0+9")
    assert out.read_bytes() == reference(tmp_path, "--version", "2.1.0+9")
    assert "Image was correctly validated" in imgtool("verify", out).stdout


def test_signed_image_verifies_in_imgtool_and_matches_it_up_to_the_signature(tmp_path: Path) -> None:
    private, public = keys(tmp_path)
    out = ours(
        tmp_path, "--image-version", "1.2.3+4", "--security-counter", "7", "--sign", "--key-file", private
    )
    done = imgtool("verify", "-k", public, out)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Image version: 1.2.3+4" in done.stdout
    theirs = reference(tmp_path, "--version", "1.2.3+4", "--security-counter", "7", "--key", private)
    data = out.read_bytes()
    same_but_signature(data, theirs)
    assert [t[0] for t in tlvs(data)] == [0x50, 0x10, 0x01, 0x22]  # SEC_CNT, SHA256, KEYHASH, ECDSASIG
    _, other = keys(tmp_path / "..", ec.derive_private_key(0xBAD, ec.SECP256R1()))
    assert imgtool("verify", "-k", other, out).returncode != 0
    # reproducible: RFC 6979, so the same input gives the same image
    again = ours(
        tmp_path,
        "--image-version",
        "1.2.3+4",
        "--security-counter",
        "7",
        "--sign",
        "--key-file",
        private,
        name="again.bin",
    )
    assert again.read_bytes() == data


def test_padded_confirmed_slot_image(tmp_path: Path) -> None:
    private, public = keys(tmp_path)
    out = ours(
        tmp_path, "--sign", "--key-file", private, "--slot-size", hex(SLOT), "--pad", "--confirm", "--json"
    )
    data = out.read_bytes()
    assert len(data) == SLOT
    assert imgtool("verify", "-k", public, out).returncode == 0
    theirs = reference(tmp_path, "--version", "0.0.0+0", "--key", private, "--pad", "--confirm")
    same_but_signature(data, theirs)
    assert data[-16:] == theirs[-16:] == bytes.fromhex("77c295f360d2ef7f3552500f2cb67980")  # boot magic


def test_json_is_clean_and_inspect_shows_header_and_tlvs(tmp_path: Path) -> None:
    private, _ = keys(tmp_path)
    app = tmp_path / "app.bin"
    app.write_bytes(APP)
    out = tmp_path / "app.signed.bin"
    result = run_cli(
        "mcuboot",
        "-o",
        out,
        app,
        "--pad-header",
        "--image-version",
        "1.0.0+1",
        "--sign",
        "--key-file",
        private,
        "--json",
    )
    report = json.loads(result.out)  # imgtool's progress lines never reach stdout
    assert {k: report[k] for k in ("image_version", "header_size", "image_size", "signed")} == {
        "image_version": "1.0.0+1",
        "header_size": 512,
        "image_size": len(APP),
        "signed": True,
    }
    ota = tmp_path / "app.ota"
    assert (
        run_cli("zbota", "-o", ota, "-m", "0x1234", "-i", "0x0001", "-v", "1", "-t", f"0x0000:{out}").code
        == 0
    )
    checked = json.loads(run_cli("verify", ota, "--json").out)
    data = out.read_bytes()
    names = {0x10: "SHA256", 0x01: "KEYHASH", 0x22: "ECDSASIG"}
    assert checked["payload"]["details"]["tlvs"] == [
        {"type": names[kind], "id": f"0x{kind:02X}", "offset": offset, "length": length, "protected": False}
        for kind, offset, length in tlvs(data)
    ]
    assert checked["payload"]["details"]["version"] == "1.0.0+1"
    text = run_cli("inspect", ota).out
    assert "Payload: mcuboot at offset 62 (" in text
    assert "bytes), version 1.0.0+1, TLVs SHA256 KEYHASH ECDSASIG" in text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--pad",), "--pad: needs --slot-size"),
        (("--image-version", "1.x"), "--image-version '1.x': must be major.minor.revision+build"),
        (("--flash-align", "3"), "--flash-align '3': must be 1, 2, 4, 8, 16 or 32"),
        (("--key-file", "k.pem"), "--key-file: signs with this key only together with --sign"),
    ],
)
def test_refusals(tmp_path: Path, extra: tuple[str, ...], message: str) -> None:
    app = tmp_path / "app.bin"
    app.write_bytes(APP)
    result = run_cli("mcuboot", "-o", tmp_path / "o.bin", app, "--pad-header", *extra)
    assert result.code == 2
    assert message in result.err, result.err
    assert not (tmp_path / "o.bin").exists()


def test_an_input_without_room_for_the_header_is_refused(tmp_path: Path) -> None:
    app = tmp_path / "app.bin"
    app.write_bytes(b"\x01" * 4096)
    result = run_cli("mcuboot", "-o", tmp_path / "o.bin", app)
    assert result.code == 2
    assert "Header padding was not requested and image does not start with zeros" in result.err


def test_a_header_smaller_than_mcuboots_and_an_empty_input_are_refused(tmp_path: Path) -> None:
    app = tmp_path / "app.bin"
    app.write_bytes(APP)
    result = run_cli("mcuboot", "-o", tmp_path / "o.bin", app, "--pad-header", "--header-size", "16")
    assert result.code == 2
    assert "--header-size '16': must be at least 32, the size of MCUboot's image header" in result.err
    app.write_bytes(b"")
    result = run_cli("mcuboot", "-o", tmp_path / "o.bin", app, "--pad-header")
    assert (result.code, "is empty" in result.err) == (2, True)


def test_verify_checks_an_mcuboot_signature_imgtool_made(tmp_path: Path) -> None:
    """The other direction: imgtool signs (its own random nonce), ours verifies inside an OTA file."""
    private, public = keys(tmp_path)
    signed = tmp_path / "imgtool-signed.bin"
    signed.write_bytes(reference(tmp_path, "--version", "1.1.0+0", "--key", private))
    ota = tmp_path / "app.ota"
    assert (
        run_cli("zbota", "-o", ota, "-m", "0x127F", "-i", "1", "-v", "1", "-t", f"0x0000:{signed}").code == 0
    )
    result = run_cli("verify", ota, "--public-key", public)
    assert result.code == 0, result.out
    assert "MCUboot signature: valid (MCUboot ECDSA P-256, key fingerprint " in result.out
    _, other = keys(tmp_path / "..", ec.derive_private_key(0xBAD, ec.SECP256R1()))
    result = run_cli("verify", ota, "--public-key", other, "--json")
    assert result.code == 1
    assert [f["code"] for f in json.loads(result.out)["findings"]] == ["signature"]
    # a flipped byte of the application breaks the hash before any key is tried
    data = bytearray(ota.read_bytes())
    data[62 + 0x200 + 10] ^= 0x01
    ota.write_bytes(data)
    result = run_cli("verify", ota, "--public-key", public, "--json")
    assert result.code == 1
    assert json.loads(result.out)["errors"] == [
        "the MCUboot image at offset 62: its SHA256 TLV does not match the hash of its header, image and "
        "protected TLVs"
    ]
