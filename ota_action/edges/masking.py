"""What the Action masks in a CI log: every single-line form a secret could be printed in.

GitHub masks a registered string wherever it appears in the log, but only line by line
and only in the form registered.  A key can leak through a re-encoding (base64 of its
DER, the hex scalar), so :func:`secret_forms` derives them all, and :func:`mask_forms`
orders them longest first for ``::add-mask::``.  This is a GitHub-side concern: the
signer never needs it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from collections.abc import Iterable

from ota_action.signing.keys import decode_key_material


def _pem_body_lines(pem: bytes) -> list[str]:
    return [
        line.strip()
        for line in pem.decode("ascii", "replace").splitlines()
        if line.strip() and not line.startswith("-----") and ":" not in line
    ]


def _forms_of_key(key: object) -> list[str]:
    """Masking forms of an unencrypted private key: DER/PEM encodings and the scalar."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    forms: list[str] = []
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        return forms
    for fmt in (serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL):
        der = key.private_bytes(serialization.Encoding.DER, fmt, serialization.NoEncryption())
        pem = key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
        forms += [
            base64.b64encode(der).decode(),
            der.hex(),
            der.hex().upper(),
            base64.b64encode(pem).decode(),
            base64.b64encode(pem.rstrip(b"\n")).decode(),
            *_pem_body_lines(pem),
        ]
    scalar = key.private_numbers().private_value
    size = (key.curve.key_size + 7) // 8
    forms += [f"{scalar:0{size * 2}x}", f"{scalar:0{size * 2}X}", f"{scalar:x}", f"{scalar:X}"]
    return forms


def _derived_forms(text: str) -> list[str]:
    """The encodings of a key given as ``text``; whatever cannot be derived is skipped."""
    from cryptography.hazmat.primitives import serialization

    forms: list[str] = []
    material, _ = decode_key_material(text.encode("utf-8", "replace"))
    pem = b"-----BEGIN" in material
    der = material
    if pem:
        forms += _pem_body_lines(material)
        forms += [base64.b64encode(material).decode(), base64.b64encode(material.rstrip()).decode()]
        try:
            der = base64.b64decode("".join(_pem_body_lines(material)))
        except (binascii.Error, ValueError):
            der = b""
    if der[:1] == b"\x30":  # an ASN.1 SEQUENCE: key-shaped, not a passphrase that looked like base64
        forms += [base64.b64encode(der).decode(), der.hex(), der.hex().upper()]
    loader = serialization.load_pem_private_key if pem else serialization.load_der_private_key
    with contextlib.suppress(Exception):  # encrypted, not a key, or garbage: the forms above remain
        forms += _forms_of_key(loader(material, None))
    return forms


def secret_forms(text: str) -> list[str]:
    """Every single-line string derived from a secret that must be masked before printing.

    For any secret: each non-empty line (stripped) and the whole value when it is one
    line.  When ``text`` is a key (any form :func:`decode_key_material` accepts): the
    PEM body lines, base64 of the PEM and of the DER, the DER in hex, and the private
    scalar in hex — for the PKCS#8 and SEC1 encodings both, so a key cannot leak
    through a re-encoding.  Never raises: garbage simply yields its lines.
    """
    forms: list[str] = []
    with contextlib.suppress(Exception):  # masking must never crash a run
        forms += [line.strip() for line in text.splitlines() if line.strip()]
        whole = text.strip()
        if whole and "\n" not in whole and "\r" not in whole:
            forms.append(whole)
        forms += _derived_forms(text)
    seen: set[str] = set()
    unique = []
    for form in forms:
        if form and form not in seen and "\n" not in form and "\r" not in form:
            seen.add(form)
            unique.append(form)
    return unique


def mask_forms(values: Iterable[str]) -> list[str]:
    """Every string to mask, longest first: :func:`secret_forms` of each secret
    (each line, the whole one-line value, and for a key every derived form)."""
    forms = {form for value in values for form in secret_forms(value)}
    return sorted(forms, key=lambda f: (-len(f), f))
