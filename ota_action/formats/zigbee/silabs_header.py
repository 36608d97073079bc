"""The first bytes of a Silicon Labs GBL or EBL image: enough to tell one, nothing to walk it.

Apart from :mod:`ota_action.formats.zigbee.silabs` (the tag walk and its result
classes) so that recognising an upgrade image, or choosing the reader of a bare
``.gbl``, imports no more than these constants (issue 25).
"""

from __future__ import annotations

MAX_LISTED_TAGS = 32  # tags a walk lists; the rest are counted

GBL_HEADER_TAG = 0x03A617EB
EBL_HEADER_TAG = 0x0000
EBL_ENCRYPTED_HEADER_TAG = 0xFB05
EBL_IMAGE_SIGNATURE = 0xE350


def is_gbl(head: bytes) -> bool:
    return len(head) >= 4 and int.from_bytes(head[:4], "little") == GBL_HEADER_TAG


def is_ebl(head: bytes) -> bool:
    first = int.from_bytes(head[:2], "big")
    if len(head) < 8:
        return False
    return first == EBL_ENCRYPTED_HEADER_TAG or (
        first == EBL_HEADER_TAG and int.from_bytes(head[6:8], "big") == EBL_IMAGE_SIGNATURE
    )
