"""Settings of the XBee3 commands: ``xbee-fs`` and ``keygen``.

The key-source options are :class:`~ota_action.settings.signing.SigningSettings`'s,
shared with every command that signs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator

from ota_action.formats.xbee import DIGI_MANUFACTURER, FS_IMAGE_TYPE, parse_fs_version
from ota_action.settings import U16, Cli, CommandSettings, HeaderString, option
from ota_action.settings.signing import SigningSettings

FsVersion = Annotated[int, BeforeValidator(lambda v: v if v is None else parse_fs_version(v))]


class XbeeFsSettings(SigningSettings):
    """Build a signed Digi XBee3 file-system OTA file from xbfs.bin (ATFS GET /sys/xbfs.bin).

    The P-256 signing key comes from an environment variable (a CI secret: PEM, PEM with
    literal \\n, or one line of base64 of PEM or DER), from --key-file, from a PKCS#11
    token (--key-uri) or from a signer command (--sign-command); never from the command line.
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
    allow_short_signature: bool = option(
        "write the file even if no form of the signature is 70-72 bytes (about 1 key+image in 65,000)",
        False,
    )


class KeygenSettings(CommandSettings):
    """Create a P-256 key pair for XBee3 file-system or GBL signing.

    On disk: prints the public key, the device's ATFK command, the Silicon Labs token lines
    (MFG_SIGNED_BOOTLOADER_KEY_X/_Y) and, on purpose, the private
    key as one line of base64 to paste into a CI secret: run it on a trusted machine, not
    in a CI log.  In a PKCS#11 token (--key-uri): the private key never leaves the token;
    only the public key, the ATFK line and the token lines are printed.
    """

    private_out: Path | None = option(
        "private key file to create (PKCS#8 PEM, mode 0600; never overwritten); or give --key-uri",
        None,
        Cli(metavar="PATH"),
    )
    public_out: Path | None = option(
        "public key file to create (PEM; never overwritten)", None, Cli(metavar="PATH")
    )
    signing_key_uri: str | None = option(
        "create the key inside a PKCS#11 token instead (RFC 7512 URI naming token and object, "
        "e.g. 'pkcs11:token=ci;object=xbee'; the PIN comes from OTA_PKCS11_PIN); the private "
        "key never leaves the token",
        None,
        Cli(name="--key-uri", metavar="URI", env="OTA_SIGNING_KEY_URI"),
    )
    pkcs11_module: str | None = option(
        "the PKCS#11 module (.so/.dylib/.dll) when the URI has no module-path", None, Cli(metavar="PATH")
    )
