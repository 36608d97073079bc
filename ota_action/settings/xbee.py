"""Settings of the XBee3 commands: ``xbee-fs`` and ``keygen``.

The signing key and its passphrase are deliberately *not* fields: a field is a
command-line option, and a key on the command line shows in the process list.  The
fields only name where the key is (an environment variable, or a file).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator

from ota_action.formats.xbee import DIGI_MANUFACTURER, FS_IMAGE_TYPE, parse_fs_version
from ota_action.settings import U16, Cli, CommandSettings, HeaderString, option

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _env_name(value: Any) -> Any:
    if isinstance(value, str) and not _ENV_NAME.fullmatch(value.strip()):
        raise ValueError("must be the NAME of an environment variable (letters, digits, _), not its value")
    return value.strip() if isinstance(value, str) else value


EnvName = Annotated[str, BeforeValidator(_env_name)]
FsVersion = Annotated[int, BeforeValidator(lambda v: v if v is None else parse_fs_version(v))]


class XbeeFsSettings(CommandSettings):
    """Build a signed Digi XBee3 file-system OTA file from xbfs.bin (ATFS GET /sys/xbfs.bin).

    The P-256 signing key comes from an environment variable (a CI secret: PEM, PEM with
    literal \\n, or one line of base64 of PEM or DER) or from --key-file; never from the
    command line.
    """

    image: Path = option(
        "file-system image xbfs.bin, as downloaded from the staging device",
        cli=Cli(positional=True, metavar="IMAGE"),
    )
    outfile: Path = option("output OTA file, e.g. fs.fsota (its directory is created)", cli=Cli(("-o",)))
    version: FsVersion = option(
        "file version: the staging device's VR (hex as ATVR prints it, e.g. 100D), VR with "
        "compatibility byte (100D:1 or VR=100D,C=1), 0x-hex of all 32 bits, or dotted a.b.c.d",
        cli=Cli(("-v",)),
    )
    mfg_id: U16 = option("manufacturer code", DIGI_MANUFACTURER, Cli(("-m",)))
    image_type: U16 = option("image type (0x0100 = XBee file system)", FS_IMAGE_TYPE, Cli(("-i",)))
    string: HeaderString | None = option("header string, at most 32 ASCII characters, NUL-padded", None)
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

    allow_short_signature: bool = option(
        "write the file even if no form of the signature is 70-72 bytes (about 1 key+image in 65,000)",
        False,
    )


class KeygenSettings(CommandSettings):
    """Create a P-256 key pair for XBee3 file-system signing.

    Prints the public key for the device's ATFK command and, on purpose, the private key
    as one line of base64 to paste into a CI secret: run it on a trusted machine, not in
    a CI log.
    """

    private_out: Path = option(
        "private key file to create (PKCS#8 PEM, mode 0600; never overwritten)", cli=Cli(metavar="PATH")
    )
    public_out: Path | None = option(
        "public key file to create (PEM; never overwritten)", None, Cli(metavar="PATH")
    )
