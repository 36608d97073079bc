"""``xbee-fs`` and ``verify --public-key``: the file is Digi's recipe, byte for byte.

Oracles: a file assembled here by hand from Digi's procedure, openssl (the seed's own
tool), digi-xbee's ``_OTAFile`` and zigpy's ``OTAImage``.
"""

from __future__ import annotations

import hashlib
import json
import struct
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from ota_action.errors import InputError
from ota_action.formats import xbee
from ota_action.signing import public as public_keys
from ota_action.signing.memory import MemorySigner
from ota_action.signing.port import P256_ORDER, Signature
from tests.conftest import ROOT, need_tool, run_cli
from tests.xbee_keys import KeyForms, b64, new_key

# A key, message and valid signature whose R is under 2^240: 68 bytes, and its (r, n-s)
# twin 69 - no 70-72-byte form exists.  Found once by random-nonce signing (1 in ~65,000).
SHORT_SCALAR = 0x1D5A4B1B2F7A43C6A9F0C1E2D3B4A5968778695A4B3C2D1E0F1E2D3C4B5A6978
SHORT_RAW = b"xbee"
SHORT_SIGNATURE = bytes.fromhex(
    "3042021e6aac551eb6d4482eef04f1a1536e51835ab084cef5b1eb6f211324bd8915022018f767"
    "76f90bda56002132a713cfbf53e3ef5b5b9875d1bbb0a4a72749fde4b8"
)
# The same key and message: a valid 69-byte signature (31-byte S) whose twin is 71 bytes.
SIGNATURE_69 = bytes.fromhex(
    "304302207c2a6fda00d7b83de53e6d51d42d9e973b671a3cead6e1abf3665cde506f66a0021f4fca06b20a"
    "13461fbbb0d5b61054f844cc0f631a365e25aba1b01562af8c40"
)


@pytest.fixture(scope="module")
def key() -> KeyForms:
    return new_key()


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "xbfs.bin"
    path.write_bytes(bytes((i * 7 + 3) % 256 for i in range(5000)))
    return path


@pytest.fixture
def env_key(monkeypatch: pytest.MonkeyPatch, key: KeyForms) -> KeyForms:
    monkeypatch.setenv("OTA_SIGNING_KEY", key.pem().decode())
    monkeypatch.delenv("OTA_SIGNING_KEY_PASSPHRASE", raising=False)
    return key


def _build(image: Path, out: Path, *extra: str | Path) -> dict[str, object]:
    result = run_cli("xbee-fs", image, "-o", out, "-v", "100D", "--json", *extra)
    assert result.code == 0, result.err
    data: dict[str, object] = json.loads(result.out)
    return data


def digi_recipe(raw: bytes, signature: bytes, *, file_version: int, string: bytes = b"") -> bytes:
    """Digi's manual procedure, written out with struct from the user guide's tables."""
    padded = raw
    while len(padded) % 2048:
        padded += b"\xff"  # "add 0xFF bytes ... until a multiple of 2048"
    payload = padded + signature  # "append the calculated signature to the image"
    header = struct.pack(
        "<IHHHHHIH32sI",
        0x0BEEF11E,
        0x0100,
        56,
        0,
        0x101E,
        0x0100,  # "The image type should be 0x0100 for a file system image upgrade"
        file_version,
        2,
        string.ljust(32, b"\0"),
        56 + 6 + len(payload),
    )
    return header + struct.pack("<HI", 0x0000, len(payload)) + payload


# --- the core --------------------------------------------------------------------------


def test_pad_to_2048() -> None:
    assert xbee.pad(b"\x01") == b"\x01" + b"\xff" * 2047
    assert xbee.pad(b"\x02" * 2048) == b"\x02" * 2048
    assert len(xbee.pad(b"\x00" * 5000)) == 6144
    assert xbee.pad(b"\x00" * 5000)[5000:] == b"\xff" * 1144


def test_worked_example_from_the_reference() -> None:
    """Raw 5000 B, a 70-byte signature: L 6214 (0x1846), file 6276 B (0x1884)."""
    built = xbee.build_fs_ota(bytes(5000), file_version=0x100D, sign=lambda data: b"\x30" + b"\x44" * 69)
    assert built.data[:62] == bytes.fromhex(
        "1ef1ee0b0001380000001e1000010d1000000200" + "00" * 32 + "84180000000046180000"
    )
    assert len(built.data) == 6276
    assert (built.raw_size, built.padded_size, built.payload_length) == (5000, 6144, 6214)


def test_empty_image_is_refused() -> None:
    with pytest.raises(InputError, match="is empty"):
        xbee.build_fs_ota(b"", file_version=0x100D, sign=lambda d: b"")


def test_split_payload() -> None:
    assert xbee.split_payload(b"a" * 4096 + b"s" * 71) == (b"a" * 4096, b"s" * 71)
    assert xbee.split_payload(b"s" * 70) == (b"", b"s" * 70)
    assert xbee.split_payload(b"a" * 2048) == (b"a" * 2048, b"")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100D", 0x0000100D),
        ("100d", 0x0000100D),
        ("0x100D", 0x0000100D),
        ("0x0100100D", 0x0100100D),
        ("100D:1", 0x0100100D),
        ("100D:0x01", 0x0100100D),
        ("VR=100D,C=1", 0x0100100D),
        ("vr=300b, c=2", 0x0200300B),
        ("1.0.16.13", 0x0100100D),
        ("2014", 0x00002014),  # bare digits are hex, as ATVR prints them
        ("0xFFFFFFFF", 0xFFFFFFFF),
    ],
)
def test_version_forms(text: str, value: int) -> None:
    assert xbee.parse_fs_version(text) == value


@pytest.mark.parametrize("text", ["", "hello", "100D:1FF", "1234567", "0x123456789", "VR=,C=1", "1.2.3"])
def test_bad_version_forms(text: str) -> None:
    with pytest.raises(ValueError, match=r"must be|dotted"):
        xbee.parse_fs_version(text)


def test_version_warning() -> None:
    for good in (0x100D, 0x0100100D, 0x2014, 0x300B):
        assert xbee.version_warning(good) is None
    for bad in (0x1, 0x4109, 0x0100000D):
        warning = xbee.version_warning(bad)
        assert warning is not None
        assert f"0x{bad:08X}" in warning
    assert xbee.describe_version(0x0100300B) == {"vr": "300B", "compatibility": 1, "protocol": "DigiMesh"}


# --- the command -----------------------------------------------------------------------


def test_file_is_digis_recipe_byte_for_byte(env_key: KeyForms, image: Path, tmp_path: Path) -> None:
    out = tmp_path / "fs.fsota"
    data = _build(image, out, "--string", "fs image")
    produced = out.read_bytes()
    raw = image.read_bytes()
    signature = produced[6144 + 62 :]
    assert len(signature) == data["signature_length"]
    assert produced == digi_recipe(raw, signature, file_version=0x100D, string=b"fs image")
    # the signature is over the padded image, with the key given
    env_key.public.verify(signature, xbee.pad(raw), ec.ECDSA(hashes.SHA256()))
    assert 70 <= len(signature) <= 72
    assert data["size"] == len(produced) == 62 + 6144 + len(signature)
    assert data["image_size"] == 5000
    assert data["padded_size"] == 6144
    assert data["padding"] == 1144
    assert data["public_key_fingerprint"] == public_keys.fingerprint(env_key.public)
    assert data["fk"] == env_key.point().hex().upper()
    assert data["key_form"] == "PEM (PKCS#8)"
    assert data["sub_elements"] == [
        {"tag": 0, "length": 6144 + len(signature), "offset": 56, "data_offset": 62, "name": "upgrade image"}
    ]
    import hashlib

    assert data["sha256"] == hashlib.sha256(produced).hexdigest()


def test_self_checks_from_the_reference(env_key: KeyForms, image: Path, tmp_path: Path) -> None:
    out = tmp_path / "fs.fsota"
    _build(image, out)
    blob = out.read_bytes()
    (total,) = struct.unpack_from("<I", blob, 52)
    tag, length = struct.unpack_from("<HI", blob, 56)
    signature_length = length % 2048
    assert tag == 0
    assert len(blob) == 62 + length == total  # the sub-element reaches exactly the end of the file
    assert (length - signature_length) % 2048 == 0
    r, s = utils.decode_dss_signature(blob[62 + length - signature_length :])
    assert r > 0
    assert s > 0


def test_same_inputs_give_the_same_file(env_key: KeyForms, image: Path, tmp_path: Path) -> None:
    _build(image, tmp_path / "a.fsota")
    _build(image, tmp_path / "b.fsota")
    assert (tmp_path / "a.fsota").read_bytes() == (tmp_path / "b.fsota").read_bytes()


def test_openssl_verifies_our_signature(env_key: KeyForms, image: Path, tmp_path: Path) -> None:
    openssl = need_tool("openssl")
    out = tmp_path / "fs.fsota"
    _build(image, out)
    blob = out.read_bytes()
    (tmp_path / "img.bin").write_bytes(blob[62 : 62 + 6144])
    (tmp_path / "sig.bin").write_bytes(blob[62 + 6144 :])
    (tmp_path / "public.pem").write_bytes(env_key.public_pem())
    result = subprocess.run(
        [openssl, "dgst", "-sha256", "-verify", "public.pem", "-signature", "sig.bin", "img.bin"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Verified OK"


def test_openssl_signed_manual_file_matches_and_verifies(
    env_key: KeyForms, image: Path, tmp_path: Path
) -> None:
    """Digi's procedure run literally (hand padding, openssl dgst -sign) gives our file but the signature."""
    openssl = need_tool("openssl")
    (tmp_path / "private.pem").write_bytes(env_key.pem())
    (tmp_path / "public.pem").write_bytes(env_key.public_pem())
    (tmp_path / "padded.bin").write_bytes(image.read_bytes() + b"\xff" * 1144)
    subprocess.run(
        [openssl, "dgst", "-sha256", "-sign", "private.pem", "-binary", "-out", "sig.bin", "padded.bin"],
        cwd=tmp_path,
        check=True,
    )
    openssl_signature = (tmp_path / "sig.bin").read_bytes()
    manual = tmp_path / "manual.fsota"
    manual.write_bytes(digi_recipe(image.read_bytes(), openssl_signature, file_version=0x100D))
    ours = tmp_path / "ours.fsota"
    _build(image, ours)
    ours_bytes = ours.read_bytes()
    assert ours_bytes[62 : 62 + 6144] == manual.read_bytes()[62 : 62 + 6144]
    assert ours_bytes[20:52] == manual.read_bytes()[20:52]
    # and verify accepts the hand-made file with the public key
    result = run_cli("verify", manual, "--public-key", tmp_path / "public.pem", "--json")
    assert result.code == 0, result.out + result.err
    report = json.loads(result.out)
    assert report["signature"].startswith(f"valid (ECDSA P-256/SHA-256, {len(openssl_signature)}-byte DER")


def test_digi_xbee_parses_the_file(env_key: KeyForms, image: Path, tmp_path: Path) -> None:
    from digi.xbee.firmware import _OTAFile

    out = tmp_path / "fs.fsota"
    _build(image, out, "-v", "VR=100D,C=1")
    parsed = _OTAFile(str(out))
    parsed.parse_file()
    assert parsed.manufacturer_code == 0x101E
    assert parsed.image_type == 0x0100
    assert parsed.header_length == 56
    assert parsed.zigbee_stack_version == 2
    assert parsed.file_version >> 24 == 1
    assert parsed.file_version & 0xFFFFFF == 0x100D
    assert parsed.total_size == len(out.read_bytes())
    assert parsed.discard_size == 62
    assert parsed.ota_size == parsed.total_size - parsed.discard_size


def test_zigpy_parses_the_file_with_no_remainder(env_key: KeyForms, image: Path, tmp_path: Path) -> None:
    from zigpy.ota.image import OTAImage

    out = tmp_path / "fs.ota"
    _build(image, out)
    blob = out.read_bytes()
    parsed, rest = OTAImage.deserialize(blob)
    assert rest == b""
    assert parsed.header.manufacturer_id == 0x101E
    assert parsed.header.image_type == 0x0100
    assert len(parsed.subelements) == 1
    assert parsed.subelements[0].tag_id == 0
    assert bytes(parsed.subelements[0].data) == blob[62:]
    assert parsed.serialize() == blob


def test_text_summary(env_key: KeyForms, image: Path, tmp_path: Path) -> None:
    result = run_cli("xbee-fs", image, "-o", tmp_path / "fs.fsota", "-v", "100D:1")
    assert result.code == 0, result.err
    fingerprint = public_keys.fingerprint(env_key.public)
    assert "  Image: " in result.out
    assert "(5000 bytes)" in result.out
    assert "  Padded to: 6144 bytes (1144 x 0xFF)" in result.out
    assert "  File version: 0x0100100D (VR 100D, compatibility 1, Zigbee)" in result.out
    assert f"fingerprint (sha256 of FK) {fingerprint}" in result.out
    assert f"  FK (device public key): {env_key.point().hex().upper()}" in result.out
    assert "bytes DER, as signed" in result.out
    assert result.err == ""


def test_options_change_header_fields(env_key: KeyForms, image: Path, tmp_path: Path) -> None:
    data = _build(
        image, tmp_path / "x.fsota", "--mfg-id", "0x1234", "--image-type", "0x0101", "-v", "0x0100300B"
    )
    assert (data["manufacturer_code"], data["image_type"], data["file_version"]) == (
        0x1234,
        0x0101,
        0x0100300B,
    )
    assert data["protocol"] == "DigiMesh"


def test_key_file_and_base64_env_give_the_same_file(
    key: KeyForms, image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OTA_SIGNING_KEY", raising=False)
    key_file = tmp_path / "k.der"
    key_file.write_bytes(key.der())
    _build(image, tmp_path / "file.fsota", "--key-file", key_file)
    monkeypatch.setenv("CI_KEY_B64", b64(key.pem()))
    data = _build(image, tmp_path / "env.fsota", "--key-env", "CI_KEY_B64")
    assert data["key_form"] == "base64 of PEM (PKCS#8)"
    assert (tmp_path / "file.fsota").read_bytes() == (tmp_path / "env.fsota").read_bytes()


def _fails(image: Path, tmp_path: Path, *extra: str | Path) -> str:
    out = tmp_path / "never.fsota"
    result = run_cli("xbee-fs", image, "-o", out, "-v", "100D", *extra)
    assert result.code == 2, result.out + result.err
    assert result.out == ""
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".never")] == []
    return result.err


def test_cli_key_errors_exit_2_and_write_nothing(
    key: KeyForms, image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OTA_SIGNING_KEY", raising=False)
    monkeypatch.delenv("OTA_SIGNING_KEY_PASSPHRASE", raising=False)
    err = _fails(image, tmp_path)
    assert err.startswith(
        "ota-action xbee-fs: error: --key-env: no signing key: environment variable OTA_SIGNING_KEY"
    )
    monkeypatch.setenv("OTA_SIGNING_KEY", "")
    assert "no signing key" in _fails(image, tmp_path)
    monkeypatch.setenv("OTA_SIGNING_KEY", key.public_pem().decode())
    assert _fails(image, tmp_path) == (
        "ota-action xbee-fs: error: --key-env: environment variable OTA_SIGNING_KEY: is a public key, "
        "not a private key; give the private key\n"
    )
    key_file = tmp_path / "k.pem"
    key_file.write_bytes(key.pem())
    assert "environment variable OTA_SIGNING_KEY is also set; give exactly one key source" in _fails(
        image, tmp_path, "--key-file", key_file
    )
    monkeypatch.delenv("OTA_SIGNING_KEY")
    missing = tmp_path / "missing.pem"
    assert "--key-file " in _fails(image, tmp_path, "--key-file", missing)
    encrypted = tmp_path / "enc.pem"
    encrypted.write_bytes(key.pem(password="pw-1"))
    err = _fails(image, tmp_path, "--key-file", encrypted)
    assert f"--key-file {str(encrypted)!r}: is an encrypted key and no passphrase was given" in err
    monkeypatch.setenv("MY_PASS", "pw-2")
    err = _fails(image, tmp_path, "--key-file", encrypted, "--passphrase-env", "MY_PASS")
    assert "the passphrase in environment variable MY_PASS does not decrypt this key" in err
    monkeypatch.setenv("MY_PASS", "pw-1")
    data = _build(image, tmp_path / "ok.fsota", "--key-file", encrypted, "--passphrase-env", "MY_PASS")
    assert data["key_form"] == "PEM (encrypted PKCS#8)"


def test_empty_and_missing_images(env_key: KeyForms, tmp_path: Path) -> None:
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    assert "IMAGE " in _fails(empty, tmp_path)
    assert "is empty" in _fails(empty, tmp_path)
    assert "file does not exist" in _fails(tmp_path / "nope.bin", tmp_path)


def test_warnings_for_version_ymodem_padding_and_extension(env_key: KeyForms, tmp_path: Path) -> None:
    image = tmp_path / "xbfs.bin"
    image.write_bytes(b"\x01" * 3000 + b"\x1a" * 40)
    result = run_cli("xbee-fs", image, "-o", tmp_path / "fs.bin", "-v", "4109", "--json")
    assert result.code == 0, result.err
    warnings = json.loads(result.out)["warnings"]
    assert any("0x00004109" in w and "ATVR" in w for w in warnings)
    assert any("ends in 40 0x1A byte(s)" in w for w in warnings)
    assert any("does not end in .fsota" in w for w in warnings)


def test_signature_with_no_70_to_72_byte_form(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real (valid, 68-byte) signature with R < 2^240: refused unless allowed."""
    private = ec.derive_private_key(SHORT_SCALAR, ec.SECP256R1())
    from cryptography.hazmat.primitives import serialization

    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    monkeypatch.setenv("OTA_SIGNING_KEY", pem.decode())
    padded = xbee.pad(SHORT_RAW)
    private.public_key().verify(SHORT_SIGNATURE, padded, ec.ECDSA(hashes.SHA256()))

    def fixed(self: MemorySigner, digest: bytes) -> Signature:
        assert digest == hashlib.sha256(padded).digest()  # the streamed hash of the padded image
        return Signature.from_der(SHORT_SIGNATURE)

    monkeypatch.setattr(MemorySigner, "sign_digest", fixed)
    image = tmp_path / "xbfs.bin"
    image.write_bytes(SHORT_RAW)
    err = _fails(image, tmp_path)
    assert "the signature is 68 bytes and its (r, n-s) form 69; Digi asks for 70-72 bytes" in err
    assert "--allow-short-signature" in err
    data = _build(image, tmp_path / "short.fsota", "--allow-short-signature")
    assert data["signature_length"] == 68
    assert any("68-byte signature written with --allow-short-signature" in w for w in data["warnings"])  # type: ignore[attr-defined]
    blob = (tmp_path / "short.fsota").read_bytes()
    assert blob[62 + 2048 :] == SHORT_SIGNATURE


def test_69_byte_signature_is_replaced_by_its_twin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real 69-byte signature (short S) is written as its 71-byte (r, n-s) twin."""
    private = ec.derive_private_key(SHORT_SCALAR, ec.SECP256R1())
    from cryptography.hazmat.primitives import serialization

    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    monkeypatch.setenv("OTA_SIGNING_KEY", pem.decode())
    monkeypatch.setattr(MemorySigner, "sign_digest", lambda self, digest: Signature.from_der(SIGNATURE_69))
    image = tmp_path / "xbfs.bin"
    image.write_bytes(SHORT_RAW)
    data = _build(image, tmp_path / "fs.fsota")
    signature = (tmp_path / "fs.fsota").read_bytes()[62 + 2048 :]
    r, s = utils.decode_dss_signature(signature)
    assert (r, s) == (
        utils.decode_dss_signature(SIGNATURE_69)[0],
        P256_ORDER - utils.decode_dss_signature(SIGNATURE_69)[1],
    )
    assert len(signature) == 71
    private.public_key().verify(signature, xbee.pad(SHORT_RAW), ec.ECDSA(hashes.SHA256()))
    assert data["signature_form"] == "(r, n-s) form, to fit 70-72 bytes"
    assert data["warnings"] == []


# --- verify --public-key ---------------------------------------------------------------


def test_verify_public_key(env_key: KeyForms, image: Path, tmp_path: Path) -> None:
    out = tmp_path / "fs.fsota"
    _build(image, out)
    public = tmp_path / "public.pem"
    public.write_bytes(env_key.public_pem())
    fingerprint = public_keys.fingerprint(env_key.public)
    result = run_cli("verify", out, "--public-key", public)
    assert result.code == 0, result.out + result.err
    length = len(out.read_bytes()) - 62 - 6144
    assert (
        f"XBee file-system signature: valid (ECDSA P-256/SHA-256, {length}-byte DER, "
        f"key fingerprint {fingerprint}, public key {str(public)!r})" in result.out
    )
    fk_file = tmp_path / "fk.txt"
    fk_file.write_text(env_key.point().hex() + "\n")
    assert run_cli("verify", out, "--public-key", fk_file).code == 0
    # without --public-key, verify does not mention signatures
    plain = json.loads(run_cli("verify", out, "--json").out)
    assert "signature" not in plain


def test_verify_public_key_rejects_wrong_key_and_tampering(
    env_key: KeyForms, image: Path, tmp_path: Path
) -> None:
    out = tmp_path / "fs.fsota"
    _build(image, out)
    other = new_key()
    wrong = tmp_path / "other.pem"
    wrong.write_bytes(other.public_pem())
    result = run_cli("verify", out, "--public-key", wrong, "--json")
    assert result.code == 1
    report = json.loads(result.out)
    assert report["valid"] is False
    assert report["signature"].startswith("invalid: the ")
    assert (
        f"does not verify with key fingerprint {public_keys.fingerprint(other.public)}" in report["signature"]
    )
    assert report["errors"] == [report["signature"].removeprefix("invalid: ")]
    right = tmp_path / "public.pem"
    right.write_bytes(env_key.public_pem())
    blob = bytearray(out.read_bytes())
    blob[62 + 100] ^= 0x01
    tampered = tmp_path / "tampered.fsota"
    tampered.write_bytes(blob)
    assert run_cli("verify", tampered, "--public-key", right).code == 1


def test_verify_public_key_input_errors(env_key: KeyForms, image: Path, tmp_path: Path) -> None:
    out = tmp_path / "fs.fsota"
    _build(image, out)
    private = tmp_path / "private.pem"
    private.write_bytes(env_key.pem())
    result = run_cli("verify", out, "--public-key", private)
    assert result.code == 2
    assert f"--public-key {str(private)!r}: is a private key; give the public key" in result.err
    assert env_key.scalar_hex() not in result.err
    assert "PRIVATE" not in result.out
    result = run_cli("verify", out, "--public-key", tmp_path / "none.pem")
    assert result.code == 2
    assert "file does not exist" in result.err


def test_verify_public_key_on_a_file_without_a_signature(env_key: KeyForms, tmp_path: Path) -> None:
    public = tmp_path / "public.pem"
    public.write_bytes(env_key.public_pem())
    plain = tmp_path / "plain.ota"
    assert (
        run_cli("zbota", "-o", plain, "-m", "0x101E", "-i", "0x100", "-v", "1", "-t", "0x0000:2048").code == 0
    )
    result = run_cli("verify", plain, "--public-key", public, "--json")
    assert result.code == 1
    assert json.loads(result.out)["signature"].startswith(
        "none: the file carries no XBee file-system signature: its 2048-byte upgrade image"
    )
    # An unsigned GBL upgrade image (the vendor example's) is no signature either, not a bad one.
    vendor = run_cli("verify", ROOT / "examples" / "vendor" / "vendor.ota", "--public-key", public, "--json")
    assert vendor.code == 1
    assert json.loads(vendor.out)["signature"].startswith("none: the GBL at offset 66 carries no signature")
    nothing = tmp_path / "nothing.ota"
    assert (
        run_cli("zbota", "-o", nothing, "-m", "0x101E", "-i", "0x100", "-v", "1", "-t", "0xf000:10").code == 0
    )
    result = run_cli("verify", nothing, "--public-key", public, "--json")
    assert (
        json.loads(result.out)["signature"] == "invalid: no upgrade image (tag 0x0000) holds a signed image"
    )


def test_expect_public_key_pins_the_in_memory_key(env_key: KeyForms, image: Path, tmp_path: Path) -> None:
    right, wrong = tmp_path / "right.pem", tmp_path / "wrong.pem"
    right.write_bytes(env_key.public_pem())
    wrong.write_bytes(new_key().public_pem())
    data = _build(image, tmp_path / "ok.fsota", "--expect-public-key", right)
    assert data["reproducible"] is True
    _build(image, tmp_path / "fk.fsota", "--expect-public-key", env_key.point().hex().upper())
    err = _fails(image, tmp_path, "--expect-public-key", wrong)
    assert err.startswith(
        "ota-action xbee-fs: error: --expect-public-key: environment variable OTA_SIGNING_KEY holds the key "
        f"with fingerprint {public_keys.fingerprint(env_key.public)}, not the expected key"
    )
    private = tmp_path / "private.pem"
    private.write_bytes(env_key.pem())
    assert "is a private key; give the public key" in _fails(image, tmp_path, "--expect-public-key", private)
    assert env_key.scalar_hex() not in _fails(image, tmp_path, "--expect-public-key", private)
