"""Which kind of firmware file a file is: by its name and by its first bytes.

A name alone is not trusted: ``zbota -t 0x0000:app.s37`` once embedded S-record *text*
as the upgrade image.  Content that positively identifies a kind (an ELF header, an
Intel HEX or S-record first line) always wins over a name that says nothing, and a name
that says a *different* kind is an error naming both.  Content that is none of the text
or ELF kinds is raw binary; a name then decides (a ``.hex`` that is not Intel HEX gets
the Intel HEX reader's exact line error rather than a guess).
"""

from __future__ import annotations

import re
from enum import Enum
from typing import BinaryIO

from ota_action.errors import InputError


class FirmwareKind(Enum):
    """A firmware file format; the value is how messages name it."""

    INTEL_HEX = "Intel HEX"
    SRECORD = "Motorola S-record"
    ELF = "ELF"
    BINARY = "raw binary"


SUFFIXES: dict[str, FirmwareKind] = {
    ".hex": FirmwareKind.INTEL_HEX,
    ".ihex": FirmwareKind.INTEL_HEX,
    ".ihx": FirmwareKind.INTEL_HEX,
    ".s37": FirmwareKind.SRECORD,
    ".s19": FirmwareKind.SRECORD,
    ".s28": FirmwareKind.SRECORD,
    ".srec": FirmwareKind.SRECORD,
    ".mot": FirmwareKind.SRECORD,
    ".elf": FirmwareKind.ELF,
    ".axf": FirmwareKind.ELF,
    ".out": FirmwareKind.ELF,
    ".bin": FirmwareKind.BINARY,
}
CANONICAL_SUFFIX = {
    FirmwareKind.INTEL_HEX: ".hex",
    FirmwareKind.SRECORD: ".s37",
    FirmwareKind.ELF: ".elf",
    FirmwareKind.BINARY: ".bin",
}
SNIFF_BYTES = 4096  # enough for an ELF header and a first record line
_BOM = b"\xef\xbb\xbf"
# A first line that is a whole record (or the start of a long one cut by SNIFF_BYTES).
_HEX_LINE = re.compile(rb":[0-9A-Fa-f]{10,}")
_SREC_LINE = re.compile(rb"S[0-9][0-9A-Fa-f]{6,}")


def suffix_of(name: str) -> str:
    """The lower-case extension of a file name (``""`` when it has none)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "." + base.rsplit(".", 1)[1].lower() if "." in base.lstrip(".") else ""


def kind_by_name(name: str) -> FirmwareKind | None:
    """The kind a file name's extension says, or None when it says none we know."""
    return SUFFIXES.get(suffix_of(name))


def kind_by_content(head: bytes) -> FirmwareKind | None:
    """The kind the first bytes of a file prove, or None when they prove none."""
    if head[:4] == b"\x7fELF" and head[4:5] in (b"\x01", b"\x02") and head[5:6] in (b"\x01", b"\x02"):
        return FirmwareKind.ELF
    text = head[len(_BOM) :] if head.startswith(_BOM) else head
    first = text.lstrip(b" \t\r\n").split(b"\n", 1)
    line = first[0].rstrip(b"\r \t")
    whole = len(first) > 1 or len(head) < SNIFF_BYTES  # the line is not cut by the sniff window
    if _HEX_LINE.fullmatch(line) and (whole or len(line) > 10):
        return FirmwareKind.INTEL_HEX
    if _SREC_LINE.fullmatch(line):
        return FirmwareKind.SRECORD
    return None


def identify(name: str, head: bytes, *, field: str) -> FirmwareKind:
    """The kind of a file from its name and first bytes; a contradiction is an InputError."""
    named = kind_by_name(name)
    found = kind_by_content(head)
    if found is not None and named is not None and found is not named:
        raise InputError(
            f"is named as {named.value} ({suffix_of(name)}) but holds {found.value}; "
            f"name it {CANONICAL_SUFFIX[found]} if that is meant, or give the {named.value} file",
            field=field,
            value=name,
        )
    return found or named or FirmwareKind.BINARY


def sniff(f: BinaryIO, *, name: str, field: str) -> FirmwareKind:
    """The kind of an open, seekable stream (it is rewound)."""
    try:
        head = f.read(SNIFF_BYTES)
        f.seek(0)
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror}", field=field, value=name) from None
    return identify(name, head, field=field)
