"""One firmware file as an address space: its segments, its start address and its kind.

Every reader (Intel HEX, S-record, ELF, raw binary at an address) returns a
:class:`Firmware`, so ``combine``, ``zbota`` tags and every rule about overlaps and start
addresses work the same whatever the file was.
"""

from __future__ import annotations

from ota_action.formats.firmware.kinds import FirmwareKind
from ota_action.formats.firmware.segments import Range, Segment, ranges_of
from ota_action.records import record

SEGMENT_START, LINEAR_START = 3, 5  # Intel HEX record types of the two start address forms


@record
class StartAddress:
    """A start (execution) address: type 03 (``value`` = CS << 16 | IP) or a 32-bit linear one.

    Intel HEX type 05, an S-record S7/S8/S9 and an ELF entry point are all linear (type
    05), so the same start read from a .hex and a .s37 compares equal.
    """

    record_type: int
    value: int

    @property
    def linear(self) -> int:
        """The address itself (CS * 16 + IP for type 03, as srec_cat reads it)."""
        if self.record_type == SEGMENT_START:
            return ((self.value >> 16) << 4) + (self.value & 0xFFFF)
        return self.value

    def __str__(self) -> str:
        if self.record_type == SEGMENT_START:
            return f"CS:IP 0x{self.value >> 16:04X}:0x{self.value & 0xFFFF:04X} (type 03)"
        return f"EIP 0x{self.value:08X} (type 05)"

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"record_type": self.record_type, "value": self.value, "text": str(self)}
        if self.record_type == SEGMENT_START:
            out.update(cs=self.value >> 16, ip=self.value & 0xFFFF)
        return out


def parse_start_address(text: str) -> StartAddress:
    """``0xADDR`` (type 05 EIP) or ``CS:IP`` (type 03), each part decimal or 0x-hex."""

    def number(part: str, bits: int) -> int:
        part = part.strip()
        try:
            value = int(part, 16) if part[:2].lower() == "0x" else int(part, 10)
        except ValueError:
            raise ValueError(
                "must be first, last, none, an address such as 0x08000121, or CS:IP such as 0x0000:0x0100"
            ) from None
        if not 0 <= value < 1 << bits:
            raise ValueError(f"must fit in {bits} bits")
        return value

    if ":" in text:
        cs, _, ip = text.partition(":")
        return StartAddress(SEGMENT_START, number(cs, 16) << 16 | number(ip, 16))
    return StartAddress(LINEAR_START, number(text, 32))


@record(frozen=False)
class Firmware:
    """One parsed file: sorted, disjoint, non-adjacent segments, its start address and kind."""

    name: str
    segments: list[Segment]
    start_address: StartAddress | None = None
    kind: FirmwareKind = FirmwareKind.INTEL_HEX

    @property
    def ranges(self) -> list[Range]:
        return ranges_of(self.segments)

    @property
    def size(self) -> int:
        return sum(len(d) for _, d in self.segments)
