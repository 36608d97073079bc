"""Public keys: the forms users hold them in, the XBee's FK form, and fingerprints.

A public key is not a secret, but it is what every check rests on: ``verify
--public-key`` and ``--expect-public-key`` load it here from PEM, DER or the 130 hex
digits of an XBee ``ATFK`` value, and refuse a private key given by mistake (without
repeating it).  The fingerprint is SHA-256 of the 65-byte uncompressed point, so it
equals ``sha256`` of the device's FK bytes (:func:`~.port.fingerprint`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ota_action.errors import InputError
from ota_action.signing.keys import CURVE_NAME, CURVE_NAMES, CURVE_TEXT, KeySource, pem_label
from ota_action.signing.port import fingerprint

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey

    from ota_action.signing.algorithms import PublicKey

__all__ = ["fingerprint", "load_public_key", "load_signing_public_key", "public_pem", "public_point"]


def public_point(public_key: EllipticCurvePublicKey) -> bytes:
    """The 65-byte uncompressed X9.62 point ``04 || X || Y``: what the XBee's FK holds."""
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def load_public_key(raw: bytes, source: KeySource) -> EllipticCurvePublicKey:
    """A P-256 public key from PEM, DER, or the 130 hex digits of an FK value."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    text = raw.strip()
    key: object
    try:
        if b"-----BEGIN" in text:
            label = pem_label(text)
            if "PRIVATE KEY" in label:
                raise source.error("is a private key; give the public key (ota-action keygen --public-out)")
            key = serialization.load_pem_public_key(text.replace(b"\r\n", b"\n"))
        elif re.fullmatch(rb"(0x)?[0-9a-fA-F]{130}", text):
            key = ec.EllipticCurvePublicKey.from_encoded_point(
                ec.SECP256R1(), bytes.fromhex(text.removeprefix(b"0x").decode("ascii"))
            )
        else:
            key = serialization.load_der_public_key(bytes(raw))
    except InputError:
        raise
    except Exception:
        raise source.error("is not a public key (PEM, DER, or the 130 hex digits of an FK value)") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise source.error(f"is not an EC public key; XBee3 file-system signatures use {CURVE_TEXT}")
    if key.curve.name != CURVE_NAME:
        found = CURVE_NAMES.get(key.curve.name, key.curve.name)
        raise source.error(f"is a key on curve {found}; XBee3 file-system signatures use {CURVE_TEXT}")
    return key


def load_signing_public_key(raw: bytes, source: KeySource, *, what: str) -> PublicKey:
    """A public key of any :data:`.algorithms.ALL_TEXT` type (MCUboot's): P-256 in every form
    :func:`load_public_key` reads, Ed25519 or RSA-2048/3072 in PEM or DER."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    from ota_action.signing import algorithms

    text = raw.strip()
    if re.fullmatch(rb"(0x)?[0-9a-fA-F]{130}", text):
        return load_public_key(raw, source)
    try:
        if b"-----BEGIN" in text:
            if "PRIVATE KEY" in pem_label(text):
                raise source.error("is a private key; give the public key (openssl pkey -pubout)")
            key: object = serialization.load_pem_public_key(text.replace(b"\r\n", b"\n"))
        else:
            key = serialization.load_der_public_key(bytes(raw))
    except InputError:
        raise
    except Exception:
        raise source.error("is not a public key (PEM or DER)") from None
    if algorithms.algorithm_of(key) is None or not isinstance(
        key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey
    ):
        raise source.error(f"is {algorithms.describe(key)}; {what} takes {algorithms.ALL_TEXT} keys")
    return key


def public_pem(public_key: EllipticCurvePublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
