"""Read a GBL3 file back to the program data a bootloader would write: decrypt, decompress.

``pygbl`` parses and validates (CRC-32 residue); this only chains its steps and refuses
what it cannot read with a :class:`FormatError` naming the problem.
"""

from __future__ import annotations

from pygbl import GBL3EraseProg, GBL3Image, GBL3Prog
from pygbl.types import GBLError

from ota_action.errors import FormatError


def program_data(gbl: bytes, *, key: bytes | None = None) -> list[tuple[int, bytes]]:
    """``(address, data)`` of each program-data tag, decrypted with ``key`` when encrypted."""
    try:
        image = GBL3Image.from_bytes(gbl)
        if key is not None:
            image = image.decrypt(key)
        image = image.decompress()
    except (GBLError, KeyError, ValueError) as exc:
        raise FormatError(f"GBL cannot be read: {exc}") from None
    return [(t.address, t.data) for t in image.tags if isinstance(t, GBL3EraseProg | GBL3Prog)]
