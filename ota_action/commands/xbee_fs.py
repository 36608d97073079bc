"""``xbee-fs``: xbfs.bin + a key from a CI secret -> a signed XBee3 file-system OTA file.

Also home of :func:`signature_verdict`, the XBee check ``verify --public-key`` runs.
The key arrives as a :class:`~ota_action.secret.Secret` in the runner's
:class:`~ota_action.secret.KeyMaterial` argument (found by :func:`key_material`, never
through ``os.environ`` by the signer) or as ``--key-file``; it is handed to
:mod:`ota_action.signing.keys` to parse, and only a signing closure reaches the pure
:mod:`ota_action.formats.xbee` builder.  Nothing about the key is logged but its public
fingerprint and the form it was given in.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ota_action import safe_text
from ota_action.edges import files, log
from ota_action.errors import InputError
from ota_action.formats import xbee
from ota_action.formats.zigbee.checks import Finding
from ota_action.formats.zigbee.elements import UPGRADE_IMAGE
from ota_action.formats.zigbee.image import FileSource, ParsedImage, Source, write_image
from ota_action.formats.zigbee.streams import chunks
from ota_action.results import OtaSummary, XbeeFsResult
from ota_action.secret import KeyMaterial, Secret
from ota_action.settings.xbee import XbeeFsSettings
from ota_action.signing import keys as signing

if TYPE_CHECKING:
    from collections.abc import Mapping

DIGI_EXTENSIONS = (".ota", ".otb", ".fsota")


def _from_environment(environ: Mapping[str, str], name: str, option: str, field: str) -> Secret | None:
    value = environ.get(name, "")
    if not value.strip():
        return None
    return Secret(value, source=safe_text.variable_source(name, option, environ), field=field)


def key_material(settings: XbeeFsSettings, environ: Mapping[str, str], given: KeyMaterial) -> KeyMaterial:
    """The key and passphrase to sign with: what the door holds (``given``, e.g. an Action
    input) wins; otherwise the variables ``--key-env`` / ``--passphrase-env`` name.

    ``given.missing_field`` set means the door has its own words for a missing key.
    """
    key = given.key or _from_environment(environ, settings.key_env, "--key-env", "key_env")
    passphrase = given.passphrase or _from_environment(
        environ, settings.passphrase_env, "--passphrase-env", "passphrase_env"
    )
    if given.missing_field is not None:
        return KeyMaterial(
            key=key,
            passphrase=passphrase,
            missing=given.missing,
            missing_field=given.missing_field,
            unlock_hint=given.unlock_hint,
        )
    return KeyMaterial(
        key=key,
        passphrase=passphrase,
        missing=f"{safe_text.variable_source(settings.key_env, '--key-env', environ)} is not set or "
        "empty; put the P-256 private key there (PEM, or one line of base64 of PEM or DER; name "
        "another variable with --key-env), or give --key-file",
        missing_field="key_env",
        unlock_hint=safe_text.variable_source(settings.passphrase_env, "--passphrase-env", environ),
    )


def read_key(settings: XbeeFsSettings, secrets: KeyMaterial) -> signing.LoadedKey:
    """Find the one key source the user gave and load it; every problem names the source."""
    # surrogateescape: a passphrase variable holding non-UTF-8 bytes is used byte for byte.
    passphrase = (
        secrets.passphrase.reveal().encode("utf-8", "surrogateescape") if secrets.passphrase else None
    )
    passphrase_source = secrets.passphrase.source if secrets.passphrase else secrets.unlock_hint
    if settings.key_file is not None:
        if safe_text.looks_like_secret(settings.key_file) and not os.path.lexists(settings.key_file):
            raise InputError(
                "looks like key material, not a path; never put a key on the command line: put it "
                "in an environment variable (see --key-env) or a file",
                field="key_file",
            )
        source = signing.KeySource(
            f"--key-file {str(settings.key_file)!r}", field="key_file", value=str(settings.key_file)
        )
        if secrets.key:
            raise source.error(
                f"{secrets.key.source} is also set; give exactly one key source (unset it or drop --key-file)"
            )
        raw = files.read_input(settings.key_file, field="key_file")
    else:
        if not secrets.key:
            raise InputError(f"no signing key: {secrets.missing}", field=secrets.missing_field)
        source = signing.KeySource.of(secrets.key)
        raw = secrets.key.reveal().encode("utf-8", "surrogateescape")
    return signing.load_private_key(raw, source, passphrase=passphrase, passphrase_source=passphrase_source)


def _fitting_signer(sign: xbee.Signer, allow_short: bool) -> tuple[xbee.Signer, list[str]]:
    """Wrap ``sign`` so it returns a 70-72-byte form, or fails/notes when none exists."""
    notes: list[str] = []

    def fitted(data: bytes) -> bytes:
        der = sign(data)
        fit = signing.fit_signature(der)
        if fit is not None:
            notes.append(fit[1])
            return fit[0]
        twin = signing.other_s_form(der)
        shortest = min((der, twin), key=len)
        message = (
            f"the signature is {len(der)} bytes and its (r, n-s) form {len(twin)}; Digi asks for "
            "70-72 bytes and device acceptance of shorter ones is undocumented"
        )
        if not allow_short:
            raise InputError(
                message + "; sign with another key, or pass --allow-short-signature to write it anyway"
            )
        notes.append(f"{len(shortest)}-byte signature written with --allow-short-signature ({message})")
        return shortest

    return fitted, notes


@dataclass(frozen=True)
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
    logger = log.get()
    files.check_output_path(settings.outfile)
    size = files.input_size(settings.image, field="image")
    try:
        xbee.check_image_size(size)
    except InputError as exc:
        exc.value = str(settings.image)
        raise
    loaded = read_key(settings, secrets)
    public_key = loaded.key.public_key()
    fingerprint = signing.fingerprint(public_key)
    logger.debug("xbee_fs.key_loaded", key_form=loaded.form, fingerprint=fingerprint)
    sign, notes = _fitting_signer(signing.digest_signer(loaded.key), settings.allow_short_signature)
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
    signature = sign(digest)
    if not signing.verify_digest(public_key, signature, digest):  # pragma: no cover - a bug
        raise RuntimeError("the signature just made does not verify")
    again = hashlib.sha256()
    plan = xbee.plan_fs_ota(header, _Hashed(source, again), signature)
    with files.atomic_output(settings.outfile) as out:
        written = write_image(plan, out)
        for chunk in xbee.padding_source(size).chunks():
            again.update(chunk)
        if again.digest() != digest:
            raise InputError(
                "changed while being read; its signature would not match",
                field="image",
                value=str(settings.image),
            )
    parsed = written.parsed()
    padded_size = xbee.padded_size(size)
    warnings = [Finding.warning("passphrase-unused", w) for w in loaded.warnings]
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
    form = notes[0] if notes else "as signed"
    if not signing.signature_length_ok(signature):
        warnings.append(Finding.warning("signature-length", f"signature: {form}"))
    name = settings.outfile.name.lower()
    if not name.endswith(DIGI_EXTENSIONS):
        warnings.append(
            Finding.warning(
                "output-name",
                f"output name {settings.outfile.name!r} does not end in .fsota, .ota or .otb; "
                "digi-xbee and XCTU look for those",
            )
        )
    point = signing.public_point(public_key).hex().upper()
    signature_text = f"{signing.ALGORITHM}, {len(signature)}-byte DER ({form}), key fingerprint {fingerprint}"
    logger.info(
        "xbee_fs.written",
        outfile=str(settings.outfile),
        size=written.size,
        sha256=written.sha256,
        image_size=size,
        padded_size=padded_size,
        signature_length=len(signature),
        fingerprint=fingerprint,
        key_form=loaded.form,
    )
    return XbeeFsResult(
        outfile=settings.outfile,
        size=written.size,
        sha256=written.sha256,
        sha512=written.sha512,
        sha3_256=written.sha3_256,
        image=settings.image,
        image_size=size,
        padded_size=padded_size,
        signature_length=len(signature),
        signature_form=form,
        signature=signature_text,
        public_key_fingerprint=fingerprint,
        fk=point,
        key_form=loaded.form,
        ota=OtaSummary.of(parsed),
        findings=tuple(warnings),
    )


def _looks_like_der_signature(head: bytes, length: int) -> bool:
    """A DER ``SEQUENCE`` of the whole tail, 8-72 bytes: what an ECDSA P-256 signature is.

    Anything else after the 2048-byte blocks (a vendor's payload, nothing at all) means
    the file was never signed, which is a different message from a signature that fails.
    """
    return 8 <= length <= 72 and len(head) == length and head[0] == 0x30 and head[1] == length - 2


def signature_verdict(f: BinaryIO, parsed: ParsedImage, public_key_path: Path) -> tuple[str, list[str]]:
    """Check an XBee file-system signature: (one-line verdict, errors).

    The signed bytes are the 2048-multiple prefix of the first 0x0000 element's data;
    what follows is the DER signature.  They are hashed from ``f`` in chunks.  A bad key
    file is an InputError (exit 2); a file whose signature does not check is a verdict
    with errors (exit 1).
    """
    source = signing.KeySource(
        f"--public-key {str(public_key_path)!r}", field="public_key", value=str(public_key_path)
    )
    public_key = signing.load_public_key(files.read_input(public_key_path, field="public_key"), source)
    fingerprint = signing.fingerprint(public_key)
    ref = parsed.first_of.get(UPGRADE_IMAGE)
    if ref is None:
        problem = "no upgrade image (tag 0x0000) holds a signed image"
        return f"invalid: {problem}", [problem]
    image_length, signature_length = xbee.split_length(ref.length)
    f.seek(ref.data_offset + image_length)
    signature = f.read(min(signature_length, 256))
    if not image_length or not _looks_like_der_signature(signature, signature_length):
        problem = (
            f"the file carries no XBee file-system signature: its {ref.length}-byte upgrade image "
            "is not a multiple of 2048 bytes followed by a DER ECDSA signature (files made by "
            "xbee-fs have one; sign this image with xbee-fs)"
        )
        return f"none: {problem}", [problem]
    sha = hashlib.sha256()
    for chunk in chunks(f, ref.data_offset, ref.data_offset + image_length):
        sha.update(chunk)
    if not signing.verify_digest(public_key, signature, sha.digest()):
        problem = (
            f"the {len(signature)}-byte signature after the {image_length}-byte image does not "
            f"verify with key fingerprint {fingerprint}"
        )
        return f"invalid: {problem}", [problem]
    return (
        f"valid ({signing.ALGORITHM}, {len(signature)}-byte DER, key fingerprint {fingerprint})",
        [],
    )
