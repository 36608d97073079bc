"""The part of Matter TLV (Matter Core specification, appendix A) an OTA image header needs.

Why our own and not a library: the header is one anonymous structure of context-tagged
unsigned integers, UTF-8 strings and byte strings.  The TLV code on PyPI comes inside the
Matter controller packages (``home-assistant-chip-clusters`` ships connectedhomeip's
``chip.tlv``, 6.5 MB with ``dacite`` and ``aenum`` behind it) and, as a reader of untrusted
files, takes a structure without its end, returns bad UTF-8 as bytes and recurses without
a bound (docs/matter.md has the measurements); the tests use it as the independent
oracle, and the engine keeps these lines instead of a runtime dependency.

Encoding is what both Commander and connectedhomeip write: each integer in the fewest
bytes that hold it, each string length in the fewest bytes that hold it.  Decoding
accepts every width the specification allows, skips elements it does not know (any
type, any tag form, nested containers up to :data:`MAX_DEPTH`) and checks every length
against the bytes that are left before taking it: a header can never make the reader
allocate more than the header itself.
"""

from __future__ import annotations

import enum

from ota_action.errors import FormatError
from ota_action.records import record

MAX_DEPTH = 8  # nested containers skipped inside the header before it is called malformed

_TAG_BYTES = {0: 0, 1: 1, 2: 2, 3: 4, 4: 2, 5: 4, 6: 6, 7: 8}  # tag control -> tag length
_WIDTHS = (1, 2, 4, 8)
ANONYMOUS = 0x00
CONTEXT = 0x20  # tag control 1: a one-byte context-specific tag


class ElementType(enum.IntEnum):
    """The low five bits of a control byte (width variants share the first value)."""

    SIGNED = 0x00
    UNSIGNED = 0x04
    FALSE = 0x08
    TRUE = 0x09
    FLOAT32 = 0x0A
    FLOAT64 = 0x0B
    UTF8 = 0x0C
    BYTES = 0x10
    NULL = 0x14
    STRUCTURE = 0x15
    ARRAY = 0x16
    LIST = 0x17
    END = 0x18


class Kind(enum.Enum):
    """What a header field holds: how it is encoded and what its decoded value is."""

    UNSIGNED = "unsigned integer"
    UTF8 = "UTF-8 string"
    BYTES = "octet string"


def _width(value: int) -> int:
    """Index into :data:`_WIDTHS` of the fewest bytes that hold ``value`` (unsigned)."""
    for index, width in enumerate(_WIDTHS):
        if value < 1 << (8 * width):
            return index
    raise ValueError(f"{value} does not fit in 64 bits")


def encode_element(tag: int, kind: Kind, value: int | str | bytes) -> bytes:
    """One context-tagged element, in its shortest form."""
    if not 0 <= tag <= 0xFF:
        raise ValueError(f"context tag {tag} does not fit in one byte")
    if kind is Kind.UNSIGNED:
        if not isinstance(value, int) or value < 0:
            raise ValueError("an unsigned integer must be a non-negative int")
        index = _width(value)
        return bytes((CONTEXT | ElementType.UNSIGNED + index, tag)) + value.to_bytes(_WIDTHS[index], "little")
    if kind is Kind.UTF8:
        if not isinstance(value, str):
            raise ValueError("a UTF-8 string must be str")
        data, first = value.encode("utf-8"), ElementType.UTF8
    else:
        if not isinstance(value, bytes):
            raise ValueError("an octet string must be bytes")
        data, first = value, ElementType.BYTES
    index = _width(len(data))
    return bytes((CONTEXT | first + index, tag)) + len(data).to_bytes(_WIDTHS[index], "little") + data


def encode_structure(elements: list[bytes]) -> bytes:
    """An anonymous structure holding ``elements`` (already encoded, in order)."""
    return bytes((ANONYMOUS | ElementType.STRUCTURE,)) + b"".join(elements) + bytes((ElementType.END,))


@record
class Element:
    """One decoded member of the top-level structure.  ``tag`` is None for any tag that is
    not a one-byte context tag; ``value`` is None for types the header never uses."""

    tag: int | None
    kind: Kind | None
    value: int | str | bytes | None
    offset: int  # of its control byte, within the TLV


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, count: int, what: str) -> bytes:
        if count > len(self.data) - self.pos:
            raise FormatError(
                f"header TLV ends inside {what} at offset {self.pos} "
                f"(needs {count} bytes, {len(self.data) - self.pos} left)"
            )
        piece = self.data[self.pos : self.pos + count]
        self.pos += count
        return piece

    def number(self, width: int, what: str) -> int:
        return int.from_bytes(self.take(width, what), "little")


def _element(reader: _Reader, depth: int) -> tuple[int, Element]:
    """The next element (the raw control byte too); a container's members are skipped."""
    offset = reader.pos
    control = reader.take(1, "a control byte")[0]
    tag_control, low = control >> 5, control & 0x1F
    tag_bytes = reader.take(_TAG_BYTES[tag_control], "a tag")
    tag = tag_bytes[0] if tag_control == 1 else None
    if low > ElementType.END or (low == ElementType.END and tag_control):
        raise FormatError(f"header TLV has a malformed control byte 0x{control:02X} at offset {offset}")
    if low < ElementType.FALSE:
        width = _WIDTHS[low & 3]
        raw = reader.number(width, "an integer")
        if low >= ElementType.UNSIGNED:
            return control, Element(tag, Kind.UNSIGNED, raw, offset)
        return control, Element(tag, None, None, offset)
    if low in (ElementType.FLOAT32, ElementType.FLOAT64):
        reader.take(4 if low == ElementType.FLOAT32 else 8, "a float")
    elif ElementType.UTF8 <= low < ElementType.NULL:
        length = reader.number(_WIDTHS[low & 3], "a string length")
        data = reader.take(length, "a string")
        if low < ElementType.BYTES:
            try:
                return control, Element(tag, Kind.UTF8, data.decode("utf-8"), offset)
            except UnicodeDecodeError:
                raise FormatError(f"header TLV string at offset {offset} is not valid UTF-8") from None
        return control, Element(tag, Kind.BYTES, data, offset)
    elif low in (ElementType.STRUCTURE, ElementType.ARRAY, ElementType.LIST):
        _skip_container(reader, depth + 1)
    return control, Element(tag, None, None, offset)


def _skip_container(reader: _Reader, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise FormatError(f"header TLV nests containers deeper than {MAX_DEPTH}")
    while True:
        control, _ = _element(reader, depth)
        if control == ElementType.END:
            return


def decode_structure(data: bytes) -> tuple[tuple[Element, ...], int]:
    """The members of the anonymous structure ``data`` starts with, and the bytes it used.

    A header that is not an anonymous structure, or ends before its end-of-container,
    is a :class:`FormatError` naming the offset.
    """
    reader = _Reader(data)
    if reader.take(1, "the structure") != bytes((ANONYMOUS | ElementType.STRUCTURE,)):
        raise FormatError("header TLV does not start with an anonymous structure (0x15)")
    members: list[Element] = []
    while True:
        control, element = _element(reader, 1)
        if control == ElementType.END:
            return tuple(members), reader.pos
        members.append(element)
