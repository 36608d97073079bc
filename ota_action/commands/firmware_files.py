"""Firmware files named by a user, opened at the edge and handed to the pure readers.

The readers in :mod:`ota_action.formats.firmware` take open streams; this module is the
one place a firmware input's *path* is opened (with :func:`~ota_action.edges.files.open_input`,
so a FIFO, a device or a symlink loop is an exit-2 error naming the option).
"""

from __future__ import annotations

from pathlib import Path

from ota_action.edges.files import open_input
from ota_action.formats.firmware.intelhex import (
    HexData,
    HexImage,
    HexSource,
    hex_source,
    hex_to_image,
    read_hex,
)


def read_hex_file(path: Path, *, field: str = "files") -> HexData:
    """Parse one Intel HEX file as a stream."""
    with open_input(path, field=field) as f:
        return read_hex(f, name=str(path), field=field)


def hex_file_source(path: Path, *, fill: int = 0xFF, field: str = "tags") -> HexSource:
    """A ``.hex`` tag's binary image, streamed when written (``zbota``)."""
    return hex_source(read_hex_file(path, field=field), name=str(path), fill=fill, field=field)


def hex_file_image(path: Path, *, fill: int = 0xFF, field: str = "tags") -> HexImage:
    """A ``.hex`` file's binary image in memory (``xbee-fs``, tests)."""
    return hex_to_image(read_hex_file(path, field=field), name=str(path), fill=fill, field=field)
