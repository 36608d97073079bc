"""Motorola S-record (``.s37``, ``.s19``, ``.s28``, ``.srec``, ``.mot``): a strict streaming
reader and a deterministic writer.

Records are ``S`` + a type digit + a count byte + address + data + checksum, in hex.
S0 is a header (ignored), S1/S2/S3 carry data at 16/24/32-bit addresses, S5/S6 count the
data records so far (checked), S7/S8/S9 end the file with a 32/24/16-bit start address;
S4 is reserved.  The checksum is the ones' complement of the low byte of the sum of the
count, address and data bytes.  A file without a termination record is read (srec_cat
writes none when there is no start address); one with data after it is refused, as
Intel HEX data after its end-of-file record is.

Why our own reader rather than bincopy: bincopy reads the whole text into memory and
splits it (16 MiB of data: 232 MiB of peak memory against our 30 MiB, and 1.7x our time);
this one streams lines (``python -m bench.readers``, ``docs/firmware-formats.md``).
srec_cat is the independent oracle of the tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, NoReturn

from ota_action.errors import InputError
from ota_action.formats.firmware.image import LINEAR_START, Firmware, StartAddress
from ota_action.formats.firmware.kinds import FirmwareKind
from ota_action.formats.firmware.lines import hex_bytes, read_lines
from ota_action.formats.firmware.segments import ADDRESS_LIMIT, Runs, Segment

# type digit -> bytes of address; data, count and termination records
_DATA = {1: 2, 2: 3, 3: 4}
_COUNT = {5: 2, 6: 3}
_END = {9: 2, 8: 3, 7: 4}
_BYTE_HEX = [f"{i:02X}" for i in range(256)]


def _decode(line: bytes, complain: Callable[[str], NoReturn]) -> tuple[int, bytes]:
    """The type digit and the bytes (count .. checksum) of one record line, all checked."""
    if line[:1] not in (b"S", b"s") or len(line) < 2 or not 0x30 <= line[1] <= 0x39:
        complain("an S-record starts with S and a type digit 0-9")
    kind = line[1] - 0x30
    digits = line[2:]
    record = hex_bytes(digits, complain)
    if len(record) < 3:
        complain(f"record is {len(record)} bytes; the shortest (count, address, checksum) is 4")
    if record[0] != len(record) - 1:
        complain(f"count field says {record[0]} bytes but the record holds {len(record) - 1}")
    if sum(record) & 0xFF != 0xFF:
        expected = ~sum(record[:-1]) & 0xFF
        complain(f"bad checksum 0x{record[-1]:02X} (the record needs 0x{expected:02X})")
    return kind, record


def parse_srec_lines(lines: Iterable[bytes], *, name: str, field: str = "files") -> Firmware:
    """Parse S-records strictly as they are read; errors name ``name`` and the line."""
    number = 0

    def fail(message: str) -> NoReturn:
        raise InputError(f"line {number}: {message}", field=field, value=name)

    runs = Runs()
    records = 0
    start: StartAddress | None = None
    end_line = 0
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        if end_line:
            fail(f"record after the termination record on line {end_line}")
        kind, record = _decode(line, fail)
        width = _DATA.get(kind) or _COUNT.get(kind) or _END.get(kind) or 2
        if kind == 4 or len(record) < width + 2:
            fail(
                f"S{kind} record {'is reserved' if kind == 4 else f'too short for its {width}-byte address'}"
            )
        value = int.from_bytes(record[1 : 1 + width], "big")
        payload = record[1 + width : -1]
        if kind in _DATA:
            records += 1
            if value + len(payload) > ADDRESS_LIMIT:
                fail(f"data reaches past the 32-bit address space (0x{value + len(payload) - 1:X})")
            if payload:
                runs.add(value, payload)
        elif kind in _COUNT:
            if value != records % (1 << 8 * width):
                fail(f"S{kind} record count {value} but {records} data records come before it")
        elif kind in _END:
            if payload:
                fail(f"S{kind} termination record with {len(payload)} data bytes; it has none")
            start, end_line = StartAddress(LINEAR_START, value), number
    return Firmware(name, runs.segments(name=name, field=field), start, FirmwareKind.SRECORD)


def parse_srec(text: bytes, *, name: str, field: str = "files") -> Firmware:
    """:func:`parse_srec_lines` over text in memory (tests, small inputs)."""
    return parse_srec_lines(text.splitlines(), name=name, field=field)


def read_srec(f: BinaryIO, *, name: str, field: str = "files") -> Firmware:
    """Parse one S-record stream (the caller opened it); read errors are InputErrors."""
    try:
        lines = read_lines(f, name=name, field=field, what="an S-record")
        return parse_srec_lines(lines, name=name, field=field)
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror}", field=field, value=name) from None


# Output record widths by extension: .s19 is S1/S9, .s28 S2/S8, the rest S3/S7.
ADDRESS_BYTES = {".s19": 2, ".s28": 3}


def max_record_length(address_bytes: int) -> int:
    """Data bytes one record can hold (the count byte also covers address and checksum)."""
    return 255 - address_bytes - 1


def _line(kind: int, body: bytes) -> str:
    whole = bytes((len(body) + 1,)) + body
    return f"S{kind}{whole.hex().upper()}{_BYTE_HEX[~sum(whole) & 0xFF]}"


def iter_srec(
    segments: Iterable[Segment],
    start: StartAddress | None = None,
    *,
    record_length: int = 16,
    address_bytes: int = 4,
) -> Iterator[bytes]:
    """S-record text: an empty S0 header, data records of ``record_length`` bytes, an S5/S6
    count when it fits, and a termination record with the start address when there is one
    (none otherwise, as srec_cat writes).  Same input, same bytes."""
    limit = 1 << 8 * address_bytes
    if not 1 <= record_length <= max_record_length(address_bytes):
        raise ValueError(f"record_length must be 1-{max_record_length(address_bytes)}")
    data_kind = {2: 1, 3: 2, 4: 3}[address_bytes]
    yield b"S0030000FC\n"
    records = 0
    for first, whole in segments:
        if first + len(whole) > limit:
            raise ValueError(f"data at 0x{first + len(whole) - 1:X} needs wider addresses")
        lines: list[str] = []
        for at in range(0, len(whole), record_length):
            address = (first + at).to_bytes(address_bytes, "big")
            lines.append(_line(data_kind, address + bytes(whole[at : at + record_length])))
            if len(lines) >= 4096:
                yield ("\n".join(lines) + "\n").encode("ascii")
                lines = []
        records += (len(whole) + record_length - 1) // record_length
        if lines:
            yield ("\n".join(lines) + "\n").encode("ascii")
    tail = []
    if records < 1 << 16:
        tail.append(_line(5, records.to_bytes(2, "big")))
    elif records < 1 << 24:
        tail.append(_line(6, records.to_bytes(3, "big")))
    if start is not None:
        tail.append(_line(10 - data_kind, (start.linear % limit).to_bytes(address_bytes, "big")))
    yield ("\n".join(tail) + "\n").encode("ascii")
