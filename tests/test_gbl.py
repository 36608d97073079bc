"""GBL3 building (issue 24) against Simplicity Commander, the independent oracle.

Each file ota-action builds is parsed by ``commander gbl3 parse`` (from the PyPI package
``silabs-pycommander``; offline), which writes the application back out as S-record; the
S-record is turned into binary by ``srec_cat`` and compared with what went in.  Commander
decompresses, decrypts with its own key file, and checks our signature with ``--verify``.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ota_action.errors import FormatError, InputError
from ota_action.formats.gbl import Compression, DigestSign, build_gbl, encryption_nonce, program_data
from ota_action.formats.zigbee.payload import identify_payload
from ota_action.signing.memory import MemorySigner
from ota_action.signing.port import sign_checked
from tests.conftest import need_tool

ADDRESS = 0x08006000
DATA = bytes((i * 13 + (i >> 8)) & 0xFF for i in range(20_000))
AES_KEY = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
DEVICE = "EFR32MG21A010F1024IM32"


def commander() -> str:
    found = shutil.which("pycommander-cli")
    if found is None:  # the venv's own, when the tests run without it activated
        import sys

        found = str(Path(sys.executable).with_name("pycommander-cli"))
    return found


def parse(tmp_path: Path, gbl: bytes, *extra: str) -> tuple[subprocess.CompletedProcess[str], bytes | None]:
    path = tmp_path / "in.gbl"
    path.write_bytes(gbl)
    app = tmp_path / "app.s37"
    app.unlink(missing_ok=True)
    done = subprocess.run(
        [commander(), "gbl3", "parse", str(path), "--app", str(app), "-d", DEVICE, *extra],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if not app.exists():
        return done, None
    binary = tmp_path / "app.bin"
    srec = need_tool("srec_cat")
    subprocess.run(
        [srec, str(app), "-offset", f"-{ADDRESS:#x}", "-o", str(binary), "-binary"], check=True, timeout=60
    )
    return done, binary.read_bytes()


def signer() -> tuple[DigestSign, ec.EllipticCurvePrivateKey]:
    """The signing port's checked signature over a MemorySigner, as the command binds it."""
    key = ec.derive_private_key(0x5EED, ec.SECP256R1())
    memory = MemorySigner(key, description="test key")

    def sign(digest: bytes) -> tuple[int, int]:
        signature = sign_checked(memory, digest, field="sign")
        return signature.r, signature.s

    return sign, key


def public_pem(tmp_path: Path, key: ec.EllipticCurvePrivateKey) -> Path:
    path = tmp_path / "pub.pem"
    path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


def aes_key_file(tmp_path: Path, key: bytes = AES_KEY) -> Path:
    path = tmp_path / "aes.txt"
    path.write_text(f"TOKEN_MFG_SECURE_BOOTLOADER_KEY: {key.hex().upper()}\n")
    return path


@pytest.mark.parametrize("compression", [None, Compression.LZMA, Compression.LZ4])
def test_commander_reads_back_what_went_in(tmp_path: Path, compression: Compression | None) -> None:
    gbl = build_gbl([(ADDRESS, DATA)], compression=compression)
    done, app = parse(tmp_path, gbl)
    assert done.returncode == 0, done.stdout + done.stderr
    assert app == DATA
    if compression is not None:
        assert len(gbl) < len(build_gbl([(ADDRESS, DATA)]))


def test_encrypted_gbl_decrypts_in_commander(tmp_path: Path) -> None:
    gbl = build_gbl([(ADDRESS, DATA)], compression=Compression.LZMA, encrypt_key=AES_KEY)
    assert DATA[:64] not in gbl
    done, app = parse(tmp_path, gbl, "--decrypt", str(aes_key_file(tmp_path)))
    assert done.returncode == 0, done.stdout + done.stderr
    assert app == DATA
    # reproducible: the nonce comes from the key and the plaintext, not from chance
    assert build_gbl([(ADDRESS, DATA)], compression=Compression.LZMA, encrypt_key=AES_KEY) == gbl
    assert encryption_nonce(AES_KEY, b"a") != encryption_nonce(AES_KEY, b"b")


def test_signature_verifies_in_commander_and_a_wrong_key_fails(tmp_path: Path) -> None:
    sign, key = signer()
    gbl = build_gbl([(ADDRESS, DATA)], encrypt_key=AES_KEY, sign=sign)
    aes = aes_key_file(tmp_path)
    done, app = parse(tmp_path, gbl, "--verify", str(public_pem(tmp_path, key)), "--decrypt", str(aes))
    assert done.returncode == 0, done.stdout + done.stderr
    assert app == DATA
    other = ec.derive_private_key(0xBAD, ec.SECP256R1())
    done, _ = parse(tmp_path, gbl, "--verify", str(public_pem(tmp_path, other)), "--decrypt", str(aes))
    assert done.returncode != 0
    assert "Verification failed" in done.stdout + done.stderr


def test_our_reader_checks_the_gbl_we_built() -> None:
    import io

    sign, _ = signer()
    gbl = build_gbl([(ADDRESS, DATA)], compression=Compression.LZMA, sign=sign)
    payload = identify_payload(io.BytesIO(gbl), 0, len(gbl))
    assert (payload.format, payload.valid) == ("gbl", True)
    assert payload.details["version"] == "0x03000000"
    assert payload.details["type"] == 0x100  # the signed flag


def test_a_key_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        build_gbl([(ADDRESS, DATA)], encrypt_key=b"short")
    assert (caught.value.field, caught.value.message) == (
        "encrypt_key_env",
        "must hold a 16-byte AES-128 key",
    )
    with pytest.raises(InputError):
        build_gbl([])


# --- the gbl command ------------------------------------------------------------------


def _pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_gbl_command_signed_encrypted_compressed_verifies_in_commander(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import run_cli

    _, key = signer()
    firmware = tmp_path / "app.bin"
    firmware.write_bytes(DATA)
    monkeypatch.setenv("OTA_SIGNING_KEY", _pem(key))
    monkeypatch.setenv("GBL_AES_KEY", AES_KEY.hex())
    out = tmp_path / "dist" / "app.gbl"
    args: list[str | Path] = [
        "gbl",
        "-o",
        out,
        firmware,
        "--address",
        hex(ADDRESS),
        "--compress",
        "lz4",
        "--sign",
        "--json",
    ]
    result = run_cli(*args, "--encrypt-key-env", "GBL_AES_KEY")
    assert (result.code, result.err) == (0, "")
    report = json.loads(result.out)
    assert {k: report[k] for k in ("address", "image_size", "compression", "encrypted", "signed")} == {
        "address": f"0x{ADDRESS:08X}",
        "image_size": len(DATA),
        "compression": "lz4",
        "encrypted": True,
        "signed": True,
    }
    assert AES_KEY.hex() not in result.out
    aes = aes_key_file(tmp_path)
    done, app = parse(
        tmp_path, out.read_bytes(), "--verify", str(public_pem(tmp_path, key)), "--decrypt", str(aes)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert app == DATA


def test_gbl_command_takes_a_hex_file(tmp_path: Path) -> None:
    from intelhex import IntelHex

    from tests.conftest import run_cli

    hexfile = tmp_path / "app.hex"
    ih = IntelHex()
    ih.frombytes(DATA, offset=ADDRESS)
    ih.write_hex_file(str(hexfile))
    out = tmp_path / "app.gbl"
    result = run_cli("gbl", "-o", out, hexfile)
    assert (result.code, result.err) == (0, "")
    assert out.read_bytes() == build_gbl([(ADDRESS, DATA)])


@pytest.mark.parametrize(
    ("extra", "env", "message"),
    [
        ((), {}, "--address: is needed for a raw binary input"),
        (
            ("--address", "0", "--encrypt-key-env", "K"),
            {},
            "--encrypt-key-env: environment variable K is not set",
        ),
        (
            ("--address", "0", "--encrypt-key-env", "K"),
            {"K": "not-a-key-secret-value"},
            "--encrypt-key-env: environment variable K must hold a 16-byte AES-128 key as 32 hex digits",
        ),
        (
            ("--address", "0", "--key-file", "k.pem"),
            {},
            "--key-file: signs with this key only together with --sign",
        ),
        (("--address", "0", "--sign"), {"OTA_SIGNING_KEY": ""}, "--key-env: no signing key"),
    ],
)
def test_gbl_command_refusals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    from tests.conftest import run_cli

    monkeypatch.delenv("OTA_SIGNING_KEY", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    firmware = tmp_path / "app.bin"
    firmware.write_bytes(DATA)
    out = tmp_path / "app.gbl"
    result = run_cli("gbl", "-o", out, firmware, *extra)
    assert result.code == 2
    assert result.err.startswith(f"ota-action gbl: error: {message}"), result.err
    assert "not-a-key-secret-value" not in result.err + result.out
    assert not out.exists()


def test_zbota_on_a_gbl_equals_commander_ota_create(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    gbl = tmp_path / "app.gbl"
    gbl.write_bytes(build_gbl([(ADDRESS, DATA)], compression=Compression.LZMA))
    ours, theirs = tmp_path / "ours.ota", tmp_path / "theirs.ota"
    result = run_cli(
        "zbota",
        "-o",
        ours,
        "-m",
        "0x1002",
        "-i",
        "0x0001",
        "-v",
        "0x01020304",
        "-t",
        f"0x0000:{gbl}",
        "--string",
        "app",
    )
    assert result.code == 0
    done = subprocess.run(
        [
            commander(),
            "ota",
            "create",
            "--upgrade-image",
            str(gbl),
            "--manufacturer-id",
            "0x1002",
            "--image-type",
            "0x0001",
            "--firmware-version",
            "0x01020304",
            "--string",
            "app",
            "-o",
            str(theirs),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert ours.read_bytes() == theirs.read_bytes()


# --- verify --public-key on a GBL inside an OTA file ------------------------------------


def _wrapped(tmp_path: Path, gbl: bytes) -> Path:
    from tests.conftest import run_cli

    path = tmp_path / "app.gbl"
    path.write_bytes(gbl)
    out = tmp_path / "app.ota"
    assert run_cli("zbota", "-o", out, "-m", "0x1002", "-i", "1", "-v", "1", "-t", f"0x0000:{path}").code == 0
    return out


def test_verify_checks_the_gbl_signature(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    sign, key = signer()
    ota = _wrapped(tmp_path, build_gbl([(ADDRESS, DATA)], compression=Compression.LZMA, sign=sign))
    fingerprint = signing_fingerprint(key)
    result = run_cli("verify", ota, "--public-key", public_pem(tmp_path, key), "--json")
    report = json.loads(result.out)
    assert (result.code, report["signature"]) == (
        0,
        f"valid (GBL ECDSA P-256, raw r||s, key fingerprint {fingerprint}, "
        f"public key {str(tmp_path / 'pub.pem')!r})",
    )
    text = run_cli("inspect", ota).out
    assert "Payload: gbl at offset 62 (" in text
    assert "bytes), signed, lzma-compressed, CRC-32 0x" in text
    other = ec.derive_private_key(0xBAD, ec.SECP256R1())
    result = run_cli("verify", ota, "--public-key", public_pem(tmp_path, other), "--json")
    report = json.loads(result.out)
    assert result.code == 1
    assert [(f["code"], f["message"]) for f in report["findings"]] == [
        (
            "signature",
            "the signature of the GBL at offset 62 does not verify with key fingerprint "
            f"{signing_fingerprint(other)}",
        )
    ]


def test_verify_public_key_on_an_unsigned_gbl_is_invalid(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    _, key = signer()
    ota = _wrapped(tmp_path, build_gbl([(ADDRESS, DATA)]))
    result = run_cli("verify", ota, "--public-key", public_pem(tmp_path, key), "--json")
    assert result.code == 1
    assert json.loads(result.out)["errors"] == [
        "the GBL at offset 62 carries no signature (no signature tag 0xF70A0AF7): sign it with gbl --sign"
    ]
    assert json.loads(result.out)["signature"].startswith("none: ")  # none, not a bad signature


def signing_fingerprint(key: ec.EllipticCurvePrivateKey) -> str:
    from ota_action.signing import public as keys

    return keys.fingerprint(key.public_key())


# --- Commander's GBLs in ours ---------------------------------------------------------


def commander_app(tmp_path: Path) -> tuple[Path, bytes]:
    """A minimal application Commander accepts: a vector table whose word 13 points at
    Silicon Labs application properties (magic 13B779FA..., struct version 1.2)."""
    base = ADDRESS
    image = bytearray(b"\xff" * 0x1000)
    struct.pack_into("<II", image, 0, 0x20010000, base + 0x201)
    for word in range(2, 16):
        struct.pack_into("<I", image, 4 * word, base + 0x201)
    struct.pack_into("<I", image, 13 * 4, base + 0x100)
    properties = bytes.fromhex("13b779fac925ddb7adf3cfe0f1b614b8") + struct.pack("<III", 0x0201, 0, 0)
    properties += struct.pack("<III", 1, 0x00010203, 0) + bytes(16) + struct.pack("<II", 0, 0)
    image[0x100 : 0x100 + len(properties)] = properties
    image[0x200:0x210] = b"\x70\x47" * 8
    image[0x300:] = bytes((i * 7) & 0xFF for i in range(0x300, 0x1000))
    binary, s37 = tmp_path / "capp.bin", tmp_path / "capp.s37"
    binary.write_bytes(image)
    subprocess.run(
        [
            need_tool("srec_cat"),
            str(binary),
            "-binary",
            "-offset",
            hex(base),
            "-o",
            str(s37),
            "-motorola",
            "-address-length=4",
        ],
        check=True,
        timeout=60,
    )
    return s37, bytes(image)


def test_commanders_signed_encrypted_gbl_verifies_and_decrypts_in_ours(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    _, key = signer()
    pem = tmp_path / "key.pem"
    pem.write_text(_pem(key))
    s37, image = commander_app(tmp_path)
    out = tmp_path / "c.gbl"
    done = subprocess.run(
        [
            commander(),
            "gbl3",
            "create",
            str(out),
            "--app",
            str(s37),
            "--sign",
            str(pem),
            "--encrypt",
            str(aes_key_file(tmp_path)),
            "--compress",
            "lzma",
            "-d",
            DEVICE,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    gbl = out.read_bytes()
    assert program_data(gbl, key=AES_KEY) == [(ADDRESS, image)]
    ota = _wrapped(tmp_path, gbl)
    result = run_cli("verify", ota, "--public-key", public_pem(tmp_path, key))
    assert result.code == 0
    assert (
        f"GBL signature: valid (GBL ECDSA P-256, raw r||s, key fingerprint {signing_fingerprint(key)}, "
        f"public key {str(tmp_path / 'pub.pem')!r})" in result.out
    )
    assert "Payload: gbl at offset 62 (" in result.out
    assert "), signed, encrypted, CRC-32 0x" in result.out
    with pytest.raises(FormatError):
        program_data(gbl[:-1] + bytes([gbl[-1] ^ 1]), key=AES_KEY)


def test_data_past_the_address_space_and_no_data_are_refused() -> None:
    with pytest.raises(InputError) as caught:
        build_gbl([(0xFFFFFF00, bytes(0x200))])
    assert caught.value.field == "address"
    assert caught.value.message == "runs past the 32-bit address space: 512 bytes from 0xFFFFFF00"
    with pytest.raises(InputError):
        build_gbl([(0, b"")])


# --- bare .gbl files in inspect and verify ---------------------------------------------


def test_verify_and_inspect_read_a_bare_gbl(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    sign, key = signer()
    path = tmp_path / "app.gbl"
    path.write_bytes(build_gbl([(ADDRESS, DATA)], compression=Compression.LZMA, sign=sign))
    result = run_cli("verify", path, "--public-key", public_pem(tmp_path, key), "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert (report["valid"], report["gbl"]["format"], report["gbl"]["details"]["compression"]) == (
        True,
        "gbl",
        "lzma",
    )
    assert [t["tag"] for t in report["gbl"]["details"]["tags"]] == [
        "0x03A617EB",
        "0xF40A0AF4",
        "0xFD0707FD",
        "0xF70A0AF7",
        "0xFC0404FC",
    ]
    assert report["signature"].startswith(
        f"valid (GBL ECDSA P-256, raw r||s, key fingerprint {signing_fingerprint(key)}"
    )
    text = run_cli("inspect", path).out
    assert "GBL3 file: 5 tags, signed, lzma-compressed; CRC-32 0x" in text
    other = ec.derive_private_key(0xBAD, ec.SECP256R1())
    result = run_cli("verify", path, "--public-key", public_pem(tmp_path, other), "--json")
    assert result.code == 1
    assert [f["code"] for f in json.loads(result.out)["findings"]] == ["signature"]


def test_a_damaged_bare_gbl_is_invalid_in_verify_and_a_warning_in_inspect(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    data = bytearray(build_gbl([(ADDRESS, DATA)]))
    data[200] ^= 0x01
    path = tmp_path / "bad.gbl"
    path.write_bytes(data)
    result = run_cli("verify", path, "--json")
    assert result.code == 1
    findings = json.loads(result.out)["findings"]
    assert [(f["level"], f["code"]) for f in findings] == [("error", "payload-crc")]
    assert findings[0]["message"].startswith("the GBL file: GBL CRC-32 does not match: the end tag holds 0x")
    inspected = run_cli("inspect", path, "--json")
    assert inspected.code == 0
    assert [(f["level"], f["code"]) for f in json.loads(inspected.out)["findings"]] == [
        ("warning", "payload-crc")
    ]


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b":10000000000102030405060708090A0B0C0D0E0F78\n:00000001FF\n", "Intel HEX"),
        (b"S00600004844521B\nS31508000000000102030405060708090A0B0C0D0E0F93\n", "Motorola S-record"),
        (b"\x7fELF\x01\x01\x01" + bytes(60), "ELF"),
    ],
)
def test_text_firmware_named_bin_is_refused_not_embedded(tmp_path: Path, content: bytes, what: str) -> None:
    from tests.conftest import run_cli

    path = tmp_path / "app.bin"
    path.write_bytes(content)
    for command in (["gbl", "--address", "0x0"], ["mcuboot", "--pad-header"]):
        out = tmp_path / "out.bin"
        result = run_cli(command[0], "-o", out, path, *command[1:])
        assert result.code == 2
        # the one firmware-kind rule of every command (zbota tags, combine): a name that
        # contradicts the content is an error naming both
        assert f"INPUT '{path}': is named as raw binary (.bin) but holds {what}" in result.err, result.err
        assert not out.exists()
