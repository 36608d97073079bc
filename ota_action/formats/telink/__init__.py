"""Telink application images as Telink's OTA boot code checks them (TLSR825x/827x/B91 SDKs).

Pure: bytes, streams and offsets in, values out; see :mod:`ota_action.formats.telink.image`.
Its names are imported on first use, so telling a Telink image by its header
(:mod:`ota_action.formats.telink.header`) loads nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ota_action.lazy import lazy_names

if TYPE_CHECKING:
    from ota_action.formats.telink.image import (
        TelinkCheck,
        TelinkPrepared,
        check_telink_stream,
        file_version,
        prepared_length,
    )

_HOMES = {
    "image": ("TelinkCheck", "TelinkPrepared", "check_telink_stream", "file_version", "prepared_length")
}
__getattr__ = lazy_names(__name__, _HOMES, globals())

__all__ = [
    "TelinkCheck",
    "TelinkPrepared",
    "check_telink_stream",
    "file_version",
    "prepared_length",
]
