"""Signing: one port (:mod:`.port`) and one module per key source.

Every signature the tool makes goes through :class:`~.port.DigestSigner`: *sign this
SHA-256 digest, give me the public key*.  The formats differ only in how they encode
the (r, s) pair (DER for XBee and MCUboot, raw r‖s for GBL).  Key sources:
:mod:`.keys` (a private key from a CI secret or a file, in memory).
"""
