"""Read any firmware file as a :class:`~ota_action.formats.firmware.image.Firmware`.

The kind comes from the file's first bytes and its name together
(:func:`~ota_action.formats.firmware.kinds.identify`); then the one reader of that kind
reads the stream.  Raw binary has no addresses of its own, so it is read only with the
address it is loaded at (``app.bin@0x08000000`` in ``combine``).
"""

from __future__ import annotations

from typing import BinaryIO

from ota_action.errors import InputError
from ota_action.formats.firmware.elf import read_elf
from ota_action.formats.firmware.image import Firmware
from ota_action.formats.firmware.intelhex import read_hex
from ota_action.formats.firmware.kinds import FirmwareKind, sniff
from ota_action.formats.firmware.segments import ADDRESS_LIMIT
from ota_action.formats.firmware.srecord import read_srec

_BLOCK = 1 << 20


def read_binary(f: BinaryIO, address: int, *, name: str, field: str) -> Firmware:
    """A raw binary file loaded at ``address`` (it must fit below 4 GiB)."""
    data = bytearray()
    try:
        size = f.seek(0, 2)
        f.seek(0)
        if address + size > ADDRESS_LIMIT:  # said before any byte is read
            raise InputError(
                f"is {size} bytes, so at 0x{address:08X} it reaches past the 32-bit address space",
                field=field,
                value=name,
            )
        while block := f.read(_BLOCK):
            data += block
            if address + len(data) > ADDRESS_LIMIT:
                raise InputError(
                    f"at 0x{address:08X} reaches past the 32-bit address space", field=field, value=name
                )
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror}", field=field, value=name) from None
    return Firmware(name, [(address, data)] if data else [], None, FirmwareKind.BINARY)


def read_firmware(f: BinaryIO, *, name: str, field: str, address: int | None = None) -> Firmware:
    """Identify and read one firmware stream; ``address`` places a raw binary file."""
    kind = sniff(f, name=name, field=field)
    if address is not None and kind is not FirmwareKind.BINARY:
        raise InputError(
            f"holds {kind.value}, which carries its own addresses; "
            f"an @0x{address:X} load address is for raw binary files only",
            field=field,
            value=name,
        )
    if kind is FirmwareKind.BINARY:
        if address is None:
            raise InputError(
                f"is raw binary, which has no addresses; give the address it loads at, as {name}@0x08000000",
                field=field,
                value=name,
            )
        return read_binary(f, address, name=name, field=field)
    if kind is FirmwareKind.ELF:
        return read_elf(f, name=name, field=field)
    if kind is FirmwareKind.SRECORD:
        return read_srec(f, name=name, field=field)
    return read_hex(f, name=name, field=field)
