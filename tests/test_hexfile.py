"""The Intel HEX reader and writer, checked against hand-made records and intelhex as an oracle."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from intelhex import IntelHex

from ota_action.commands.firmware_files import firmware_image as hex_to_image
from ota_action.errors import InputError
from ota_action.formats.firmware.image import Firmware as HexData
from ota_action.formats.firmware.image import StartAddress, parse_start_address
from ota_action.formats.firmware.intelhex import parse_hex, to_hex
from ota_action.formats.firmware.merge import merge
from ota_action.formats.firmware.segments import Range


def record(kind: int, offset: int, payload: bytes = b"") -> str:
    """One Intel HEX record, checksum computed here independently of the code under test."""
    body = bytes([len(payload), offset >> 8, offset & 0xFF, kind]) + payload
    return ":" + (body + bytes([(256 - sum(body) % 256) % 256])).hex().upper()


def hexfile(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


EOF = ":00000001FF"


def oracle(text: bytes) -> tuple[dict[int, int], dict[str, int] | None]:
    ih = IntelHex()
    ih.loadhex(io.StringIO(text.decode()))
    return {a: ih[a] for a in ih.addresses()}, ih.start_addr


def as_dict(data: HexData) -> dict[int, int]:
    return {a + i: b for a, seg in data.segments for i, b in enumerate(seg)}


def test_parse_joins_consecutive_records_and_reads_extended_linear_addresses() -> None:
    text = hexfile(
        record(0, 0x0000, bytes(range(16))),
        record(0, 0x0010, bytes(range(16, 20))),
        record(4, 0, b"\x08\x00"),
        record(0, 0x0100, b"\xaa\xbb"),
        record(5, 0, bytes.fromhex("08000121")),
        EOF,
    )
    parsed = parse_hex(text, name="a.hex")
    assert parsed.ranges == [Range(0, 20), Range(0x08000100, 0x08000102)]
    assert parsed.segments[0][1] == bytes(range(20))
    assert parsed.start_address == StartAddress(5, 0x08000121)
    assert as_dict(parsed) == oracle(text)[0]


def test_segment_base_records_and_cs_ip_start() -> None:
    text = hexfile(
        record(2, 0, b"\x12\x00"),  # base 0x12000
        record(0, 0x0034, b"\x01\x02\x03"),
        record(3, 0, bytes.fromhex("12340056")),
        EOF,
    )
    parsed = parse_hex(text, name="s.hex")
    assert parsed.ranges == [Range(0x12034, 0x12037)]
    assert parsed.start_address == StartAddress(3, 0x12340056)
    assert str(parsed.start_address) == "CS:IP 0x1234:0x0056 (type 03)"
    data, start = oracle(text)
    assert as_dict(parsed) == data
    assert start == {"CS": 0x1234, "IP": 0x0056}


def test_out_of_order_records_are_sorted_and_identical_rewrites_accepted() -> None:
    text = hexfile(
        record(0, 0x0020, b"\x03\x04"),
        record(0, 0x0000, b"\x01\x02"),
        record(0, 0x0021, b"\x04\x05"),  # rewrites 0x21 with the same byte
        EOF,
    )
    parsed = parse_hex(text, name="o.hex")
    assert parsed.segments == [(0, bytearray(b"\x01\x02")), (0x20, bytearray(b"\x03\x04\x05"))]


def test_one_file_writing_an_address_twice_differently_is_an_error() -> None:
    text = hexfile(
        record(0, 0x0020, b"\x03\x04\x05"), record(0, 0x0000, b"\x01"), record(0, 0x0021, b"\x09"), EOF
    )
    with pytest.raises(InputError) as caught:
        parse_hex(text, name="twice.hex")
    assert caught.value.message == "writes 0x00000021-0x00000021 twice with different bytes"
    assert caught.value.value == "twice.hex"


# Every malformed-record kind, with the exact line and message the user sees.
BAD_RECORDS = [
    (
        "bad checksum",
        hexfile(record(0, 0, b"\x01"), ":0100000001FF", EOF),
        "line 2: bad checksum 0xFF (the record needs 0xFE)",
    ),
    (
        "bad record type",
        hexfile(record(6, 0, b"\x01"), EOF),
        "line 1: unknown record type 0x06 (Intel HEX has 00-05)",
    ),
    ("odd length", hexfile(":0100000001F", EOF), "line 1: odd number of hex digits (11)"),
    (
        "non-hex character",
        hexfile(record(0, 0, b"\x01"), ":01000000G1FE", EOF),
        "line 2: non-hex character 'G'",
    ),
    ("space inside a record", hexfile(":01000000 01FE", EOF), "line 1: non-hex character ' '"),
    ("non-ASCII", hexfile(":01000000é1FE", EOF), "line 1: non-ASCII character"),
    (
        "missing EOF",
        hexfile(record(0, 0, b"\x01"), record(0, 1, b"\x02")),
        "line 2: no end-of-file record (:00000001FF) at the end; the file may be truncated",
    ),
    ("empty file", b"", "line 1: no end-of-file record (:00000001FF) at the end; the file may be truncated"),
    ("no colon", hexfile("0100000001FE", EOF), "line 1: a record must start with ':'"),
    (
        "length mismatch",
        hexfile(":0200000001FD", EOF),
        "line 1: length field says 2 data bytes but the record holds 1",
    ),
    (
        "too short",
        hexfile(":0000FF", EOF),
        "line 1: record is 3 bytes; the shortest (length, address, type, checksum) is 5",
    ),
    (
        "data after EOF",
        hexfile(EOF, record(0, 0, b"\x01")),
        "line 2: data after the end-of-file record on line 1",
    ),
    (
        "EOF with data",
        hexfile(record(1, 0, b"\x01")),
        "line 1: end-of-file record (type 01) with 1 data bytes; it has none",
    ),
    (
        "short type 04",
        hexfile(record(4, 0, b"\x01"), EOF),
        "line 1: type 04 record with 1 data bytes; it needs 2",
    ),
    (
        "short type 05",
        hexfile(record(5, 0, b"\x01\x02"), EOF),
        "line 1: type 05 start address record with 2 data bytes; it needs 4",
    ),
    (
        "two different start records",
        hexfile(record(5, 0, b"\0\0\0\1"), record(3, 0, b"\0\0\0\1"), EOF),
        "line 2: second start address CS:IP 0x0000:0x0001 (type 03) "
        "differs from EIP 0x00000001 (type 05) on line 1",
    ),
    (
        "past 4 GiB",
        hexfile(record(4, 0, b"\xff\xff"), record(0, 0xFFFF, b"\x01\x02"), EOF),
        "line 2: data reaches past the 32-bit address space (0x100000000)",
    ),
]


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in BAD_RECORDS], ids=[c[0] for c in BAD_RECORDS])
def test_malformed_records_name_file_and_line(text: bytes, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_hex(text, name="fw/bad.hex", field="files")
    assert caught.value.message == message
    assert caught.value.value == "fw/bad.hex"
    assert caught.value.field == "files"


def test_blank_lines_crlf_and_lowercase_are_accepted() -> None:
    text = ("\r\n" + record(0, 0x10, b"\xab").lower() + "\r\n\r\n" + EOF + "\r\n\r\n").encode()
    assert parse_hex(text, name="x.hex").segments == [(0x10, bytearray(b"\xab"))]


def test_writer_exact_output_splits_at_64k_and_puts_start_record_before_eof() -> None:
    segments = [(0xFFF8, bytearray(range(16))), (0x20000, bytearray(b"\x55"))]
    text = to_hex(segments, StartAddress(3, 0x00001234), record_length=16)
    assert text.decode().splitlines() == [
        record(0, 0xFFF8, bytes(range(8))),
        record(4, 0, b"\x00\x01"),
        record(0, 0x0000, bytes(range(8, 16))),
        record(4, 0, b"\x00\x02"),
        record(0, 0x0000, b"\x55"),
        record(3, 0, bytes.fromhex("00001234")),
        EOF,
    ]


def test_writer_record_length_is_the_stated_maximum() -> None:
    text = to_hex([(0, bytearray(100))], None, record_length=32)
    lengths = [int(line[1:3], 16) for line in text.decode().splitlines()[:-1]]
    assert lengths == [32, 32, 32, 4]


segments_strategy = st.lists(
    st.tuples(st.integers(0, 0x3FFFF), st.binary(min_size=1, max_size=300)), min_size=0, max_size=6
)


@settings(max_examples=60, deadline=None)
@given(
    chunks=segments_strategy,
    start=st.none() | st.builds(StartAddress, st.sampled_from([3, 5]), st.integers(0, 2**32 - 1)),
    record_length=st.integers(1, 255),
)
def test_round_trip_and_intelhex_agree(
    chunks: list[tuple[int, bytes]], start: StartAddress | None, record_length: int
) -> None:
    # Later chunks overwrite earlier ones: build the expected memory independently.
    memory: dict[int, int] = {}
    for address, data in chunks:
        memory.update({address + i: b for i, b in enumerate(data)})
    addresses = sorted(memory)
    segments: list[tuple[int, bytearray]] = []
    for a in addresses:
        if segments and segments[-1][0] + len(segments[-1][1]) == a:
            segments[-1][1].append(memory[a])
        else:
            segments.append((a, bytearray([memory[a]])))
    text = to_hex(segments, start, record_length=record_length)
    parsed = parse_hex(text, name="rt.hex")
    assert parsed.segments == segments
    assert parsed.start_address == start
    loaded, oracle_start = oracle(text)
    assert loaded == memory
    expected_start = None
    if start is not None:
        expected_start = (
            {"EIP": start.value}
            if start.record_type == 5
            else {"CS": start.value >> 16, "IP": start.value & 0xFFFF}
        )
    assert oracle_start == expected_start


def test_parse_matches_intelhex_on_a_file_intelhex_wrote(tmp_path: Path) -> None:
    rng = random.Random(7)
    ih = IntelHex()
    for address in (0x0, 0x8000, 0x1FFF0, 0x08000000):
        ih.frombytes(rng.randbytes(rng.randint(1, 5000)), address)
    ih.start_addr = {"EIP": 0x08000101}
    path = tmp_path / "ih.hex"
    ih.write_hex_file(str(path))
    parsed = parse_hex(path.read_bytes(), name=str(path))
    assert as_dict(parsed) == {a: ih[a] for a in ih.addresses()}
    assert parsed.start_address == StartAddress(5, 0x08000101)


def test_merge_three_way_keep_last_counts_each_address_once() -> None:
    a = HexData("a.hex", [(0, bytearray(b"\x01\x01\x01"))])
    b = HexData("b.hex", [(1, bytearray(b"\x02\x02"))])
    c = HexData("c.hex", [(2, bytearray(b"\x03"))])
    merged = merge([a, b, c], on_overlap="keep-last")
    assert merged.segments == [(0, bytearray(b"\x01\x02\x03"))]
    assert merged.overridden_bytes == 2  # addresses 1 and 2
    assert merged.overlapping_bytes == 2
    first = merge([a, b, c], on_overlap="keep-first")
    assert first.segments == [(0, bytearray(b"\x01\x01\x01"))]


def test_parse_start_address_forms() -> None:
    assert parse_start_address("0x08000121") == StartAddress(5, 0x08000121)
    assert parse_start_address("4096") == StartAddress(5, 4096)
    assert parse_start_address("0x1000:0x0010") == StartAddress(3, 0x10000010)
    for bad in ("zz", "0x100000000", "0x10000:0", ""):
        with pytest.raises(ValueError, match=r"must"):
            parse_start_address(bad)


def test_hex_to_image_fills_gaps_and_reports_range(tmp_path: Path) -> None:
    path = tmp_path / "app.hex"
    path.write_bytes(
        hexfile(record(4, 0, b"\x00\x01"), record(0, 0x0010, b"\x01\x02"), record(0, 0x0014, b"\x03"), EOF)
    )
    image = hex_to_image(path, fill=0x00)
    assert (image.start, image.end) == (0x10010, 0x10015)
    assert image.to_bytes() == b"\x01\x02\x00\x00\x03"


def test_hex_to_image_errors_name_the_field_and_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.hex"
    empty.write_bytes(hexfile(EOF))
    with pytest.raises(InputError, match=r"holds no data \(Intel HEX\)") as caught:
        hex_to_image(empty)
    assert (caught.value.field, caught.value.value) == ("tags", str(empty))
    far = tmp_path / "far.hex"
    far.write_bytes(hexfile(record(0, 0, b"\x01"), record(4, 0, b"\x10\x00"), record(0, 0, b"\x02"), EOF))
    with pytest.raises(InputError, match=r"spans 0x00000000-0x10000000 \(268435457 bytes\)"):
        hex_to_image(far)
