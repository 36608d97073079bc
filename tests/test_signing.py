"""Key loading from every form a CI secret takes, signature forms, and secret masking."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, utils

from ota_action.commands.xbee_fs import fit_signature
from ota_action.edges import masking
from ota_action.errors import InputError
from ota_action.signing import keys as signing
from ota_action.signing import public
from ota_action.signing.memory import MemorySigner
from ota_action.signing.port import P256_ORDER, Signature, sign_checked, verifies
from tests.conftest import run_cli
from tests.xbee_keys import PASSPHRASE, KeyForms, b64, new_key

PKCS8 = serialization.PrivateFormat.PKCS8
SEC1 = serialization.PrivateFormat.TraditionalOpenSSL
ENV = signing.KeySource("environment variable OTA_SIGNING_KEY")
PASS_SOURCE = "environment variable OTA_SIGNING_KEY_PASSPHRASE"


@pytest.fixture(scope="module")
def key() -> KeyForms:
    return new_key()


def _load(raw: bytes | str, passphrase: str | None = None) -> signing.LoadedKey:
    data = raw.encode() if isinstance(raw, str) else raw
    return signing.load_private_key(
        data,
        ENV,
        passphrase=None if passphrase is None else passphrase.encode(),
        passphrase_source=PASS_SOURCE,
    )


def _good_forms(k: KeyForms) -> dict[str, tuple[bytes, str | None, str]]:
    pem = k.pem().decode()
    return {
        "pem": (pem.encode(), None, "PEM (PKCS#8)"),
        "pem without final newline": (pem.rstrip().encode(), None, "PEM (PKCS#8)"),
        "pem literal \\n": (pem.replace("\n", "\\n").encode(), None, "PEM (PKCS#8)"),
        "pem crlf": (pem.replace("\n", "\r\n").encode(), None, "PEM (PKCS#8)"),
        "pem indented, trailing spaces": (
            b"\n  " + pem.replace("\n", "  \n").encode(),
            None,
            "PEM (PKCS#8)",
        ),
        "base64 of pem": (b64(k.pem()).encode(), None, "base64 of PEM (PKCS#8)"),
        "base64 of pem, wrapped at 76": (
            base64.encodebytes(k.pem()),
            None,
            "base64 of PEM (PKCS#8)",
        ),
        "base64 of der": (b64(k.der()).encode(), None, "base64 of DER"),
        "sec1 pem": (k.pem(SEC1), None, "PEM (SEC1)"),
        "base64 of sec1 der": (b64(k.der(SEC1)).encode(), None, "base64 of DER"),
        "der pkcs8": (k.der(), None, "DER"),
        "der sec1": (k.der(SEC1), None, "DER"),
        "encrypted pkcs8 pem": (k.pem(password=PASSPHRASE), PASSPHRASE, "PEM (encrypted PKCS#8)"),
        "encrypted sec1 pem": (k.pem(SEC1, PASSPHRASE), PASSPHRASE, "PEM (SEC1)"),
        "encrypted pkcs8 der": (k.der(password=PASSPHRASE), PASSPHRASE, "DER"),
        "base64 of encrypted pem": (
            b64(k.pem(password=PASSPHRASE)).encode(),
            PASSPHRASE,
            "base64 of PEM (encrypted PKCS#8)",
        ),
    }


def test_every_accepted_form_loads_the_same_key(key: KeyForms) -> None:
    expected = key.key.private_numbers().private_value
    for name, (raw, passphrase, form) in _good_forms(key).items():
        loaded = _load(raw, passphrase)
        assert loaded.key.private_numbers().private_value == expected, name
        assert loaded.form == form, name
        assert loaded.warnings == [], name
        assert "Key" not in repr(loaded).replace("LoadedKey", ""), name


def test_passphrase_for_unencrypted_key_is_ignored_with_a_warning(key: KeyForms) -> None:
    loaded = _load(key.pem(), "not-needed")
    assert loaded.key.private_numbers().private_value == key.key.private_numbers().private_value
    assert loaded.warnings == [
        f"{PASS_SOURCE} is set but the key is not encrypted; the passphrase was ignored"
    ]


@pytest.fixture(scope="module")
def wrong_keys() -> dict[str, bytes]:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    p384 = ec.generate_private_key(ec.SECP384R1())
    k1 = ec.generate_private_key(ec.SECP256K1())
    ed = ed25519.Ed25519PrivateKey.generate()
    p256 = ec.generate_private_key(ec.SECP256R1())
    nopass = serialization.NoEncryption()
    enc = serialization.BestAvailableEncryption(PASSPHRASE.encode())
    pub = p256.public_key()
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return {
        "rsa": rsa_key.private_bytes(serialization.Encoding.PEM, PKCS8, nopass),
        "p384": p384.private_bytes(serialization.Encoding.PEM, PKCS8, nopass),
        "p384 base64 der": base64.b64encode(p384.private_bytes(serialization.Encoding.DER, PKCS8, nopass)),
        "secp256k1": k1.private_bytes(serialization.Encoding.PEM, SEC1, nopass),
        "ed25519": ed.private_bytes(serialization.Encoding.PEM, PKCS8, nopass),
        "public pem": pub.public_bytes(serialization.Encoding.PEM, spki),
        "public base64 der": base64.b64encode(pub.public_bytes(serialization.Encoding.DER, spki)),
        "encrypted pem": p256.private_bytes(serialization.Encoding.PEM, PKCS8, enc),
        "encrypted sec1": p256.private_bytes(serialization.Encoding.PEM, SEC1, enc),
        "encrypted der": p256.private_bytes(serialization.Encoding.DER, PKCS8, enc),
        "garbage": b"this is not a key at all",
        "garbage base64": base64.b64encode(b"\x30\x03\x02\x01\x01 nonsense"),
        "binary garbage": bytes(range(256)),
        "truncated pem": p256.private_bytes(serialization.Encoding.PEM, PKCS8, nopass)[:120],
        "certificate label": b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        "whitespace": b"  \n\t ",
    }


WRONG_CASES = [
    ("rsa", None, "is an RSA key (2048 bits); XBee3 file-system signing needs an EC P-256"),
    ("p384", None, "is an EC key on curve P-384 (secp384r1); XBee3 file-system signing needs P-256"),
    ("p384 base64 der", None, "is an EC key on curve P-384 (secp384r1)"),
    ("secp256k1", None, "is an EC key on curve secp256k1"),
    ("ed25519", None, "is a key of type Ed25519; XBee3 file-system signing needs an EC P-256"),
    ("public pem", None, "is a public key, not a private key"),
    ("public base64 der", None, "is a public key, not a private key"),
    ("encrypted pem", None, f"is an encrypted key and no passphrase was given; put it in {PASS_SOURCE}"),
    ("encrypted sec1", None, "is an encrypted key and no passphrase was given"),
    ("encrypted der", None, "is an encrypted key and no passphrase was given"),
    ("encrypted pem", "wrong", f"the passphrase in {PASS_SOURCE} does not decrypt this key"),
    ("encrypted sec1", "wrong", f"the passphrase in {PASS_SOURCE} does not decrypt this key"),
    ("encrypted der", "wrong", f"the passphrase in {PASS_SOURCE} does not decrypt this key"),
    ("garbage", None, "is not a private key in PEM, DER or base64 form"),
    ("garbage base64", None, "is not a private key in PEM, DER or base64 form"),
    ("binary garbage", None, "is not a private key in PEM, DER or base64 form"),
    ("truncated pem", None, "is not a private key in PEM, DER or base64 form"),
    ("certificate label", None, "is a certificate, not a private key"),
    ("whitespace", None, "is empty"),
]


@pytest.mark.parametrize(("name", "passphrase", "message"), WRONG_CASES)
def test_unusable_keys_are_refused_naming_the_source(
    wrong_keys: dict[str, bytes], name: str, passphrase: str | None, message: str
) -> None:
    with pytest.raises(InputError) as caught:
        _load(wrong_keys[name], passphrase)
    text = str(caught.value)
    assert text.startswith("environment variable OTA_SIGNING_KEY: "), text
    assert message in text
    # cryptography's exception is neither chained nor shown as context
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__


def test_file_source_errors_carry_field_and_path(wrong_keys: dict[str, bytes]) -> None:
    source = signing.KeySource("--key-file 'k.pem'", field="key_file", value="k.pem")
    with pytest.raises(InputError) as caught:
        signing.load_private_key(wrong_keys["public pem"], source, passphrase_source=PASS_SOURCE)
    assert (caught.value.field, caught.value.value) == ("key_file", "k.pem")
    assert caught.value.message == "is a public key, not a private key; give the private key"


# --- signatures ------------------------------------------------------------------------


def _sha(data: bytes) -> bytes:
    import hashlib

    return hashlib.sha256(data).digest()


def test_memory_signer_is_deterministic_rfc6979_and_verifies(key: KeyForms) -> None:
    signer = MemorySigner(key.key, description="test key")
    data = b"\xff" * 4096
    first, second = sign_checked(signer, _sha(data)), sign_checked(signer, _sha(data))
    assert first == second
    assert signer.deterministic
    assert sign_checked(signer, _sha(data + b"\x00")) != first
    key.public.verify(first.der(), data, ec.ECDSA(hashes.SHA256()))
    assert verifies(key.public, first, _sha(data))
    assert not verifies(key.public, first, _sha(data[:-1] + b"\xfe"))
    assert not verifies(key.public, Signature(1, 1), _sha(data))
    assert repr(signer) == "MemorySigner('test key')"


def test_rfc6979_matches_a_published_vector() -> None:
    # RFC 6979 A.2.5, P-256 with SHA-256, message "sample".
    private = ec.derive_private_key(
        0xC9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721, ec.SECP256R1()
    )
    signature = MemorySigner(private, description="rfc").sign_digest(_sha(b"sample"))
    r, s = signature.r, signature.s
    assert r == 0xEFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716
    assert s == 0xF7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8


def _der(r: int, s: int) -> bytes:
    return utils.encode_dss_signature(r, s)


def test_fit_signature_keeps_70_to_72_byte_signatures() -> None:
    der = _der(2**255 + 5, 2**254 + 7)  # 33 + 32 bytes -> 71
    assert len(der) == 71
    assert fit_signature(Signature.from_der(der)) == (der, "as signed")


def test_fit_signature_flips_s_when_that_fits() -> None:
    short = _der(2**254 + 5, 2**240 + 7)  # 32 + 31 -> 69 bytes
    assert len(short) == 69
    fitted = fit_signature(Signature.from_der(short))
    assert fitted is not None
    der, form = fitted
    assert form == "(r, n-s) form, to fit 70-72 bytes"
    r, s = utils.decode_dss_signature(der)
    assert (r, s) == (2**254 + 5, P256_ORDER - (2**240 + 7))
    assert len(der) == 71


def test_fit_signature_gives_up_when_r_is_very_short() -> None:
    assert fit_signature(Signature(2**230, 2**250)) is None


def test_other_s_form_is_an_equally_valid_signature(key: KeyForms) -> None:
    digest = _sha(b"xbee")
    signature = MemorySigner(key.key, description="k").sign_digest(digest)
    twin = signature.other_s()
    assert twin != signature
    assert verifies(key.public, twin, digest)
    key.public.verify(twin.der(), b"xbee", ec.ECDSA(hashes.SHA256()))
    assert twin.other_s() == signature
    assert Signature.from_raw(signature.raw()) == signature
    assert len(signature.raw()) == 64


# --- public keys -----------------------------------------------------------------------


def test_public_key_forms_and_fingerprint(key: KeyForms, tmp_path: Path) -> None:
    source = signing.KeySource("--public-key 'p'", field="public_key", value="p")
    der = key.public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    point = key.point()
    assert len(point) == 65
    assert point[0] == 4
    assert der[-65:] == point  # Digi: the FK is the last 65 bytes of the DER SubjectPublicKeyInfo
    for raw in (key.public_pem(), key.public_pem().replace(b"\n", b"\r\n"), der, point.hex().encode()):
        loaded = public.load_public_key(raw, source)
        assert public.public_point(loaded) == point
    import hashlib

    assert public.fingerprint(key.public) == hashlib.sha256(point).hexdigest()
    with pytest.raises(InputError, match="is a private key; give the public key"):
        public.load_public_key(key.pem(), source)
    with pytest.raises(InputError, match="is not a public key"):
        public.load_public_key(b"nonsense", source)
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    p384_pem = p384.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(InputError, match=r"is a key on curve P-384 \(secp384r1\)"):
        public.load_public_key(p384_pem, source)


# --- masking ---------------------------------------------------------------------------


def test_secret_forms_cover_every_encoding_of_a_pem_key(key: KeyForms) -> None:
    forms = set(masking.secret_forms(key.pem().decode()))
    secrets = key.secrets()
    for name, value in secrets.items():
        if name in ("passphrase",) or name.endswith(" der"):
            continue  # raw DER is binary; its hex and base64 forms are covered
        assert value.decode() in forms, name
    assert all("\n" not in f and "\r" not in f for f in forms)


@pytest.mark.parametrize(
    "variant", ["literal \\n", "base64 of pem", "base64 of der", "sec1 pem", "crlf", "base64 of sec1 der"]
)
def test_secret_forms_derive_the_scalar_from_every_secret_form(key: KeyForms, variant: str) -> None:
    pem = key.pem().decode()
    text = {
        "literal \\n": pem.replace("\n", "\\n"),
        "base64 of pem": b64(key.pem()),
        "base64 of der": b64(key.der()),
        "sec1 pem": key.pem(SEC1).decode(),
        "crlf": pem.replace("\n", "\r\n"),
        "base64 of sec1 der": b64(key.der(SEC1)),
    }[variant]
    forms = masking.secret_forms(text)
    assert key.scalar_hex() in forms
    assert b64(key.der()) in forms
    assert b64(key.pem()) in forms
    assert key.der(SEC1).hex() in forms
    if "\n" not in text.strip():
        assert text.strip() in forms  # the whole single-line value


def test_secret_forms_of_an_encrypted_key_mask_its_text(key: KeyForms) -> None:
    encrypted = key.pem(password=PASSPHRASE).decode()
    forms = masking.secret_forms(encrypted)
    body = [line for line in encrypted.splitlines() if not line.startswith("-----")]
    assert set(body) <= set(forms)
    assert b64(encrypted.encode()) in forms


@pytest.mark.parametrize(
    "text", ["", "   ", "\x00\xff garbage \ud800", "-----BEGIN PRIVATE KEY-----\n!!!\n", "QUJD", "\\n\\n"]
)
def test_secret_forms_never_raise(text: str) -> None:
    forms = masking.secret_forms(text)
    assert all(form and "\n" not in form for form in forms)
    for line in text.splitlines():
        if line.strip():
            assert line.strip() in forms


def test_secret_forms_of_a_passphrase() -> None:
    assert masking.secret_forms(PASSPHRASE) == [PASSPHRASE]
    assert masking.secret_forms("two\nlines\n") == ["two", "lines"]


def test_key_env_must_be_a_name_not_a_key(key: KeyForms, tmp_path: Path) -> None:
    image = tmp_path / "xbfs.bin"
    image.write_bytes(b"x" * 10)
    result = run_cli("xbee-fs", image, "-o", tmp_path / "o.fsota", "-v", "100D", "--key-env", "MII+/=")
    assert result.code == 2
    # a key pasted here by mistake is not echoed back
    assert result.err == (
        "ota-action xbee-fs: error: --key-env: must be the NAME of an environment variable "
        "(letters, digits, _), not its value\n"
    )
