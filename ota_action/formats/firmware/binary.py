"""A firmware file's binary image: its bytes from the lowest to the highest address, gaps filled.

This is what a ``zbota`` tag given as Intel HEX, S-record or ELF becomes (the same
firmware in any of them gives the same bytes).  The image holds only the data bytes;
the gaps are generated with ``fill`` as the bytes are written.  Gap filling out of
scale with the data (one stray record far away) is refused rather than written.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from ota_action.errors import InputError
from ota_action.formats.firmware.image import Firmware
from ota_action.formats.firmware.segments import Range, Segment
from ota_action.records import record

# filled_image refuses to fill more than this: a far-away stray record would otherwise
# ask for gigabytes of fill bytes.
IMAGE_SPAN_LIMIT = 256 << 20
# An image whose gaps need more than this many fill bytes, and more than FILL_RATIO times
# its data bytes, is refused: one stray record (typically a data record before the file's
# first type 04 record, so at base 0) would otherwise turn a few bytes into megabytes.
FILL_LIMIT = 1 << 20
FILL_RATIO = 64


@record
class FilledImage:
    """The binary image of a firmware file, streamed; an :class:`~ota_action.formats.zigbee.image.Source`."""

    segments: tuple[Segment, ...]
    fill: int
    warnings: tuple[str, ...] = ()

    @property
    def start(self) -> int:
        return self.segments[0][0]

    @property
    def end(self) -> int:
        return self.segments[-1][0] + len(self.segments[-1][1])

    @property
    def length(self) -> int:
        return self.end - self.start

    @property
    def data_bytes(self) -> int:
        return sum(len(d) for _, d in self.segments)

    def chunks(self) -> Iterator[bytes | bytearray]:
        position = self.start
        block = b""
        for address, data in self.segments:
            gap = address - position
            while gap > 0:
                if len(block) < min(gap, 1 << 20):
                    block = bytes([self.fill]) * min(gap, 1 << 20)
                yield block[:gap]
                gap -= min(gap, len(block))
            yield data
            position = address + len(data)

    def to_bytes(self) -> bytes:
        """The whole image in memory (``xbee-fs``, tests)."""
        return b"".join(self.chunks())


def filled_image(parsed: Firmware, *, fill: int = 0xFF, field: str = "tags") -> FilledImage:
    """Check a parsed file's image: no data, a far span, or gaps out of scale.

    Gap filling that writes more bytes than the data it fills is a warning; beyond
    :data:`FILL_LIMIT` and :data:`FILL_RATIO` times the data it is refused, naming the
    widest gap.
    """
    name = parsed.name
    if not parsed.segments:
        raise InputError(f"holds no data ({parsed.kind.value})", field=field, value=name)
    source = FilledImage(tuple(parsed.segments), fill)
    start, end = source.start, source.end
    if end - start > IMAGE_SPAN_LIMIT:
        raise InputError(
            f"spans {Range(start, end)} ({end - start} bytes); filling its gaps would exceed "
            f"{IMAGE_SPAN_LIMIT >> 20} MiB, so a record is probably misplaced",
            field=field,
            value=name,
        )
    data = source.data_bytes
    filled = source.length - data
    if filled <= data:
        return source
    widest = max(
        (Range(a[0] + len(a[1]), b[0]) for a, b in itertools.pairwise(parsed.segments)), key=lambda r: r.size
    )
    text = (
        f"its {data} data bytes span {Range(start, end)}, so {filled} bytes of 0x{fill:02X} fill "
        f"its gaps (the widest {widest}, {widest.size} bytes)"
    )
    if filled > FILL_LIMIT and filled > FILL_RATIO * data:
        raise InputError(
            f"{text}: more than {FILL_RATIO} times the data, so a record is probably misplaced "
            "(in Intel HEX, a data record before the file's first type 04 record lands at base 0x0000)",
            field=field,
            value=name,
        )
    return FilledImage(
        source.segments, fill, (f"{name}: {text}; gap filling writes more bytes than the data",)
    )
