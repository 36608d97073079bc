"""The signing-key options the signing commands share: where the key is, never the key.

``gbl`` and ``mcuboot`` take them from here (``xbee-fs`` declares the same three fields
itself, with the same names and defaults, so the Action's ``signing-key`` input reaches
every command by the ``key_env`` field's default variable).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from ota_action.settings import Cli, CommandSettings, option
from ota_action.settings.xbee import EnvName


class SigningKeyOptions(CommandSettings):
    """Base of a command that signs with the project's key sources."""

    sign: bool = option("sign with the ECDSA P-256 key (OTA_SIGNING_KEY, --key-env or --key-file)", False)
    key_env: EnvName = option(
        "NAME of the environment variable holding the private key (PEM or one-line base64)",
        "OTA_SIGNING_KEY",
        Cli(metavar="NAME"),
    )
    key_file: Path | None = option(
        "private key file (PEM or DER, PKCS#8 or SEC1) instead of the environment variable",
        None,
        Cli(metavar="PATH"),
    )
    passphrase_env: EnvName = option(
        "NAME of the environment variable holding the key's passphrase, if it is encrypted",
        "OTA_SIGNING_KEY_PASSPHRASE",
        Cli(metavar="NAME"),
    )
    # Not secrets, but where a secret pasted by mistake would land: never echo their values.
    secret_fields: ClassVar[frozenset[str]] = frozenset({"key_env", "key_file", "passphrase_env"})
