"""``xbee-fs``: xbfs.bin + a key from a CI secret -> a signed XBee3 file-system OTA file.

Also home of :func:`signature_verdict`, the XBee check ``verify --public-key`` runs.
The key is read here (the edge) from the environment or a file, handed to
:mod:`ota_action.signing` to parse, and only a signing closure reaches the pure
:mod:`ota_action.xbee` builder.  Nothing about the key is logged but its public
fingerprint and the form it was given in.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ota_action import files, log, safe_text, signing, xbee
from ota_action.errors import InputError
from ota_action.report import Report
from ota_action.settings.xbee import XbeeFsSettings
from ota_action.zigbee.elements import UPGRADE_IMAGE
from ota_action.zigbee.image import ParsedImage, describe, parse_image

if TYPE_CHECKING:
    from collections.abc import Mapping

DIGI_EXTENSIONS = (".ota", ".otb", ".fsota")


def read_key(settings: XbeeFsSettings, environ: Mapping[str, str]) -> signing.LoadedKey:
    """Find the one key source the user gave and load it; every problem names the source."""
    env_value = environ.get(settings.key_env, "")
    passphrase_value = environ.get(settings.passphrase_env, "")
    # surrogateescape: a passphrase variable holding non-UTF-8 bytes is used byte for byte.
    passphrase = passphrase_value.encode("utf-8", "surrogateescape") if passphrase_value else None
    passphrase_source = safe_text.variable_source(settings.passphrase_env, "--passphrase-env", environ)
    env_source = safe_text.variable_source(settings.key_env, "--key-env", environ)
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
        if env_value.strip():
            raise source.error(
                f"{env_source} is also set; give exactly one key source (unset it or drop --key-file)"
            )
        raw = files.read_input(settings.key_file, field="key_file")
    else:
        if not env_value.strip():
            raise InputError(
                f"no signing key: {env_source} is not set or empty; put the P-256 private key "
                "there (PEM, or one line of base64 of PEM or DER; name another variable with "
                "--key-env), or give --key-file",
                field="key_env",
            )
        source = signing.KeySource(env_source, field="key_env")
        raw = env_value.encode("utf-8", "surrogateescape")
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


def run(settings: XbeeFsSettings) -> Report:
    logger = log.get()
    files.check_output_path(settings.outfile)
    raw = files.read_input(settings.image, field="image")
    if not raw:
        raise InputError(
            "is empty; give the xbfs.bin downloaded with ATFS GET /sys/xbfs.bin",
            field="image",
            value=str(settings.image),
        )
    loaded = read_key(settings, os.environ)
    public_key = loaded.key.public_key()
    fingerprint = signing.fingerprint(public_key)
    logger.debug("xbee_fs.key_loaded", key_form=loaded.form, fingerprint=fingerprint)
    sign, notes = _fitting_signer(signing.signer(loaded.key), settings.allow_short_signature)
    built = xbee.build_fs_ota(
        raw,
        file_version=settings.version,
        sign=sign,
        manufacturer_code=settings.mfg_id,
        image_type=settings.image_type,
        header_string=(settings.string or "").encode("ascii"),
    )
    padded = built.data[-built.payload_length :][: built.padded_size]
    if not signing.verify(public_key, built.signature, padded):  # pragma: no cover - a bug
        raise RuntimeError("the signature just made does not verify")
    parsed = parse_image(built.data)
    warnings = list(loaded.warnings)
    if (problem := xbee.version_warning(settings.version)) is not None:
        warnings.append(problem)
    if (ymodem := xbee.trailing_ymodem_padding(raw)) > 0:
        warnings.append(
            f"the image ends in {ymodem} 0x1A byte(s): YMODEM padding? The signature will match, but "
            "the file system may differ from the staging device's; download it with a YMODEM "
            "receiver that honours the file length"
        )
    form = notes[0] if notes else "as signed"
    if not signing.signature_length_ok(built.signature):
        warnings.append(f"signature: {form}")
    name = settings.outfile.name.lower()
    if not name.endswith(DIGI_EXTENSIONS):
        warnings.append(
            f"output name {settings.outfile.name!r} does not end in .fsota, .ota or .otb; "
            "digi-xbee and XCTU look for those"
        )
    files.write_atomic(settings.outfile, built.data)
    digest = files.sha256_hex(built.data)
    point = signing.public_point(public_key).hex().upper()
    signature_text = (
        f"{signing.ALGORITHM}, {len(built.signature)}-byte DER ({form}), key fingerprint {fingerprint}"
    )
    logger.info(
        "xbee_fs.written",
        outfile=str(settings.outfile),
        size=len(built.data),
        sha256=digest,
        image_size=built.raw_size,
        padded_size=built.padded_size,
        signature_length=len(built.signature),
        fingerprint=fingerprint,
        key_form=loaded.form,
    )
    return Report(
        "xbee-fs",
        {
            "outfile": str(settings.outfile),
            "size": len(built.data),
            "sha256": digest,
            "image": str(settings.image),
            "image_size": built.raw_size,
            "padded_size": built.padded_size,
            "padding": built.padded_size - built.raw_size,
            "signature_length": len(built.signature),
            "signature_form": form,
            "signature": signature_text,
            "public_key_fingerprint": fingerprint,
            "fk": point,
            "key_form": loaded.form,
            **xbee.describe_version(settings.version),
            **describe(parsed),
        },
        outfile=settings.outfile,
        warnings=warnings,
    )


def signature_verdict(data: bytes, parsed: ParsedImage, public_key_path: Path) -> tuple[str, list[str]]:
    """Check an XBee file-system signature: (one-line verdict, errors).

    The signed bytes are the 2048-multiple prefix of the first 0x0000 element's data;
    what follows is the DER signature.  A bad key file is an InputError (exit 2); a
    file whose signature does not check is a verdict with errors (exit 1).
    """
    source = signing.KeySource(
        f"--public-key {str(public_key_path)!r}", field="public_key", value=str(public_key_path)
    )
    public_key = signing.load_public_key(files.read_input(public_key_path, field="public_key"), source)
    fingerprint = signing.fingerprint(public_key)
    refs = [e for e in parsed.elements if e.tag == UPGRADE_IMAGE]
    if not refs:
        verdict = "INVALID: no upgrade image (tag 0x0000) holds a signed image"
        return verdict, [verdict]
    image, signature = xbee.split_payload(parsed.element_data(data, refs[0]))
    if not image or not signature:
        verdict = (
            f"INVALID: the upgrade image is {len(image) + len(signature)} bytes; an XBee file-system "
            "image is a multiple of 2048 bytes followed by a 70-72-byte DER signature"
        )
        return verdict, [verdict]
    if not signing.verify(public_key, signature, image):
        verdict = (
            f"INVALID: the {len(signature)}-byte signature after the {len(image)}-byte image does not "
            f"verify with key fingerprint {fingerprint}"
        )
        return verdict, [verdict]
    return (
        f"valid ({signing.ALGORITHM}, {len(signature)}-byte DER, key fingerprint {fingerprint})",
        [],
    )
