"""The signing port: every format signs a SHA-256 digest through one small interface.

A key source (a PEM from a CI secret, a PKCS#11 token, an external command) implements
:class:`DigestSigner`; a format asks it for a :class:`Signature` and encodes the pair
its own way (:meth:`Signature.der`, :meth:`Signature.raw`).  A format never sees the
key, and a key source never sees the format.  Every signature is checked against
:meth:`DigestSigner.public_key` before it is used (:func:`sign_checked`), so a
misconfigured vault or token can never produce a file that does not verify, and
:func:`check_expected` compares that public key with the one the user pinned
(``--expect-public-key``) before any work is done.

Key sources: :mod:`.memory` (a key from a secret or a file), :mod:`.pkcs11` (a token),
:mod:`.command` (an external signer: a KMS CLI).  A source that holds a session or a
process environment has a ``close()``; the command layer calls it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ota_action.errors import InputError
from ota_action.records import record

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey

    from ota_action.signing.algorithms import PublicKey

DIGEST_SIZE = 32  # SHA-256
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@record
class Signature:
    """An ECDSA P-256 signature as the pair of integers every encoding starts from."""

    r: int
    s: int

    def der(self) -> bytes:
        """ASN.1 DER ``SEQUENCE { r INTEGER, s INTEGER }`` (XBee, MCUboot, X.509)."""
        from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

        return encode_dss_signature(self.r, self.s)

    def raw(self) -> bytes:
        """Fixed-size big-endian ``r ‖ s``, 64 bytes (GBL, PKCS#11, JOSE)."""
        return self.r.to_bytes(32, "big") + self.s.to_bytes(32, "big")

    def other_s(self) -> Signature:
        """The other valid signature for the same r: (r, n − s)."""
        return Signature(self.r, P256_ORDER - self.s)

    @classmethod
    def from_der(cls, der: bytes) -> Signature:
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        r, s = decode_dss_signature(der)
        return cls(r, s)

    @classmethod
    def from_raw(cls, raw: bytes) -> Signature:
        if len(raw) != 64:
            raise ValueError("a raw P-256 signature is 64 bytes")
        return cls(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))


class DigestSigner(Protocol):
    """A key source: signs SHA-256 digests with a P-256 key it may never reveal."""

    @property
    def description(self) -> str:
        """How messages name the key source ("input signing-key", "PKCS#11 token 'ci'")."""
        ...

    @property
    def deterministic(self) -> bool:
        """True when the same digest always gives the same signature (RFC 6979)."""
        ...

    def public_key(self) -> EllipticCurvePublicKey:
        """The public half, for the check after every signature and for reports."""
        ...

    def sign_digest(self, digest: bytes) -> Signature:
        """The signature of a 32-byte SHA-256 digest."""
        ...


def verifies(public_key: PublicKey, signature: Signature, digest: bytes) -> bool:
    """True when ``signature`` is a valid signature of ``digest`` under ``public_key``
    (False for a key that is not EC: ``verify`` may be given Ed25519 or RSA keys for MCUboot)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils

    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        return False
    try:
        public_key.verify(signature.der(), digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    except (InvalidSignature, ValueError):
        return False
    return True


def fingerprint(public_key: EllipticCurvePublicKey) -> str:
    """SHA-256 (hex) of the 65-byte uncompressed point, so it matches ``sha256(FK bytes)``."""
    import hashlib

    from cryptography.hazmat.primitives import serialization

    point = public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return hashlib.sha256(point).hexdigest()


def check_expected(
    signer: DigestSigner | KeySigner, expected: PublicKey | None, *, field: str | None = None
) -> None:
    """Refuse a key source whose public key is not the one the user said to expect.

    Run before anything is read or written: a token or vault that names the wrong key
    is a usage error (exit 2), not a file signed by the development key.  Any key type
    (MCUboot's Ed25519 and RSA too): the fingerprints are :func:`.algorithms.fingerprint`'s,
    which for P-256 is :func:`fingerprint`.
    """
    if expected is None:
        return
    from ota_action.signing.algorithms import fingerprint as any_fingerprint

    have, want = any_fingerprint(signer.public_key()), any_fingerprint(expected)
    if have != want:
        raise InputError(
            f"{signer.description} holds the key with fingerprint {have}, not the expected "
            f"key {want}; check which key the key source names",
            field=field,
        )


def _unverified(what: str, signer: DigestSigner | KeySigner, key: str, field: str | None) -> InputError:
    return InputError(
        f"{what} from {signer.description} does not verify with the public key {key}: it signs "
        "with another key, or the digest was changed on the way; check that the key source "
        "names the key you meant",
        field=field,
    )


def sign_checked(signer: DigestSigner, digest: bytes, *, field: str | None = None) -> Signature:
    """Sign through any key source, and refuse a signature its own public key rejects."""
    if len(digest) != DIGEST_SIZE:
        raise ValueError("the signing port signs SHA-256 digests (32 bytes)")
    signature = signer.sign_digest(digest)
    if not verifies(signer.public_key(), signature, digest):
        raise _unverified("the signature", signer, fingerprint(signer.public_key()), field)
    return signature


# --- key sources of any algorithm (MCUboot: ECDSA P-256, Ed25519, RSA) -----------------


class KeySigner(Protocol):
    """A key source of any :mod:`.algorithms` key: signs SHA-256 digests, gives its public key.

    A sibling of :class:`DigestSigner`, not a widening of it: xbee-fs, gbl and build take
    P-256 only and encode its (r, s) pair three ways, so widening ``public_key()`` and
    ``sign_digest()`` to a union would make each narrow a case it can never receive.  The
    port is still one idea (*sign this SHA-256 digest; here is my public key; every
    signature checked before use*, :func:`sign_checked_key`); a P-256 DigestSigner serves
    as a KeySigner through :class:`P256KeySigner`, so no key source is written twice.
    """

    @property
    def description(self) -> str: ...

    @property
    def deterministic(self) -> bool:
        """True when the same digest always gives the same signature (RFC 6979, RFC 8032)."""
        ...

    @property
    def algorithm(self) -> str:
        """One of :data:`.algorithms.ALL_TEXT`, read from the key itself."""
        ...

    def public_key(self) -> PublicKey: ...

    def sign_digest(self, digest: bytes) -> bytes:
        """The signature of a 32-byte SHA-256 digest in the algorithm's own bytes (ECDSA: DER)."""
        ...


class P256KeySigner:
    """A P-256 :class:`DigestSigner` (a key in memory, a token, a command) as a :class:`KeySigner`."""

    __slots__ = ("_inner",)

    def __init__(self, inner: DigestSigner) -> None:
        self._inner = inner

    def __repr__(self) -> str:
        return f"P256KeySigner({self._inner!r})"

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a signer cannot be pickled")

    @property
    def description(self) -> str:
        return self._inner.description

    @property
    def deterministic(self) -> bool:
        return self._inner.deterministic

    @property
    def algorithm(self) -> str:
        from ota_action.signing.algorithms import ECDSA_P256

        return ECDSA_P256

    def public_key(self) -> PublicKey:
        return self._inner.public_key()

    def sign_digest(self, digest: bytes) -> bytes:
        return self._inner.sign_digest(digest).der()


def sign_checked_key(signer: KeySigner, digest: bytes, *, field: str | None = None) -> bytes:
    """:func:`sign_checked` for a key source of any algorithm: the signature's bytes, verified."""
    from ota_action.signing.algorithms import fingerprint as any_fingerprint
    from ota_action.signing.algorithms import verifies as any_verifies

    if len(digest) != DIGEST_SIZE:
        raise ValueError("the signing port signs SHA-256 digests (32 bytes)")
    signature = signer.sign_digest(digest)
    if not any_verifies(signer.public_key(), signature, digest):
        what = f"the {signer.algorithm} signature"
        raise _unverified(what, signer, any_fingerprint(signer.public_key()), field)
    return signature
