"""Keys and key-text forms shared by the signing, xbee-fs, keygen and leak tests.

Every test key is generated fresh (or derived from a fixed scalar where a test needs
known bytes); the forms mirror what CI secrets actually hold.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

PASSPHRASE = "correct-horse-7f3a9-battery"

_ENC = serialization.Encoding
_FMT = serialization.PrivateFormat


@dataclass(frozen=True)
class KeyForms:
    """One P-256 key in every encoding a test needs."""

    key: ec.EllipticCurvePrivateKey

    def pem(self, fmt: serialization.PrivateFormat = _FMT.PKCS8, password: str | None = None) -> bytes:
        algorithm: serialization.KeySerializationEncryption = (
            serialization.NoEncryption()
            if password is None
            else serialization.BestAvailableEncryption(password.encode())
        )
        return self.key.private_bytes(_ENC.PEM, fmt, algorithm)

    def der(self, fmt: serialization.PrivateFormat = _FMT.PKCS8, password: str | None = None) -> bytes:
        algorithm: serialization.KeySerializationEncryption = (
            serialization.NoEncryption()
            if password is None
            else serialization.BestAvailableEncryption(password.encode())
        )
        return self.key.private_bytes(_ENC.DER, fmt, algorithm)

    @property
    def public(self) -> ec.EllipticCurvePublicKey:
        return self.key.public_key()

    def public_pem(self) -> bytes:
        return self.public.public_bytes(_ENC.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def point(self) -> bytes:
        return self.public.public_bytes(_ENC.X962, serialization.PublicFormat.UncompressedPoint)

    def scalar_hex(self) -> str:
        return f"{self.key.private_numbers().private_value:064x}"

    def secrets(self) -> dict[str, bytes]:
        """Every form of the private key that must never appear in output (bytes to search for)."""
        found: dict[str, bytes] = {}
        for name, fmt in (("pkcs8", _FMT.PKCS8), ("sec1", _FMT.TraditionalOpenSSL)):
            pem, der = self.pem(fmt), self.der(fmt)
            body = b"".join(line for line in pem.splitlines() if not line.startswith(b"-----"))
            found[f"{name} pem body"] = body
            for i, line in enumerate(pem.splitlines()[1:-1]):
                found[f"{name} pem line {i}"] = line
            found[f"{name} base64 of pem"] = base64.b64encode(pem)
            found[f"{name} base64 of der"] = base64.b64encode(der)
            found[f"{name} der"] = der
            found[f"{name} der hex"] = der.hex().encode()
            found[f"{name} der HEX"] = der.hex().upper().encode()
        found["scalar hex"] = self.scalar_hex().encode()
        found["scalar HEX"] = self.scalar_hex().upper().encode()
        found["passphrase"] = PASSPHRASE.encode()
        # Both private encodings embed the public point: a PEM line made of public bytes
        # only (it can coincide with a public-key PEM line) is not a secret.
        public = self.public_pem() + self.point().hex().encode() + self.point().hex().upper().encode()
        return {name: value for name, value in found.items() if value not in public}


def new_key() -> KeyForms:
    return KeyForms(ec.generate_private_key(ec.SECP256R1()))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
