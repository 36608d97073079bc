"""``gbl``: a firmware build in, a Silicon Labs GBL3 file out (compressed, encrypted, signed).

The program data is read whole (a GBL describes one flash image: at most
:data:`MAX_IMAGE` bytes), handed to the pure :mod:`ota_action.formats.gbl` builder with a
signing function bound to the signing port, and written atomically.  The AES key is read
from the variable ``--encrypt-key-env`` names, straight into a :class:`Secret`; the signing
key comes from any of the project's key sources (``OTA_SIGNING_KEY``, ``--key-env``,
``--key-file``, a PKCS#11 token with ``--key-uri``, a signer command), opened by
:mod:`ota_action.commands.key_sources` as a :class:`~ota_action.signing.port.DigestSigner`.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from ota_action import safe_text
from ota_action.commands import firmware_files, key_sources
from ota_action.commands.signatures import NamedKey, gbl_bytes_verdict
from ota_action.edges import files, log
from ota_action.errors import InputError
from ota_action.formats.firmware.kinds import FirmwareKind
from ota_action.formats.gbl import GblApplication, build_gbl
from ota_action.formats.gbl.build import AES_KEY_SIZE, DigestSign
from ota_action.records import record, replace
from ota_action.results.gbl import GblResult
from ota_action.secret import NO_SECRETS, KeyMaterial, Secret
from ota_action.signing import public
from ota_action.signing.port import DigestSigner, sign_checked

if TYPE_CHECKING:
    from ota_action.settings.gbl import GblOptions, GblSettings

MAX_IMAGE = 64 << 20  # far above any EFR32/EFR32xG flash; a bigger input is a mistake
_TOKEN = re.compile(r"^\s*TOKEN_MFG_SECURE_BOOTLOADER_KEY\s*:\s*", re.IGNORECASE)


def key_material(settings: GblOptions, environ: Mapping[str, str], given: KeyMaterial) -> KeyMaterial:
    """The signing secrets, only when ``--sign`` asks for them (xbee-fs' rules otherwise),
    and the AES key ``--encrypt-key-env`` names: the door masks both before the run."""
    material = key_sources.key_material(settings, environ, given) if settings.sign else NO_SECRETS
    return with_encryption(material, settings, environ)


def with_encryption(material: KeyMaterial, settings: GblOptions, environ: Mapping[str, str]) -> KeyMaterial:
    """``material`` with the AES key when ``--encrypt-key-env`` names a variable that holds
    one; an unset or empty variable is the run's to refuse (:func:`aes_key`), in order."""
    name = settings.encrypt_key_env
    if name is None or not environ.get(name, "").strip():
        return material
    return replace(material, encryption=aes_key(settings, environ))


def _segments(settings: GblOptions, path: Path, field: str) -> tuple[int, bytes]:
    """The application's start address and bytes: Intel HEX, S-record and ELF carry their
    addresses (converted as ``zbota`` converts tags); a raw binary needs ``--address``."""
    kind = firmware_files.file_kind(path, field=field)
    if kind is not FirmwareKind.BINARY:
        if settings.address is not None:
            raise InputError(
                f"is for a raw binary input; {kind.value} carries its own addresses", field="address"
            )
        image = firmware_files.firmware_image(path, field=field)
        if image.length > MAX_IMAGE:
            raise InputError(
                f"spans {image.length} bytes, more than any flash holds", field=field, value=str(path)
            )
        return image.start, b"".join(image.chunks())
    if settings.address is None:
        raise InputError(
            "is needed for a raw binary input: the flash address its first byte goes to, e.g. 0x08006000",
            field="address",
        )
    return settings.address, files.read_input(path, field=field, max_size=MAX_IMAGE)


def aes_key(settings: GblOptions, environ: Mapping[str, str]) -> Secret | None:
    """The AES key from the variable ``--encrypt-key-env`` names, as a :class:`Secret`."""
    name = settings.encrypt_key_env
    if name is None:
        return None
    value = environ.get(name, "")
    source = safe_text.variable_source(name, "--encrypt-key-env", environ)
    if not value.strip():
        raise InputError(
            f"{source} is not set or empty; put the 16-byte AES key there (32 hex digits)",
            field="encrypt_key_env",
        )
    return Secret(value, source=source, field="encrypt_key_env")


def _key_bytes(secret: Secret) -> bytes:
    """32 hex digits (``0x``, spaces, colons and Commander's ``TOKEN_...:`` prefix allowed).

    The message never shows the value, only where it came from."""
    text = _TOKEN.sub("", secret.reveal().strip()).removeprefix("0x").replace(" ", "").replace(":", "")
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != AES_KEY_SIZE:
        raise InputError(
            f"{secret.source} must hold a {AES_KEY_SIZE}-byte AES-128 key as 32 hex digits",
            field="encrypt_key_env",
        )
    return key


def _sign_with(signer: DigestSigner, blame: str | None) -> DigestSign:
    def sign(digest: bytes) -> tuple[int, int]:
        signature = sign_checked(signer, digest, field=blame)
        return signature.r, signature.s

    return sign


@record
class BuiltGbl:
    """A GBL3 file made in memory, checked, and what went into it."""

    data: bytes
    address: int
    image_size: int
    encrypted: bool
    fingerprint: str | None  # the signing key's, when signed


def build(
    settings: GblOptions,
    path: Path,
    secrets: KeyMaterial,
    *,
    field: str = "image",
    signer: key_sources.OpenedSigner | None = None,
) -> BuiltGbl:
    """The GBL of the firmware at ``path`` with ``settings``' options (``gbl`` and
    ``zbota --gbl``).  A signed GBL is read back with ``pygbl`` and its signature verified
    with the signer's public key before it is returned, so nothing unverifiable is written.
    ``signer``: a key source the caller opened and closes (``build`` opens each once for
    all its images) instead of the one ``settings`` and ``secrets`` name."""
    if not settings.sign and (settings.key_file is not None):
        raise InputError("signs with this key only together with --sign", field="key_file")
    address, data = _segments(settings, path, field)
    key = secrets.encryption or aes_key(settings, os.environ)  # the door's, masked; else here
    fingerprint = None
    with ExitStack() as stack:
        sign = None
        if settings.sign:
            opened = signer or key_sources.open_signer(settings, secrets, stack)  # a wrong key stops here
            signer_key = opened.signer.public_key()
            fingerprint = public.fingerprint(signer_key)
            sign = _sign_with(opened.signer, opened.blame)
        gbl = build_gbl(
            [(address, data)],
            app=GblApplication(version=settings.app_version),
            compression=settings.compress,
            encrypt_key=None if key is None else _key_bytes(key),
            sign=sign,
        )
    if settings.sign:
        named = NamedKey("the signing key", signer_key, fingerprint or "")
        _, problems = gbl_bytes_verdict(gbl, "the GBL just built", [named])
        if problems:  # pragma: no cover - sign_checked verified each signature already
            raise InputError(f"{problems[0]}; nothing was written", field="sign")
    return BuiltGbl(gbl, address, len(data), key is not None, fingerprint)


def run(settings: GblSettings, secrets: KeyMaterial) -> GblResult:
    logger = log.get()
    files.check_output_path(settings.outfile)
    built = build(settings, settings.image, secrets)
    gbl = built.data
    files.write_atomic(settings.outfile, gbl)
    sha256 = hashlib.sha256(gbl).hexdigest()
    logger.info(
        "gbl.written",
        outfile=str(settings.outfile),
        size=len(gbl),
        sha256=sha256,
        fingerprint=built.fingerprint,
    )
    return GblResult(
        outfile=settings.outfile,
        size=len(gbl),
        sha256=sha256,
        address=built.address,
        image_size=built.image_size,
        compression=None if settings.compress is None else settings.compress.value,
        encrypted=built.encrypted,
        signed=settings.sign,
        public_key_fingerprint=built.fingerprint,
    )
