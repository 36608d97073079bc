"""Intel HEX records: a strict streaming reader and a deterministic writer.

Why not intelhex or bincopy at run time: memory and speed, measured in
``docs/firmware-formats.md``.  intelhex keeps one dict entry per payload byte (about 81
bytes of RAM each); bincopy reads the whole text into memory (16 MiB of data: about 8x our
peak memory and 1.7x our time, measured by ``python -m bench.readers``).  Here a file is
read as a stream of lines into a
few ``bytearray`` segments: one C-level ``a2b_hex`` and ``sum`` per record.  Errors name
the file and the line.  intelhex and srec_cat remain the independent oracles the tests
load our output with.

Addresses: type 02 (segment, base = value * 16) and type 04 (linear, base = value <<
16) records set the base added to each data record's 16-bit offset; a record's bytes
are contiguous from there (as intelhex and srec_cat read them).  Start addresses keep
their record type: 03 is CS:IP (kept as ``CS << 16 | IP``), 05 is a 32-bit EIP.

Core: raises :class:`~ota_action.errors.InputError` naming the settings field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, NoReturn

from ota_action.errors import InputError
from ota_action.formats.firmware.image import LINEAR_START, SEGMENT_START, Firmware, StartAddress
from ota_action.formats.firmware.kinds import FirmwareKind
from ota_action.formats.firmware.lines import hex_bytes, read_lines
from ota_action.formats.firmware.segments import ADDRESS_LIMIT, Runs, Segment

DATA, EOF, SEGMENT_BASE, LINEAR_BASE = 0, 1, 2, 4
_BYTE_HEX = [f"{i:02X}" for i in range(256)]  # table lookups beat format specs per record


def parse_hex(text: bytes, *, name: str, field: str = "files") -> Firmware:
    """Parse Intel HEX strictly; any malformed record is an InputError naming ``name`` and the line."""
    return parse_hex_lines(text.splitlines(), name=name, field=field)


def _decode(line: bytes, complain: Callable[[str], NoReturn]) -> bytes:
    """The bytes of one ``:``-record line, checked for digits, length and checksum."""
    if line[0] != 0x3A:  # ':'
        complain("a record must start with ':'")
    digits = line[1:]
    record = hex_bytes(digits, complain)
    size = len(record)
    if size < 5:
        complain(f"record is {size} bytes; the shortest (length, address, type, checksum) is 5")
    count = record[0]
    if size != count + 5:
        complain(f"length field says {count} data bytes but the record holds {size - 5}")
    if sum(record) & 0xFF:
        expected = -sum(record[:-1]) & 0xFF
        complain(f"bad checksum 0x{record[-1]:02X} (the record needs 0x{expected:02X})")
    return record


def parse_hex_lines(lines: Iterable[bytes], *, name: str, field: str = "files") -> Firmware:
    """:func:`parse_hex` over lines as they are read: memory holds the data bytes, not the text."""
    number = 0

    def fail(message: str, line: int | None = None) -> NoReturn:
        raise InputError(f"line {line or number}: {message}", field=field, value=name)

    runs = Runs()
    base = 0
    start: StartAddress | None = None
    start_line = eof_line = 0
    for number, raw in enumerate(lines, 1):  # ``number`` is read after the loop too
        line = raw.strip()
        if not line:
            continue
        if eof_line:
            fail(f"data after the end-of-file record on line {eof_line}")
        record = _decode(line, fail)
        count, kind = record[0], record[3]
        if kind == DATA:
            if not count:
                continue
            address = base + (record[1] << 8 | record[2])
            if address + count > ADDRESS_LIMIT:
                fail(f"data reaches past the 32-bit address space (0x{address + count - 1:X})")
            runs.add(address, record[4:-1])
        elif kind == EOF:
            if count:
                fail(f"end-of-file record (type 01) with {count} data bytes; it has none")
            eof_line = number
        elif kind in (SEGMENT_BASE, LINEAR_BASE):
            if count != 2:
                fail(f"type 0{kind} record with {count} data bytes; it needs 2")
            value = record[4] << 8 | record[5]
            base = value << 4 if kind == SEGMENT_BASE else value << 16
        elif kind in (SEGMENT_START, LINEAR_START):
            if count != 4:
                fail(f"type 0{kind} start address record with {count} data bytes; it needs 4")
            found = StartAddress(kind, int.from_bytes(record[4:8], "big"))
            if start is not None and found != start:
                fail(f"second start address {found} differs from {start} on line {start_line}")
            start, start_line = found, number
        else:
            fail(f"unknown record type 0x{kind:02X} (Intel HEX has 00-05)")
    if not eof_line:
        fail("no end-of-file record (:00000001FF) at the end; the file may be truncated", max(number, 1))
    return Firmware(name, runs.segments(name=name, field=field), start, FirmwareKind.INTEL_HEX)


def read_hex(f: BinaryIO, *, name: str, field: str = "files") -> Firmware:
    """Parse one Intel HEX stream (the caller opened it); read errors are InputErrors like parse errors."""
    try:
        lines = read_lines(f, name=name, field=field, what="an Intel HEX record")
        return parse_hex_lines(lines, name=name, field=field)
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror}", field=field, value=name) from None


def _record(kind: int, offset: int, payload: bytes | bytearray) -> str:
    body = bytes((len(payload), offset >> 8, offset & 0xFF, kind)) + payload
    return ":" + (body + bytes((-sum(body) & 0xFF,))).hex().upper()


def to_hex(
    segments: Iterable[Segment], start: StartAddress | None = None, *, record_length: int = 16
) -> bytes:
    """Intel HEX text: ``record_length`` data bytes per record (fewer at a segment's end or a
    64 KiB boundary), a type 04 record whenever the upper 16 address bits change from 0,
    the start record (if any) just before EOF, ``\\n`` line ends.  Same input, same bytes.
    """
    return b"".join(iter_hex(segments, start, record_length=record_length))


_HEX_PIECE = 1 << 16  # one 64 KiB address window of data is converted at once


def _window_records(address: int, data: bytes, record_length: int, upper: int) -> tuple[list[str], int]:
    """The records of ``data`` at ``address`` (within one 64 KiB window), and the new upper bits."""
    lines: list[str] = []
    digits = data.hex().upper()  # one conversion per piece; per record a slice and a C sum
    pos, size = 0, len(data)
    while pos < size:
        if address >> 16 != upper:
            upper = address >> 16
            lines.append(_record(LINEAR_BASE, 0, upper.to_bytes(2, "big")))
        offset = address & 0xFFFF
        chunk = min(record_length, size - pos, 0x10000 - offset)
        hi, lo = offset >> 8, offset & 0xFF
        checksum = -(chunk + hi + lo + sum(data[pos : pos + chunk])) & 0xFF
        lines.append(
            f":{_BYTE_HEX[chunk]}{_BYTE_HEX[hi]}{_BYTE_HEX[lo]}00"
            f"{digits[2 * pos : 2 * (pos + chunk)]}{_BYTE_HEX[checksum]}"
        )
        pos += chunk
        address += chunk
    return lines, upper


def iter_hex(
    segments: Iterable[Segment], start: StartAddress | None = None, *, record_length: int = 16
) -> Iterator[bytes]:
    """:func:`to_hex` as a stream of text pieces (each covers at most 64 KiB of data)."""
    if not 1 <= record_length <= 255:
        raise ValueError("record_length must be 1-255")
    upper = 0
    for first, whole in segments:
        # Pieces end on 64 KiB address boundaries, where records are cut anyway, so the
        # records are the same as for the segment in one piece.
        at = 0
        while at < len(whole):
            window = _HEX_PIECE - ((first + at) & (_HEX_PIECE - 1))
            data = bytes(whole[at : at + window])
            lines, upper = _window_records(first + at, data, record_length, upper)
            at += len(data)
            yield ("\n".join(lines) + "\n").encode("ascii")
    tail = []
    if start is not None:
        tail.append(_record(start.record_type, 0, start.value.to_bytes(4, "big")))
    tail.append(":00000001FF")
    yield ("\n".join(tail) + "\n").encode("ascii")
