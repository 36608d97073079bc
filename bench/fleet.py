"""``python -m bench.fleet``: a fleet in one ``build`` beside one ``zbota`` process per image.

The fleet is ``--boards`` boards (100) x 3 variants (the image, a forced copy, a
from-stock copy under another manufacturer code and image type) = 300 images of
``--payload`` bytes (200 KiB) each, sharing manufacturer code and image type, and 4
indexes (router, forced, zigpy, stock).  Both runs do the same work and write the same
image bytes (checked):

- ``ota-action build FLEET.toml`` (one process, all cores);
- one ``ota-action zbota`` process per image, then one ``ota-action index`` per index
  (sequential, as a Makefile without ``-j`` runs them).

Times are wall seconds, the best of ``--repeats``; the machine is named in the output.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import subprocess
import tempfile
import time
from pathlib import Path

from bench import tools

INDEXES = (
    ("index_router.json", "z2m", "variant == ''"),
    ("index_forced.json", "z2m", "variant == 'forced'"),
    ("zha.json", "zigpy", "variant == ''"),
    ("index_stock.json", "z2m", "variant == 'from_tuya'"),
)


def _board(i: int) -> tuple[str, str, str]:
    return f"TS{i:04d}_B", f"TS{i % 10:04d}", f"_TZ3000_{i:08x}"


def write_fleet(folder: Path, boards: int, payload: int) -> Path:
    rng = random.Random(21)
    lines = [
        "[defaults]",
        "manufacturer_code = 0x1141",
        'string = "Telink OTA Image"',
        'name = "{board}/{manufacturer_code:04x}-{image_type:04x}-{file_version:08x}-{board}.zigbee"',
    ]
    for i in range(boards):
        board, model, vendor = _board(i)
        (folder / "build" / board).mkdir(parents=True)
        (folder / "build" / board / "app.bin").write_bytes(rng.randbytes(payload))
        lines += [
            "[[image]]", f'board = "{board}"', f'payload = "build/{board}/app.bin"', "image_type = 0xAA07",
            'version = "1.1.2.0"', f'manufacturer_names = ["{vendor}"]', f'model_id = "{model}"',
            'variants = [{ suffix = "-forced", version = 0xFFFFFFFF, index = "forced" }, '
            '{ suffix = "-from_tuya", manufacturer_code = 0x1002, image_type = 0xD3A3, '
            "version = 0xFFFFFFFE }]",
        ]  # fmt: skip
    for name, fmt, images in INDEXES:
        lines += ["[[index]]", f'name = "{name}"', f'format = "{fmt}"', f'images = "{images}"']
    (folder / "FLEET.toml").write_text("\n".join(lines) + "\n")
    return folder / "FLEET.toml"


def _jobs(folder: Path, boards: int, out: Path) -> tuple[list[list[str]], list[list[str]]]:
    """The zbota and index command lines doing the build's work one process each."""
    zbotas: list[list[str]] = []
    groups: dict[str, list[list[str]]] = {name: [] for name, _, _ in INDEXES}
    for i in range(boards):
        board, model, vendor = _board(i)
        payload = str(folder / "build" / board / "app.bin")
        for variant, mfr, kind, version, index in (
            ("", 0x1141, 0xAA07, 0x01010200, "index_router.json"),
            ("-forced", 0x1141, 0xAA07, 0xFFFFFFFF, "index_forced.json"),
            ("-from_tuya", 0x1002, 0xD3A3, 0xFFFFFFFE, "index_stock.json"),
        ):
            path = out / board / f"{mfr:04x}-{kind:04x}-{version:08x}-{board}{variant}.zigbee"
            zbotas.append([
                *tools.ota_action(), "zbota", "-m", hex(mfr), "-i", hex(kind), "-v", hex(version),
                "--string", "Telink OTA Image", "-t", f"0x0000:{payload}", "-o", str(path), "--quiet",
            ])  # fmt: skip
            names = [str(path), "--model-id", model, "--manufacturer-name", vendor]
            groups[index].append(names)
            if not variant:
                groups["zha.json"].append(names)
    indexes = []
    for name, fmt, _ in INDEXES:
        for given in groups[name]:  # one merge per file, as projects' scripts do
            indexes.append([
                *tools.ota_action(), "index", *given, "--format", fmt, "--merge", str(out / name),
                "-o", str(out / name), "--quiet",
            ])  # fmt: skip
    return zbotas, indexes


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*.zigbee") if p.is_file()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fleet", description=__doc__.splitlines()[0])
    parser.add_argument("--boards", type=int, default=100)
    parser.add_argument("--payload", type=int, default=200 * 1024)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    env = tools.child_env()
    with tempfile.TemporaryDirectory(prefix="ota-bench-fleet-") as tmp:
        folder = Path(tmp)
        manifest = write_fleet(folder, args.boards, args.payload)
        subprocess.run([*tools.ota_action(), "--version"], env=env, check=True, capture_output=True)
        best_build = best_each = float("inf")
        for attempt in range(args.repeats):
            out = folder / f"dist-build-{attempt}"
            started = time.perf_counter()
            subprocess.run([*tools.ota_action(), "build", str(manifest), "-o", str(out), "--quiet"],
                           env=env, check=True, stdout=subprocess.DEVNULL)  # fmt: skip
            best_build = min(best_build, time.perf_counter() - started)
            each = folder / f"dist-each-{attempt}"
            zbotas, indexes = _jobs(folder, args.boards, each)
            started = time.perf_counter()
            for command in zbotas + indexes:
                subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
            best_each = min(best_each, time.perf_counter() - started)
            if _digests(out) != _digests(each):
                print("the two runs wrote different images")
                return 1
        images = args.boards * 3
        what = f"{images} images of {args.payload} bytes, {len(INDEXES)} indexes"
        print(f"machine: {os.cpu_count()} cores; {what}")
        print(f"{'run':48} {'best s':>8}")
        print(f"{'ota-action build FLEET.toml (one process)':48} {best_build:8.2f}")
        label = f"{images} zbota + {len(indexes)} index processes"
        print(f"{label:48} {best_each:8.2f}  ({best_each / best_build:.1f}x the build)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
