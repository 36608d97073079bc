"""The key-source options every signing command shares (``xbee-fs`` today, GBL next).

One key source per run, each named the same in the CLI, the Action and ``docker run``
(the contract of issue 20):

=================  =========================  =====================  ======================
source             CLI                        environment            Action input
=================  =========================  =====================  ======================
secret / file      ``--key-env``/``--key-file``  ``OTA_SIGNING_KEY``  ``signing-key``/``key-file``
PKCS#11 token      ``--key-uri URI``          ``OTA_SIGNING_KEY_URI``  ``signing-key-uri``
token PIN          (never an option)          ``OTA_PKCS11_PIN``     ``signing-key-pin``
signer command     ``--sign-command CMD``     ``OTA_SIGN_COMMAND``   ``sign-command``
=================  =========================  =====================  ======================

Secrets (the key, its passphrase, the PIN) are deliberately *not* fields: a field is a
command-line option, and a value on the command line shows in the process list.  The
fields name where a key is (a variable, a file, a token) or how to ask for a signature.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar

from pydantic import BeforeValidator

from ota_action.options import rules
from ota_action.settings import Cli, CommandSettings, option

DEFAULT_SIGN_TIMEOUT = 60.0

EnvName = Annotated[str, BeforeValidator(rules.env_name)]


class SigningSettings(CommandSettings):
    """Base of the settings of a command that signs: where the key is, or who signs."""

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
    signing_key_uri: str | None = option(
        "sign with a key in a PKCS#11 token: an RFC 7512 URI, e.g. 'pkcs11:token=ci;object=xbee' "
        "(the PIN comes from OTA_PKCS11_PIN, never the URI)",
        None,
        Cli(name="--key-uri", metavar="URI", env="OTA_SIGNING_KEY_URI"),
    )
    pkcs11_module: str | None = option(
        "the PKCS#11 module (.so/.dylib/.dll) when the URI has no module-path",
        None,
        Cli(metavar="PATH"),
    )
    sign_command: str | None = option(
        "sign with an external command (a KMS CLI): it gets the SHA-256 digest as hex on stdin and "
        "in OTA_SIGN_DIGEST, and prints the signature (DER, raw r||s, hex or base64); needs "
        "--expect-public-key",
        None,
        Cli(metavar="CMD"),
    )
    sign_timeout: float = option(
        "seconds the sign command may take before it is stopped",
        DEFAULT_SIGN_TIMEOUT,
        Cli(metavar="SECONDS"),
        gt=0,
        le=3600,
    )
    expect_public_key: str | None = option(
        "the public key the signature must verify with (PEM or DER file, or the 130 hex digits of "
        "ATFK): a key source holding another key is an error before anything is written",
        None,
        Cli(metavar="PEM|FK"),
    )
    # Not secrets, but where a secret pasted by mistake would land: never echo their values.
    secret_fields: ClassVar[frozenset[str]] = frozenset(
        {"key_env", "key_file", "passphrase_env", "sign_command", "signing_key_uri"}
    )
