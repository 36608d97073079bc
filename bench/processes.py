"""Sections 2-4: ota-action as a user runs it — whole processes, start-up included.

* start-up: ``ota-action --version`` against ``python -c pass`` (same interpreter);
* ``zbota --integrity`` on a 1 MiB image;
* ``combine`` on the bootloader + app + config set, against intelhex's ``hexmerge.py``
  and ``srec_cat``, with wall time and peak RSS of each;
* ``xbee-fs`` on a 1 MiB image, and the share of it that is signing, measured in-process
  with the same deterministic ECDSA P-256/SHA-256 over the padded image.

``combine`` and ``xbee-fs`` may not exist in this build yet: ota-action then says
"unknown command" (exit 2) and the figure is recorded as unavailable, not as a crash.
Every successful run's output is checked, so a fast wrong answer cannot pass as a figure.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import tools
from bench.inputs import HexPart, combine_set, random_bytes
from bench.measure import OK, UNAVAILABLE, Figure, measure_process, time_call

XBEE_BLOCK = 2048


IMPORT_BREAKDOWN = (
    "pydantic",
    "pydantic_settings",
    "cryptography.hazmat.primitives.ciphers",
    "ota_action.commands.zbota",
)


def xbee_checker(image: bytes, out: Path, public_der: Callable[[], bytes]) -> Callable[[], str | None]:
    """A check of an xbee-fs output: it holds the padded image, then a signature of it
    that ``public_der``'s key verifies (every xbee-fs figure is checked so)."""

    def check() -> str | None:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        if not out.is_file():
            return "no output file"
        padded = image + b"\xff" * (-len(image) % XBEE_BLOCK)
        data = out.read_bytes()
        where = data.find(padded)
        if where < 0:
            return "output does not contain the padded image"
        key = serialization.load_der_public_key(public_der())
        if not isinstance(key, ec.EllipticCurvePublicKey):
            return "not an EC key"
        try:
            key.verify(data[where + len(padded) :], padded, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return "the signature after the padded image does not verify"
        return None

    return check


def startup(repeats: int, log: Callable[[str], None], *, breakdown: bool = True) -> list[Figure]:
    """Bare interpreter vs ``ota-action --version``, and (``breakdown``) what zbota's imports cost.

    The import figures explain the start-up share of a command: each is a fresh
    ``python -c "import X"`` to compare with ``python -c pass``.
    """
    log(f"start-up x{repeats}")
    env = tools.child_env()
    bare = measure_process(
        Figure("startup", "python -c pass"), [sys.executable, "-c", "pass"], repeats, env=env
    )
    ours = measure_process(
        Figure("startup", "ota-action --version"), [*tools.ota_action(), "--version"], repeats, env=env
    )
    if bare.min_s is not None and ours.min_s is not None:
        ours.extra["over_python_ms_min"] = round((ours.min_s - bare.min_s) * 1000, 1)
        ours.extra["over_python_ms_median"] = round(((ours.median_s or 0) - (bare.median_s or 0)) * 1000, 1)
    figures = [bare, ours]
    for module in IMPORT_BREAKDOWN if breakdown else ():
        log(f"import {module} x{repeats}")
        figure = Figure("startup", f"import {module}")
        measure_process(figure, [sys.executable, "-c", f"import {module}"], repeats, env=env)
        if bare.min_s is not None and figure.min_s is not None:
            figure.extra["over_python_ms_min"] = round((figure.min_s - bare.min_s) * 1000, 1)
        figures.append(figure)
    return figures


def _integrity_problem(path: Path) -> str | None:
    """Check the file's trailing 0x0003 element against our own AES-MMO of the bytes before it."""
    from ota_action.formats.zigbee.integrity import aes_mmo

    if not path.is_file():
        return "no output file"
    data = path.read_bytes()
    element = data[-22:]
    if element[:6] != b"\x03\x00\x10\x00\x00\x00":
        return "output does not end with a 16-byte 0x0003 element"
    if aes_mmo(data[:-22]) != element[6:]:
        return "integrity code in the output is wrong"
    return None


def zbota(work: Path, size: int, repeats: int, log: Callable[[str], None]) -> list[Figure]:
    image = work / "zbota-app.bin"
    image.write_bytes(random_bytes(size, seed=21))
    out = work / "zbota.ota"
    argv: list[str | Path] = [
        *tools.ota_action(),
        "zbota",
        "-o",
        out,
        "-m",
        "0x1234",
        "-i",
        "0x0001",
        "-v",
        "1.0.0.0",
        "-t",
        f"0x0000:{image}",
        "--integrity",
    ]
    log(f"zbota --integrity {size} bytes x{repeats}")
    figure = Figure("zbota", "ota-action zbota --integrity", size_bytes=size)
    figures = [
        measure_process(figure, argv, repeats, env=tools.child_env(), check=lambda: _integrity_problem(out))
    ]
    argv.remove("--integrity")
    log(f"zbota (no integrity) {size} bytes x{repeats}")
    plain = Figure("zbota", "ota-action zbota (no --integrity)", size_bytes=size)
    figures.append(
        measure_process(
            plain, argv, repeats, env=tools.child_env(), check=lambda: None if out.is_file() else "no output"
        )
    )
    return figures


def combine(
    work: Path, sizes: tuple[int, int, int], repeats: int, log: Callable[[str], None]
) -> list[Figure]:
    from bench.inputs import merged_matches

    parts = combine_set(*sizes)
    paths = [part.write(work) for part in parts]
    label = "+".join(_human(s) for s in sizes)
    hex_bytes = sum(p.stat().st_size for p in paths)
    candidates: list[tuple[str, list[str | Path] | None, Path, str]] = []
    out = work / "merged-ours.hex"
    ours: list[str | Path] = [*tools.ota_action(), "combine", *paths, "--outfile", out]
    candidates.append(("ota-action combine", ours, out, ""))
    out = work / "merged-hexmerge.hex"
    script = tools.hexmerge()
    hexmerge: list[str | Path] | None = None if script is None else [*script, "-o", out, *paths]
    candidates.append(("intelhex hexmerge.py", hexmerge, out, "hexmerge.py not found"))
    out = work / "merged-srec.hex"
    srec = tools.srec_cat()
    srec_argv: list[str | Path] | None = None
    if srec is not None:
        srec_argv = [srec]
        for path in paths:
            srec_argv += [path, "-intel"]
        srec_argv += ["-o", out, "-intel", "-Output_Block_Size=16"]
    candidates.append(("srec_cat", srec_argv, out, "srec_cat not installed (Debian package srecord)"))

    figures = []
    for name, argv, out, missing in candidates:
        figure = Figure(
            "combine", name, size_bytes=sum(sizes), extra={"inputs": label, "hex_bytes": hex_bytes}
        )
        figures.append(figure)
        if argv is None:
            figure.status = UNAVAILABLE
            figure.note = missing
            continue
        log(f"combine {name} {label} x{repeats}")

        def check(out: Path = out, parts: list[HexPart] = parts) -> str | None:
            if not out.is_file():
                return "no output file"
            return merged_matches(out.read_text(), parts)

        measure_process(figure, argv, repeats, env=tools.child_env(), check=check)
        if figure.status == OK:
            figure.extra["output_matches_inputs"] = True
    return figures


BENCH_KEY_SCALAR = 0x2B7E151628AED2A6ABF7158809CF4F3C762E7160F38B4DA56A784D9045190CFE


def _sign_padded(image: bytes, key: Any) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    padded = image + b"\xff" * (-len(image) % XBEE_BLOCK)
    return bytes(key.sign(padded, ec.ECDSA(hashes.SHA256(), deterministic_signing=True)))


def xbee_fs(work: Path, size: int, repeats: int, log: Callable[[str], None]) -> list[Figure]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    # A fixed key: with RFC 6979 the signatures (and so their DER length) are the same on
    # every run, so the figures and the smoke test never depend on a random key.
    key = ec.derive_private_key(BENCH_KEY_SCALAR, ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    image_data = random_bytes(size, seed=31)
    image = work / "xbfs.bin"
    image.write_bytes(image_data)
    out = work / "xbfs.ota"
    env = tools.child_env(OTA_SIGNING_KEY=pem)
    argv: list[str | Path] = [*tools.ota_action(), "xbee-fs", image, "--outfile", out, "--version", "0x1234"]

    check = xbee_checker(
        image_data,
        out,
        lambda: key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    )

    log(f"xbee-fs {size} bytes x{repeats}")
    whole = measure_process(
        Figure("xbee_fs", "ota-action xbee-fs", size_bytes=size), argv, repeats, env=env, check=check
    )

    # Signing alone: many signatures per timed run so the figure is well above timer noise.
    per_run = 20
    log(f"sign {size} bytes x{repeats * per_run}")
    runs, signature = time_call(lambda: [_sign_padded(image_data, key) for _ in range(per_run)][-1], repeats)
    sign = Figure(
        "xbee_fs",
        "ECDSA P-256/SHA-256 sign (in-process)",
        runs_s=[t / per_run for t in runs],
        size_bytes=size,
        extra={"signature_bytes": len(signature), "implementation": "cryptography, deterministic (RFC 6979)"},
    )
    if whole.status == OK and whole.min_s and sign.min_s:
        # Unrounded: on a loaded machine the share can be far below 0.0001, and a figure
        # rounded to 0.0 would claim signing costs nothing. The report rounds for display.
        whole.extra["signing_share"] = sign.min_s / whole.min_s
        sign.extra["share_of_xbee_fs"] = sign.min_s / whole.min_s
    return [whole, sign]


def _human(size: int) -> str:
    for unit, factor in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} B"
