"""``xbee-fs``: xbfs.bin + a key source -> a signed XBee3 file-system OTA file.

The key source is whatever the user gave (a secret, a key file, a PKCS#11 token, a
signer command): :mod:`ota_action.commands.key_sources` opens it as a
:class:`~ota_action.signing.port.DigestSigner`, and this command only asks it to sign
the SHA-256 of the padded image through :func:`~ota_action.signing.port.sign_checked`
(which refuses a signature its public key rejects) before the file is written.  Digi's
70-72-byte rule is applied to the (r, s) pair here: the DER as signed, or its
``(r, n - s)`` twin.  Nothing about the key is logged but its public fingerprint, the
form it was given in and the kind of source.

``verify --public-key`` lives in :mod:`ota_action.commands.signatures`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

from ota_action.commands import firmware_files
from ota_action.commands.key_sources import key_material, open_signer
from ota_action.commands.signatures import signature_verdict
from ota_action.edges import files, log, same_file
from ota_action.errors import InputError
from ota_action.formats import xbee
from ota_action.formats.zigbee.checks import Finding
from ota_action.formats.zigbee.image import FileSource, Source, write_image
from ota_action.records import record
from ota_action.results import OtaSummary, XbeeFsResult
from ota_action.secret import KeyMaterial
from ota_action.settings.xbee import XbeeFsSettings
from ota_action.signing import keys, public
from ota_action.signing.port import Signature, sign_checked

DIGI_EXTENSIONS = (".ota", ".otb", ".fsota")
__all__ = ["key_material", "run", "signature_verdict"]


def signature_length_ok(der: bytes) -> bool:
    """Digi: the signature "should be between 70 and 72 bytes"."""
    return 70 <= len(der) <= 72


def fit_signature(signature: Signature) -> tuple[bytes, str] | None:
    """A 70-72-byte DER form of ``signature``: as signed, or its ``(r, n - s)`` twin; None
    if neither fits.

    Flipping S changes only the length of S (31 <-> 33 bytes, typically), so it rescues
    every short signature except those whose R is under 2^240 (about 1 in 65,000).
    """
    der = signature.der()
    if signature_length_ok(der):
        return der, "as signed"
    twin = signature.other_s().der()
    if signature_length_ok(twin):
        return twin, "(r, n-s) form, to fit 70-72 bytes"
    return None


def _digi_form(signature: Signature, allow_short: bool) -> tuple[bytes, str, str | None]:
    """(DER to write, its form, a warning): Digi's length rule applied to ``signature``."""
    fit = fit_signature(signature)
    if fit is not None:
        return fit[0], fit[1], None
    der, twin = signature.der(), signature.other_s().der()
    shortest = min((der, twin), key=len)
    message = (
        f"the signature is {len(der)} bytes and its (r, n-s) form {len(twin)}; Digi asks for "
        "70-72 bytes and device acceptance of shorter ones is undocumented"
    )
    if not allow_short:
        raise InputError(
            message + "; sign with another key, or pass --allow-short-signature to write it anyway"
        )
    form = f"{len(shortest)}-byte signature written with --allow-short-signature ({message})"
    return shortest, form, form


@record
class _Hashed:
    """A source that hashes what it yields: the second read must be the bytes signed."""

    inner: Source
    sha: Any

    @property
    def length(self) -> int:
        return self.inner.length

    def chunks(self) -> Iterator[bytes | bytearray | memoryview]:
        for chunk in self.inner.chunks():
            self.sha.update(chunk)
            yield chunk


def run(settings: XbeeFsSettings, secrets: KeyMaterial) -> XbeeFsResult:
    files.check_output_path(settings.outfile)
    same_file.refuse_overwrite(
        settings.outfile, [p for p in (settings.image, settings.key_file) if p is not None]
    )
    size = files.input_size(settings.image, field="image")
    # An XBee file-system image is raw bytes; HEX, S-record or ELF text would be signed as is.
    firmware_files.require_raw_binary(settings.image, field="image", what="an XBee file-system image")
    try:
        xbee.check_image_size(size)
    except InputError as exc:
        exc.value = str(settings.image)
        raise
    with ExitStack() as stack:
        opened = open_signer(settings, secrets, stack)  # a wrong key stops here, before any read
        public_key = opened.signer.public_key()
        fingerprint = public.fingerprint(public_key)
        log.get().debug("xbee_fs.key_loaded", key_form=opened.form, fingerprint=fingerprint)
        header = xbee.fs_header(
            file_version=settings.version,
            manufacturer_code=settings.mfg_id,
            image_type=settings.image_type,
            header_string=(settings.string or "").encode("ascii"),
        )
        source = FileSource(
            settings.image, size, field="image", opener=lambda p: files.open_input(p, field="image")
        )
        # Pass 1 hashes the padded image (the signature goes in the header's sizes, so it
        # must exist before the file starts); pass 2 writes it and hashes it again.
        digest, ymodem = xbee.hash_padded(source.chunks(), size)
        signed = sign_checked(opened.signer, digest, field=opened.blame)
        deterministic = opened.signer.deterministic
    signature, form, short = _digi_form(signed, settings.allow_short_signature)
    written = _write(settings, source, signature, header, digest)
    warnings = [Finding.warning("passphrase-unused", w) for w in opened.warnings]
    warnings += _warnings(settings, ymodem, short)
    signature_text = f"{keys.ALGORITHM}, {len(signature)}-byte DER ({form}), key fingerprint {fingerprint}"
    log.get().info(
        "xbee_fs.written",
        outfile=str(settings.outfile),
        size=written.size,
        sha256=written.sha256,
        image_size=size,
        padded_size=xbee.padded_size(size),
        signature_length=len(signature),
        fingerprint=fingerprint,
        key_form=opened.form,
    )
    return XbeeFsResult(
        outfile=settings.outfile,
        size=written.size,
        sha256=written.sha256,
        sha512=written.sha512,
        sha3_256=written.sha3_256,
        image=settings.image,
        image_size=size,
        padded_size=xbee.padded_size(size),
        signature_length=len(signature),
        signature_form=form,
        signature=signature_text,
        public_key_fingerprint=fingerprint,
        fk=public.public_point(public_key).hex().upper(),
        key_form=opened.form,
        reproducible=deterministic,
        ota=OtaSummary.of(written.parsed()),
        findings=tuple(warnings),
    )


def _write(settings: XbeeFsSettings, source: FileSource, signature: bytes, header: Any, digest: bytes) -> Any:
    """Write the file (pass 2), refusing an image that changed since it was hashed."""
    again = hashlib.sha256()
    plan = xbee.plan_fs_ota(header, _Hashed(source, again), signature)
    with files.atomic_output(settings.outfile) as out:
        written = write_image(plan, out)
        for chunk in xbee.padding_source(source.length).chunks():
            again.update(chunk)
        if again.digest() != digest:
            raise InputError(
                "changed while being read; its signature would not match",
                field="image",
                value=str(settings.image),
            )
    return written


def _warnings(settings: XbeeFsSettings, ymodem: int, short: str | None) -> list[Finding]:
    warnings = []
    if (problem := xbee.version_warning(settings.version)) is not None:
        warnings.append(Finding.warning("xbee-version", problem))
    if ymodem > 0:
        warnings.append(
            Finding.warning(
                "ymodem-padding",
                f"the image ends in {ymodem} 0x1A byte(s): YMODEM padding? The signature will match, but "
                "the file system may differ from the staging device's; download it with a YMODEM "
                "receiver that honours the file length",
            )
        )
    if short is not None:
        warnings.append(Finding.warning("signature-length", f"signature: {short}"))
    if not settings.outfile.name.lower().endswith(DIGI_EXTENSIONS):
        warnings.append(
            Finding.warning(
                "output-name",
                f"output name {settings.outfile.name!r} does not end in .fsota, .ota or .otb; "
                "digi-xbee and XCTU look for those",
            )
        )
    return warnings
