"""``verify --public-key A --public-key B``: which key, if any, signed an XBee file system.

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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from ota_action.edges import files
from ota_action.errors import InputError
from ota_action.formats import xbee
from ota_action.formats.zigbee.elements import UPGRADE_IMAGE
from ota_action.formats.zigbee.streams import chunks
from ota_action.signing import keys, public
from ota_action.signing.port import Signature, verifies

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey

    from ota_action.formats.zigbee.image import ParsedImage


@dataclass(frozen=True)
class NamedKey:
    """A public key and how the user named it (the path given to ``--public-key``)."""

    name: str
    key: EllipticCurvePublicKey
    fingerprint: str


def load_public_keys(paths: Sequence[Path], *, field: str = "public_key") -> tuple[NamedKey, ...]:
    """Each ``--public-key`` file as a :class:`NamedKey`; the same key twice is refused."""
    loaded: list[NamedKey] = []
    for path in paths:
        source = keys.KeySource(f"--public-key {str(path)!r}", field=field, value=str(path))
        key = public.load_public_key(files.read_input(path, field=field), source)
        named = NamedKey(str(path), key, public.fingerprint(key))
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
