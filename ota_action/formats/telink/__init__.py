"""Telink application images as Telink's OTA boot code checks them (TLSR825x/827x/B91 SDKs).

Pure: bytes, streams and offsets in, values out; see :mod:`ota_action.formats.telink.image`.
"""

from __future__ import annotations

from ota_action.formats.telink.image import (
    TelinkCheck,
    TelinkPrepared,
    check_telink_stream,
    file_version,
    prepared_length,
)

__all__ = [
    "TelinkCheck",
    "TelinkPrepared",
    "check_telink_stream",
    "file_version",
    "prepared_length",
]
