"""Section 5: the streaming engine (issue 11) — peak memory and time at sizes that used to explode.

``python -m bench.streaming [--small MiB] [--large MiB] [--flood N] [--out FILE]``

Every case is a fresh ``ota-action`` process (peak RSS from GNU time when present), run
once: the point is the memory ceiling and the 4x-bytes-4x-time shape, not a precise
time.  Beside each figure the table prints what the pre-streaming engine did (issue 11).

* ``zbota --integrity`` on a NULL tag and on a file of ``small`` and ``large`` MiB, then
  ``inspect`` and ``verify`` of the file written (linearity: large/small time ratio);
* refusals: a 4 GiB NULL tag, ``--integrity`` past AES-MMO's 2^29 bytes, ``xbee-fs`` on
  a 4 GiB sparse image (target: 0.5 s and 50 MiB);
* ``inspect``/``verify`` of a flood of zero-length sub-elements;
* ``combine`` of 30 copies of one 150 KB .hex file;
* AES-MMO throughput in-process, per backend (target: >= 11 MB/s on libcrypto).
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import tools
from bench.inputs import MIB
from bench.measure import FAILED, Figure, run_process, summary_line

SECTION = "streaming"
TODAY = {
    "zbota 4 GiB NULL tag": "4.1 GB, 24 s, exit 70",
    "xbee-fs 4 GiB sparse": "12.3 GB before refusing",
    "flood inspect": "10.1 GB, 437 s for 50 MB",
    "combine 30 copies": "3.5 GB, 164 s",
}


def _case(
    name: str, argv: list[str | Path], cwd: Path, *, expect: int = 0, size: int | None = None
) -> Figure:
    figure = Figure(SECTION, name, size_bytes=size)
    run = run_process([*tools.ota_action(), *map(str, argv)], cwd=cwd, env=tools.child_env())
    if run.returncode != expect:
        figure.status = FAILED
        figure.note = f"exit {run.returncode}: {summary_line(run.stderr or run.stdout)}"
    else:
        figure.note = summary_line(run.stderr) if expect else ""
    figure.runs_s.append(run.wall_s)
    figure.peak_rss_mib.append(run.peak_rss_mib)
    figure.extra["stdout_bytes"] = len(run.stdout.encode())
    return figure


ZBOTA = ["zbota", "-m", "0x1234", "-i", "1", "-v", "1"]


def _hex_file(path: Path, size: int) -> None:
    lines, upper = [], -1
    data = bytes(range(256)) * (size // 256 + 1)
    for address in range(0, size, 16):
        if address >> 16 != upper:
            upper = address >> 16
            body = bytes([2, 0, 0, 4, upper >> 8, upper & 0xFF])
            lines.append(":" + (body + bytes([-sum(body) & 0xFF])).hex().upper())
        chunk = data[address : address + 16]
        body = bytes([len(chunk), (address >> 8) & 0xFF, address & 0xFF, 0]) + chunk
        lines.append(":" + (body + bytes([-sum(body) & 0xFF])).hex().upper())
    lines.append(":00000001FF")
    path.write_text("\n".join(lines) + "\n")


def run(small: int, large: int, flood: int, log: Any) -> list[Figure]:
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="ota-bench-stream-") as tmp:
        work = Path(tmp)
        for mib in (small, large):
            size = mib * MIB
            log(f"zbota --integrity, NULL tag of {mib} MiB")
            figures.append(
                _case(
                    f"zbota --integrity NULL {mib} MiB",
                    [*ZBOTA, "-o", "n.ota", "-t", f"0x0000:{size}", "-ic"],
                    work,
                    size=size,
                )
            )
            payload = work / "payload.bin"
            with payload.open("wb") as f:
                block = bytes(range(256)) * 4096
                for _ in range(size // len(block)):
                    f.write(block)
            log(f"zbota --integrity, file of {mib} MiB")
            figures.append(
                _case(
                    f"zbota --integrity file {mib} MiB",
                    [*ZBOTA, "-o", "f.ota", "-t", "0x0000:payload.bin", "-ic"],
                    work,
                    size=size,
                )
            )
            for command in ("inspect", "verify"):
                log(f"{command} of {mib} MiB")
                figures.append(_case(f"{command} {mib} MiB", [command, "f.ota"], work, size=size))
            payload.unlink()
        log("refusals")
        figures.append(
            _case("zbota 4 GiB NULL tag", [*ZBOTA, "-o", "r.ota", "-t", "0x0000:4294967295"], work, expect=2)
        )
        figures.append(
            _case(
                "zbota --integrity past 2^29",
                [*ZBOTA, "-o", "r.ota", "-t", "0xF000:3000000000", "-ic"],
                work,
                expect=2,
            )
        )
        sparse = work / "xbfs.bin"
        with sparse.open("wb") as f:
            f.truncate(4 << 30)
        figures.append(
            _case(
                "xbee-fs 4 GiB sparse",
                ["xbee-fs", "xbfs.bin", "-o", "fs.fsota", "-v", "0x100D"],
                work,
                expect=2,
            )
        )
        sparse.unlink()
        log(f"flood of {flood} empty sub-elements")
        body = struct.pack("<HI", 0xF001, 0) * flood
        header = bytearray(56)
        struct.pack_into("<IHHHHHIH", header, 0, 0x0BEEF11E, 0x0100, 56, 0, 1, 1, 1, 2)
        struct.pack_into("<I", header, 52, 56 + len(body))
        (work / "flood.ota").write_bytes(bytes(header) + body)
        del body
        figures.append(_case("flood inspect", ["inspect", "flood.ota"], work, size=56 + 6 * flood))
        figures.append(
            _case(
                # valid: a repeated manufacturer tag is a warning (issue 13), however often
                "flood verify --json",
                ["verify", "flood.ota", "--json"],
                work,
                expect=0,
                size=56 + 6 * flood,
            )
        )
        log("combine of 30 copies of a 150 KB .hex")
        _hex_file(work / "a.hex", 56 * 1024)
        figures.append(
            _case(
                "combine 30 copies",
                ["combine", *["a.hex"] * 30, "-o", "out.hex"],
                work,
                size=(work / "a.hex").stat().st_size,
            )
        )
    figures += aes_throughput(4 * MIB, log)
    return figures


def aes_throughput(size: int, log: Any) -> list[Figure]:
    from ota_action.formats.zigbee import aes
    from ota_action.formats.zigbee.integrity import MmoHasher

    data = bytes(range(256)) * (size // 256)
    out = []
    for name in aes.NAMES:
        try:
            backend = aes.get(name)
        except RuntimeError:
            continue
        log(f"AES-MMO {name}, {size // MIB} MiB in 1 MiB updates")
        figure = Figure(SECTION, f"AES-MMO MmoHasher {name}", size_bytes=size)
        start = time.perf_counter()
        hasher = MmoHasher(backend=backend)
        for i in range(0, size, MIB):
            hasher.update(data[i : i + MIB])
        hasher.digest()
        figure.runs_s.append(time.perf_counter() - start)
        out.append(figure)
    return out


def table(figures: list[Figure]) -> str:
    rows = [
        f"{'case':36} {'status':7} {'time s':>8} {'peak MiB':>9} {'MB/s':>7} {'stdout':>8}  before streaming"
    ]
    for f in figures:
        rate = f"{f.mb_per_s:.1f}" if f.mb_per_s is not None and f.size_bytes else ""
        rss = f"{f.max_rss_mib:.0f}" if f.max_rss_mib is not None else ""
        rows.append(
            f"{f.name:36} {f.status:7} {f.min_s or 0:8.2f} {rss:>9} {rate:>7} "
            f"{f.extra.get('stdout_bytes', ''):>8}  {TODAY.get(f.name, '')}"
        )
    by_name = {f.name: f for f in figures}
    for prefix in ("zbota --integrity NULL", "zbota --integrity file", "inspect", "verify"):
        pair = [f for n, f in by_name.items() if n.startswith(prefix + " ") and n.endswith("MiB")]
        if len(pair) == 2 and all(f.min_s for f in pair):
            small, large = sorted(pair, key=lambda f: f.size_bytes or 0)
            ratio = (large.min_s or 0) / (small.min_s or 1)
            scale = (large.size_bytes or 0) / (small.size_bytes or 1)
            rows.append(f"linearity {prefix}: {scale:.0f}× the bytes -> {ratio:.2f}× the time")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.streaming", description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=64, help="MiB (default 64)")
    parser.add_argument("--large", type=int, default=256, help="MiB (default 256)")
    parser.add_argument(
        "--flood", type=int, default=8_700_000, help="empty sub-elements (default 8.7M, 50 MB)"
    )
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    figures = run(args.small, args.large, args.flood, lambda m: print(f"... {m}", file=sys.stderr))
    print(table(figures))
    if args.out:
        args.out.write_text(json.dumps([f.as_json() for f in figures], indent=2) + "\n")
    return 0 if all(f.status != FAILED for f in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
