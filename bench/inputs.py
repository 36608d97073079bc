"""Benchmark inputs, generated deterministically so every run (and every peer) sees the same bytes.

Intel HEX files follow peers.md §5.2: 16 data bytes per record, an extended linear
address record (type 04) at the start and at every 64 KiB boundary, and optionally a
start linear address record (type 05).  The writer and the reader here are
deliberately tiny and independent of intelhex and of ota-action, so the benchmark can
check every tool's merged output against the inputs without trusting any of them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

KIB = 1024
MIB = 1024 * KIB


def random_bytes(size: int, seed: int = 1) -> bytes:
    """``random.Random(seed).randbytes(size)``: the inputs of the published AES-MMO digests."""
    return random.Random(seed).randbytes(size)


def seq(size: int) -> bytes:
    """``seq(n)`` of the spec's test vectors: byte i is i mod 256."""
    return bytes(i & 0xFF for i in range(size))


def _record(kind: int, address: int, data: bytes) -> str:
    body = bytes((len(data), (address >> 8) & 0xFF, address & 0xFF, kind)) + data
    checksum = (-sum(body)) & 0xFF
    return ":" + (body + bytes((checksum,))).hex().upper() + "\n"


def intel_hex(data: bytes, base: int, *, start: int | None = None, record_size: int = 16) -> str:
    """Intel HEX text for ``data`` at ``base`` (type 04 per 64 KiB, optional type 05)."""
    lines: list[str] = []
    upper = None
    for offset in range(0, len(data), record_size):
        address = base + offset
        if address >> 16 != upper:
            upper = address >> 16
            lines.append(_record(0x04, 0, upper.to_bytes(2, "big")))
        chunk = data[offset : offset + record_size]
        # A record must not cross a 64 KiB boundary; with 16-byte records and aligned
        # bases it never does, so split only in the unusual case.
        room = 0x10000 - (address & 0xFFFF)
        if len(chunk) > room:
            lines.append(_record(0x00, address & 0xFFFF, chunk[:room]))
            upper = (address + room) >> 16
            lines.append(_record(0x04, 0, upper.to_bytes(2, "big")))
            lines.append(_record(0x00, 0, chunk[room:]))
        else:
            lines.append(_record(0x00, address & 0xFFFF, chunk))
    if start is not None:
        lines.append(_record(0x05, 0, start.to_bytes(4, "big")))
    lines.append(_record(0x01, 0, b""))
    return "".join(lines)


@dataclass(frozen=True)
class HexPart:
    """One input of the combine benchmark: its name, load address, bytes and start record."""

    name: str
    base: int
    data: bytes
    start: int | None = None

    def write(self, directory: Path) -> Path:
        path = directory / f"{self.name}.hex"
        path.write_text(intel_hex(self.data, self.base, start=self.start))
        return path


def combine_set(boot: int, app: int, config: int) -> list[HexPart]:
    """The bootloader + application + configuration set of peers.md §5.2.

    Bootloader at 0x0, application right after the bootloader's 64 KiB (0x10000) with a
    type-05 start record, configuration in the last 4 KiB below 2 MiB (0x1FF000) — or,
    for small sizes, right after the application.
    """
    app_base = max(0x10000, boot)
    config_base = 0x1FF000 if app_base + app <= 0x1FF000 else app_base + app
    return [
        HexPart("boot", 0x0, random_bytes(boot, seed=11)),
        HexPart("app", app_base, random_bytes(app, seed=12), start=app_base + 0x101),
        HexPart("config", config_base, random_bytes(config, seed=13)),
    ]


def read_intel_hex(text: str) -> tuple[list[tuple[int, bytes]], int | None]:
    """Decode Intel HEX into contiguous segments (address, bytes) and the type-05 start, if any."""
    records: list[tuple[int, bytes]] = []
    upper = 0
    start = None
    for text_line in text.splitlines():
        line = text_line.strip()
        if not line:
            continue
        raw = bytes.fromhex(line[1:])
        if sum(raw) & 0xFF:
            raise ValueError(f"bad checksum in {line!r}")
        count, kind = raw[0], raw[3]
        data = raw[4 : 4 + count]
        if kind == 0x00:
            records.append((upper + ((raw[1] << 8) | raw[2]), data))
        elif kind == 0x04:
            upper = int.from_bytes(data, "big") << 16
        elif kind == 0x02:
            upper = int.from_bytes(data, "big") << 4
        elif kind == 0x05:
            start = int.from_bytes(data, "big")
        elif kind == 0x01:
            break
    return _coalesce(records), start


def _coalesce(pieces: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    segments: list[tuple[int, bytearray]] = []
    for address, data in sorted(pieces, key=lambda piece: piece[0]):
        if segments and segments[-1][0] + len(segments[-1][1]) == address:
            segments[-1][1].extend(data)
        else:
            segments.append((address, bytearray(data)))
    return [(address, bytes(data)) for address, data in segments]


def merged_matches(text: str, parts: list[HexPart]) -> str | None:
    """None when ``text`` holds exactly the union of ``parts`` (and the app's start), else why not."""
    segments, start = read_intel_hex(text)
    expected = _coalesce([(p.base, p.data) for p in parts])
    if segments != expected:
        got = ", ".join(f"0x{a:X}+{len(d)}" for a, d in segments)
        return f"merged data differs from the inputs (segments {got})"
    wanted = next((p.start for p in parts if p.start is not None), None)
    if start != wanted:
        return f"merged start address {start!r}, expected {wanted!r}"
    return None
