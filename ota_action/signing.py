"""Signing keys from CI secrets and deterministic ECDSA P-256 signatures.

(Stub: the full key loading and signing arrive with the xbee-fs work.  The Action front
door already relies on :func:`secret_forms` to mask every form of a secret.)
"""

from __future__ import annotations


def secret_forms(text: str) -> list[str]:
    """Every string derived from a secret value that must be masked before printing.

    The full version adds the base64, DER and private-scalar forms of a key.
    """
    return [line.strip() for line in text.splitlines() if line.strip()]
