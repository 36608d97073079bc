"""Firmware readers, ours against bincopy (and pyelftools' own data reads), 1 MiB and 16 MiB.

``python -m bench.readers [DIR]`` makes each image with srec_cat, objcopy and ld, then
times each reader in a fresh process (the fastest of three runs) and takes that
process's peak RSS.  bincopy is not a dependency: install it beside the environment to
compare (``pip install bincopy``); without it only our figures are printed.  The numbers
behind the reader choices in ``docs/firmware-formats.md``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

SIZES = {"1 MiB": 1 << 20, "16 MiB": 16 << 20}
_CHILD = r"""
import json, resource, sys, time
reader, kind, path = sys.argv[1:4]
started = time.perf_counter()
if reader == "ours":
    from ota_action.formats.firmware.read import read_firmware
    with open(path, "rb") as f:
        size = read_firmware(f, name=path, field="files").size
else:
    import bincopy
    image = bincopy.BinFile()
    {"srec": image.add_srec_file, "hex": image.add_ihex_file, "elf": image.add_elf_file}[kind](path)
    size = len(image.as_binary())
seconds = time.perf_counter() - started
rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"s": seconds, "rss_mib": rss_mib, "size": size}))
"""


def make_images(work: Path, size: int) -> dict[str, Path]:
    binary = work / f"{size}.bin"
    binary.write_bytes(bytes((i * 7 + (i >> 9)) & 0xFF for i in range(size)))
    out = {"hex": work / f"{size}.hex", "srec": work / f"{size}.s37", "elf": work / f"{size}.elf"}
    run = [
        ["srec_cat", binary, "-binary", "-offset", "0x08000000", "-o", out["hex"], "-intel", "-obs=16"],
        ["srec_cat", binary, "-binary", "-offset", "0x08000000", "-o", out["srec"], "-motorola", "-obs=32"],
        ["objcopy", "-I", "binary", "-O", "elf32-i386", binary, work / f"{size}.o"],
    ]
    for argv in run:
        subprocess.run([str(a) for a in argv], check=True, timeout=300)
    script = work / "l.ld"
    script.write_text("SECTIONS { .data 0x20000000 : AT(0x08000000) { *(.data) } }\n")
    link = ["ld", "-m", "elf_i386", "-T", script, work / f"{size}.o", "-o", out["elf"]]
    subprocess.run([str(a) for a in link], check=True, timeout=300)
    return out


def measure(reader: str, kind: str, path: Path, repeats: int = 3) -> dict[str, float] | None:
    best: dict[str, float] | None = None
    for _ in range(repeats):
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, reader, kind, str(path)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            return None
        figure = json.loads(done.stdout)
        if best is None or figure["s"] < best["s"]:
            best = figure
    return best


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="ota-readers-") as tmp:
        rows = []
        for label, size in SIZES.items():
            images = make_images(Path(tmp), size)
            for kind, path in images.items():
                for reader in ("ours", "bincopy"):
                    figure = measure(reader, kind, path)
                    if figure is not None:
                        assert figure["size"] == size, (reader, kind, figure)
                        rows.append((label, kind, reader, figure["s"], figure["rss_mib"]))
        print(f"{'image':7} {'format':6} {'reader':8} {'parse s':>8} {'peak RSS MiB':>12}")
        for label, kind, reader, seconds, rss in rows:
            print(f"{label:7} {kind:6} {reader:8} {seconds:8.3f} {rss:12.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
