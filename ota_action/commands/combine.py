"""``combine``: firmware files of any kind in, one merged .hex or .s37 file out, and what went where.

Every check that needs no file contents (count, output name and path) runs before any
file is read, and nothing is written until the merge has succeeded.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

from ota_action.commands.firmware_files import file_kind, read_firmware_file
from ota_action.edges import files, log, same_file
from ota_action.errors import InputError
from ota_action.formats.firmware.image import Firmware, StartAddress
from ota_action.formats.firmware.intelhex import iter_hex
from ota_action.formats.firmware.kinds import FirmwareKind, kind_by_name, suffix_of
from ota_action.formats.firmware.merge import merge
from ota_action.formats.firmware.segments import RANGES_LISTED, Range, Segment
from ota_action.formats.firmware.srecord import ADDRESS_BYTES, iter_srec, max_record_length
from ota_action.formats.zigbee.checks import Finding
from ota_action.results import CombineInput, CombineResult
from ota_action.settings.combine import CombineSettings
from ota_action.values import FirmwareInput

OUTPUT_KINDS = (FirmwareKind.INTEL_HEX, FirmwareKind.SRECORD)


def _output_kind(inputs: list[FirmwareInput], outfile: Path) -> FirmwareKind:
    if len(inputs) < 2:
        given = ", ".join(str(p) for p in inputs) or "none"
        raise InputError(f"combine needs at least 2 files; got {len(inputs)} ({given})", field="files")
    files.check_output_path(outfile)  # first: "-", a device or a FIFO is refused as such
    kind = kind_by_name(outfile.name)
    if kind is None or kind not in OUTPUT_KINDS:
        raise InputError(
            "must be named .hex (Intel HEX) or .s37, .s19, .s28, .srec or .mot (S-record)",
            field="outfile",
            value=str(outfile),
        )
    return kind


def _check_output_matches(kind: FirmwareKind, kinds: list[FirmwareKind], outfile: Path) -> None:
    """The output is of the kind of one of the inputs, as the original tool requires."""
    if kind not in kinds:
        held = ", ".join(dict.fromkeys(k.value for k in kinds))
        raise InputError(
            f"is {kind.value}, but no input is (they hold {held}); name the output after an input's kind",
            field="outfile",
            value=str(outfile),
        )


def _writer(
    kind: FirmwareKind, outfile: Path, segments: list[Segment], start: StartAddress | None, record_length: int
) -> Iterator[bytes]:
    if kind is FirmwareKind.INTEL_HEX:
        return iter_hex(segments, start, record_length=record_length)
    width = ADDRESS_BYTES.get(suffix_of(outfile.name), 4)
    if record_length > max_record_length(width):
        raise InputError(
            f"is {record_length}; an S{width - 1} record holds at most {max_record_length(width)} data bytes",
            field="record_length",
        )
    top = max((a + len(d) for a, d in segments), default=0)
    if top > 1 << 8 * width or (start is not None and start.linear >= 1 << 8 * width):
        raise InputError(
            f"holds addresses past the {8 * width}-bit S{width - 1} records of {suffix_of(outfile.name)}; "
            "name it .s37",
            field="outfile",
            value=str(outfile),
        )
    return iter_srec(segments, start, record_length=record_length, address_bytes=width)


def _described(h: Firmware, listed: int) -> CombineInput:
    """One input for the result: its first ``listed`` ranges and how many it has."""
    count = len(h.segments)
    ranges = tuple(Range(a, a + len(d)) for a, d in h.segments[:listed])
    return CombineInput(h.name, ranges, h.start_address, h.size, count, h.kind.value)


def run(settings: CombineSettings) -> CombineResult:
    logger = log.get()
    started = time.perf_counter()
    kind = _output_kind(settings.files, settings.outfile)
    kinds = [file_kind(spec.path, field="files") for spec in settings.files]
    _check_output_matches(kind, kinds, settings.outfile)
    same_file.refuse_overwrite(settings.outfile, [spec.path for spec in settings.files])
    inputs = [read_firmware_file(spec, field="files") for spec in settings.files]
    parsed = time.perf_counter()
    merged = merge(inputs, on_overlap=settings.on_overlap, start=settings.start_address)
    pieces = _writer(kind, settings.outfile, merged.segments, merged.start_address, settings.record_length)
    sha = hashlib.sha256()
    size = 0
    with files.atomic_output(settings.outfile) as out:
        for piece in pieces:
            out.write(piece)
            sha.update(piece)
            size += len(piece)
    digest = sha.hexdigest()
    logger.info(
        "combine.written",
        outfile=str(settings.outfile),
        inputs=len(inputs),
        size=size,
        sha256=digest,
        overridden=merged.overridden_bytes,
        parse_seconds=round(parsed - started, 4),
        seconds=round(time.perf_counter() - started, 4),
    )
    start = merged.start_address
    # Bounded lists, each with its count: the summary stays readable (and within the
    # Action's output limits) whatever the inputs hold.
    per_input = max(10, RANGES_LISTED // len(inputs))
    ranges, gaps = merged.ranges, merged.gaps
    return CombineResult(
        outfile=settings.outfile,
        size=size,
        sha256=digest,
        record_length=settings.record_length,
        output_kind=kind.value,
        inputs=tuple(_described(h, per_input) for h in inputs),
        merged_ranges=tuple(ranges[:RANGES_LISTED]),
        merged_ranges_total=len(ranges),
        data_bytes=sum(r.size for r in ranges),
        gaps=tuple(gaps[:RANGES_LISTED]),
        gaps_total=len(gaps),
        overlap_policy=settings.on_overlap,
        overlapping_bytes=merged.overlapping_bytes,
        overridden_bytes=merged.overridden_bytes,
        overlaps=tuple(merged.overlaps[:RANGES_LISTED]),
        overlaps_total=merged.overlaps_total,
        start_address=start,
        start_source=merged.start_source if start else None,
        findings=tuple(
            Finding.warning("empty-input", f"{h.name} holds no data ({h.kind.value})")
            for h in inputs
            if not h.segments
        ),
    )
