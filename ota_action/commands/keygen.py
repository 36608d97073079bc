"""``keygen``: a fresh P-256 key pair for XBee3 file-system signing.

Printing the private key (as one line of base64, for a CI secret) is this command's
purpose, so it goes to the summary (stdout) and nowhere else: never to the log.  Key
files are never overwritten, and the private one is created with mode 0600.
"""

from __future__ import annotations

import base64
import contextlib
import os
from pathlib import Path

from ota_action.edges import files, log, same_file
from ota_action.errors import InputError
from ota_action.results import KeygenResult
from ota_action.secret import Secret
from ota_action.settings.xbee import KeygenSettings
from ota_action.signing import keys as signing


def _refuse_existing(path: Path, field: str) -> None:
    if os.path.lexists(path):  # never raises (a name too long is check_output_path's)
        raise InputError("already exists; keygen never overwrites a key file", field=field, value=str(path))
    files.check_output_path(path, field=field)


def run(settings: KeygenSettings) -> KeygenResult:
    _refuse_existing(settings.private_out, "private_out")
    if settings.public_out is not None:
        if same_file.same_name(settings.public_out, settings.private_out):
            raise InputError(
                "is the same file as --private-out", field="public_out", value=str(settings.public_out)
            )
        _refuse_existing(settings.public_out, "public_out")
    key = signing.generate_key()
    public_key = key.public_key()
    private_pem = signing.private_pem(key)
    # O_CREAT|O_EXCL with the mode in one call: parallel runs cannot both "win" the file.
    files.create_exclusive(settings.private_out, private_pem, field="private_out", mode=0o600)
    if settings.public_out is not None:
        try:
            files.create_exclusive(
                settings.public_out, signing.public_pem(public_key), field="public_out", mode=0o644
            )
        except BaseException:
            with contextlib.suppress(OSError):
                settings.private_out.unlink()
            raise
    point = signing.public_point(public_key).hex().upper()
    fingerprint = signing.fingerprint(public_key)
    log.get().info(
        "keygen.written",
        private_out=str(settings.private_out),
        public_out=None if settings.public_out is None else str(settings.public_out),
        fingerprint=fingerprint,
    )
    return KeygenResult(
        private_out=settings.private_out,
        public_out=settings.public_out,
        fk=point,
        public_key_fingerprint=fingerprint,
        public_key_pem=signing.public_pem(public_key).decode("ascii"),
        private_key_base64=Secret(
            base64.b64encode(private_pem).decode("ascii"), source=f"the key written to {settings.private_out}"
        ),
    )
