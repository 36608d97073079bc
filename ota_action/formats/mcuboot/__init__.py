"""MCUboot images (Nordic NCS, Zephyr): the header and TLV areas, read from a stream.

Signing is ``imgtool``'s (see :mod:`ota_action.commands.mcuboot`); this room only reads.
"""

from __future__ import annotations

from ota_action.formats.mcuboot.image import McubootHeader, Tlv, decode_header, read_tlvs

__all__ = ["McubootHeader", "Tlv", "decode_header", "read_tlvs"]
