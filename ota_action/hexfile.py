"""Intel HEX input on intelhex: turning a .hex file into the binary image it describes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ota_action.errors import InputError


@dataclass(frozen=True)
class HexImage:
    data: bytes
    start: int  # lowest address
    end: int  # one past the highest address


def hex_to_image(path: Path, *, fill: int = 0xFF, field: str = "tags") -> HexImage:
    """The bytes from the lowest to the highest address, gaps filled with ``fill``."""
    from intelhex import HexRecordError, IntelHex

    ih = IntelHex()
    try:
        ih.loadhex(str(path))
    except (HexRecordError, ValueError) as exc:
        raise InputError(f"is not a valid Intel HEX file: {exc}", field=field, value=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror}", field=field, value=str(path)) from None
    if not len(ih):
        raise InputError("holds no data records", field=field, value=str(path))
    start, last = ih.minaddr(), ih.maxaddr()
    ih.padding = fill
    return HexImage(ih.tobinstr(start=start, end=last), start, last + 1)
