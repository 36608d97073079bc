"""The tests' SoftHSM2: the one token set of this test process (see :func:`shared_softhsm`).

Tokens and keys are made by SoftHSM2's and OpenSC's own tools (:mod:`bench.softhsm`).
"""

from __future__ import annotations

import os
from pathlib import Path

from bench.softhsm import MODULE, PIN, SO_PIN, SoftHsm, make_softhsm, uri

__all__ = [
    "MCUBOOT",
    "MCUBOOT_KEYS",
    "MODULE",
    "OTHER",
    "PIN",
    "SO_PIN",
    "TOKEN",
    "SoftHsm",
    "make_softhsm",
    "shared_softhsm",
    "uri",
]


_SHARED: list[SoftHsm] = []
TOKEN, OTHER = "ota-ci", "ota-other"
# MCUboot's other key types (tests/test_mcuboot_keys.py): label -> (pkcs11-tool key type, id)
MCUBOOT, MCUBOOT_KEYS = (
    "ota-mcuboot",
    {
        "Ed25519": ("EC:edwards25519", "11"),
        "RSA-2048": ("rsa:2048", "12"),
        "RSA-3072": ("rsa:3072", "13"),
    },
)


def shared_softhsm(root: Path) -> SoftHsm:
    """The one SoftHSM2 of this test process (python-pkcs11 initialises a module once, so
    ``SOFTHSM2_CONF`` must not change after the first load): tokens ``ota-ci`` (keys
    ``xbee`` id 01 and ``second`` id 02), ``ota-other`` (key ``xbee``, another key) and
    ``ota-mcuboot`` (an Ed25519, an RSA-2048 and an RSA-3072 key, labelled so)."""
    if not _SHARED:
        made = make_softhsm(root)
        os.environ["SOFTHSM2_CONF"] = str(made.conf)  # for the whole process
        made.init_token(TOKEN)
        made.init_token(OTHER)
        made.generate_key(TOKEN, "xbee", "01")
        made.generate_key(TOKEN, "second", "02")
        made.generate_key(OTHER, "xbee", "01")
        # Every token exists before the first load: SoftHSM2 reads its tokens once, at
        # C_Initialize, and python-pkcs11 initialises a module once per process.
        made.init_token(MCUBOOT)
        for label, (key_type, key_id) in MCUBOOT_KEYS.items():
            made.generate_key(MCUBOOT, label, key_id, key_type=key_type)
        _SHARED.append(made)
    return _SHARED[0]
