"""Where a sub-element's bytes come from when a file is written: each source knows its
length before it produces a byte, so a file is laid out from sizes alone and streamed.

The core never opens a path: a :class:`FileSource` is given the opener of the edge that
made it (regular files only, inside the workspace in the Action).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple, Protocol

from ota_action.errors import InputError
from ota_action.formats.zigbee.streams import CHUNK


class Source(Protocol):
    """The data of one sub-element: its length is known before any byte is produced."""

    @property
    def length(self) -> int: ...

    def chunks(self) -> Iterator[bytes | bytearray | memoryview]: ...


class BytesSource(NamedTuple):
    data: bytes

    @property
    def length(self) -> int:
        return len(self.data)

    def chunks(self) -> Iterator[bytes]:
        yield self.data


class FillSource(NamedTuple):
    """``length`` copies of ``fill``, generated a chunk at a time (a NULL tag, padding)."""

    length: int
    fill: int = 0xFF

    def chunks(self) -> Iterator[bytes]:
        block = bytes([self.fill]) * min(self.length, CHUNK)
        left = self.length
        while left > 0:
            yield block if left >= len(block) else block[:left]
            left -= len(block)


class FileSource(NamedTuple):
    """A file's bytes; ``length`` is what ``stat`` said, and exactly that many are produced.

    A file that shrinks or grows between planning and writing is an InputError naming
    ``field`` (the header's total size was already written from ``length``).
    """

    path: Path
    length: int
    # How to open it: the edge passes its checked opener (regular files only, inside the
    # workspace in the Action); the core never opens a path itself.
    opener: Callable[[Path], BinaryIO]
    field: str = "tags"

    def _open(self) -> BinaryIO:
        return self.opener(self.path)

    def chunks(self) -> Iterator[bytes]:
        left = self.length
        try:
            with self._open() as f:
                while left > 0:
                    chunk = f.read(min(CHUNK, left))
                    if not chunk:
                        break
                    left -= len(chunk)
                    yield chunk
                grew = left == 0 and bool(f.read(1))
        except OSError as exc:
            raise InputError(
                f"cannot be read: {exc.strerror}", field=self.field, value=str(self.path)
            ) from None
        if left or grew:
            raise InputError(
                f"changed size while being read (it was {self.length} bytes)",
                field=self.field,
                value=str(self.path),
            )


class ConcatSource(NamedTuple):
    """Several sources as one element's data (an XBee image, its padding, its signature)."""

    parts: tuple[Source, ...]

    @property
    def length(self) -> int:
        return sum(p.length for p in self.parts)

    def chunks(self) -> Iterator[bytes | bytearray | memoryview]:
        for part in self.parts:
            yield from part.chunks()


__all__ = ["BytesSource", "ConcatSource", "FileSource", "FillSource", "Source"]
