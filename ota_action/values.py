"""Parsing the text forms users type for numbers, versions, EUI64s and tag specs.

Pure functions that raise ``ValueError`` with a message fit to show after the option
name; the settings models call them, so the CLI, the Action and ``OTA_*`` variables all
accept exactly the same spellings.
"""

from __future__ import annotations

import re
from pathlib import Path

from ota_action.records import record

_INT = re.compile(r"[-+]?(0[xX][0-9a-fA-F]+(_?[0-9a-fA-F])*|[0-9]+)")


def out_of_range(limit: int, digits: int) -> str:
    """The one wording for a number that is well written but too big or negative."""
    return f"is out of range (0 to 0x{limit:0{digits}X})"


def parse_int(text: str | int, *, bits: int) -> int:
    """An unsigned integer of at most ``bits`` bits, in decimal or 0x-hex."""
    if isinstance(text, bool):
        raise ValueError("must be an integer")
    if isinstance(text, int):
        value = text
    else:
        stripped = text.strip()
        if not _INT.fullmatch(stripped):
            raise ValueError("must be an integer in decimal or 0x-prefixed hex")
        sign = -1 if stripped[0] == "-" else 1
        digits = stripped.lstrip("+-")
        value = sign * (int(digits, 16) if digits[:2].lower() == "0x" else int(digits, 10))
    limit = (1 << bits) - 1
    if not 0 <= value <= limit:
        raise ValueError(out_of_range(limit, bits // 4))
    return value


VERSION_FORMS = "write a.b.c.d with each part 0-255 (1.2.3.0), or a 32-bit integer (0x01020300)"


def parse_file_version(text: str | int) -> int:
    """A 32-bit file version: ``a.b.c.d`` (each 0-255, most significant first) or an integer."""
    if isinstance(text, str) and "." in text:
        parts = text.strip().split(".")
        if len(parts) != 4:
            raise ValueError(f"has {len(parts)} dotted parts, not 4; {VERSION_FORMS}")
        value = 0
        for part in parts:
            if not part.isdigit() or not part.isascii():
                raise ValueError(f"has a part that is not a decimal number; {VERSION_FORMS}")
            number = int(part)
            if number > 255:
                raise ValueError(f"has a part above 255 ({number}); {VERSION_FORMS}")
            value = value << 8 | number
        return value
    try:
        return parse_int(text, bits=32)
    except ValueError as exc:
        raise ValueError(f"{exc}; {VERSION_FORMS}") from None


_EUI64 = re.compile(r"[0-9a-fA-F]{2}([:-]?[0-9a-fA-F]{2}){7}")


def parse_eui64(text: str) -> int:
    """16 hex digits, most significant first, optionally split by ``:`` or ``-``."""
    stripped = text.strip()
    if stripped[:2].lower() == "0x":
        stripped = stripped[2:]
    if not _EUI64.fullmatch(stripped) or len({c for c in stripped if c in ":-"}) > 1:
        raise ValueError("must be 16 hex digits, most significant first (e.g. 00:0d:6f:00:00:19:8b:36)")
    return int(re.sub("[:-]", "", stripped), 16)


def split_lines(text: str) -> list[str]:
    """Multi-line text (an Action input, an ``OTA_*`` variable) as its non-blank lines, stripped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


@record
class TagSpec:
    """``TAG_ID:FILE_OR_LENGTH`` from the command line: data from a file, or ``length`` fill bytes."""

    tag: int
    path: Path | None = None
    length: int | None = None

    def __str__(self) -> str:
        source = str(self.path) if self.path is not None else str(self.length)
        return f"0x{self.tag:04X}:{source}"


_LENGTH = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]+")


def parse_tag_spec(text: str) -> TagSpec:
    """``TAG_ID:FILE`` or ``TAG_ID:LENGTH``; an integer after the colon is always a length.

    A file whose name is a number can be given as ``./32``.
    """
    tag_text, sep, source = text.partition(":")
    if not sep or not tag_text.strip() or not source.strip():
        raise ValueError("must be TAG_ID:FILE or TAG_ID:LENGTH, e.g. 0x0000:app.bin or 0x0000:32")
    try:
        tag = parse_int(tag_text, bits=16)
    except ValueError as exc:
        raise ValueError(f"tag id {tag_text.strip()!r} {exc}") from None
    source = source.strip()
    if _LENGTH.fullmatch(source):
        return TagSpec(tag, length=parse_int(source, bits=32))
    return TagSpec(tag, path=Path(source))


# Fields people write in hex everywhere in the ecosystem (Zigbee specs, vendor tools,
# zigpy and Z2M indexes), and how a warning names each.
HEX_USUAL = {"mfg_id": "manufacturer code", "image_type": "image type"}
_BARE_DECIMAL = re.compile(r"\+?[0-9]+")


def decimal_reading_warning(what: str, text: object, *, digits: int = 4) -> str | None:
    """A warning for a bare decimal above 9 where hex is usual, showing both readings.

    ``-m 1234`` is read as decimal (0x04D2), as every number option is; a user who copied
    a manufacturer code meant 0x1234 more often than not.  The number is not changed:
    the warning says how to write either reading so that it goes away.
    """
    if not isinstance(text, str) or not _BARE_DECIMAL.fullmatch(text.strip()):
        return None
    stripped = text.strip().lstrip("+")
    value = int(stripped, 10)
    if value <= 9:
        return None
    as_hex = int(stripped, 16)
    decimal = f"0x{value:0{digits}X}"
    if as_hex >= 1 << 4 * digits:
        return f"{what} {stripped} is read as decimal, {decimal} ({what}s are usually written in hex)"
    return (
        f"{what} {stripped} is read as decimal, {decimal}; in hex, as {what}s are usually written, "
        f"it would be 0x{as_hex:0{digits}X}. Write {decimal} or 0x{as_hex:0{digits}X} to say which you mean"
    )


@record
class FirmwareInput:
    """A firmware file for ``combine``: a path, and for raw binary the address it loads at."""

    path: Path
    address: int | None = None
    given: str = ""  # as the user wrote it, for messages

    def __str__(self) -> str:
        if self.given:
            return self.given
        return str(self.path) if self.address is None else f"{self.path}@0x{self.address:08X}"


_AT_ADDRESS = re.compile(r"(.+)@(0[xX][0-9a-fA-F]+(_?[0-9a-fA-F])*|[0-9]+)")


def parse_firmware_input(text: str | Path) -> FirmwareInput:
    """``FILE`` or ``FILE@ADDRESS`` (raw binary at an address, decimal or 0x-hex).

    Pure: a file whose own name ends in ``@`` and a number must be renamed (or copied).
    """
    if isinstance(text, Path):
        return FirmwareInput(text)
    match = _AT_ADDRESS.fullmatch(text.strip())
    if match is None:
        return FirmwareInput(Path(text.strip()))
    try:
        address = parse_int(match.group(2), bits=32)
    except ValueError as exc:
        raise ValueError(f"load address {match.group(2)} {exc}") from None
    return FirmwareInput(Path(match.group(1)), address, text.strip())
