"""Intel HEX, S-record, ELF and raw binary at an address: one firmware, any form, the same bytes.

The independent oracles are srec_cat (Debian srecord), objcopy and ld (binutils): they
make the .s37 and ELF forms of a firmware, and they merge what ``combine`` merges.
intelhex loads the merged Intel HEX files.
"""

from __future__ import annotations

import json
import random
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from intelhex import IntelHex

from ota_action.errors import InputError
from ota_action.formats.firmware import merge as merge_module
from ota_action.formats.firmware.image import LINEAR_START, Firmware, StartAddress
from ota_action.formats.firmware.kinds import FirmwareKind, kind_by_content
from ota_action.formats.firmware.srecord import iter_srec, parse_srec
from tests.conftest import need_tool, run_cli

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "firmware"
BASE = ["-m", "0x1234", "-i", "0x0001", "-v", "1.0.0.1"]


def tool(*argv: str | Path) -> None:
    """Run an oracle tool; it must succeed."""
    need_tool(str(argv[0]))
    subprocess.run([str(a) for a in argv], check=True, timeout=60, capture_output=True)


def memory_of_hex(path: Path) -> dict[int, int]:
    ih = IntelHex()
    ih.loadhex(str(path))
    return {a: ih[a] for a in ih.addresses()}


def upgrade_image(ota: bytes) -> bytes:
    header_length = struct.unpack_from("<H", ota, 6)[0]
    tag, length = struct.unpack_from("<HI", ota, header_length)
    assert tag == 0x0000
    return ota[header_length + 6 : header_length + 6 + length]


def write_hex(path: Path, blocks: list[tuple[int, bytes]], start: int | None = None) -> Path:
    """A .hex written by intelhex (not by the code under test)."""
    ih = IntelHex()
    for address, data in blocks:
        ih.frombytes(data, address)
    ih.start_addr = None if start is None else {"EIP": start}
    ih.write_hex_file(str(path))
    return path


def exec_elf(tmp_path: Path, hex_file: Path, script: str, *, emulation: str = "elf_i386") -> Path:
    """An executable ELF (PT_LOAD program headers) of a .hex, laid out by ``script`` with ld."""
    obj, ld, elf = tmp_path / "app.o", tmp_path / "app.ld", tmp_path / "app.elf"
    target = "elf64-x86-64" if emulation == "elf_x86_64" else "elf32-i386"
    tool("objcopy", "-I", "ihex", "-O", target, hex_file, obj)
    ld.write_text(script)
    tool("ld", "-m", emulation, "-e", "0", "--build-id=none", "-T", ld, obj, "-o", elf)
    return elf


def zbota_image(tmp_path: Path, source: Path, *extra: str) -> tuple[int, bytes, str]:
    out = tmp_path / f"{source.name}.ota"
    result = run_cli("zbota", *BASE, "-o", out, "-t", f"0x0000:{source}", *extra)
    return result.code, (upgrade_image(out.read_bytes()) if result.code == 0 else b""), result.err


# -- the same firmware as .hex, .s37 and ELF gives the same OTA bytes ------------------------


def test_bundled_examples_give_the_same_ota_bytes(tmp_path: Path) -> None:
    """examples/firmware: app.s37 by srec_cat, app.elf by ld (its second block loads at its
    flash address 0x08006000 but runs at 0x20000000): all three make one OTA file."""
    files = {}
    for name in ("app.hex", "app.s37", "app.elf"):
        out = tmp_path / f"{name}.ota"
        result = run_cli("zbota", *BASE, "-o", out, "-t", f"0x0000:{EXAMPLES / name}")
        assert (result.code, result.err) == (0, ""), name
        files[name] = out.read_bytes()
    assert files["app.hex"] == files["app.s37"] == files["app.elf"]
    image = upgrade_image(files["app.hex"])
    assert len(image) == 0x08006040 - 0x08004000
    assert image[0x1800:0x2000] == b"\xff" * 0x800  # the gap, filled with --fill's default


def test_random_firmware_in_every_form_gives_one_image(tmp_path: Path) -> None:
    rng = random.Random(24)
    blocks = [(0x08000000, rng.randbytes(0x1234)), (0x08002000, rng.randbytes(0x300))]
    hex_file = write_hex(tmp_path / "fw.hex", blocks, start=0x08000101)
    forms = {"hex": hex_file}
    for suffix, width in (("s19", 2), ("s28", 3), ("s37", 4)):
        if width == 2:
            continue  # 0x08000000 needs more than 16 address bits
        forms[suffix] = tmp_path / f"fw.{suffix}"
        tool("srec_cat", hex_file, "-intel", "-o", forms[suffix], "-motorola", f"-address-length={width}")
    forms["rel.elf"] = tmp_path / "fw.o.elf"
    tool("objcopy", "-I", "ihex", "-O", "elf32-little", hex_file, forms["rel.elf"])
    forms["exec.elf"] = exec_elf(
        tmp_path,
        hex_file,
        "SECTIONS { .text 0x08000000 : { *(.sec1) } .data 0x20000000 : AT(0x08002000) { *(.sec2) } }",
    )
    (tmp_path / "64").mkdir()
    forms["exec64.axf"] = exec_elf(
        tmp_path / "64",
        hex_file,
        "SECTIONS { .text 0x08000000 : { *(.sec1) } .sec2 0x08002000 : { *(.sec2) } }",
        emulation="elf_x86_64",
    )
    expected = blocks[0][1] + b"\x00" * (0x2000 - 0x1234) + blocks[1][1]
    for name, path in forms.items():
        code, image, err = zbota_image(tmp_path, path, "--fill", "0x00")
        assert (code, err) == (0, ""), name
        assert image == expected, name


def test_elf_loads_by_physical_address_like_objcopy(tmp_path: Path) -> None:
    """objcopy -O ihex of the ELF is the oracle: data lands at p_paddr, not p_vaddr."""
    hex_file = write_hex(tmp_path / "fw.hex", [(0x1000, b"\x11" * 64), (0x3000, b"\x22" * 32)])
    elf = exec_elf(
        tmp_path,
        hex_file,
        "SECTIONS { .text 0x1000 : { *(.sec1) } .data 0x20000000 : AT(0x3000) { *(.sec2) } }",
    )
    by_objcopy = tmp_path / "objcopy.hex"
    tool("objcopy", "-O", "ihex", elf, by_objcopy)
    ours = tmp_path / "ours.hex"
    result = run_cli("combine", elf, hex_file, "-o", ours)
    assert (result.code, result.err) == (0, "")
    assert memory_of_hex(ours) == memory_of_hex(by_objcopy) == memory_of_hex(hex_file)


def _be_elf(entry: int, loads: list[tuple[int, int, bytes]], elf64: bool) -> bytes:
    """A big-endian ELF executable built field by field (independent of the reader)."""
    ehsize, phsize = (64, 56) if elf64 else (52, 32)
    offset = ehsize + phsize * len(loads)
    headers, data = b"", b""
    for vaddr, paddr, body in loads:
        if elf64:
            headers += struct.pack(
                ">IIQQQQQQ", 1, 5, offset + len(data), vaddr, paddr, len(body), len(body), 4
            )
        else:
            headers += struct.pack(
                ">IIIIIIII", 1, offset + len(data), vaddr, paddr, len(body), len(body), 5, 4
            )
        data += body
    ident = b"\x7fELF" + bytes([2 if elf64 else 1, 2, 1]) + bytes(9)
    if elf64:
        header = ident + struct.pack(
            ">HHIQQQIHHHHHH", 2, 2, 1, entry, ehsize, 0, 0, ehsize, phsize, len(loads), 64, 0, 0
        )
    else:
        header = ident + struct.pack(
            ">HHIIIIIHHHHHH", 2, 20, 1, entry, ehsize, 0, 0, ehsize, phsize, len(loads), 40, 0, 0
        )
    return header + headers + data


@pytest.mark.parametrize("elf64", [False, True], ids=["elf32-big", "elf64-big"])
def test_big_endian_elf(tmp_path: Path, elf64: bool) -> None:
    path = tmp_path / "be.elf"
    path.write_bytes(_be_elf(0x100, [(0x20000000, 0x100, b"\xaa" * 8), (0x200, 0x200, b"\xbb" * 4)], elf64))
    need_tool("readelf")
    shown = subprocess.run(
        ["readelf", "-l", str(path)], capture_output=True, text=True, timeout=60, check=True
    )
    assert "0x20000000" in shown.stdout.replace("0x0000000020000000", "0x20000000")  # readelf reads it too
    out = tmp_path / "m.hex"
    result = run_cli("combine", path, write_hex(tmp_path / "x.hex", [(0x300, b"\xcc")]), "-o", out, "--json")
    assert (result.code, result.err) == (0, "")
    memory = memory_of_hex(out)
    assert memory == {
        **dict.fromkeys(range(0x100, 0x108), 0xAA),
        **dict.fromkeys(range(0x200, 0x204), 0xBB),
        0x300: 0xCC,
    }
    assert json.loads(result.out)["start_address"]["value"] == 0x100


# -- Silently wrong: a tag's content decides, never its name ---------------------------------


def test_s37_tag_is_converted_not_embedded_as_text(tmp_path: Path) -> None:
    """Issue 18: `zbota -t 0x0000:app.s37` embedded the S-record text and verify called it valid."""
    code, image, err = zbota_image(tmp_path, EXAMPLES / "app.s37")
    assert (code, err) == (0, "")
    assert not image.startswith(b"S0")
    _, from_hex, _ = zbota_image(tmp_path, EXAMPLES / "app.hex")
    assert image == from_hex
    assert len(image) == 0x2040


@pytest.mark.parametrize(
    ("source", "named", "held"),
    [
        ("app.hex", ".bin", "Intel HEX"),
        ("app.s37", ".bin", "Motorola S-record"),
        ("app.elf", ".bin", "ELF"),
        ("app.elf", ".hex", "ELF"),
        ("app.hex", ".s37", "Intel HEX"),
    ],
)
def test_tag_named_as_another_kind_is_an_error_naming_both(
    tmp_path: Path, source: str, named: str, held: str
) -> None:
    path = tmp_path / f"app{named}"
    path.write_bytes((EXAMPLES / source).read_bytes())
    out = tmp_path / "fw.ota"
    result = run_cli("zbota", *BASE, "-o", out, "-t", f"0x0000:{path}")
    assert result.code == 2
    kinds = {".bin": "raw binary", ".hex": "Intel HEX", ".s37": "Motorola S-record"}
    assert f"--tag '{path}': is named as {kinds[named]} ({named}) but holds {held}" in result.err
    assert not out.exists()


@pytest.mark.parametrize("source", ["app.hex", "app.s37", "app.elf"])
def test_tag_with_a_name_that_says_nothing_is_converted_by_content(tmp_path: Path, source: str) -> None:
    path = tmp_path / "firmware.img"
    path.write_bytes((EXAMPLES / source).read_bytes())
    code, image, err = zbota_image(tmp_path, path)
    assert (code, err) == (0, "")
    assert image == zbota_image(tmp_path, EXAMPLES / "app.hex")[1]


def test_raw_binary_tag_stays_raw_bytes(tmp_path: Path) -> None:
    path = tmp_path / "app.bin"
    payload = b"\x00\x20\x00\x20" + bytes(range(256)) * 4  # a vector table, not text
    path.write_bytes(payload)
    code, image, err = zbota_image(tmp_path, path)
    assert (code, err, image) == (0, "", payload)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("fs.img", "holds Intel HEX, not an XBee file-system image; convert it to the raw image first"),
        ("fs.bin", "is named as raw binary (.bin) but holds Intel HEX"),
    ],
)
def test_xbee_fs_image_holding_hex_text_is_refused(tmp_path: Path, name: str, message: str) -> None:
    image = tmp_path / name
    image.write_bytes((EXAMPLES / "app.hex").read_bytes())
    out = tmp_path / "fs.ota"
    result = run_cli("xbee-fs", image, "-o", out, "--version", "100D", "--key-file", tmp_path / "nokey.pem")
    assert result.code == 2
    assert f"IMAGE '{image}': {message}" in result.err
    assert not out.exists()


# -- combine: any kinds in, equal to srec_cat's merge --------------------------------------


def test_combine_hex_s37_and_bin_at_address_equals_srec_cat(tmp_path: Path) -> None:
    rng = random.Random(7)
    boot = write_hex(tmp_path / "boot.hex", [(0x08000000, rng.randbytes(0x800))])
    app_hex = write_hex(tmp_path / "app-src.hex", [(0x08004000, rng.randbytes(0x3000))], start=0x08004101)
    app = tmp_path / "app.s37"
    tool("srec_cat", app_hex, "-intel", "-o", app, "-motorola", "-address-length=4")
    config = tmp_path / "config.bin"
    config.write_bytes(rng.randbytes(0x100))
    ours_hex, ours_s37 = tmp_path / "ours.hex", tmp_path / "ours.s37"
    for out in (ours_hex, ours_s37):
        result = run_cli("combine", boot, app, f"{config}@0x0800F000", "-o", out)
        assert (result.code, result.err) == (0, ""), out
    theirs = tmp_path / "srec_cat.hex"
    tool(
        "srec_cat", boot, "-intel", app, "-motorola", config, "-binary", "-offset", "0x0800F000",
        "-o", theirs, "-intel",
    )  # fmt: skip
    ours_s37_as_hex = tmp_path / "ours-s37.hex"
    tool("srec_cat", ours_s37, "-motorola", "-o", ours_s37_as_hex, "-intel")
    expected = memory_of_hex(theirs)
    assert len(expected) == 0x800 + 0x3000 + 0x100
    assert memory_of_hex(ours_hex) == expected
    assert memory_of_hex(ours_s37_as_hex) == expected
    ih = IntelHex()
    ih.loadhex(str(ours_hex))
    assert ih.start_addr == {"EIP": 0x08004101}
    text = ours_s37.read_text().splitlines()
    assert text[0] == "S0030000FC"
    assert text[-1] == "S70508004101B0"  # the start address, checksum by hand: ~(05+08+00+41+01)


def test_combine_s37_output_loads_in_srec_cat_with_s19_and_s28_widths(tmp_path: Path) -> None:
    a = write_hex(tmp_path / "a.hex", [(0x100, bytes(range(200)))], start=0x180)
    b = write_hex(tmp_path / "b.hex", [(0x8000, b"\x5a" * 40)])
    for name in ("out.s19", "out.s28", "out.srec"):
        src = tmp_path / f"a-{name}"
        tool("srec_cat", a, "-intel", "-o", src, "-motorola")
        out = tmp_path / name
        result = run_cli("combine", src, b, "-o", out, "--record-length", "32")
        assert (result.code, result.err) == (0, ""), name
        back = tmp_path / f"{name}.hex"
        tool("srec_cat", out, "-motorola", "-o", back, "-intel")
        assert memory_of_hex(back) == {**memory_of_hex(a), **memory_of_hex(b)}
        kinds = {line[:2] for line in out.read_text().splitlines()}
        assert kinds == {"S0", {"out.s19": "S1", "out.s28": "S2", "out.srec": "S3"}[name], "S5",
                         {"out.s19": "S9", "out.s28": "S8", "out.srec": "S7"}[name]}  # fmt: skip


def test_s19_output_refuses_addresses_it_cannot_hold(tmp_path: Path) -> None:
    a = write_hex(tmp_path / "a.hex", [(0x10000, b"\x01")])
    src = tmp_path / "a.s37"
    tool("srec_cat", a, "-intel", "-o", src, "-motorola")
    result = run_cli("combine", src, write_hex(tmp_path / "b.hex", [(0, b"\x02")]), "-o", tmp_path / "o.s19")
    assert result.code == 2
    assert "holds addresses past the 16-bit S1 records of .s19; name it .s37" in result.err
    assert not (tmp_path / "o.s19").exists()


def test_hex_and_s37_start_addresses_are_the_same_start(tmp_path: Path) -> None:
    """A type 05 record and an S7 record of the same address agree (no start-address error)."""
    result = run_cli("combine", EXAMPLES / "app.hex", EXAMPLES / "app.s37", EXAMPLES / "app.elf",
                     "-o", tmp_path / "o.hex", "--json")  # fmt: skip
    assert (result.code, result.err) == (0, "")
    data = json.loads(result.out)
    assert data["start_address"]["value"] == 0x080041C1
    assert [i["kind"] for i in data["inputs"]] == ["Intel HEX", "Motorola S-record", "ELF"]
    assert data["overlaps"]["overridden_bytes"] == 0


def test_combine_non_utf8_names_and_bytes_exit_2_or_0_never_70(tmp_path: Path) -> None:
    odd = Path(str(tmp_path) + "/caf\udce9.hex")  # the name's byte 0xE9 is not UTF-8
    odd.write_bytes((EXAMPLES / "app.hex").read_bytes())
    ok = run_cli("combine", odd, EXAMPLES / "app.s37", "-o", tmp_path / "o.hex")
    assert (ok.code, ok.err) == (0, "")
    bad = tmp_path / "bad.hex"
    bad.write_bytes(b":10000000\xe9\xe9\xe9\xe9\n:00000001FF\n")
    failed = run_cli("combine", bad, EXAMPLES / "app.hex", "-o", tmp_path / "p.hex")
    assert failed.code == 2
    assert failed.err.endswith("line 1: non-ASCII character\n")
    text = tmp_path / "bad.s37"
    text.write_bytes(b"S1\xff\xfe0000\n")
    failed = run_cli("combine", text, EXAMPLES / "app.hex", "-o", tmp_path / "q.hex")
    assert failed.code == 2, failed.err


# -- the S-record reader -----------------------------------------------------------------------


def test_srec_record_types_checksums_and_counts() -> None:
    text = b"\n".join(
        [
            b"S00600004844521B",  # header "HDR"
            b"S1050010AABB85",  # 16-bit address
            b"S206010000CC002C",  # 24-bit address
            b"S30708000000DDEE25",  # 32-bit address
            b"S5030003F9",  # three data records
            b"S70508000001F1",  # start 0x08000001
        ]
    )
    parsed = parse_srec(text, name="x.s37")
    assert parsed.segments == [(0x10, bytearray(b"\xaa\xbb")), (0x10000, bytearray(b"\xcc\x00")),
                               (0x08000000, bytearray(b"\xdd\xee"))]  # fmt: skip
    assert parsed.start_address == StartAddress(LINEAR_START, 0x08000001)
    assert parsed.kind is FirmwareKind.SRECORD


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"S1050010AABB84", "line 1: bad checksum 0x84 (the record needs 0x85)"),
        (b"S4030000FC", "line 1: S4 record is reserved"),
        (b"S5030001FB", "line 1: S5 record count 1 but 0 data records come before it"),
        (b"S9030000FC\nS1050010AABB85", "line 2: record after the termination record on line 1"),
        (b"X1050010AABB85", "line 1: an S-record starts with S and a type digit 0-9"),
        (b"S105001", "line 1: odd number of hex digits (5)"),
        (b"S9040000AA51", "line 1: S9 termination record with 1 data bytes; it has none"),
    ],
)
def test_srec_errors_name_the_line(text: bytes, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_srec(text, name="x.s37")
    assert caught.value.message == message
    assert caught.value.value == "x.s37"


def test_srec_writer_is_read_back_by_srec_cat(tmp_path: Path) -> None:
    rng = random.Random(5)
    segments = [(0x0800FFF0, bytearray(rng.randbytes(100))), (0x08020000, bytearray(rng.randbytes(7)))]
    path = tmp_path / "w.s37"
    path.write_bytes(b"".join(iter_srec(segments, StartAddress(LINEAR_START, 0x0800FFF1), record_length=32)))
    back = tmp_path / "w.hex"
    tool("srec_cat", path, "-motorola", "-o", back, "-intel")
    expected = {a + i: b for a, d in segments for i, b in enumerate(d)}
    assert memory_of_hex(back) == expected
    assert parse_srec(path.read_bytes(), name="w").segments == segments


# -- kinds by content ----------------------------------------------------------------------


def test_kind_by_content() -> None:
    assert kind_by_content(b"\x7fELF\x01\x01\x01") is FirmwareKind.ELF
    assert kind_by_content(b"\xef\xbb\xbf:020000040800F2\r\n") is FirmwareKind.INTEL_HEX
    assert kind_by_content(b"S00600004844521B\n") is FirmwareKind.SRECORD
    assert kind_by_content(b"\x00\x20\x00\x20\x01\x02") is None
    assert kind_by_content(b":)") is None
    assert kind_by_content(b"Some text file\n") is None


# -- combine is linear in the number of inputs ---------------------------------------------


def _inputs(count: int, *, overlapping: bool) -> list[Firmware]:
    step = 0x80 if overlapping else 0x200
    return [Firmware(f"f{k}", [(k * step, bytearray(b"\x01" * 0x100))]) for k in range(count)]


def _comparisons(inputs: list[Firmware], policy: str = "error") -> tuple[int, int]:
    """(comparisons the sweep made, overlap runs it found)."""
    coverage = merge_module.Coverage()
    runs = list(merge_module.overlapping_pairs(inputs, policy, coverage))  # type: ignore[arg-type]
    return coverage.comparisons, len(runs)


@pytest.mark.parametrize("count", [15, 60, 600])
def test_overlap_sweep_compares_only_real_overlaps(count: int) -> None:
    """No timing: count the comparisons.  Pairwise checking made n(n-1)/2 of them."""
    assert _comparisons(_inputs(count, overlapping=False)) == (0, 0)
    assert _comparisons(_inputs(count, overlapping=True)) == (count - 1, count - 1)  # each meets the next
    merged = merge_module.merge(_inputs(count, overlapping=True))
    assert merged.overlaps_total == count - 1
    assert merged.overlapping_bytes == (count - 1) * 0x80
    # n copies of one file: n - 1 comparisons per address run, not n(n - 1)/2.
    copies = [
        Firmware(f"c{k}", [(a, bytearray(b"\x02" * 16)) for a in range(0, 32 * 50, 32)]) for k in range(count)
    ]
    assert _comparisons(copies) == ((count - 1) * 50, (count - 1) * 50)
    assert _comparisons(copies, "keep-first") == ((count - 1) * 50, (count - 1) * 50)


# -- issue 18: a bare decimal where hex is usual is read as decimal, with a warning ----------


@pytest.mark.parametrize(
    ("option", "value", "warning"),
    [
        ("-m", "1234", "manufacturer code 1234 is read as decimal, 0x04D2; in hex, as manufacturer codes are "
                       "usually written, it would be 0x1234. Write 0x04D2 or 0x1234 to say which you mean"),
        ("-i", "10", "image type 10 is read as decimal, 0x000A; in hex, as image types are usually written, "
                     "it would be 0x0010. Write 0x000A or 0x0010 to say which you mean"),
        ("-m", "0x1234", None),
        ("-i", "9", None),
    ],
)  # fmt: skip
def test_decimal_manufacturer_code_warns_with_both_readings(
    tmp_path: Path, option: str, value: str, warning: str | None
) -> None:
    out = tmp_path / "fw.ota"
    argv = {"-m": "0x1234", "-i": "0x0001", option: value}
    result = run_cli("zbota", "-m", argv["-m"], "-i", argv["-i"], "-v", "1", "-o", out,
                     "-t", f"0x0000:{EXAMPLES / 'app.hex'}", "--json")  # fmt: skip
    assert result.code == 0
    assert result.err == ("" if warning is None else f"ota-action zbota: warning: {warning}\n")
    header = out.read_bytes()
    number = int(value, 0) if value.startswith("0x") else int(value)
    assert struct.unpack_from("<H", header, 10 if option == "-m" else 12)[0] == number  # read as given


def test_action_door_shows_the_decimal_warning(tmp_path: Path) -> None:
    from tests.test_action import ZBOTA, FakeRunner

    fake = FakeRunner(tmp_path)
    (fake.workspace / "firmware").mkdir()
    (fake.workspace / "firmware" / "app.s37").write_bytes((EXAMPLES / "app.s37").read_bytes())
    run = fake.run({**ZBOTA, "mfg-id": "4476", "tags": "0x0000:firmware/app.s37"})
    assert run.code == 0, run.stderr
    warnings = [c for c in run.commands if c.name == "warning"]
    assert any("manufacturer code 4476 is read as decimal, 0x117C" in c.message for c in warnings), run.stdout
    assert "0x4476" in run.stdout


def _le_elf_header(phnum: int) -> bytes:
    ident = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
    return ident + struct.pack("<HHIIIIIHHHHHH", 2, 40, 1, 0, 52, 0, 0, 52, 32, phnum, 40, 0, 0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            _le_elf_header(1) + struct.pack("<IIIIIIII", 1, 84, 0x1000, 0x1000, 0xFFFFFFF0, 0xFFFFFFF0, 5, 4),
            "program header 0 says 4294967280 bytes at file offset 84, past the file's end (84)",
        ),
        (_le_elf_header(1)[:30], "is not a readable ELF file (ELFParseError"),
        (b"\x7fELF\x01\x01\x01" + b"\xff" * 200, "is not a readable ELF file (ELFParseError"),
        (_le_elf_header(0xFFFF) + bytes(64), "is not a readable ELF file (ELFParseError"),
        (_le_elf_header(0), "holds no data (ELF)"),
    ],
    ids=["segment past the end", "cut header", "garbage", "65535 program headers", "nothing loadable"],
)
def test_hostile_elf_is_an_exit_2_naming_the_tag(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.elf"
    path.write_bytes(content)
    out = tmp_path / "fw.ota"
    result = run_cli("zbota", *BASE, "-o", out, "-t", f"0x0000:{path}")
    assert result.code == 2
    assert result.err.startswith(f"ota-action zbota: error: --tag '{path}': {message}")
    assert not out.exists()


def test_firmware_paths_are_opened_in_one_module() -> None:
    """zbota and combine hand every firmware path to commands/firmware_files.py."""
    commands = Path(__file__).resolve().parent.parent / "ota_action" / "commands"
    for name in ("zbota.py", "combine.py"):
        text = (commands / name).read_text(encoding="utf-8")
        assert "open_input" not in text, name
        assert "open(" not in text, name
    assert "open_input(" in (commands / "firmware_files.py").read_text(encoding="utf-8")


_segments = st.lists(
    st.tuples(st.integers(0, 0xFFFF_F000), st.binary(min_size=1, max_size=300)), min_size=1, max_size=6
)


def _disjoint(raw: list[tuple[int, bytes]]) -> list[tuple[int, bytearray]]:
    """Sorted, disjoint, non-adjacent segments from arbitrary ones (later ones dropped)."""
    out: list[tuple[int, bytearray]] = []
    for address, data in sorted(raw):
        if not out or address > out[-1][0] + len(out[-1][1]):
            out.append((address, bytearray(data)))
    return out


@settings(max_examples=60, deadline=None)
@given(_segments, st.integers(1, 250), st.one_of(st.none(), st.integers(0, 0xFFFFFFFF)))
def test_srec_write_read_round_trip(raw: list[tuple[int, bytes]], length: int, start: int | None) -> None:
    segments = _disjoint(raw)
    begin = None if start is None else StartAddress(LINEAR_START, start)
    text = b"".join(iter_srec(segments, begin, record_length=length))
    parsed = parse_srec(text, name="p.s37")
    assert parsed.segments == segments
    assert parsed.start_address == begin


def test_raw_binary_past_4_gib_is_refused_before_reading(tmp_path: Path) -> None:
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(32))
    out = tmp_path / "o.hex"
    result = run_cli("combine", EXAMPLES / "app.hex", f"{blob}@0xFFFFFFF0", "-o", out)
    assert result.code == 2
    assert result.err == (
        f"ota-action combine: error: FILE '{blob}@0xFFFFFFF0': is 32 bytes, so at 0xFFFFFFF0 it reaches "
        "past the 32-bit address space\n"
    )
    assert not out.exists()


_file = st.lists(st.tuples(st.integers(0, 48), st.binary(min_size=1, max_size=12)), min_size=0, max_size=3)


@settings(max_examples=300, deadline=None)
@given(st.lists(_file, min_size=2, max_size=5), st.sampled_from(["error", "keep-first", "keep-last"]))
def test_sweep_merge_equals_a_byte_by_byte_reference(
    files: list[list[tuple[int, bytes]]], policy: str
) -> None:
    """Every rule of the merge against the naive per-address model it replaced."""
    inputs = []
    for k, raw in enumerate(files):
        memory: dict[int, int] = {}
        for address, data in raw:
            for offset, byte in enumerate(data):
                memory.setdefault(address + offset, byte & 0x03)  # few values: many agreements
        segments: list[tuple[int, bytearray]] = []
        for address in sorted(memory):
            if segments and segments[-1][0] + len(segments[-1][1]) == address:
                segments[-1][1].append(memory[address])
            else:
                segments.append((address, bytearray([memory[address]])))
        inputs.append((Firmware(f"f{k}.hex", segments), memory))
    covering: dict[int, list[int]] = {}
    for _, memory in inputs:
        for address, byte in memory.items():
            covering.setdefault(address, []).append(byte)
    disagree = sorted(a for a, values in covering.items() if len(set(values)) > 1)
    if policy == "error" and disagree:
        with pytest.raises(InputError) as caught:
            merge_module.merge([f for f, _ in inputs], on_overlap="error")
        assert f"hold different bytes at 0x{disagree[0]:08X}-" in caught.value.message
        return
    merged = merge_module.merge([f for f, _ in inputs], on_overlap=policy)  # type: ignore[arg-type]
    expected: dict[int, int] = {}
    for _, memory in inputs if policy != "keep-first" else reversed(inputs):
        expected.update(memory)
    got = {a + i: b for a, d in merged.segments for i, b in enumerate(d)}
    assert got == expected
    assert merged.overlapping_bytes == sum(1 for values in covering.values() if len(values) > 1)
    assert merged.overridden_bytes == len(disagree)
    assert all(a.end < b.start for a, b in zip(merged.ranges, merged.ranges[1:], strict=False))


def test_action_combine_takes_every_kind(tmp_path: Path) -> None:
    from tests.test_action import FakeRunner

    fake = FakeRunner(tmp_path)
    firmware = fake.workspace / "firmware"
    firmware.mkdir()
    for name in ("app.hex", "app.s37", "app.elf"):
        (firmware / name).write_bytes((EXAMPLES / name).read_bytes())
    (firmware / "config.bin").write_bytes(b"CONFIG-v1")
    files = "firmware/app.s37\nfirmware/app.elf\nfirmware/config.bin@0x0800F000\n"
    run = fake.run({"command": "combine", "files": files, "outfile": "dist/merged.s37"})
    assert run.code == 0, run.stdout + run.stderr
    merged = parse_srec((fake.workspace / "dist" / "merged.s37").read_bytes(), name="merged.s37")
    assert [(a, len(d)) for a, d in merged.segments] == [
        (0x08004000, 0x1800),
        (0x08006000, 0x40),
        (0x0800F000, 9),
    ]
    assert merged.start_address == StartAddress(LINEAR_START, 0x080041C1)


def test_s37_record_length_limit_names_the_option(tmp_path: Path) -> None:
    out = tmp_path / "o.s37"
    result = run_cli(
        "combine", EXAMPLES / "app.s37", EXAMPLES / "app.hex", "-o", out, "--record-length", "251"
    )
    assert result.code == 2
    assert result.err == (
        "ota-action combine: error: --record-length: is 251; an S3 record holds at most 250 data bytes\n"
    )
    assert not out.exists()
