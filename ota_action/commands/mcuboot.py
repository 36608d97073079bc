"""``mcuboot``: an application binary to an MCUboot image, with imgtool as a library.

imgtool (MCUboot's own tool, Apache-2.0) lays out the header, protected TLVs, hash and
trailer; this module only feeds it bytes and, with ``--sign``, signs through the
project's signing port instead of handing imgtool the key: imgtool computes the digest
(``vector_to_sign='digest'``), the port signs it (checked: ECDSA P-256 RFC 6979, Ed25519
over the digest, RSA-PSS; the key's own type, :mod:`.mcuboot_keys`), and imgtool writes
the image around that signature (``fixed_sig``) with the key type's TLV.  imgtool prints
progress on stdout and raises click errors; both are caught here, so the command's own
output stays clean and a refusal is an exit-2 message.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from ota_action.commands import firmware_files, key_sources, mcuboot_keys
from ota_action.edges import files, log
from ota_action.errors import InputError
from ota_action.results.mcuboot import McubootResult
from ota_action.secret import NO_SECRETS, KeyMaterial
from ota_action.settings.mcuboot import McubootSettings
from ota_action.signing import algorithms
from ota_action.signing.port import KeySigner, sign_checked_key

if TYPE_CHECKING:
    from collections.abc import Mapping

MAX_IMAGE = 64 << 20
KEY_FORMAT = "hash"  # imgtool's default: the KEYHASH TLV (SHA-256 of the public key), as NCS builds


def key_material(settings: McubootSettings, environ: Mapping[str, str], given: KeyMaterial) -> KeyMaterial:
    """The signing secrets, only when ``--sign`` asks for them (xbee-fs' rules otherwise)."""
    if not settings.sign:
        return NO_SECRETS
    return key_sources.key_material(settings, environ, given)


def _image(settings: McubootSettings, data: bytes) -> Any:
    """An imgtool ``Image`` holding ``data``, as its ``load`` would from a file."""
    from imgtool import image as imgtool_image
    from imgtool import version as imgtool_version

    img = imgtool_image.Image(
        version=imgtool_version.decode_version(settings.image_version),
        header_size=settings.header_size,
        pad_header=settings.pad_header,
        pad=settings.pad,
        confirm=settings.confirm,
        align=settings.flash_align,
        slot_size=settings.slot_size,
        security_counter=settings.security_counter,
    )
    img.infile_data = data
    erased = bytes([img.erased_val]) * settings.header_size  # what imgtool's own load pads with
    img.payload = (erased if settings.pad_header else b"") + data
    img.image_size = len(img.payload) - settings.header_size
    img.check_header()
    return img


def imgtool_public(signer: KeySigner) -> Any:
    """imgtool's public-key class for the signer's algorithm: it picks the hash, the key hash
    and the signature TLV (0x22 ECDSASIG, 0x24 ED25519, 0x20 RSA2048, 0x23 RSA3072)."""
    from imgtool import keys as imgtool_keys

    classes = {
        algorithms.ECDSA_P256: imgtool_keys.ECDSA256P1Public,
        algorithms.ED25519: imgtool_keys.Ed25519Public,
        algorithms.RSA_2048: imgtool_keys.RSAPublic,
        algorithms.RSA_3072: imgtool_keys.RSAPublic,
    }
    return classes[signer.algorithm](signer.public_key())


def build(
    settings: McubootSettings, data: bytes, signer: KeySigner | None, blame: str | None = None
) -> bytes:
    """The MCUboot image bytes (imgtool's layout), signed through the port when ``signer``."""
    import click

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            img = _image(settings, data)
            if signer is None:
                img.create(None, KEY_FORMAT, None)
            else:
                public = imgtool_public(signer)
                probe = copy.deepcopy(img)
                probe.create(None, KEY_FORMAT, None, pub_key=public, vector_to_sign="digest")
                signature = sign_checked_key(signer, bytes(probe.payload), field=blame)
                img.create(None, KEY_FORMAT, None, pub_key=public, fixed_sig={"value": signature})
                img.check_trailer()
            if settings.pad:
                img.pad_to(settings.slot_size)
    except click.ClickException as exc:
        raise InputError(exc.format_message(), field="image", value=str(settings.image)) from None
    return bytes(img.payload)


def run(settings: McubootSettings, secrets: KeyMaterial) -> McubootResult:
    logger = log.get()
    files.check_output_path(settings.outfile)
    if settings.pad and not settings.slot_size:
        raise InputError("needs --slot-size: the slot the image is padded to", field="pad")
    if not settings.sign and settings.key_file is not None:  # a key given, but unsigned output
        raise InputError("signs with this key only together with --sign", field="key_file")
    firmware_files.require_raw_binary(
        settings.image, field="image", what="the application binary MCUboot signs"
    )
    data = files.read_input(settings.image, field="image", max_size=MAX_IMAGE)
    if not data:
        raise InputError("is empty: there is no application to make an image of", field="image")
    fingerprint = algorithm = None
    reproducible = True
    with ExitStack() as stack:
        if settings.sign:
            opened = mcuboot_keys.open_key_signer(settings, secrets, stack)  # a wrong key stops here
            fingerprint = algorithms.fingerprint(opened.signer.public_key())
            algorithm, reproducible = opened.signer.algorithm, opened.signer.deterministic
            image = build(settings, data, opened.signer, opened.blame)
        else:
            image = build(settings, data, None)
    files.write_atomic(settings.outfile, image)
    sha256 = hashlib.sha256(image).hexdigest()
    logger.info("mcuboot.written", outfile=str(settings.outfile), size=len(image), sha256=sha256)
    return McubootResult(
        outfile=settings.outfile,
        size=len(image),
        sha256=sha256,
        image_version=settings.image_version,
        header_size=settings.header_size,
        image_size=len(data) + (settings.header_size if settings.pad_header else 0) - settings.header_size,
        security_counter=settings.security_counter,
        signed=settings.sign,
        public_key_fingerprint=fingerprint,
        signature_algorithm=algorithm,
        reproducible=reproducible,
        padded_to=settings.slot_size if settings.pad else None,
    )
