"""A signature as a signer command prints it: DER, raw ``r ‖ s``, or either in hex or base64.

KMS command lines print signatures in every form: AWS and Google give base64 of DER,
Azure base64url of raw ``r ‖ s``, Vault ``vault:v1:`` and base64 of DER, openssl raw
DER bytes; a CLI's whole JSON answer is read for its ``signature``/``result`` value.
:func:`candidates` returns every reading of the output that is a
well-formed P-256 signature; the caller keeps the one that verifies with the expected
public key, so a reading that only happens to parse can never be used.
:func:`sized_candidates` does the same for the fixed-size signatures of Ed25519 and RSA.  Nothing here
shows the output: a message may say how long it was, never what it held.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re

from ota_action.signing.port import P256_ORDER, Signature

_HEX = re.compile(rb"(?:0x)?([0-9a-fA-F]{2})+")
_BASE64 = re.compile(rb"[A-Za-z0-9+/_-]+={0,2}")
_VAULT_PREFIX = re.compile(rb"vault:v\d+:")
_JSON_KEYS = frozenset({"signature", "result", "value"})


def _der(blob: bytes) -> Signature | None:
    """``blob`` as strict DER ``SEQUENCE { r, s }`` (re-encoding gives the same bytes)."""
    if not blob.startswith(b"\x30") or len(blob) > 80:
        return None
    try:
        signature = Signature.from_der(blob)
    except ValueError:
        return None
    if signature.der() != blob or not _in_range(signature):
        return None
    return signature


def _in_range(signature: Signature) -> bool:
    return 0 < signature.r < P256_ORDER and 0 < signature.s < P256_ORDER


def _raw(blob: bytes) -> Signature | None:
    if len(blob) != 64:
        return None
    signature = Signature.from_raw(blob)
    return signature if _in_range(signature) else None


def _json_values(text: bytes) -> list[bytes]:
    """The signature-named string values of a JSON object a CLI printed whole
    (AWS ``Signature``, Google ``signature``, Azure ``result``, Vault ``data.signature``)."""
    try:
        document = json.loads(text)
    except ValueError:
        return []
    found: list[bytes] = []
    for holder in (document, document.get("data") if isinstance(document, dict) else None):
        if isinstance(holder, dict):
            found += [v.encode() for k, v in holder.items() if k.lower() in _JSON_KEYS and isinstance(v, str)]
    return found


def _texts(output: bytes) -> list[bytes]:
    """The text forms to decode: the output stripped, unquoted, without a Vault prefix."""
    text = output.strip()
    texts = [text] if not text.startswith(b"{") else _json_values(text)
    return [_cleaned(item) for item in texts]


def _cleaned(item: bytes) -> bytes:
    """One text without quotes, a Vault prefix or whitespace (base64 wrapped at 64/76)."""
    text = item.strip()
    if len(text) >= 2 and text[:1] == text[-1:] and text[:1] in (b'"', b"'"):
        text = text[1:-1].strip()
    text = _VAULT_PREFIX.sub(b"", text, count=1)
    return b"".join(text.split())


def _decoded(text: bytes) -> list[bytes]:
    blobs: list[bytes] = []
    if _HEX.fullmatch(text):
        blobs.append(bytes.fromhex(text.removeprefix(b"0x").decode("ascii")))
    if _BASE64.fullmatch(text):
        padded = text.rstrip(b"=") + b"=" * (-len(text.rstrip(b"=")) % 4)
        with contextlib.suppress(binascii.Error, ValueError):
            blobs.append(base64.b64decode(padded.replace(b"-", b"+").replace(b"_", b"/"), validate=True))
    return blobs


def candidates(output: bytes) -> list[Signature]:
    """Every well-formed P-256 signature ``output`` can be read as, most literal first."""
    blobs = [output, output.rstrip(b"\r\n")]
    for text in _texts(output):
        blobs += _decoded(text)
    found: list[Signature] = []
    for blob in blobs:
        for reading in (_der(blob), _raw(blob)):
            if reading is not None and reading not in found:
                found.append(reading)
    return found


def sized_candidates(output: bytes, size: int) -> list[bytes]:
    """Every reading of ``output`` as a ``size``-byte signature (Ed25519: 64, RSA: the
    modulus' bytes): the raw bytes, or hex or base64 of them, most literal first."""
    blobs = [output, output.rstrip(b"\r\n")]
    for text in _texts(output):
        blobs += _decoded(text)
    found: list[bytes] = []
    for blob in blobs:
        if len(blob) == size and blob not in found:
            found.append(blob)
    return found
