"""``verify --public-key A --public-key B``: which key, if any, signed an XBee file system or a GBL.

A release gate asks "signed with the production key, not the development key"; key
rotation asks "which of these keys signed it".  :func:`load_public_keys` reads each
``--public-key`` once per run (not once per file of a batch), and
:func:`signature_verdict` names the key that verified the signature by the name the user
gave it and its fingerprint (SHA-256 of the FK point, as ``keygen`` and ``xbee-fs``
print it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from ota_action.edges import files
from ota_action.errors import InputError
from ota_action.formats.zigbee.elements import UPGRADE_IMAGE
from ota_action.formats.zigbee.payload_kinds import McubootPayload
from ota_action.formats.zigbee.payload_types import Payload, first_gbl
from ota_action.formats.zigbee.streams import chunks
from ota_action.records import record

if TYPE_CHECKING:
    from ota_action.formats.zigbee.parsed import ParsedImage
    from ota_action.signing.algorithms import PublicKey


@record
class NamedKey:
    """A public key and how the user named it (the path given to ``--public-key``)."""

    name: str
    key: PublicKey  # P-256 for XBee and GBL; MCUboot also takes Ed25519 and RSA
    fingerprint: str


def load_public_keys(paths: Sequence[Path], *, field: str = "public_key") -> tuple[NamedKey, ...]:
    """Each ``--public-key`` file as a :class:`NamedKey`; the same key twice is refused."""
    # Here, not at the top: verify without --public-key (a pre-commit hook) never pays
    # for the key and XBee modules (tests/test_startup_imports.py).
    from ota_action.signing import algorithms, keys, public

    loaded: list[NamedKey] = []
    for path in paths:
        source = keys.KeySource(f"--public-key {str(path)!r}", field=field, value=str(path))
        key = public.load_signing_public_key(
            files.read_input(path, field=field), source, what="a signature check"
        )
        named = NamedKey(str(path), key, algorithms.fingerprint(key))
        twin = next((k for k in loaded if k.fingerprint == named.fingerprint), None)
        if twin is not None:
            raise InputError(f"is the same key as {twin.name!r}", field=field, value=str(path))
        loaded.append(named)
    return tuple(loaded)


def _invalid(problem: str) -> tuple[str, list[str]]:
    return f"invalid: {problem}", [problem]


def _looks_like_der_signature(head: bytes, length: int) -> bool:
    """A DER ``SEQUENCE`` filling the whole tail, 8-72 bytes: what an ECDSA P-256 signature is.

    Anything else after the 2048-byte blocks (a vendor's payload, nothing at all) means
    the file was never signed: a different message from a signature that does not verify.
    """
    return 8 <= length <= 72 and len(head) == length and head[0] == 0x30 and head[1] == length - 2


def signature_verdict(
    f: BinaryIO, parsed: ParsedImage, public_keys: Path | Sequence[NamedKey]
) -> tuple[str, list[str]]:
    """Check an XBee file-system signature: (one-line verdict, errors).

    The signed bytes are the 2048-multiple prefix of the first 0x0000 element's data;
    what follows is the DER signature.  They are hashed from ``f`` in chunks, once, and
    checked with each key in turn.  A bad key file is an InputError (exit 2); a file
    whose signature no key verifies is a verdict with errors (exit 1).
    """
    from ota_action.formats import xbee
    from ota_action.signing import keys
    from ota_action.signing.port import Signature, verifies

    candidates = load_public_keys([public_keys]) if isinstance(public_keys, Path) else tuple(public_keys)
    ref = parsed.first_of.get(UPGRADE_IMAGE)
    if ref is None:
        return _invalid("no upgrade image (tag 0x0000) holds a signed image")
    image_length, signature_length = xbee.split_length(ref.length)
    f.seek(ref.data_offset + image_length)
    der = f.read(min(signature_length, 256))
    if not image_length or not _looks_like_der_signature(der, signature_length):
        problem = (
            f"the file carries no XBee file-system signature: its {ref.length}-byte upgrade image "
            "is not a multiple of 2048 bytes followed by a DER ECDSA signature (files made by "
            "xbee-fs have one; sign this image with xbee-fs)"
        )
        return f"none: {problem}", [problem]
    sha = hashlib.sha256()
    for chunk in chunks(f, ref.data_offset, ref.data_offset + image_length):
        sha.update(chunk)
    try:
        signature: Signature | None = Signature.from_der(der)
    except ValueError:
        signature = None
    for named in candidates:
        if signature is not None and verifies(named.key, signature, sha.digest()):
            return (
                f"valid ({keys.ALGORITHM}, {len(der)}-byte DER, key fingerprint {named.fingerprint}, "
                f"public key {named.name!r})",
                [],
            )
    what = f"the {len(der)}-byte signature after the {image_length}-byte image"
    if len(candidates) == 1:
        return _invalid(f"{what} does not verify with key fingerprint {candidates[0].fingerprint}")
    prints = ", ".join(f"{k.name!r} {k.fingerprint}" for k in candidates)
    return _invalid(f"{what} verifies with none of the {len(candidates)} public keys given ({prints})")


# --- a GBL upgrade image's signature (issue 24) -------------------------------------------

MAX_GBL = 64 << 20  # a GBL is read whole to be checked; no flash image comes near this


def upgrade_image_verdict(
    f: BinaryIO, parsed: ParsedImage, payloads: Sequence[Payload], public_keys: Sequence[NamedKey]
) -> tuple[str, list[str]]:
    """``verify --public-key``: a GBL upgrade image's signature when there is one, an MCUboot
    image's, else the XBee3 file system's (:func:`signature_verdict`)."""
    gbl = first_gbl(payloads)
    if gbl is not None:
        return gbl_verdict(f, gbl, public_keys)
    mcuboot = next((p for p in payloads if isinstance(p, McubootPayload) and p.header is not None), None)
    if mcuboot is not None:
        return mcuboot_verdict(f, mcuboot, public_keys)
    return signature_verdict(f, parsed, public_keys)


def gbl_verdict(f: BinaryIO, payload: Payload, candidates: Sequence[NamedKey]) -> tuple[str, list[str]]:
    """ECDSA P-256 over SHA-256 of every tag as written but the signature and end tags, as the
    Gecko bootloader checks it (read with ``pygbl``), tried with each key in turn."""
    where = f"the GBL at offset {payload.offset}"
    if payload.length > MAX_GBL:
        return _invalid(f"{where} is {payload.length} bytes, over the {MAX_GBL} ota-action reads to check it")
    f.seek(payload.offset)
    return gbl_bytes_verdict(f.read(payload.length), where, candidates)


def gbl_bytes_verdict(data: bytes, where: str, candidates: Sequence[NamedKey]) -> tuple[str, list[str]]:
    """:func:`gbl_verdict` of a GBL in memory (``zbota --gbl`` checks the GBL it built)."""
    from pygbl import GBL3Image, GBL3Signature
    from pygbl.types import GBLError

    from ota_action.signing.port import Signature, verifies

    try:
        image = GBL3Image.from_bytes(data, validate=False)
    except (GBLError, ValueError) as exc:
        return _invalid(f"{where} cannot be read to check its signature: {exc}")
    found = image.get_tags(GBL3Signature, allow_missing=True)
    if not found:
        problem = f"{where} carries no signature (no signature tag 0xF70A0AF7): sign it with gbl --sign"
        return f"none: {problem}", [problem]
    signature = Signature(int.from_bytes(found[0].r, "big"), int.from_bytes(found[0].s, "big"))
    digest = image.signing_digest()
    for named in candidates:
        if verifies(named.key, signature, digest):
            return (
                f"valid (GBL ECDSA P-256, raw r||s, key fingerprint {named.fingerprint}, "
                f"public key {named.name!r})",
                [],
            )
    if len(candidates) == 1:
        return _invalid(
            f"the signature of {where} does not verify with key fingerprint {candidates[0].fingerprint}"
        )
    prints = ", ".join(f"{k.name!r} {k.fingerprint}" for k in candidates)
    return _invalid(
        f"the signature of {where} verifies with none of the {len(candidates)} public keys ({prints})"
    )


MCUBOOT_SHA256 = 0x10
# The signature TLVs bootutil checks, and the key type each takes (imgtool's TLV_VALUES).
MCUBOOT_SIGNATURES = {0x22: "ECDSA P-256", 0x24: "Ed25519", 0x20: "RSA-2048", 0x23: "RSA-3072"}


def mcuboot_verdict(
    f: BinaryIO, payload: McubootPayload, candidates: Sequence[NamedKey]
) -> tuple[str, list[str]]:
    """MCUboot's own check (bootutil ``image_validate``): SHA-256 of header, image and protected
    TLVs equals the SHA256 TLV, and a signature TLV (ECDSASIG DER, ED25519, RSA2048/RSA3072
    RSA-PSS) verifies over that digest with a key of its type."""
    header, tlvs = payload.header, payload.tlvs or ()
    where = f"the MCUboot image at offset {payload.offset}"
    if header is None:  # pragma: no cover - the caller picks images with a header
        return _invalid(f"{where} has no header")
    hashed = header.header_size + header.image_size + header.protected_tlv_size
    digest = hashlib.sha256()
    for piece in chunks(f, payload.offset, payload.offset + hashed):
        digest.update(piece)

    def value(tlv_type: int) -> bytes | None:
        tlv = next((t for t in tlvs if t.type == tlv_type), None)
        if tlv is None:
            return None
        f.seek(payload.offset + tlv.offset)
        return f.read(tlv.length)

    if value(MCUBOOT_SHA256) != digest.digest():
        return _invalid(
            f"{where}: its SHA256 TLV does not match the hash of its header, image and protected TLVs"
        )
    found = [(t.type, value(t.type) or b"") for t in tlvs if t.type in MCUBOOT_SIGNATURES]
    if not found:
        return _invalid(f"{where} is not signed (it has no ECDSASIG, ED25519, RSA2048 or RSA3072 TLV)")
    return _mcuboot_signatures(where, found, digest.digest(), candidates)


def _mcuboot_signatures(
    where: str, found: Sequence[tuple[int, bytes]], digest: bytes, candidates: Sequence[NamedKey]
) -> tuple[str, list[str]]:
    from ota_action.signing import algorithms

    for tlv_type, stored in found:
        algorithm = MCUBOOT_SIGNATURES[tlv_type]
        signature = stored
        if algorithm == algorithms.ECDSA_P256 and len(stored) > 2:
            signature = stored[: stored[1] + 2]  # imgtool may pad the DER to 72 bytes
        for named in candidates:
            if algorithms.algorithm_of(named.key) == algorithm and algorithms.verifies(
                named.key, signature, digest
            ):
                return (
                    f"valid (MCUboot {algorithm}, key fingerprint {named.fingerprint}, "
                    f"public key {named.name!r})",
                    [],
                )
    kinds = ", ".join(MCUBOOT_SIGNATURES[t] for t, _ in found)
    prints = ", ".join(f"{k.name!r} {k.fingerprint}" for k in candidates)
    return _invalid(
        f"the signature of {where} ({kinds}) verifies with none of the public keys given ({prints})"
    )
