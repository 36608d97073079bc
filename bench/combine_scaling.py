"""``combine`` at 15 and 60 inputs of 150 KB, beside srec_cat: time must grow linearly.

Each input holds 150 KB in 16-byte records spread over a wide address range and
interleaved with the other inputs' records (input k fills slot k of every stride), so the
inputs are disjoint but their ranges interleave: the shape where comparing every pair of
inputs costs inputs^2 x records (the old pairwise check took 5.7 s at 15 inputs and
minutes at 60).  The outputs of ota-action and srec_cat are both checked against the
inputs with bench's own reader.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from bench import tools
from bench.inputs import KIB, random_bytes, read_intel_hex
from bench.measure import OK, UNAVAILABLE, Figure, measure_process

COUNTS = (15, 60)
SIZE = 150 * KIB
RECORD = 16
BASE = 0x08000000


def _record(kind: int, address: int, data: bytes) -> str:
    body = bytes((len(data), (address >> 8) & 0xFF, address & 0xFF, kind)) + data
    return ":" + (body + bytes(((-sum(body)) & 0xFF,))).hex().upper() + "\n"


def write_inputs(work: Path, count: int, size: int = SIZE) -> list[Path]:
    """``count`` disjoint, interleaved .hex inputs of ``size`` bytes each."""
    paths = []
    stride = RECORD * count
    for k in range(count):
        data = random_bytes(size, seed=100 + k)
        lines, upper = [], -1
        for r in range(size // RECORD):
            address = BASE + r * stride + k * RECORD
            if address >> 16 != upper:
                upper = address >> 16
                lines.append(_record(0x04, 0, upper.to_bytes(2, "big")))
            lines.append(_record(0x00, address & 0xFFFF, data[r * RECORD : (r + 1) * RECORD]))
        lines.append(_record(0x01, 0, b""))
        path = work / f"in{count:03d}-{k:03d}.hex"
        path.write_text("".join(lines))
        paths.append(path)
    return paths


def _expected(paths: list[Path]) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    for path in paths:
        segments, _ = read_intel_hex(path.read_text())
        out.update(segments)
    return out


def _matches(out: Path, expected: dict[int, bytes]) -> str | None:
    if not out.is_file():
        return "no output file"
    segments, _ = read_intel_hex(out.read_text())
    got = b"".join(d for _, d in sorted(segments))
    want = b"".join(d for _, d in sorted(expected.items()))
    return None if got == want else "merged bytes differ from the inputs"


def run(
    work: Path, repeats: int, log: Callable[[str], None], counts: tuple[int, ...] = COUNTS, size: int = SIZE
) -> list[Figure]:
    figures = []
    for count in counts:
        folder = work / f"scale-{count}"
        folder.mkdir()
        paths = write_inputs(folder, count, size)
        expected = _expected(paths)
        ours_out, srec_out = folder / "ours.hex", folder / "srec.hex"
        srec = tools.srec_cat()
        candidates: list[tuple[str, list[str | Path] | None, Path]] = [
            ("ota-action combine", [*tools.ota_action(), "combine", *paths, "--outfile", ours_out], ours_out),
            (
                "srec_cat",
                None
                if srec is None
                else [srec, *(x for p in paths for x in (p, "-intel")), "-o", srec_out, "-intel", "-obs=16"],
                srec_out,
            ),
        ]
        for name, argv, out in candidates:
            figure = Figure("combine_scaling", name, size_bytes=count * size, extra={"inputs": count})
            figures.append(figure)
            if argv is None:
                figure.status, figure.note = UNAVAILABLE, "srec_cat not installed (Debian package srecord)"
                continue
            log(f"combine scaling {name} {count} inputs x{repeats}")
            measure_process(
                figure,
                argv,
                repeats,
                env=tools.child_env(),
                check=functools.partial(_matches, out, expected),
            )
            if figure.status == OK:
                figure.extra["output_matches_inputs"] = True
    return figures


def growth(figures: list[Figure]) -> dict[str, float | int | None]:
    """Each tool's time at the most inputs over its time at the fewest (linear: the ratio of the counts)."""
    counts = sorted({int(f.extra["inputs"]) for f in figures if f.section == "combine_scaling"})
    out: dict[str, float | int | None] = {"fewest": counts[0] if counts else None}
    out["most"] = counts[-1] if counts else None
    for name in ("ota-action combine", "srec_cat"):
        times = {
            f.extra["inputs"]: f.min_s for f in figures if f.section == "combine_scaling" and f.name == name
        }
        low, high = (times.get(counts[0]), times.get(counts[-1])) if len(counts) > 1 else (None, None)
        out[name] = round(high / low, 2) if low and high else None
    return out
