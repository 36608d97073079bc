"""Key source 1: a private key held in memory (from a CI secret, ``--key-env`` or a file).

Signatures are RFC 6979 deterministic, so the same key and digest always give the same
bytes (reproducible builds).  Loading the key from its text forms is :mod:`.keys`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ota_action.signing.port import Signature

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey, EllipticCurvePublicKey


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
