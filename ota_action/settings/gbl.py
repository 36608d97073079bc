"""Settings of ``gbl``: a firmware build in, a Silicon Labs GBL3 file out.

As for ``xbee-fs``, keys are deliberately not fields: a field is a command-line option,
and a key on the command line shows in the process list.  The fields only name where a
key is: the environment variable holding the AES key (``--encrypt-key-env``), and the
signing key's variable or file (``--key-env``, ``--key-file``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar

from pydantic import BeforeValidator

from ota_action.formats.gbl.build import Compression
from ota_action.options import rules
from ota_action.settings import U32, Cli, option
from ota_action.settings.signing import EnvName, SigningSettings


class GblOptions(SigningSettings):
    """The options that make a GBL3 file, shared by ``gbl`` and ``zbota --gbl`` (one copy of
    the names and rules, so the Action's inputs are the same words for both)."""

    sign: bool = option(
        "sign with the ECDSA P-256 key source (OTA_SIGNING_KEY, --key-env, --key-file, --key-uri or "
        "--sign-command)",
        False,
    )
    address: Annotated[int | None, BeforeValidator(rules.address)] = option(
        "flash address of a raw binary input, e.g. 0x08006000 (a .hex carries its own)",
        None,
        Cli(metavar="ADDR"),
    )
    app_version: U32 = option("application version in the application info tag", 0)
    compress: Annotated[Compression | None, BeforeValidator(rules.compression)] = option(
        "compress the program data: lzma or lz4", None, Cli(metavar="ALGORITHM")
    )
    encrypt_key_env: EnvName | None = option(
        "NAME of the environment variable holding the 16-byte AES key (32 hex digits) to encrypt with",
        None,
        Cli(metavar="NAME"),
    )
    secret_fields: ClassVar[frozenset[str]] = SigningSettings.secret_fields | {"encrypt_key_env"}

    def gbl_options_given(self) -> list[str]:
        """The GBL options set to other than their defaults (``zbota`` refuses them without
        ``--gbl``): :func:`ota_action.options.rules.gbl_options_given`."""
        return rules.gbl_options_given(self)


class GblSettings(GblOptions):
    """Build a Silicon Labs GBL3 upgrade image from a firmware build (.hex, or a raw binary
    with --address): application tags, optionally compressed, encrypted and signed.

    The AES key comes from the environment variable --encrypt-key-env names (32 hex
    digits); the P-256 signing key from OTA_SIGNING_KEY, --key-env or --key-file, as for
    xbee-fs; never from the command line.
    """

    image: Path = option(
        "firmware to program: Intel HEX (converted to its binary image), or a raw binary with --address",
        cli=Cli(positional=True, metavar="INPUT"),
    )
    outfile: Path = option("output GBL file, e.g. app.gbl (its directory is created)", cli=Cli(("-o",)))
