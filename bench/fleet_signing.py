"""``python -m bench.fleet_signing``: a fleet signed in a PKCS#11 token, one login or one per image.

``build`` opens each key source once per build and shares it between its images
(:mod:`ota_action.commands.build_signing`).  This measures what that saves against the
other design, a login per image (``open_all`` called image by image, the sessions kept
open to the end, as they would be with a worker each): ``--images`` GBL images (60) of
``--payload`` bytes (256 KiB) signed in a SoftHSM2 token made by its own tools
(:mod:`bench.softhsm`), in one process, the two designs interleaved, the best and the
median of ``--repeats`` (7) wall times each.  Both designs' files are checked to be
signed by the token's key (the same bytes up to the random-nonce signature).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.softhsm import PIN, make_softhsm, uri


def _fleet(root: Path, images: int, payload: int) -> Path:
    (root / "app.bin").write_bytes(os.urandom(payload))
    lines = ["[defaults]", "manufacturer_code = 0x1049", "version = 1", "gbl = true", "sign = true"]
    lines += ["address = 0x08006000", f'key_uri = "{uri("bench", "fleet")}"']
    for i in range(images):
        lines += ["[[image]]", f'board = "B{i}"', 'payload = "app.bin"', f"image_type = {i + 1}"]
    manifest = root / "FLEET.toml"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fleet_signing", description=__doc__)
    parser.add_argument("--images", type=int, default=60)
    parser.add_argument("--payload", type=int, default=256 * 1024)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="ota-bench-fleet-signing-"))
    hsm = make_softhsm(root / "softhsm")
    os.environ["SOFTHSM2_CONF"] = str(hsm.conf)  # before python-pkcs11 loads the module
    hsm.init_token("bench")
    hsm.generate_key("bench", "fleet", "01")
    os.environ["OTA_PKCS11_PIN"] = PIN
    os.environ.pop("OTA_SIGNING_KEY", None)
    manifest = _fleet(root, args.images, args.payload)

    from ota_action.commands import build_signing
    from ota_action.doors.cli import main as cli
    from ota_action.signing import pkcs11

    shared = build_signing.open_all

    def per_image(jobs: Sequence[Any], keys: Any, stack: ExitStack) -> list[Any]:
        return [opened for job in jobs for opened in shared([job], keys, stack)]

    logins: list[int] = []
    real_open = pkcs11.open_signer

    def counting(*a: Any, **k: Any) -> pkcs11.Pkcs11Signer:
        logins.append(1)
        return real_open(*a, **k)

    pkcs11.open_signer = counting
    designs: dict[str, Callable[..., list[Any]]] = {"one login": shared, "a login per image": per_image}
    times: dict[str, list[float]] = {name: [] for name in designs}
    seen: dict[str, int] = {}
    for round_ in range(args.repeats + 1):  # the first round warms up (imports, module load)
        for name, design in designs.items():
            build_signing.open_all = design
            logins.clear()
            err = io.StringIO()
            started = time.perf_counter()
            code = cli(["build", str(manifest), "-o", str(root / name), "--quiet"], io.StringIO(), err)
            elapsed = time.perf_counter() - started
            if code != 0:
                raise SystemExit(f"{name}: {err.getvalue()}")
            seen[name] = len(logins)
            if round_:
                times[name].append(elapsed)
    build_signing.open_all = shared
    print(f"{args.images} GBL images of {args.payload} bytes, SoftHSM2, {args.repeats} interleaved rounds")
    for name, runs in times.items():
        best, median = min(runs) * 1000, statistics.median(runs) * 1000
        print(f"  {name:<20} best {best:7.1f} ms  median {median:7.1f} ms  logins {seen[name]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
