"""``keygen``: a fresh P-256 key pair for XBee3 file-system signing, on disk or in a token.

On disk: printing the private key (as one line of base64, for a CI secret) is this
command's purpose, so it goes to the summary (stdout) and nowhere else: never to the
log.  Key files are never overwritten, and the private one is created with mode 0600.

In a PKCS#11 token (``--key-uri``): the token generates the pair and keeps the private
key (sensitive, not extractable); only the public key comes out, as PEM, fingerprint
and the XBee ``ATFK`` line.  An existing key of that label/id is never replaced.
"""

from __future__ import annotations

import base64
import contextlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ota_action.commands.key_sources import PIN_VARIABLE, module_path
from ota_action.edges import files, log, same_file
from ota_action.errors import InputError
from ota_action.results import KeygenResult
from ota_action.secret import KeyMaterial, Secret
from ota_action.signing import keys as signing
from ota_action.signing import public

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey

    from ota_action.settings.xbee import KeygenSettings


def _refuse_existing(path: Path, field: str) -> None:
    if os.path.lexists(path):  # never raises (a name too long is check_output_path's)
        raise InputError("already exists; keygen never overwrites a key file", field=field, value=str(path))
    files.check_output_path(path, field=field)


def key_material(settings: KeygenSettings, environ: Mapping[str, str], given: KeyMaterial) -> KeyMaterial:
    """Only the token PIN, and only for ``--key-uri``."""
    pin = given.pin
    if pin is None and settings.signing_key_uri and environ.get(PIN_VARIABLE, ""):
        pin = Secret(
            environ[PIN_VARIABLE], source=f"environment variable {PIN_VARIABLE}", field="signing_key_uri"
        )
    return KeyMaterial(pin=pin)


def _result(public_key: EllipticCurvePublicKey, **where: Any) -> KeygenResult:
    """The result: where the key went, and the public key in every form a user needs."""
    return KeygenResult(
        fk=public.public_point(public_key).hex().upper(),
        public_key_fingerprint=public.fingerprint(public_key),
        public_key_pem=public.public_pem(public_key).decode("ascii"),
        **where,
    )


def _in_token(settings: KeygenSettings, secrets: KeyMaterial) -> KeygenResult:
    from ota_action.signing import pkcs11
    from ota_action.signing.pkcs11_uri import parse_uri

    if settings.private_out is not None:
        raise InputError(
            "cannot be given with --key-uri: the private key stays in the token", field="private_out"
        )
    if settings.public_out is not None:
        _refuse_existing(settings.public_out, "public_out")
    uri = parse_uri(settings.signing_key_uri or "", field="signing_key_uri")
    module = module_path(settings.pkcs11_module, uri.module_path)
    public_key = pkcs11.generate_in_token(module, uri, secrets.pin, field="signing_key_uri")
    if settings.public_out is not None:
        files.create_exclusive(
            settings.public_out, public.public_pem(public_key), field="public_out", mode=0o644
        )
    log.get().info("keygen.created", key_uri=uri.shown(), fingerprint=public.fingerprint(public_key))
    return _result(public_key, private_out=None, public_out=settings.public_out, key_uri=uri.shown())


def run(settings: KeygenSettings, secrets: KeyMaterial) -> KeygenResult:
    if settings.signing_key_uri:
        return _in_token(settings, secrets)
    if settings.private_out is None:
        raise InputError(
            "is required: the private key file to create (or --key-uri to create the key in a token)",
            field="private_out",
        )
    return _on_disk(settings, settings.private_out)


def _on_disk(settings: KeygenSettings, private_out: Path) -> KeygenResult:
    _refuse_existing(private_out, "private_out")
    if settings.public_out is not None:
        if same_file.same_name(settings.public_out, private_out):
            raise InputError(
                "is the same file as --private-out", field="public_out", value=str(settings.public_out)
            )
        _refuse_existing(settings.public_out, "public_out")
    key = signing.generate_key()
    public_key = key.public_key()
    private_pem = signing.private_pem(key)
    # O_CREAT|O_EXCL with the mode in one call: parallel runs cannot both "win" the file.
    files.create_exclusive(private_out, private_pem, field="private_out", mode=0o600)
    if settings.public_out is not None:
        try:
            files.create_exclusive(
                settings.public_out, public.public_pem(public_key), field="public_out", mode=0o644
            )
        except BaseException:
            with contextlib.suppress(OSError):
                private_out.unlink()
            raise
    log.get().info(
        "keygen.written",
        private_out=str(private_out),
        public_out=None if settings.public_out is None else str(settings.public_out),
        fingerprint=public.fingerprint(public_key),
    )
    return _result(
        public_key,
        private_out=private_out,
        public_out=settings.public_out,
        private_key_base64=Secret(
            base64.b64encode(private_pem).decode("ascii"), source=f"the key written to {private_out}"
        ),
    )
