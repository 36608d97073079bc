"""Section 5: one XBee file system signed by each key source, in one run.

``ota-action xbee-fs`` on the same 1 MiB image, as whole processes (start-up included),
with the key in memory (from ``OTA_SIGNING_KEY``), in a SoftHSM2 token (``--key-uri``)
and behind a signer command (``--sign-command``: openssl holding the key, as a KMS
stand-in).  The token and its key are made with SoftHSM2's and OpenSC's own tools; every
figure's output is checked with the source's public key, so a fast wrong answer cannot
pass.  Without SoftHSM2 or openssl a figure is recorded as unavailable.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from bench import tools
from bench.inputs import random_bytes
from bench.measure import UNAVAILABLE, Figure, measure_process
from bench.processes import xbee_checker
from bench.softhsm import MODULE, PIN, make_softhsm, uri

SECTION = "signing"


def run(work: Path, size: int, repeats: int, log: Callable[[str], None]) -> list[Figure]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (work / "key.pem").write_bytes(pem)
    (work / "public.der").write_bytes(public_der)
    image = random_bytes(size, seed=47)
    (work / "xbfs.bin").write_bytes(image)
    base: list[str | Path] = [*tools.ota_action(), "xbee-fs", work / "xbfs.bin", "--version", "0x100D"]
    figures = []

    def one(
        name: str, out: str, extra: list[str | Path], env: dict[str, str], public: Callable[[], bytes]
    ) -> None:
        log(f"xbee-fs {size} bytes, {name} x{repeats}")
        figure = Figure(SECTION, f"xbee-fs, {name}", size_bytes=size)
        target = work / out
        argv = [*base, "--outfile", target, *extra]
        figures.append(
            measure_process(figure, argv, repeats, env=env, check=xbee_checker(image, target, public))
        )

    one(
        "in-memory key", "memory.fsota", [], tools.child_env(OTA_SIGNING_KEY=pem.decode()), lambda: public_der
    )
    if shutil.which("openssl"):
        command = (
            "printf '%s\\n' \"$OTA_SIGN_DIGEST_BASE64\" | openssl base64 -d | "
            f"openssl pkeyutl -sign -inkey '{work / 'key.pem'}'"
        )
        extra: list[str | Path] = ["--sign-command", command, "--expect-public-key", work / "public.der"]
        one("sign-command (openssl)", "command.fsota", extra, tools.child_env(), lambda: public_der)
    else:
        figures.append(Figure(SECTION, "xbee-fs, sign-command (openssl)", UNAVAILABLE, note="no openssl"))
    if shutil.which("softhsm2-util") and shutil.which("pkcs11-tool") and Path(MODULE).is_file():
        hsm = make_softhsm(work / "softhsm")
        hsm.init_token("bench")
        hsm.generate_key("bench", "xbee", "01")
        env = tools.child_env(OTA_PKCS11_PIN=PIN, **hsm.env())
        one(
            "PKCS#11 (SoftHSM2)",
            "token.fsota",
            ["--key-uri", uri("bench", "xbee")],
            env,
            lambda: hsm.public_key_der("bench", "xbee"),
        )
    else:
        figures.append(
            Figure(SECTION, "xbee-fs, PKCS#11 (SoftHSM2)", UNAVAILABLE, note="no SoftHSM2 / OpenSC")
        )
    memory = figures[0]
    for figure in figures[1:]:
        if figure.min_s and memory.min_s:
            figure.extra["vs_in_memory_min"] = round(figure.min_s / memory.min_s, 3)
    return figures
