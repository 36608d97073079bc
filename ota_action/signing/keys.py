"""Private keys from CI secrets and key files, for :class:`~.memory.MemorySigner`.

A key reaches us as the text of an environment variable (a CI secret) or as a file.
Secrets arrive mangled in the ways CI systems mangle them: CRLF line ends, literal
``\\n`` sequences from flattened JSON, or a single line of base64 (GitLab can mask only
that).  :func:`decode_key_material` undoes those, :func:`load_private_key` turns the
bytes into a P-256 key or raises an :class:`InputError` that names the *source* and
the problem, never the key.

Nothing here writes, logs or formats key bytes.  ``cryptography``'s own exception
texts are never shown (they are replaced by our messages and chained ``from None``),
so no library message can carry key material to a user or a log.

Keys arrive as :class:`ota_action.secret.Secret` objects; the command layer reveals
one only to hand its bytes to :func:`load_private_key`, and the loaded key goes straight
into a :class:`~.memory.MemorySigner`.  Signing is the port's (:mod:`.port`), public keys
are :mod:`.public`'s.  What to *mask* in a CI log is the Action's concern
(:mod:`ota_action.edges.masking`).  ``cryptography`` is imported inside the functions, so
``ota-action --version`` never pays for it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from ota_action.errors import InputError
from ota_action.records import field, record

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey

    from ota_action.secret import Secret
    from ota_action.signing.algorithms import PrivateKey

CURVE_NAME = "secp256r1"
CURVE_TEXT = "P-256 (secp256r1 / prime256v1)"
ALGORITHM = "ECDSA P-256/SHA-256"

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")
# `openssl ecparam -genkey` without -noout writes the curve's parameters before the key.
_EC_PARAMETERS = re.compile(rb"-----BEGIN EC PARAMETERS-----.*?-----END EC PARAMETERS-----\s*", re.DOTALL)
_BASE64 = re.compile(r"[A-Za-z0-9+/=_-]+")
CURVE_NAMES = {
    "secp192r1": "P-192 (secp192r1)",
    "secp224r1": "P-224 (secp224r1)",
    "secp256k1": "secp256k1 (the Bitcoin curve)",
    "secp384r1": "P-384 (secp384r1)",
    "secp521r1": "P-521 (secp521r1)",
}


@record
class KeySource:
    """Where a key came from, as messages name it; ``field``/``value`` feed InputError."""

    description: str  # "environment variable OTA_SIGNING_KEY", "--key-file 'k.pem'", "input signing-key"
    field: str | None = None
    value: str | None = None
    # True when the door's name for ``field`` already says where the key came from (an
    # Action input), so the description is not repeated in front of the problem.
    named_by_field: bool = False

    @classmethod
    def of(cls, secret: Secret) -> KeySource:
        return cls(secret.source, field=secret.field, named_by_field=secret.named_by_field)

    def error(self, problem: str) -> InputError:
        if self.value is not None:
            return InputError(problem, field=self.field, value=self.value)
        if self.named_by_field:
            return InputError(problem, field=self.field)
        # An environment variable has no value worth showing (it is the secret): the
        # description names it, and ``field`` still tells the door which option is at fault.
        return InputError(f"{self.description}: {problem}", field=self.field)


@record(frozen=False)
class LoadedKey:
    """A private key ready to sign, plus anything worth a warning about how it was given."""

    key: EllipticCurvePrivateKey
    form: str  # e.g. "PEM (PKCS#8)", "base64 of DER (SEC1)"
    warnings: list[str] = field(default_factory=list)

    def __repr__(self) -> str:  # never let a debugger or log print key internals
        return f"LoadedKey(form={self.form!r})"

    def __reduce__(self) -> str | tuple[object, ...]:  # a pickle is a file the key would land in
        raise TypeError("a loaded private key cannot be pickled")


def decode_key_material(raw: bytes) -> tuple[bytes, str]:
    """Undo CI mangling: returns (PEM or DER bytes, how it was given).

    PEM text may have CRLF line ends or literal ``\\n`` sequences; anything without a
    PEM armour line that is one line of base64 is decoded (to PEM or DER); otherwise
    the bytes are taken as DER.
    """
    text = raw.strip()
    if b"-----BEGIN" in text:
        if b"\\n" in text:
            text = text.replace(b"\\r\\n", b"\n").replace(b"\\n", b"\n")
        text = text.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if b"PRIVATE KEY-----" in text:
            text = _EC_PARAMETERS.sub(b"", text).strip()
        return text + b"\n", "PEM"
    try:
        ascii_text = text.decode("ascii")
    except UnicodeDecodeError:
        return bytes(raw), "DER"
    compact = "".join(ascii_text.split())
    if compact and _BASE64.fullmatch(compact):
        try:
            decoded = base64.b64decode(compact + "=" * (-len(compact) % 4), altchars=b"-_")
        except (binascii.Error, ValueError):
            decoded = b""
        if decoded:
            if b"-----BEGIN" in decoded:
                inner, _ = decode_key_material(decoded)
                return inner, "base64 of PEM"
            return decoded, "base64 of DER"
    return bytes(raw), "DER"


def pem_label(pem: bytes) -> str:
    match = _PEM_BLOCK.search(pem)
    return match.group(1).decode("ascii") if match else ""


def _describe_wrong_type(key: object) -> str | None:
    """Why ``key`` (a private key object) cannot sign XBee images, or None if it can."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(key, ec.EllipticCurvePrivateKey):
        name = key.curve.name
        if name == CURVE_NAME:
            return None
        found = CURVE_NAMES.get(name, name)
        return f"is an EC key on curve {found}; XBee3 file-system signing needs {CURVE_TEXT}"
    if isinstance(key, rsa.RSAPrivateKey):
        return f"is an RSA key ({key.key_size} bits); XBee3 file-system signing needs an EC {CURVE_TEXT} key"
    kind = type(key).__name__.removeprefix("_").replace("PrivateKey", "")
    return f"is a key of type {kind}; XBee3 file-system signing needs an EC {CURVE_TEXT} key"


def _is_public_key(material: bytes, pem: bool) -> bool:
    from cryptography.hazmat.primitives import serialization

    try:
        if pem:
            serialization.load_pem_public_key(material)
        else:
            serialization.load_der_public_key(material)
    except Exception:
        return False
    return True


def _needs_passphrase(loader: Callable[[bytes, bytes | None], object], material: bytes) -> bool:
    """True when ``material`` is an encrypted key (loading it without a password says so)."""
    try:
        loader(material, None)
    except TypeError:
        return True
    except Exception:
        return False
    return False


_KEY_FILE_SUFFIXES = (b".pem", b".der", b".key", b".p8", b".pk8")


def _not_a_key(raw: bytes) -> str:
    """The "not a key" problem, with the fix when the text is evidently a file name."""
    text = raw.strip()
    one_line = b"\n" not in text and len(text) < 256
    if one_line and (b"/" in text or b"\\" in text or text.lower().endswith(_KEY_FILE_SUFFIXES)):
        return (
            "is not a private key in PEM, DER or base64 form; it looks like a file name: give a key "
            "file with key-file (--key-file on the command line), the key text itself here"
        )
    return "is not a private key in PEM, DER or base64 form"


def load_private_key(
    raw: bytes,
    source: KeySource,
    *,
    passphrase: bytes | None = None,
    passphrase_source: str,
) -> LoadedKey:
    """Parse a P-256 private key from ``raw`` (any accepted form) or raise InputError.

    Every failure names ``source`` and what was found: no key material, not a key, a
    public key or certificate, an RSA / other-curve key, an encrypted key without a
    passphrase, a passphrase that does not decrypt it.
    """
    from cryptography.hazmat.primitives.asymmetric import ec

    key, form, warnings = _parse_private_key(raw, source, passphrase, passphrase_source)
    problem = _describe_wrong_type(key)
    if problem is not None:
        raise source.error(problem)
    if not isinstance(key, ec.EllipticCurvePrivateKey):  # pragma: no cover - _describe_wrong_type
        raise source.error("is not an EC private key")
    return LoadedKey(key, form, warnings)


@record(frozen=False)
class LoadedSigningKey:
    """A private key of any :mod:`.algorithms` type (MCUboot), and its algorithm."""

    key: PrivateKey
    algorithm: str
    form: str
    warnings: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"LoadedSigningKey(algorithm={self.algorithm!r}, form={self.form!r})"

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a loaded private key cannot be pickled")


def load_signing_key(
    raw: bytes, source: KeySource, *, passphrase: bytes | None = None, passphrase_source: str, what: str
) -> LoadedSigningKey:
    """:func:`load_private_key` for any key type of :data:`.algorithms.ALL_TEXT` (the type is the
    key's own); ``what`` names the format in a refusal ("MCUboot signing")."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    from ota_action.signing import algorithms

    key, form, warnings = _parse_private_key(raw, source, passphrase, passphrase_source)
    algorithm = algorithms.algorithm_of(key)
    if algorithm is None or not isinstance(
        key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
    ):
        raise source.error(f"is {algorithms.describe(key)}; {what} takes {algorithms.ALL_TEXT} keys")
    return LoadedSigningKey(key, algorithm, form, warnings)


def _parse_private_key(
    raw: bytes, source: KeySource, passphrase: bytes | None, passphrase_source: str
) -> tuple[object, str, list[str]]:
    """The private key object in ``raw``, how it was given, and warnings; any key type."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    if not raw.strip():
        raise source.error("is empty")
    material, given_as = decode_key_material(raw)
    pem = b"-----BEGIN" in material
    label = pem_label(material) if pem else ""
    if label in ("PUBLIC KEY", "EC PUBLIC KEY", "RSA PUBLIC KEY") or (
        not pem and _is_public_key(material, pem=False)
    ):
        raise source.error("is a public key, not a private key; give the private key")
    if label == "CERTIFICATE":
        raise source.error("is a certificate, not a private key")
    if pem and label and "PRIVATE KEY" not in label:
        raise source.error(f"holds a PEM '{label}' block, not a private key")
    loader = serialization.load_pem_private_key if pem else serialization.load_der_private_key
    encrypted = label == "ENCRYPTED PRIVATE KEY" or b"Proc-Type: 4,ENCRYPTED" in material
    if not encrypted and not pem and passphrase is not None:
        encrypted = _needs_passphrase(loader, material)
    warnings: list[str] = []
    try:
        key = loader(material, passphrase)
    except TypeError:
        if passphrase is None:
            raise source.error(
                f"is an encrypted key and no passphrase was given; put it in {passphrase_source}"
            ) from None
        # A passphrase for a key that is not encrypted: harmless, but say so.
        try:
            key = loader(material, None)
        except Exception:
            raise source.error(_not_a_key(raw)) from None
        warnings.append(
            f"{passphrase_source} is set but the key is not encrypted; the passphrase was ignored"
        )
    except ValueError:
        if encrypted and passphrase is not None:
            raise source.error(
                f"the passphrase in {passphrase_source} does not decrypt this key "
                "(wrong passphrase, or a damaged key)"
            ) from None
        if encrypted:
            raise source.error(
                f"is an encrypted key and no passphrase was given; put it in {passphrase_source}"
            ) from None
        raise source.error(_not_a_key(raw)) from None
    except UnsupportedAlgorithm:
        raise source.error("holds a key of an algorithm or curve this tool cannot use") from None
    except Exception:
        raise source.error(_not_a_key(raw)) from None
    if pem:
        container = {
            "PRIVATE KEY": "PKCS#8",
            "ENCRYPTED PRIVATE KEY": "encrypted PKCS#8",
            "RSA PRIVATE KEY": "PKCS#1",
        }.get(label, "SEC1")
    else:
        container = "DER"
    return key, f"{given_as} ({container})" if pem else given_as, warnings


def generate_key() -> EllipticCurvePrivateKey:
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def private_pem(key: EllipticCurvePrivateKey) -> bytes:
    """Unencrypted PKCS#8 PEM, the form Digi's instructions produce (``private.pem``)."""
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
