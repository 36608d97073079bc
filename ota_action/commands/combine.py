"""``combine``: several Intel HEX files in, one merged .hex file out, with a summary of what went where.

Every check that needs no file contents (count, extensions, output path) runs before
any file is read, and nothing is written until the merge has succeeded.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from ota_action.commands.firmware_files import read_hex_file
from ota_action.edges import files, log, same_file
from ota_action.errors import InputError
from ota_action.formats.firmware.intelhex import RANGES_LISTED, iter_hex, merge
from ota_action.formats.zigbee.checks import Finding
from ota_action.results import CombineInput, CombineResult
from ota_action.settings.combine import CombineSettings

HEX_SUFFIX = ".hex"


def _check_names(inputs: list[Path], outfile: Path) -> None:
    if len(inputs) < 2:
        given = ", ".join(str(p) for p in inputs) or "none"
        raise InputError(f"combine needs at least 2 files; got {len(inputs)} ({given})", field="files")
    for path in inputs:
        if path.suffix.lower() != HEX_SUFFIX:
            raise InputError(
                f"is not an Intel HEX file name ({HEX_SUFFIX}); combine reads Intel HEX only",
                field="files",
                value=str(path),
            )
    if outfile.suffix.lower() not in {p.suffix.lower() for p in inputs}:
        raise InputError(
            f"the output type must match an input type ({HEX_SUFFIX})", field="outfile", value=str(outfile)
        )
    files.check_output_path(outfile)


def run(settings: CombineSettings) -> CombineResult:
    logger = log.get()
    started = time.perf_counter()
    _check_names(settings.files, settings.outfile)
    same_file.refuse_overwrite(settings.outfile, settings.files)
    inputs = [read_hex_file(path, field="files") for path in settings.files]
    parsed = time.perf_counter()
    merged = merge(inputs, on_overlap=settings.on_overlap, start=settings.start_address)
    sha = hashlib.sha256()
    size = 0
    with files.atomic_output(settings.outfile) as out:
        for piece in iter_hex(merged.segments, merged.start_address, record_length=settings.record_length):
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
        inputs=tuple(
            CombineInput(h.name, tuple(h.ranges[:per_input]), h.start_address, h.size, len(h.ranges))
            for h in inputs
        ),
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
            Finding.warning("empty-input", f"{h.name} holds no data records")
            for h in inputs
            if not h.segments
        ),
    )
