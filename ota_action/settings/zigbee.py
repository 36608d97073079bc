"""Settings of the Zigbee OTA commands: ``zbota``, ``inspect`` and ``verify``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator
from pydantic_settings import NoDecode

from ota_action.formats.zigbee.integrity import IntegrityVariant
from ota_action.options import rules
from ota_action.options import zigbee_rules as zr
from ota_action.options.zigbee_rules import Prepare, VersionFrom
from ota_action.settings import (
    U8,
    U16,
    Cli,
    CommandSettings,
    Eui64,
    HeaderString,
    data_rule,
    lines_of,
    option,
)
from ota_action.settings.gbl import GblOptions
from ota_action.values import TagSpec
from ota_action.versions import VersionScheme

# Each path is validated by itself, so an error points at the offending item, not the list.
ImagePaths = Annotated[
    list[Annotated[Path, BeforeValidator(rules.image_path)]], NoDecode, BeforeValidator(rules.image_paths)
]


# Items are validated one by one so an error points at the offending --tag, not the list.
TagSpecs = Annotated[
    list[Annotated[TagSpec, BeforeValidator(zr.tag_spec)]], NoDecode, BeforeValidator(zr.lines)
]


# Kept here too for the commands that import them from their settings (rewrap, build).
VARIANT_DEVICES = zr.VARIANT_DEVICES
chosen_header_string = zr.chosen_header_string

HeaderStringHex = Annotated[bytes, BeforeValidator(zr.string_hex)]
Variant = Annotated[IntegrityVariant, BeforeValidator(zr.variant)]


class ZbotaSettings(GblOptions):
    """Build a Zigbee OTA upgrade file (ZigBee 095264r23). With --gbl the upgrade image
    (tag 0x0000) is first built into a Silicon Labs GBL3 file with gbl's options
    (--sign, --compress, --encrypt-key-env, --address, --app-version and the key sources)."""

    outfile: Path = option("output OTA file (its directory is created)", cli=Cli(("-o",)))
    mfg_id: U16 = option("manufacturer code, e.g. 0x1234", cli=Cli(("-m",)))
    image_type: U16 = option("image type, e.g. 0x0001", cli=Cli(("-i",)))
    version_scheme: Annotated[VersionScheme | None, BeforeValidator(zr.version_scheme)] = option(
        "how a release version such as 1.2.3 given to -v becomes the 32-bit file version: dotted "
        "(a byte per part, 1.2.3 is 0x01020300), ncs (nRF Connect SDK: major<<24|minor<<16|patch) "
        "or integer; integers are always taken as they are",
        None,
        Cli(metavar="SCHEME"),
    )
    version: Annotated[int | VersionFrom, BeforeValidator(zr.version)] = option(
        "file version: dotted a.b.c.d (each 0-255), an integer such as 0x01000001, a release "
        "version such as 1.2.3 with --version-scheme, or 'payload' to take it from the upgrade "
        "image (a Telink image's own version)",
        cli=Cli(("-v",)),
    )

    # A release version (1.2.3) is read by --version-scheme: a rule across two fields.
    _by_scheme = data_rule("version", zr.version_by_scheme)

    tags: TagSpecs = option(
        "sub-element TAG_ID:FILE_OR_LENGTH; an integer after the colon makes a NULL tag of "
        "that many fill bytes; a .hex file is converted to its binary image (repeatable)",
        cli=Cli(("-t",), name="--tag", metavar="TAG_ID:FILE_OR_LENGTH", repeat=True),
        min_length=1,
    )
    string: HeaderString | None = option("header string, at most 32 ASCII characters, NUL-padded", None)
    credentials: U8 | None = option("security credential version (1 byte)", None, Cli(("-c",)))
    dest_eui64: Eui64 | None = option(
        "upgrade file destination EUI64, 16 hex digits most significant first",
        None,
        Cli(("-d",)),
    )
    min_hwv: U16 | None = option("minimum hardware version 0xVVRR", None)
    max_hwv: U16 | None = option("maximum hardware version 0xVVRR", None)
    stack_version: U16 = option("Zigbee stack version (2 = Zigbee PRO)", 0x0002)
    integrity: bool = option("append the AES-MMO image integrity code (tag 0x0003)", False, Cli(("-ic",)))
    align: Annotated[int | None, BeforeValidator(zr.align)] = option(
        "insert a 0xFFFF padding element so the upgrade image data starts at a multiple of this many bytes",
        None,
    )
    fill: U8 = option("fill byte for NULL tags, padding and gaps in .hex input", 0xFF)
    allow_reserved_tag: bool = option("allow tag ids in the reserved range 0x0007-0xEFFF", False)
    string_hex: HeaderStringHex | None = option(
        "header string as its raw bytes in hex (up to 64 digits, NUL-padded to 32 bytes), for "
        "strings with bytes after the NUL or non-ASCII; not with --string",
        None,
        Cli(metavar="HEX"),
    )
    integrity_variant: Variant = option(
        "which bytes the integrity code covers: standard, covers-tag-header or "
        "short-padding-only (the last two only for devices that expect them)",
        IntegrityVariant.STANDARD,
        Cli(metavar="VARIANT"),
    )
    allow_duplicate_tag: bool = option(
        "allow a tag id more than once (some real files repeat 0x0000 or a manufacturer tag)", False
    )
    crc_trailer: bool = option("append Salus' CRC-32 trailer (zlib, little-endian) after the image", False)
    prepare: Annotated[Prepare | None, BeforeValidator(zr.prepare)] = option(
        "apply a vendor's OTA fix-ups to the upgrade image (tag 0x0000) first: telink (pad to 16 "
        "bytes, size at 0x18, magic 5D 02, CRC-32); an image already prepared is only checked",
        None,
        Cli(metavar="VENDOR"),
    )
    allow_nested_ota: bool = option(
        "allow an upgrade image that is itself a Zigbee OTA file (wrapped twice; refused otherwise)", False
    )
    gbl: bool = option(
        "build the upgrade image (tag 0x0000: .hex, .s37, ELF, or a raw binary with --address) into a "
        "GBL3 file first, as the gbl command does, and wrap that: .s37 to signed GBL to OTA in one run",
        False,
    )


class InspectSettings(CommandSettings):
    """Decode an OTA file and print every header field and sub-element; or, given several
    files, folders or globs, one line per file and a total."""

    image: ImagePaths = option(
        "OTA files to read: files, folders (searched recursively for *.ota, *.zigbee, "
        "*.ota.signed, *.fw, *.sbl-ota, *.bin) or globs",
        cli=Cli(positional=True, metavar="FILE"),
    )


class VerifySettings(CommandSettings):
    """Check an OTA file: sizes, sub-element walk, integrity code, vendor layouts, containers,
    trailers and payload CRCs (and signatures); or many at once, one line per file."""

    image: ImagePaths = option(
        "OTA files to check: files, folders (searched recursively for *.ota, *.zigbee, "
        "*.ota.signed, *.fw, *.sbl-ota, *.bin) or globs",
        cli=Cli(positional=True, metavar="FILE"),
    )
    public_key: Annotated[list[Path], NoDecode, BeforeValidator(lines_of)] = option(
        "check the signature with this P-256 public key (PEM, DER or FK hex): a GBL upgrade image's, "
        "else the XBee3 file system's; "
        "repeatable (one a line in the Action): the report names the key that verified it",
        [],
        Cli(name="--public-key", metavar="PEM", repeat=True),
    )
