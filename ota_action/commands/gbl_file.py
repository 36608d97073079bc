"""``inspect``/``verify`` of a bare ``.gbl`` file: the GBL itself, with no OTA header around it.

A file whose first 4 bytes are the GBL header tag is read as a GBL (streamed, like an OTA
file's GBL upgrade image, by :func:`~ota_action.formats.zigbee.silabs.walk_silabs`) and
judged by the same rules: the tag walk and CRC (``payload-structure``, ``payload-crc``),
and with ``--public-key`` the signature (``signature``).  Anything else goes on to the OTA
reader unchanged.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from ota_action.commands.signatures import NamedKey, gbl_verdict
from ota_action.edges import files
from ota_action.errors import InputError
from ota_action.formats.zigbee.checks import Finding, Level
from ota_action.formats.zigbee.silabs import walk_silabs
from ota_action.formats.zigbee.silabs_header import is_gbl
from ota_action.formats.zigbee.streams import chunks, read_at
from ota_action.results.gbl_file import GblInspectResult, GblVerifyResult


def read_gbl_file(
    path: Path,
    *,
    field: str,
    verify: bool,
    public_keys: Sequence[NamedKey] | None = None,
    found: bool = False,
) -> GblInspectResult | None:
    """The result for a bare GBL file; None when ``path`` is not one (the OTA reader's turn)."""
    with files.open_input(path, field=field, found=found) as f:
        try:
            if not is_gbl(read_at(f, 0, 4)):
                return None
            size = os.fstat(f.fileno()).st_size
            payload = walk_silabs(f, 0, size, gbl=True)
            digest = hashlib.sha256()
            for piece in chunks(f, 0, size):
                digest.update(piece)
            code = payload.finding_code()
            findings = [] if payload.valid else [Finding.error(code, f"the GBL file: {payload.problem}")]
            signature = None
            if public_keys:
                signature, problems = gbl_verdict(f, payload, public_keys)
                findings += [Finding.error("signature", p) for p in problems]
        except OSError as exc:
            raise InputError(f"cannot be read: {exc.strerror}", field=field, value=str(path)) from None
    sha256 = digest.hexdigest()
    if verify:
        return GblVerifyResult(
            file=path, size=size, sha256=sha256, gbl=payload, signature=signature, findings=tuple(findings)
        )
    demoted = tuple(f._replace(level=Level.WARNING) if f.level is Level.ERROR else f for f in findings)
    return GblInspectResult(file=path, size=size, sha256=sha256, gbl=payload, findings=demoted)
