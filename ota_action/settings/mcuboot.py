"""Settings of ``mcuboot``: an application binary in, an MCUboot image out (imgtool's format).

As for ``gbl`` and ``xbee-fs``, keys are never fields: ``--key-env``/``--key-file`` only
name where the key is (ECDSA P-256, Ed25519 or RSA-2048/3072: its own type decides).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator

from ota_action.formats.mcuboot.image import HEADER_SIZE
from ota_action.settings import U32, Cli, HexDigits, option
from ota_action.settings.signing import SigningSettings
from ota_action.values import parse_int


def _image_version(value: Any) -> Any:
    """``major.minor.revision+build`` as imgtool takes it (parts may be left out)."""
    text = str(value).strip()
    core, _, build = text.partition("+")
    parts = core.split(".")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() and p.isascii() for p in parts):
        raise ValueError("must be major.minor.revision+build, e.g. 1.2.3+4")
    if build and not (build.isdigit() and build.isascii()):
        raise ValueError("has a build number that is not a decimal number")
    limits = (255, 255, 65535)
    numbers = [int(p) for p in parts] + [0] * (3 - len(parts))
    if any(n > m for n, m in zip(numbers, limits, strict=True)) or (build and int(build) > 0xFFFFFFFF):
        raise ValueError("has a part out of range (major, minor <= 255, revision <= 65535, build < 2^32)")
    return f"{numbers[0]}.{numbers[1]}.{numbers[2]}+{int(build or 0)}"


def _header_size(value: Any) -> Any:
    number = value if isinstance(value, int) else parse_int(value, bits=16)
    if number < HEADER_SIZE:
        raise ValueError(f"must be at least {HEADER_SIZE}, the size of MCUboot's image header")
    return number


def _flash_align(value: Any) -> Any:
    text = str(value).strip()
    if text not in ("1", "2", "4", "8", "16", "32"):
        raise ValueError("must be 1, 2, 4, 8, 16 or 32")
    return int(text)


class McubootSettings(SigningSettings):
    """Make an MCUboot image from an application binary (the NCS flow): header, hash and,
    with --sign, a signature of the key's own type (ECDSA P-256, Ed25519, RSA-2048/3072), with
    imgtool's own code.  Wrap the result with zbota -t 0x0000:IMAGE for a Zigbee OTA file.
    """

    image: Path = option(
        "application binary, linked for the slot (its first --header-size bytes zero, or --pad-header)",
        cli=Cli(positional=True, metavar="INPUT"),
    )
    outfile: Path = option("output image, e.g. app.signed.bin (its directory is created)", cli=Cli(("-o",)))
    sign: bool = option(
        "sign with the key source (OTA_SIGNING_KEY, --key-env, --key-file, --key-uri or "
        "--sign-command); the key's own type decides: ECDSA P-256, Ed25519, RSA-2048 or RSA-3072",
        False,
    )
    image_version: Annotated[str, BeforeValidator(_image_version)] = option(
        "image version major.minor.revision+build, e.g. 1.2.3+4", "0.0.0+0", Cli(metavar="VERSION")
    )
    header_size: Annotated[int, BeforeValidator(_header_size), HexDigits(4)] = option(
        "MCUboot header size in bytes, at least 32 (NCS: 0x200)", 0x200, Cli(metavar="BYTES")
    )
    pad_header: bool = option(
        "prepend --header-size zero bytes instead of expecting them in the input", False
    )
    security_counter: U32 | None = option("security counter (a protected TLV)", None)
    flash_align: Annotated[int, BeforeValidator(_flash_align)] = option(
        "flash write alignment: 1, 2, 4, 8, 16 or 32", 4, Cli(metavar="BYTES")
    )
    slot_size: U32 = option("slot size; with --pad, the image is padded to it with the trailer", 0)
    pad: bool = option("pad to --slot-size and write the trailer's magic (a full slot image)", False)
    confirm: bool = option("with --pad, mark the image confirmed (image_ok)", False)
