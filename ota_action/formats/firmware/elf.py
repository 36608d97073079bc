"""ELF (``.elf``, ``.axf``, ``.out``): the bytes a programmer loads, by *physical* address.

An executable's PT_LOAD program headers say what is loaded where: ``p_filesz`` bytes
from ``p_offset`` at ``p_paddr`` (the load address, the LMA; ``p_vaddr`` is where the
code runs, which for initialised RAM data differs).  The zero-filled rest of a segment
(``p_memsz`` beyond ``p_filesz``, .bss) is not in the file and not programmed, as
``objcopy -O ihex`` and bincopy treat it.  A relocatable file (ET_REL, no program
headers, such as ``objcopy -I binary -O elf32-little`` makes) is read by its allocated
sections with contents at their addresses, as objcopy reads it.  The entry point is the
start address when it is not 0 (objcopy writes no Intel HEX start record for 0).

pyelftools parses the headers (32/64-bit, both byte orders, extended section counts);
the data is read here with one bounded ``read`` per segment, each checked against the
file's size first, so a hostile header cannot ask for gigabytes.  Only ELF inputs import
pyelftools.
"""

from __future__ import annotations

import struct
from typing import Any, BinaryIO

from ota_action.errors import InputError
from ota_action.formats.firmware.image import LINEAR_START, Firmware, StartAddress
from ota_action.formats.firmware.kinds import FirmwareKind
from ota_action.formats.firmware.segments import ADDRESS_LIMIT, Runs

_SHF_ALLOC = 0x2


def _loads(elf: Any) -> list[tuple[str, int, int, int]]:
    """(what, file offset, size, load address) of every piece the file loads."""
    pieces: list[tuple[str, int, int, int]] = []
    if elf.num_segments():
        for index, seg in enumerate(elf.iter_segments()):
            if seg["p_type"] == "PT_LOAD" and seg["p_filesz"]:
                pieces.append((f"program header {index}", seg["p_offset"], seg["p_filesz"], seg["p_paddr"]))
        return pieces
    for index, sec in enumerate(elf.iter_sections()):
        if sec["sh_flags"] & _SHF_ALLOC and sec["sh_type"] != "SHT_NOBITS" and sec["sh_size"]:
            pieces.append((f"section {index}", sec["sh_offset"], sec["sh_size"], sec["sh_addr"]))
    return pieces


def read_elf(f: BinaryIO, *, name: str, field: str = "files") -> Firmware:
    """The loadable contents of one ELF stream (the caller opened it, seekable)."""
    from elftools.common.exceptions import ELFError
    from elftools.construct.core import ConstructError
    from elftools.elf.elffile import ELFFile

    def fail(message: str) -> InputError:
        return InputError(message, field=field, value=name)

    try:
        size = f.seek(0, 2)
        f.seek(0)
        elf = ELFFile(f)
        pieces = _loads(elf)
        entry = int(elf.header["e_entry"])
        width = elf.elfclass
    except OSError as exc:
        raise fail(f"cannot be read: {exc.strerror}") from None
    except (ELFError, ConstructError, struct.error, ValueError, KeyError, IndexError, EOFError) as exc:
        # pyelftools reports a damaged header with its own exception types (or a bare
        # struct error for a short read); the message says only what is wrong.
        raise fail(f"is not a readable ELF file ({type(exc).__name__}: {str(exc)[:120]})") from None
    runs = Runs()
    for what, offset, length, address in pieces:
        if offset + length > size:
            raise fail(f"{what} says {length} bytes at file offset {offset}, past the file's end ({size})")
        if address + length > ADDRESS_LIMIT:
            raise fail(f"{what} loads at 0x{address:X}, past the 32-bit address space")
        data = bytearray(length)  # filled in place, 1 MiB at a time: never held twice
        got = 0
        try:
            f.seek(offset)
            while got < length and (block := f.read(min(1 << 20, length - got))):
                data[got : got + len(block)] = block
                got += len(block)
        except OSError as exc:
            raise fail(f"cannot be read: {exc.strerror}") from None
        if got != length:
            raise fail(f"{what} is cut short ({got} of {length} bytes)")
        runs.add(address, data)
    start = StartAddress(LINEAR_START, entry) if entry and entry < ADDRESS_LIMIT else None
    if entry >= ADDRESS_LIMIT:
        raise fail(f"its ELF{width} entry point 0x{entry:X} is past the 32-bit address space")
    return Firmware(name, runs.segments(name=name, field=field), start, FirmwareKind.ELF)
