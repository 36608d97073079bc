"""Firmware files named by a user, opened at the edge and handed to the pure readers.

The readers in :mod:`ota_action.formats.firmware` take open streams; this module is the
one place a firmware input's *path* is opened (with :func:`~ota_action.edges.files.open_input`,
so a FIFO, a device or a symlink loop is an exit-2 error naming the option).  Every
command that takes a firmware file comes here: ``combine`` inputs, ``zbota`` tags and
the ``xbee-fs`` image.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ota_action.edges.files import input_size, open_input
from ota_action.errors import InputError
from ota_action.formats.firmware.kinds import FirmwareKind, sniff
from ota_action.formats.zigbee.image import FileSource
from ota_action.values import FirmwareInput

if TYPE_CHECKING:
    from ota_action.formats.firmware.binary import FilledImage
    from ota_action.formats.firmware.image import Firmware

# The readers (Intel HEX, S-record, ELF) and the binary image builder are imported when a
# file needs them: a raw binary tag (``zbota -t 0:app.bin``) is only sniffed and streamed.


def file_kind(path: Path, *, field: str) -> FirmwareKind:
    """What kind of firmware file ``path`` is, by its first bytes and its name."""
    with open_input(path, field=field) as f:
        return sniff(f, name=str(path), field=field)


def read_firmware_file(given: FirmwareInput | Path, *, field: str = "files") -> Firmware:
    """Parse one firmware file of any kind as a stream (raw binary needs its address)."""
    from ota_action.formats.firmware.read import read_firmware

    spec = given if isinstance(given, FirmwareInput) else FirmwareInput(given)
    try:
        with open_input(spec.path, field=field) as f:
            return read_firmware(f, name=str(spec.path), field=field, address=spec.address)
    except InputError as exc:
        if exc.value == str(spec.path):
            exc.value = str(spec)  # as the user wrote it: app.bin@0x08000000
        raise


def converted_image(path: Path, *, fill: int = 0xFF, field: str = "tags") -> FilledImage | None:
    """The binary image a tag's file stands for, or None when the file is raw binary already.

    Intel HEX, S-record and ELF become their bytes from the lowest to the highest
    address, gaps filled with ``fill``: never their text embedded as bytes.
    """
    with open_input(path, field=field) as f:
        kind = sniff(f, name=str(path), field=field)
        if kind is FirmwareKind.BINARY:
            return None
        from ota_action.formats.firmware.binary import filled_image
        from ota_action.formats.firmware.read import read_firmware

        return filled_image(read_firmware(f, name=str(path), field=field), fill=fill, field=field)


def firmware_image(path: Path, *, fill: int = 0xFF, field: str = "tags") -> FilledImage:
    """A firmware file's binary image in memory-light form (tests, ``xbee-fs`` checks)."""
    from ota_action.formats.firmware.binary import filled_image

    return filled_image(read_firmware_file(path, field=field), fill=fill, field=field)


def raw_file_source(path: Path, *, field: str = "tags") -> FileSource:
    """A raw binary tag's bytes, streamed from the file when written (its size checked now)."""
    size = input_size(path, field=field)
    return FileSource(path, size, opener=lambda p: open_input(p, field=field))


def require_raw_binary(path: Path, *, field: str, what: str) -> None:
    """Refuse a file that holds Intel HEX, S-record or ELF where ``what`` must be raw bytes."""
    kind = file_kind(path, field=field)
    if kind is not FirmwareKind.BINARY:
        raise InputError(
            f"holds {kind.value}, not {what}; convert it to the raw image first "
            f"(it would be embedded as {kind.value} bytes)",
            field=field,
            value=str(path),
        )
