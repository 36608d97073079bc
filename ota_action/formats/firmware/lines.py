"""Reading a record file as a stream of bounded lines (Intel HEX and S-record share it).

Memory holds one 64 KiB block and one line, whatever the file's size; a "line" longer
than any record can be (a binary file given as text) is an error, not a megabyte string.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Iterator
from typing import BinaryIO, NoReturn

from ota_action.errors import InputError

LINE_LIMIT = 1 << 12  # bytes; longer than any Intel HEX (521) or S-record (514) line


def read_lines(f: BinaryIO, *, name: str, field: str, what: str) -> Iterator[bytes]:
    """See the module; ``what`` names a record in the message (``an Intel HEX record``)."""
    # The lines of ``f`` read 64 KiB at a time (CR, LF or CRLF ends), each bounded in length.
    carry = b""
    number = 0
    after_cr = False
    while block := f.read(1 << 16):
        if after_cr and block[:1] == b"\n":
            block = block[1:]  # the LF of a CRLF split across two reads
            if not block:
                after_cr = False
                continue
        after_cr = block[-1:] == b"\r"
        parts = (carry + block).splitlines()
        ends_line = block[-1:] in (b"\n", b"\r")
        carry = b"" if ends_line or not parts else parts.pop()
        for line in parts:
            number += 1
            yield line
        if len(carry) > LINE_LIMIT:
            raise InputError(
                f"line {number + 1}: longer than {LINE_LIMIT} characters; not {what}",
                field=field,
                value=name,
            )
    if carry:
        yield carry


_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")


def hex_bytes(digits: bytes, complain: Callable[[str], NoReturn]) -> bytes:
    """The bytes a record's hex digits spell (Intel HEX and S-record alike); a bad digit or
    an odd count is named through ``complain``, which raises."""
    try:
        return binascii.a2b_hex(digits)
    except (binascii.Error, ValueError):
        bad = next((c for c in digits if c not in _HEX_DIGITS), None)
        if bad is not None:
            complain(f"non-hex character {chr(bad)!r}" if bad < 0x80 else "non-ASCII character")
        complain(f"odd number of hex digits ({len(digits)})")
