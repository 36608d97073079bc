"""Address ranges and data segments: the one model every firmware reader produces.

A file of any kind (Intel HEX, S-record, ELF, raw binary at an address) becomes a list
of ``(first address, bytes)`` segments, sorted, disjoint and non-adjacent.  Memory
follows the data bytes, never the text or the address span; gaps are generated only
when a binary image is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ota_action.errors import InputError
from ota_action.records import record

ADDRESS_LIMIT = 1 << 32
Segment = tuple[int, bytearray]  # (first address, bytes)
RANGES_LISTED = 1000  # ranges a summary lists; the rest are counted
_NONZERO_RUN = re.compile(rb"[^\x00]+")


@record
class Range:
    """Addresses ``start`` up to but excluding ``end``."""

    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start

    def __str__(self) -> str:
        return f"0x{self.start:08X}-0x{self.end - 1:08X}"

    def as_json(self) -> dict[str, object]:
        """JSON form: ``end`` is the last address (inclusive), as in the text form."""
        return {"start": self.start, "end": self.end - 1, "size": self.size, "range": str(self)}


def ranges_of(segments: Iterable[Segment]) -> list[Range]:
    """The address range of each segment."""
    return [Range(a, a + len(d)) for a, d in segments]


class Runs:
    """Collects data runs as a reader meets them, joining a run that continues the last.

    Readers append in file order; :meth:`segments` sorts and joins them once at the end.
    """

    def __init__(self) -> None:
        self.chunks: list[Segment] = []
        self._current: bytearray | None = None
        self._start = self._end = -1

    def add(self, address: int, data: bytes | bytearray) -> None:
        if self._current is not None and address == self._end:
            self._current += data
        else:
            if self._current is not None:
                self.chunks.append((self._start, self._current))
            # A reader's own bytearray is kept as it is (ELF segments are read into one).
            self._current = data if isinstance(data, bytearray) else bytearray(data)
            self._start = address
        self._end = address + len(data)

    def segments(self, *, name: str, field: str) -> list[Segment]:
        if self._current is not None:
            self.chunks.append((self._start, self._current))
            self._current = None
        return normalise(self.chunks, name=name, field=field)


def normalise(chunks: list[Segment], *, name: str, field: str) -> list[Segment]:
    """Sort and join a file's runs; one file writing an address twice must agree with itself."""
    chunks = [c for c in chunks if c[1]]
    if all(chunks[i][0] + len(chunks[i][1]) < chunks[i + 1][0] for i in range(len(chunks) - 1)):
        return chunks
    chunks.sort(key=lambda c: c[0])
    out: list[Segment] = []
    for address, data in chunks:
        if out and address <= out[-1][0] + len(out[-1][1]):
            first, merged = out[-1]
            end = first + len(merged)
            overlap = min(end, address + len(data)) - address
            if merged[address - first : address - first + overlap] != data[:overlap]:
                runs = differing_runs(
                    address, bytes(merged[address - first : address - first + overlap]), bytes(data[:overlap])
                )
                raise InputError(f"writes {runs[0]} twice with different bytes", field=field, value=name)
            merged += data[overlap:]
        else:
            out.append((address, data))
    return out


def differing_runs(address: int, a: bytes, b: bytes) -> list[Range]:
    """The runs of addresses (from ``address``) where equal-length ``a`` and ``b`` differ."""
    xor = (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")
    return [Range(address + m.start(), address + m.end()) for m in _NONZERO_RUN.finditer(xor)]


def union(ranges: Iterable[Range]) -> list[Range]:
    """The sorted union of ``ranges`` (touching ranges join)."""
    out: list[Range] = []
    for r in sorted(ranges, key=lambda r: r.start):
        if out and r.start <= out[-1].end:
            if r.end > out[-1].end:
                out[-1] = Range(out[-1].start, r.end)
        else:
            out.append(r)
    return out
