"""Key source 1: a private key held in memory (from a CI secret, ``--key-env`` or a file).

Signatures are RFC 6979 deterministic, so the same key and digest always give the same
bytes (reproducible builds).  :class:`KeyMemorySigner` holds MCUboot's other key types
(Ed25519, RSA).  Loading the key from its text forms is :mod:`.keys`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ota_action.signing.algorithms import ED25519, RSA_SALT
from ota_action.signing.port import Signature

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey, EllipticCurvePublicKey
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    from ota_action.signing.algorithms import PublicKey


class MemorySigner:
    """A :class:`~ota_action.signing.port.DigestSigner` over a key in this process."""

    __slots__ = ("_description", "_key")

    def __init__(self, key: EllipticCurvePrivateKey, *, description: str) -> None:
        self._key = key
        self._description = description

    def __repr__(self) -> str:
        return f"MemorySigner({self._description!r})"

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a signer holding a private key cannot be pickled")

    @property
    def description(self) -> str:
        return self._description

    @property
    def deterministic(self) -> bool:
        return True

    def public_key(self) -> EllipticCurvePublicKey:
        return self._key.public_key()

    def sign_digest(self, digest: bytes) -> Signature:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, utils

        der = self._key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256()), deterministic_signing=True))
        return Signature.from_der(der)


class KeyMemorySigner:
    """A :class:`~ota_action.signing.port.KeySigner` over an Ed25519 or RSA key in this process.

    Ed25519 is deterministic (RFC 8032); RSA-PSS draws a random salt, so an RSA-signed
    image differs on every run (``deterministic`` is False) and still verifies.
    """

    __slots__ = ("_algorithm", "_description", "_key")

    def __init__(self, key: Ed25519PrivateKey | RSAPrivateKey, *, algorithm: str, description: str) -> None:
        self._key = key
        self._algorithm = algorithm
        self._description = description

    def __repr__(self) -> str:
        return f"KeyMemorySigner({self._algorithm!r}, {self._description!r})"

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a signer holding a private key cannot be pickled")

    @property
    def description(self) -> str:
        return self._description

    @property
    def algorithm(self) -> str:
        return self._algorithm

    @property
    def deterministic(self) -> bool:
        return self._algorithm == ED25519

    def public_key(self) -> PublicKey:
        return self._key.public_key()

    def sign_digest(self, digest: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ed25519, padding, utils

        if isinstance(self._key, ed25519.Ed25519PrivateKey):
            return self._key.sign(digest)  # the digest is the message (imgtool's non-pure Ed25519)
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=RSA_SALT)
        return self._key.sign(digest, pss, utils.Prehashed(hashes.SHA256()))
