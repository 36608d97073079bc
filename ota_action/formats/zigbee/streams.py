"""Bounded reads from a seekable binary file: the only I/O the vendor recognisers do.

Every recogniser gets a file object and offsets instead of bytes, so a 4 GiB file costs
what its headers cost.  These helpers never read more than they are asked for, never
more than :data:`CHUNK` at once, and treat a short read as the end of the file.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from typing import BinaryIO

CHUNK = 1 << 20  # bytes per read when streaming a range (1 MiB)


def read_at(f: BinaryIO, offset: int, size: int) -> bytes:
    """Up to ``size`` bytes at ``offset`` (fewer at the end of the file, none past it)."""
    if size <= 0 or offset < 0:
        return b""
    f.seek(offset)
    return f.read(size)


def chunks(f: BinaryIO, start: int, stop: int, chunk: int = CHUNK) -> Iterator[bytes]:
    """The bytes of ``[start, stop)`` in pieces of at most ``chunk``; stops early at EOF."""
    f.seek(start)
    position = start
    while position < stop:
        piece = f.read(min(chunk, stop - position))
        if not piece:
            return
        position += len(piece)
        yield piece


def crc32_range(f: BinaryIO, start: int, stop: int, crc: int = 0) -> int:
    """zlib's CRC-32 of ``[start, stop)``, continuing from ``crc``, read in chunks."""
    for piece in chunks(f, start, stop):
        crc = zlib.crc32(piece, crc)
    return crc


class FileSlice(io.RawIOBase, BinaryIO):
    """A read-only window ``[offset, offset + length)`` of ``f`` that looks like a whole file.

    The inner OTA file of a container is decoded through this, so the parser and every
    recogniser see offsets relative to the inner file and can never read past its end.
    """

    def __init__(self, f: BinaryIO, offset: int, length: int) -> None:
        super().__init__()
        self._f = f
        self._offset = offset
        self._length = length
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._length}[whence]
        target = base + offset
        if target < 0:
            raise ValueError(f"negative seek position {target}")
        self._position = target
        return target

    def read(self, size: int | None = -1) -> bytes:
        left = max(0, self._length - self._position)
        count = left if size is None or size < 0 else min(size, left)
        if count == 0:
            return b""
        self._f.seek(self._offset + self._position)
        data = self._f.read(count)
        self._position += len(data)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        memoryview(buffer)[: len(data)] = data
        return len(data)
