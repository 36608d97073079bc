"""``python -m bench.batch``: verify a whole folder in one process, beside zigpy and zigbee-herdsman.

The folder is, by default, the ``OTA_TEST_CORPUS`` folders' files copied round-robin
into a temporary folder until it holds ``--count`` files (1300), or synthetic OTA files
(a quarter with an integrity code) when the corpus is switched off.  Each tool parses
the whole folder in one process of its own:

- ``ota-action verify DIR --json`` (whole process, integrity codes, payload CRCs,
  containers, layouts and trailers included);
- zigpy: ``parse_ota_image`` and ``validate_ota_image`` (its GBL/EBL CRC check) on
  every file;
- zigbee-herdsman: its ``parseOtaImage`` on every file (a parse, no check), from the
  npm package unpacked into a temporary folder (``npm pack``; never into the repository),
  or from ``--herdsman PATH/TO/ota.js``.

It also times one file, whole process (``ota-action verify FILE``).  Times are wall
seconds, the best of ``--repeats``.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import report, tools

SUFFIXES = (".ota", ".zigbee", ".ota.signed", ".fw", ".sbl-ota", ".bin")

ZIGPY_SCRIPT = """
import sys, pathlib
from zigpy.ota.image import parse_ota_image
from zigpy.ota.validators import validate_ota_image
ok = failed = 0
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*")):
    if not path.is_file() or not path.name.lower().endswith({suffixes!r}):
        continue
    try:
        image, _rest = parse_ota_image(path.read_bytes())
        validate_ota_image(image)
        ok += 1
    except Exception:
        failed += 1
print(ok, failed)
"""

HERDSMAN_SCRIPT = """
const fs = require("node:fs"), path = require("node:path");
const ota = require(process.argv[2]);
const SUFFIXES = {suffixes};
function* walk(dir) {{
  const entries = fs.readdirSync(dir, {{ withFileTypes: true }});
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {{
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.isFile() && SUFFIXES.some((s) => e.name.toLowerCase().endsWith(s))) yield p;
  }}
}}
let ok = 0, failed = 0;
for (const file of walk(process.argv[3])) {{
  try {{ ota.parseOtaImage(fs.readFileSync(file)); ok++; }} catch (e) {{ failed++; }}
}}
console.log(ok, failed);
"""


def corpus_files() -> list[Path]:
    found: list[Path] = []
    for entry in os.environ.get("OTA_TEST_CORPUS", "").split(os.pathsep):
        if entry.strip() and Path(entry).is_dir():
            found += sorted(p for p in Path(entry).iterdir() if p.name.lower().endswith(SUFFIXES))
    return found


def synthetic(folder: Path, count: int) -> None:
    from ota_action.formats.zigbee import SubElement, build_image
    from ota_action.formats.zigbee.header import OtaHeader

    rng = random.Random(13)
    for i in range(count):
        header = OtaHeader.create(manufacturer_code=0x1000 + i % 50, image_type=i % 7, file_version=i)
        payload = rng.randbytes(rng.randrange(100_000, 300_000))
        data = build_image(header, [SubElement(0, payload)], integrity=i % 4 == 0)
        (folder / f"{i:04d}.ota").write_bytes(data)


def fill(folder: Path, count: int) -> str:
    sources = corpus_files()
    if not sources:
        synthetic(folder, count)
        return f"{count} synthetic files"
    for i in range(count):
        source = sources[i % len(sources)]
        shutil.copyfile(source, folder / f"{i:04d}-{source.name}")
    return f"{count} copies of {len(sources)} corpus files"


def herdsman(scratch: Path, given: str | None) -> Path | None:
    if given:
        return Path(given).resolve()
    npm = shutil.which("npm")
    if npm is None:
        return None
    done = subprocess.run(
        [npm, "pack", "--silent", "zigbee-herdsman"], cwd=scratch, capture_output=True, text=True, check=False
    )
    tarballs = sorted(scratch.glob("zigbee-herdsman-*.tgz"))
    if done.returncode != 0 or not tarballs:
        return None
    subprocess.run(["tar", "xzf", tarballs[-1].name], cwd=scratch, check=True)
    module = scratch / "package" / "dist" / "controller" / "helpers" / "ota.js"
    return module if module.is_file() else None


def best(command: list[str], repeats: int) -> tuple[float, str]:
    times, out = [], ""
    env = tools.child_env()
    subprocess.run(command, capture_output=True, env=env, check=False)  # warm-up (byte-compile, page cache)
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        times.append(time.perf_counter() - start)
        out = done.stdout
    return min(times), out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.batch", description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, help="folder to verify (default: generated)")
    parser.add_argument("--count", type=int, default=1300, help="files in the generated folder")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--herdsman", help="path to zigbee-herdsman's dist/controller/helpers/ota.js")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ota-bench-batch-") as tmp:
        scratch = Path(tmp)
        folder = args.folder
        if folder is None:
            folder = scratch / "files"
            folder.mkdir()
            what = fill(folder, args.count)
        else:
            what = str(folder)
        files = [p for p in folder.rglob("*") if p.is_file() and p.name.lower().endswith(SUFFIXES)]
        print(f"folder: {what}, {len(files)} files, {sum(p.stat().st_size for p in files) / 2**20:.1f} MiB")
        rows: list[tuple[str, float, str]] = []
        ours, out = best([*tools.ota_action(), "verify", str(folder), "--json"], args.repeats)
        rows.append(("ota-action verify DIR --json", ours, f"{len(out.splitlines())} JSON lines"))
        script = ZIGPY_SCRIPT.format(suffixes=SUFFIXES)
        seconds, out = best([sys.executable, "-c", script, str(folder)], args.repeats)
        rows.append(("zigpy parse + validate", seconds, f"parsed, failed: {out.strip()}"))
        module = herdsman(scratch, args.herdsman)
        node = shutil.which("node")
        if module is None or node is None:
            rows.append(("zigbee-herdsman parseOtaImage", float("nan"), "not available (npm pack failed)"))
        else:
            (scratch / "parse.js").write_text(HERDSMAN_SCRIPT.format(suffixes=list(SUFFIXES)))
            seconds, out = best([node, str(scratch / "parse.js"), str(module), str(folder)], args.repeats)
            rows.append(("zigbee-herdsman parseOtaImage", seconds, f"parsed, failed: {out.strip()}"))
        one = sorted(files, key=lambda p: p.stat().st_size)[len(files) // 2]
        seconds, _ = best([*tools.ota_action(), "verify", str(one), "--quiet"], max(args.repeats, 5))
        rows.append(("ota-action verify FILE (one file)", seconds, one.name))
        print(f"{'tool':36} {'best s':>8} {'peer time / ours':>18}  note")
        for name, seconds, note in rows:
            ratio = seconds / ours if ours and not math.isnan(seconds) else None
            words = "-" if name.startswith("ota-action") else report.ratio_words(ratio)
            print(f"{name:36} {seconds:8.3f} {words:>18}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
