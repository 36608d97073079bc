"""Section ``gbl``: ``ota-action gbl --sign`` against Simplicity Commander's ``gbl3 create --sign``.

Both build a signed GBL3 file from the same application, as whole processes on the same
machine in one run (issue 24: ours within 4x Commander's time for 1 MiB).  Commander
needs Silicon Labs application properties in the image, so the application is a vector
table pointing at them followed by random data; it is given to Commander as S-record
(made by ``srec_cat``) and to ota-action as the raw binary with its address.  Commander
runs as its native binary (found where ``silabs-pycommander`` unpacks it), so its figure
holds no Python start-up.  Each output's signature is checked with ``pygbl``.
"""

from __future__ import annotations

import glob
import os
import shutil
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

from bench import tools
from bench.inputs import random_bytes
from bench.measure import UNAVAILABLE, Figure, measure_process

ADDRESS = 0x08006000
DEVICE = "EFR32MG21A010F1024IM32"
PROPERTIES_MAGIC = bytes.fromhex("13b779fac925ddb7adf3cfe0f1b614b8")


def commander_binary() -> str | None:
    """The native ``commander-cli`` silabs-pycommander unpacked (running its wrapper once if need be)."""
    pattern = os.path.expanduser("~/.cache/pycommander/*/commander-cli/commander-cli")
    found = sorted(glob.glob(pattern))
    if not found and (wrapper := shutil.which("pycommander-cli")):
        subprocess.run([wrapper, "--version"], capture_output=True, timeout=300, check=False)
        found = sorted(glob.glob(pattern))
    return found[-1] if found else None


def application(size: int) -> bytes:
    """``size`` bytes Commander accepts: vector table, application properties, random code."""
    image = bytearray(random_bytes(size, seed=24))
    struct.pack_into("<II", image, 0, 0x20010000, ADDRESS + 0x201)
    for word in range(2, 16):
        struct.pack_into("<I", image, 4 * word, ADDRESS + 0x201)
    struct.pack_into("<I", image, 13 * 4, ADDRESS + 0x100)
    properties = PROPERTIES_MAGIC + struct.pack("<III", 0x0201, 0, 0)
    properties += struct.pack("<III", 1, 1, 0) + bytes(16) + struct.pack("<II", 0, 0)
    image[0x100 : 0x100 + len(properties)] = properties
    return bytes(image)


def _signature_problem(path: Path, public_pem: bytes) -> str | None:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    from pygbl import GBL3Image

    if not path.is_file():
        return "no output file"
    key = load_pem_public_key(public_pem)
    image = GBL3Image.from_bytes(path.read_bytes())
    return None if image.verify_signature(key) else "the signature does not verify"  # type: ignore[arg-type]


def run(work: Path, size: int, repeats: int, log: Callable[[str], None]) -> list[Figure]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.derive_private_key(0x6B1, ec.SECP256R1())
    pem = work / "gbl-key.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    binary, s37 = work / "gbl-app.bin", work / "gbl-app.s37"
    binary.write_bytes(application(size))
    ours_out, theirs_out = work / "ours.gbl", work / "theirs.gbl"
    log(f"gbl --sign {size} bytes x{repeats}")
    ours = Figure("gbl", "ota-action gbl --sign", size_bytes=size)
    argv: list[str | Path] = [
        *tools.ota_action(),
        "gbl",
        "-o",
        ours_out,
        binary,
        "--address",
        hex(ADDRESS),
        "--sign",
        "--key-file",
        pem,
    ]
    figures = [
        measure_process(
            ours, argv, repeats, env=tools.child_env(), check=lambda: _signature_problem(ours_out, public)
        )
    ]
    theirs = Figure("gbl", "commander gbl3 create --sign", size_bytes=size)
    native, srec = commander_binary(), tools.srec_cat()
    if native is None or srec is None:
        theirs.status = UNAVAILABLE
        theirs.note = "Simplicity Commander (silabs-pycommander) or srec_cat is not installed"
        return [*figures, theirs]
    subprocess.run(
        [
            srec,
            str(binary),
            "-binary",
            "-offset",
            hex(ADDRESS),
            "-o",
            str(s37),
            "-motorola",
            "-address-length=4",
        ],
        check=True,
        timeout=120,
    )
    log(f"commander gbl3 create --sign {size} bytes x{repeats}")
    command: list[str | Path] = [
        native,
        "gbl3",
        "create",
        theirs_out,
        "--app",
        s37,
        "--sign",
        pem,
        "-d",
        DEVICE,
    ]
    figures.append(
        measure_process(
            theirs,
            command,
            repeats,
            env=tools.child_env(),
            check=lambda: _signature_problem(theirs_out, public),
        )
    )
    return figures
