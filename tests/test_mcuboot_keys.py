"""MCUboot signing with every key type bootutil checks (issue 24): ECDSA P-256, Ed25519, RSA-2048
and RSA-3072, from every key source, against imgtool's own command line as the oracle.

Ed25519 is deterministic (RFC 8032) and imgtool signs the same digest, so our Ed25519 image
must equal ``imgtool sign``'s byte for byte; RSA-PSS has a random salt, so an RSA image is
compared up to the signature's value and checked whole by ``imgtool verify``. Keys come
from openssl and pkcs11-tool (SoftHSM2), never from the code under test; the signer
command is openssl ``pkeyutl``.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests import softhsm
from tests.conftest import need_tool, run_cli
from tests.test_mcuboot import APP, imgtool, reference, same_but_signature, tlvs

# key type -> (openssl genpkey arguments, signature TLV, signature length or None, reproducible)
TYPES = {
    "Ed25519": (["-algorithm", "ed25519"], 0x24, 64, True),
    "RSA-2048": (["-algorithm", "rsa", "-pkeyopt", "rsa_keygen_bits:2048"], 0x20, 256, False),
    "RSA-3072": (["-algorithm", "rsa", "-pkeyopt", "rsa_keygen_bits:3072"], 0x23, 384, False),
}


def openssl(*args: str | Path, stdin: bytes | None = None) -> bytes:
    done = subprocess.run(["openssl", *map(str, args)], input=stdin, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


@pytest.fixture(scope="module")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One private key (PKCS#8 PEM) and its public key of each type, made by openssl."""
    need_tool("openssl")
    root = tmp_path_factory.mktemp("mcuboot-keys")
    for name, (args, *_rest) in TYPES.items():
        openssl("genpkey", *args, "-out", root / f"{name}.pem")
        openssl("pkey", "-in", root / f"{name}.pem", "-pubout", "-out", root / f"{name}.pub")
    openssl("genpkey", "-algorithm", "rsa", "-pkeyopt", "rsa_keygen_bits:1024", "-out", root / "rsa1024.pem")
    openssl("genpkey", "-algorithm", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", root / "p384.pem")
    openssl("genpkey", "-algorithm", "ed448", "-out", root / "ed448.pem")
    return root


def sign(tmp_path: Path, *extra: str | Path, name: str = "ours.bin") -> tuple[Path, dict[str, object]]:
    app = tmp_path / "app.bin"
    app.write_bytes(APP)
    out = tmp_path / name
    result = run_cli(
        "mcuboot", "-o", out, app, "--pad-header", "--image-version", "1.4.0+2", "--sign", *extra, "--json"
    )
    assert (result.code, result.err) == (0, ""), result.err
    return out, json.loads(result.out)


def checks_in_imgtool(image: Path, public: Path) -> None:
    done = imgtool("verify", "-k", public, image)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Image was correctly validated" in done.stdout


@pytest.mark.parametrize("kind", TYPES)
def test_a_key_file_of_each_type_signs_as_imgtool_does(tmp_path: Path, key_dir: Path, kind: str) -> None:
    _args, tlv, length, reproducible = TYPES[kind]
    private, public = key_dir / f"{kind}.pem", key_dir / f"{kind}.pub"
    image, data = sign(tmp_path, "--key-file", private)
    checks_in_imgtool(image, public)
    assert (data["signature_algorithm"], data["reproducible"]) == (kind, reproducible)
    found = tlvs(image.read_bytes())
    assert [t[0] for t in found] == [0x10, 0x01, tlv]  # SHA256, KEYHASH, the key type's signature
    assert found[-1][2] == length
    # the fingerprint is the image's KEYHASH: SHA-256 of the key bytes MCUboot hashes
    keyhash = next(image.read_bytes()[at : at + n] for t, at, n in found if t == 0x01)
    assert data["public_key_fingerprint"] == keyhash.hex()
    theirs = reference(tmp_path, "--version", "1.4.0+2", "--key", private)
    if reproducible:
        assert image.read_bytes() == theirs  # RFC 8032: imgtool's bytes, exactly
        again, _ = sign(tmp_path, "--key-file", private, name="again.bin")
        assert again.read_bytes() == image.read_bytes()
    else:
        same_but_signature_of(image.read_bytes(), theirs, tlv)
    # the wrong key of the same type is refused by imgtool
    other = next(k for k in TYPES if k != kind and TYPES[k][1] != tlv)
    assert imgtool("verify", "-k", key_dir / f"{other}.pub", image).returncode != 0


def same_but_signature_of(ours_: bytes, theirs: bytes, tlv: int) -> None:
    """:func:`same_but_signature` for a fixed-size signature TLV other than ECDSA's."""
    assert len(ours_) == len(theirs)
    ours_tlvs, their_tlvs = tlvs(ours_), tlvs(theirs)
    assert [t[:3] for t in ours_tlvs] == [t[:3] for t in their_tlvs]
    at, n = next((a, n) for t, a, n in ours_tlvs if t == tlv)
    assert ours_[:at] == theirs[:at]
    assert ours_[at + n :] == theirs[at + n :]
    assert ours_[at : at + n] != theirs[at : at + n]  # a fresh salt, a fresh signature
    if tlv == 0x22:  # pragma: no cover - P-256 is test_mcuboot's
        same_but_signature(ours_, theirs)


@pytest.mark.parametrize("kind", TYPES)
def test_the_key_in_a_secret_of_each_type_signs_and_is_never_shown(
    tmp_path: Path, key_dir: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pem = (key_dir / f"{kind}.pem").read_text()
    monkeypatch.setenv("OTA_SIGNING_KEY", pem)
    app = tmp_path / "app.bin"
    app.write_bytes(APP)
    result = run_cli("mcuboot", "-o", tmp_path / "o.bin", app, "--pad-header", "--sign")
    assert result.code == 0, result.err
    checks_in_imgtool(tmp_path / "o.bin", key_dir / f"{kind}.pub")
    body = "".join(pem.splitlines()[1:-1])
    for channel in (result.out, result.err):
        assert body[:40] not in channel
        assert body[-40:] not in channel


SIGNER = {
    "Ed25519": "openssl pkeyutl -sign -inkey {key} -rawin -in {digest}",
    "RSA-2048": (
        "openssl pkeyutl -sign -inkey {key} -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss "
        "-pkeyopt rsa_pss_saltlen:32 -in {digest}"
    ),
}


@pytest.mark.parametrize("kind", SIGNER)
@pytest.mark.parametrize("encoding", ["raw", "base64"])
def test_a_signer_command_of_each_type_takes_its_type_from_the_expected_key(
    tmp_path: Path, key_dir: Path, kind: str, encoding: str
) -> None:
    """openssl stands in for a KMS: the digest from OTA_SIGN_DIGEST_BASE64, the signature out."""
    digest = tmp_path / "digest.bin"
    sign_line = SIGNER[kind].format(
        key=shlex.quote(str(key_dir / f"{kind}.pem")), digest=shlex.quote(str(digest))
    )
    encode = "" if encoding == "raw" else " | openssl base64 -A"
    command = (
        f'printf "%s\\n" "$OTA_SIGN_DIGEST_BASE64" | openssl base64 -d > {shlex.quote(str(digest))} && '
        f"{sign_line}{encode}"
    )
    public = key_dir / f"{kind}.pub"
    image, data = sign(tmp_path, "--sign-command", command, "--expect-public-key", public)
    checks_in_imgtool(image, public)
    assert (data["signature_algorithm"], data["reproducible"]) == (kind, False)
    # a command holding another key of the type is refused, naming the expected key
    other = key_dir / ("RSA-3072.pub" if kind.startswith("RSA") else "RSA-2048.pub")
    app = tmp_path / "app.bin"
    result = run_cli(
        "mcuboot",
        "-o",
        tmp_path / "x.bin",
        app,
        "--pad-header",
        "--sign",
        "--sign-command",
        command,
        "--expect-public-key",
        other,
    )
    assert result.code == 2
    assert not (tmp_path / "x.bin").exists()
    assert "sign-command" in result.err or "sign_command" in result.err


def test_a_signer_command_needs_the_expected_key(tmp_path: Path) -> None:
    app = tmp_path / "app.bin"
    app.write_bytes(APP)
    result = run_cli(
        "mcuboot", "-o", tmp_path / "o.bin", app, "--pad-header", "--sign", "--sign-command", "true"
    )
    assert result.code == 2
    assert "--expect-public-key" in result.err
    assert "Ed25519" in result.err
    assert not (tmp_path / "o.bin").exists()


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("rsa1024.pem", "an RSA key of 1024 bits"),
        ("p384.pem", "an EC key on curve secp384r1"),
        ("ed448.pem", "a key of type Ed448"),
    ],
)
def test_a_key_mcuboot_cannot_check_is_refused_naming_the_option(
    tmp_path: Path, key_dir: Path, name: str, words: str
) -> None:
    app = tmp_path / "app.bin"
    app.write_bytes(APP)
    result = run_cli(
        "mcuboot", "-o", tmp_path / "o.bin", app, "--pad-header", "--sign", "--key-file", key_dir / name
    )
    assert result.code == 2, result.err
    assert "--key-file" in result.err
    assert words in result.err
    assert "ECDSA P-256, Ed25519, RSA-2048 or RSA-3072" in result.err
    assert "Traceback" not in result.err
    assert not (tmp_path / "o.bin").exists()


@pytest.mark.parametrize("kind", TYPES)
def test_verify_checks_imgtools_signature_of_each_type_inside_an_ota_file(
    tmp_path: Path, key_dir: Path, kind: str
) -> None:
    signed = tmp_path / "imgtool.signed"
    signed.write_bytes(reference(tmp_path, "--version", "2.0.0+0", "--key", key_dir / f"{kind}.pem"))
    ota = tmp_path / "app.ota"
    made = run_cli("zbota", "-o", ota, "-m", "0x127F", "-i", "1", "-v", "1", "-t", f"0x0000:{signed}")
    assert made.code == 0, made.err
    result = run_cli("verify", ota, "--public-key", key_dir / f"{kind}.pub")
    assert result.code == 0, result.out
    assert f"valid (MCUboot {kind}, key fingerprint " in result.out
    # the key of another type is no match: the finding names the signature's type
    other = "Ed25519" if kind != "Ed25519" else "RSA-2048"
    result = run_cli("verify", ota, "--public-key", key_dir / f"{other}.pub", "--json")
    assert result.code == 1
    body = json.loads(result.out)
    assert [f["code"] for f in body["findings"]] == ["signature"]
    assert f"({kind}) verifies with none of the public keys given" in body["errors"][0]
    # one flipped signature byte is invalid with the right key
    data = bytearray(ota.read_bytes())
    data[-5] ^= 0x01
    ota.write_bytes(data)
    result = run_cli("verify", ota, "--public-key", key_dir / f"{kind}.pub", "--json")
    assert result.code == 1
    assert [f["code"] for f in json.loads(result.out)["findings"]] == ["signature"]


# --- keys in a token: SoftHSM2, keys made by pkcs11-tool ----------------------------------

MCUBOOT_TOKEN, TOKEN_KEYS = softhsm.MCUBOOT, softhsm.MCUBOOT_KEYS


@pytest.fixture
def token(tmp_path_factory: pytest.TempPathFactory) -> softhsm.SoftHsm:
    need_tool("softhsm2-util")
    need_tool("pkcs11-tool")
    return softhsm.shared_softhsm(tmp_path_factory.mktemp("softhsm"))


def token_public(hsm: softhsm.SoftHsm, kind: str, tmp_path: Path) -> Path:
    """The token's public key as pkcs11-tool reads it back, in PEM for imgtool."""
    der = hsm.public_key_der(MCUBOOT_TOKEN, kind)
    # OpenSC writes an EdDSA public key as PEM, the others as DER SubjectPublicKeyInfo.
    pem = der.startswith(b"-----BEGIN")
    key = serialization.load_pem_public_key(der) if pem else serialization.load_der_public_key(der)
    assert kind != "Ed25519" or isinstance(key, ed25519.Ed25519PublicKey)
    path = tmp_path / f"{kind}-token.pub"
    path.write_bytes(
        key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return path


@pytest.mark.parametrize("kind", TOKEN_KEYS)
def test_a_token_key_of_each_type_signs_and_the_type_is_the_tokens(
    tmp_path: Path, token: softhsm.SoftHsm, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTA_PKCS11_PIN", softhsm.PIN)
    public = token_public(token, kind, tmp_path)
    image, data = sign(
        tmp_path,
        "--key-uri",
        softhsm.uri(MCUBOOT_TOKEN, kind),
    )
    checks_in_imgtool(image, public)
    assert data["signature_algorithm"] == kind
    assert data["reproducible"] is (kind == "Ed25519")
    if kind == "Ed25519":
        again, _ = sign(tmp_path, "--key-uri", softhsm.uri(MCUBOOT_TOKEN, kind), name="again.bin")
        assert again.read_bytes() == image.read_bytes()
