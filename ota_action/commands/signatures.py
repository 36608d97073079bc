"""``verify --public-key``: which signature the file carries, and its verdict.

An OTA file whose upgrade image is a signed GBL has its GBL signature checked (ECDSA
P-256 over SHA-256 of every tag but the signature and end tags, as the Gecko bootloader
checks it, read with ``pygbl``); any other file is checked as an XBee3 file-system image
(:func:`ota_action.commands.xbee_fs.signature_verdict`), as before.  Either way a bad key
file is an InputError (exit 2) and a signature that does not check is an error finding
with the code ``signature`` (exit 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from ota_action.edges import files
from ota_action.formats.zigbee.image import ParsedImage
from ota_action.formats.zigbee.payload_types import Payload, first_gbl
from ota_action.formats.zigbee.streams import read_at
from ota_action.signing import keys as signing
from ota_action.signing.port import Signature, verifies

MAX_GBL = 64 << 20  # a GBL is read whole to be checked; no flash image comes near this


def signature_verdict(
    f: BinaryIO, parsed: ParsedImage, payloads: Sequence[Payload], public_key_path: Path
) -> tuple[str, list[str]]:
    """(one-line verdict, errors) for the signature ``public_key_path`` should check."""
    gbl = first_gbl(payloads)
    if gbl is None:
        from ota_action.commands.xbee_fs import signature_verdict as xbee_verdict

        return xbee_verdict(f, parsed, public_key_path)
    return gbl_verdict(f, gbl, public_key_path)


def gbl_verdict(f: BinaryIO, payload: Payload, public_key_path: Path) -> tuple[str, list[str]]:
    from pygbl import GBL3Image, GBL3Signature
    from pygbl.types import GBLError

    source = signing.KeySource(
        f"--public-key {str(public_key_path)!r}", field="public_key", value=str(public_key_path)
    )
    public_key = signing.load_public_key(files.read_input(public_key_path, field="public_key"), source)
    fingerprint = signing.fingerprint(public_key)
    where = f"the GBL at offset {payload.offset}"
    if payload.length > MAX_GBL:
        problem = (
            f"{where} is {payload.length} bytes, over the {MAX_GBL} ota-action reads to check a signature"
        )
        return f"invalid: {problem}", [problem]
    try:
        image = GBL3Image.from_bytes(read_at(f, payload.offset, payload.length), validate=False)
    except (GBLError, ValueError) as exc:
        problem = f"{where} cannot be read to check its signature: {exc}"
        return f"invalid: {problem}", [problem]
    found = image.get_tags(GBL3Signature, allow_missing=True)
    if not found:
        problem = f"{where} is not signed (it has no signature tag 0xF70A0AF7)"
        return f"invalid: {problem}", [problem]
    signature = Signature(int.from_bytes(found[0].r, "big"), int.from_bytes(found[0].s, "big"))
    if not verifies(public_key, signature, image.signing_digest()):
        problem = f"the signature of {where} does not verify with key fingerprint {fingerprint}"
        return f"invalid: {problem}", [problem]
    return f"valid (GBL ECDSA P-256, raw r||s, key fingerprint {fingerprint})", []
