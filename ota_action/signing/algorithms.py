"""The key types a signature may be made with, and what each signature is in bytes.

XBee file systems and GBL sign with ECDSA P-256 only; MCUboot also takes Ed25519 and
RSA (imgtool's ``keys/ed25519.py`` and ``keys/rsa.py``, which bootutil checks):

* ECDSA P-256 over the SHA-256 digest of the image, DER-encoded (TLV 0x22 ``ECDSASIG``);
* Ed25519 (RFC 8032, deterministic) over the 32-byte SHA-256 digest *as the message*
  (not "pure" Ed25519 over the image), 64 bytes (TLV 0x24 ``ED25519``);
* RSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (random: not reproducible)
  over the same digest, as many bytes as the modulus: 256 for RSA-2048 (TLV 0x20
  ``RSA2048``), 384 for RSA-3072 (TLV 0x23 ``RSA3072``).

So every algorithm signs the SHA-256 digest, which keeps one signing port
(:mod:`.port`).  The key's algorithm is read from the key itself (:func:`algorithm_of`),
never from an option.  Fingerprints: P-256 keeps the XBee FK form's
(:func:`~.port.fingerprint`); an Ed25519 or RSA key's is SHA-256 of the bytes MCUboot
hashes into its ``KEYHASH`` TLV (Ed25519: DER SubjectPublicKeyInfo; RSA: DER PKCS#1),
so it equals the image's key hash.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import TypeAlias

    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey, EllipticCurvePublicKey
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

    PublicKey: TypeAlias = EllipticCurvePublicKey | Ed25519PublicKey | RSAPublicKey
    PrivateKey: TypeAlias = EllipticCurvePrivateKey | Ed25519PrivateKey | RSAPrivateKey

ECDSA_P256 = "ECDSA P-256"
ED25519 = "Ed25519"
RSA_2048 = "RSA-2048"
RSA_3072 = "RSA-3072"
ALL_TEXT = "ECDSA P-256, Ed25519, RSA-2048 or RSA-3072"
# The fixed size of a signature, where it has one (a DER ECDSA signature varies: 8-72 bytes).
SIGNATURE_SIZE = {ED25519: 64, RSA_2048: 256, RSA_3072: 384}
RSA_SALT = 32  # bootutil accepts only a salt as long as the hash


def algorithm_of(key: object) -> str | None:
    """The algorithm of a public or private key, or None when it is none of :data:`ALL_TEXT`."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return ECDSA_P256 if key.curve.name == "secp256r1" else None
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return ED25519
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return {2048: RSA_2048, 3072: RSA_3072}.get(key.key_size)
    return None


def describe(key: object) -> str:
    """What a key is, for a refusal: "an RSA key of 4096 bits", "an EC key on curve secp384r1"."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return f"an EC key on curve {key.curve.name}"
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return f"an RSA key of {key.key_size} bits"
    kind = type(key).__name__.removeprefix("_").replace("PrivateKey", "").replace("PublicKey", "")
    return f"a key of type {kind}"


def verifies(public_key: PublicKey, signature: bytes, digest: bytes) -> bool:
    """True when ``signature`` (the algorithm's own bytes) signs the SHA-256 ``digest``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        elif isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, digest)
        elif isinstance(public_key, rsa.RSAPublicKey):
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=RSA_SALT)
            public_key.verify(signature, digest, pss, utils.Prehashed(hashes.SHA256()))
        else:  # pragma: no cover - the type says it cannot be
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def mcuboot_public_bytes(public_key: PublicKey) -> bytes:
    """The public key as imgtool embeds and hashes it (``get_public_bytes``)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if isinstance(public_key, rsa.RSAPublicKey):
        return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def fingerprint(public_key: PublicKey) -> str:
    """P-256: SHA-256 of the FK point (as ever); Ed25519/RSA: SHA-256 of MCUboot's key bytes."""
    import hashlib

    from cryptography.hazmat.primitives.asymmetric import ec

    from ota_action.signing import port

    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return port.fingerprint(public_key)
    return hashlib.sha256(mcuboot_public_bytes(public_key)).hexdigest()
