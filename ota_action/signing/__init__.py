"""Signing: one port (:mod:`.port`) and one module per key source.

Every signature the tool makes goes through :class:`~.port.DigestSigner`: *sign this
SHA-256 digest, give me the public key*, checked by :func:`~.port.sign_checked` before
use.  The formats differ only in how they encode the (r, s) pair (DER for XBee and
MCUboot, raw r‖s for GBL).  Key sources:

* :mod:`.memory` - a private key in this process, loaded by :mod:`.keys` from a CI
  secret or a key file (RFC 6979: reproducible signatures);
* :mod:`.pkcs11` - a key inside a PKCS#11 token, named by an RFC 7512 URI
  (:mod:`.pkcs11_uri`);
* :mod:`.command` - an external signer command (a KMS CLI), whose output
  :mod:`.printed` reads.

Public keys (``verify --public-key``, ``--expect-public-key``, fingerprints) are
:mod:`.public`'s.  The command layer picks and opens the source
(:mod:`ota_action.commands.key_sources`); nothing here reads the environment.
"""
