"""Every object that holds key material shows none of it through repr, str or pickle.

The objects: :class:`Secret`, :class:`KeyMaterial`, ``LoadedKey``, each key source
(``MemorySigner``, ``CommandSigner``; ``Pkcs11Signer`` in tests/test_pkcs11.py), the
Action's ``TakenSecrets`` and ``KeygenResult``.  Pickling is refused outright (a pickle
is a file the value would be written to); ``repr``/``str`` are searched for every form
of the key (tests/xbee_keys.py), the passphrase and the PIN.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from ota_action.doors.action.secrets import take_secrets
from ota_action.results import KeygenResult
from ota_action.secret import KeyMaterial, Secret
from ota_action.signing import keys
from ota_action.signing.command import CommandSigner
from ota_action.signing.memory import MemorySigner
from tests.xbee_keys import PASSPHRASE, b64, new_key

KEY = new_key()
PIN = "pin-5309-secret"
FORMS = {**{k: v.decode("latin-1") for k, v in KEY.secrets().items()}, "pin": PIN}


def _holders() -> dict[str, object]:
    pem = KEY.pem().decode()
    key = Secret(pem, source="input signing-key")
    material = KeyMaterial(key=key, passphrase=Secret(PASSPHRASE, source="p"), pin=Secret(PIN, source="pin"))
    loaded = keys.load_private_key(KEY.pem(), keys.KeySource("k"), passphrase_source="p")
    command = Secret(f"sign --pin {PIN} --key {b64(KEY.der())}", source="sign-command")
    taken, _ = take_secrets({"INPUT_SIGNING-KEY": pem, "INPUT_SIGNING_KEY_PIN": PIN})
    return {
        "Secret": key,
        "KeyMaterial": material,
        "LoadedKey": loaded,
        "MemorySigner": MemorySigner(loaded.key, description="input signing-key"),
        "CommandSigner": CommandSigner(command, KEY.public, environ={"OTA_PKCS11_PIN": PIN}, timeout=5),
        "TakenSecrets": taken,
        "KeygenResult": KeygenResult(
            private_out=Path("k.pem"),
            public_out=None,
            fk=KEY.point().hex().upper(),
            public_key_fingerprint="f" * 64,
            public_key_pem=KEY.public_pem().decode(),
            private_key_base64=Secret(b64(KEY.pem()), source="k"),
        ),
    }


@pytest.mark.parametrize("name", sorted(_holders()))
def test_repr_str_and_pickle_show_no_key_material(name: str) -> None:
    holder = _holders()[name]
    for text in (repr(holder), str(holder), f"{holder}"):
        for form, value in FORMS.items():
            assert value not in text, f"{form} in {name}: {text[:80]}"
    with pytest.raises((TypeError, pickle.PicklingError)):
        pickle.dumps(holder)
