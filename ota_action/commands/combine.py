"""``combine``: several Intel HEX files in, one merged .hex file out, with a summary of what went where.

Every check that needs no file contents (count, extensions, output path) runs before
any file is read, and nothing is written until the merge has succeeded.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ota_action import files, log
from ota_action.errors import InputError
from ota_action.hexfile import HexData, merge, read_hex, to_hex
from ota_action.report import Report
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


def _input_summary(h: HexData) -> dict[str, Any]:
    return {
        "file": h.name,
        "ranges": [r.as_json() for r in h.ranges],
        "bytes": h.size,
        "start_address": h.start_address.as_json() if h.start_address else None,
    }


def run(settings: CombineSettings) -> Report:
    logger = log.get()
    started = time.perf_counter()
    _check_names(settings.files, settings.outfile)
    inputs = [read_hex(path, field="files") for path in settings.files]
    parsed = time.perf_counter()
    merged = merge(inputs, on_overlap=settings.on_overlap, start=settings.start_address)
    text = to_hex(merged.segments, merged.start_address, record_length=settings.record_length)
    files.write_atomic(settings.outfile, text)
    digest = files.sha256_hex(text)
    warnings = [f"{h.name} holds no data records" for h in inputs if not h.segments]
    start = merged.start_address
    data = {
        "outfile": str(settings.outfile),
        "size": len(text),
        "sha256": digest,
        "record_length": settings.record_length,
        "data_bytes": sum(r.size for r in merged.ranges),
        "inputs": [_input_summary(h) for h in inputs],
        "merged_ranges": [r.as_json() for r in merged.ranges],
        "gaps": [r.as_json() for r in merged.gaps],
        "overlaps": {
            "policy": settings.on_overlap,
            "overlapping_bytes": merged.overlapping_bytes,
            "identical_bytes": merged.overlapping_bytes - merged.overridden_bytes,
            "overridden_bytes": merged.overridden_bytes,
            "regions": [o.as_json() for o in merged.overlaps],
        },
        "start_address": {**start.as_json(), "source": merged.start_source} if start else None,
    }
    logger.info(
        "combine.written",
        outfile=str(settings.outfile),
        inputs=len(inputs),
        size=len(text),
        sha256=digest,
        overridden=merged.overridden_bytes,
        parse_seconds=round(parsed - started, 4),
        seconds=round(time.perf_counter() - started, 4),
    )
    return Report("combine", data, outfile=settings.outfile, warnings=warnings)
