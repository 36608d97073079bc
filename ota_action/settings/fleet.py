"""Settings of the commands that manage files already built: ``index``, ``extract``, ``rewrap``.

Field names are shared with ``zbota`` where the meaning is the same (``version``,
``mfg_id``, ``string``...), so each is one Action input and one ``OTA_*`` variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator
from pydantic_settings import NoDecode

from ota_action.options import index_rules as ir
from ota_action.settings import (
    U8,
    U16,
    Cli,
    CommandSettings,
    Eui64,
    FileVersion,
    HeaderString,
    lines_of,
    option,
)
from ota_action.settings.zigbee import HeaderStringHex, Variant

Paths = Annotated[list[Path], NoDecode, BeforeValidator(lines_of)]
Line = Annotated[str, BeforeValidator(ir.line_text)]


class IndexSettings(CommandSettings):
    """Write the Zigbee2MQTT (zigbee-OTA index.json) or zigpy index entries for OTA files, or the
    Distributed Compliance Ledger documents of Matter OTA images (--format dcl)."""

    files: Paths = option(
        "OTA files to index: files, globs, or directories searched recursively for *.ota, "
        "*.zigbee, *.ota.signed, *.fw, *.sbl-ota, *.bin (none only with --check --merge)",
        [],
        Cli(positional=True, metavar="FILE|DIR"),
    )
    outfile: Path | None = option(
        "index file to write (atomically); may be the --merge index itself", None, Cli(("-o",))
    )
    format: Annotated[
        Literal["z2m", "zigpy", "zigpy-ota", "dcl"] | None, BeforeValidator(ir.index_format)
    ] = option(
        "index format: z2m (zigbee-OTA index.json), zigpy ({firmwares: [...]}), zigpy-ota "
        "(-o is a folder: each file copied as MMMM-TTTT-VVVVVVVV_<sha3>.ota with its .yaml) "
        "or dcl (Matter images: a JSON list of Distributed Compliance Ledger model-version documents); "
        "default: the --merge index's, else z2m",
        None,
    )
    url_base: Annotated[str | None, BeforeValidator(ir.url_base)] = option(
        "URL the files are published under; without it entries give the file's path "
        "relative to the index file",
        None,
        Cli(metavar="URL"),
    )
    root: Path | None = option(
        "folder the URLs keep the files' paths relative to (--url-base + path below it); "
        "default: each folder given (a file's own folder)",
        None,
        Cli(metavar="DIR"),
    )
    merge: Path | None = option(
        "existing index to add the entries to: the entry for the same devices (manufacturer, "
        "image type, model, manufacturer names, hardware and version ranges) is replaced by a "
        "newer file, others are kept in order; created when it is also -o and does not exist",
        None,
        Cli(metavar="INDEX"),
    )
    check: bool = option(
        "write nothing: report what the entries would do to --merge, and check which file "
        "Zigbee2MQTT and ZHA offer every device the index names (cross-board offers and "
        "unreachable entries are errors)",
        False,
    )
    allow_downgrade: bool = option(
        "let an entry replace a newer version for the same devices",
        False,
    )
    model_id: Line | None = option("model id the entries apply to (z2m modelId, zigpy model_names)", None)
    manufacturer_names: Annotated[list[Line], NoDecode, BeforeValidator(lines_of)] = option(
        "manufacturer name the entries apply to (repeatable)",
        [],
        Cli(name="--manufacturer-name", metavar="NAME", repeat=True),
    )
    min_file_version: FileVersion | None = option(
        "offer the file only to devices running at least this version "
        "(z2m minFileVersion, zigpy min_current_file_version)",
        None,
    )
    max_file_version: FileVersion | None = option(
        "offer the file only to devices running at most this version "
        "(z2m maxFileVersion, zigpy max_current_file_version)",
        None,
    )
    release_notes: Annotated[str | None, BeforeValidator(ir.notes)] = option(
        "release notes for the entries (z2m releaseNotes, zigpy release_notes)", None, Cli(metavar="TEXT")
    )
    force_update: bool = option(
        "z2m only: offer the file even to devices that report this version already (force: true)", False
    )
    specificity: Annotated[int | None, BeforeValidator(ir.specificity)] = option(
        "zigpy only: precedence of these entries among images that match a device", None
    )


class ExtractSettings(CommandSettings):
    """Take an OTA file apart: each sub-element's data, and ota.json saying how zbota rebuilds it."""

    image: Path = option("OTA file to take apart", cli=Cli(positional=True, metavar="FILE"))
    directory: Path = option(
        "directory to write into (created); nothing is written outside it", cli=Cli(("-d",), metavar="DIR")
    )
    force: bool = option("overwrite files already in the directory", False)


class RewrapSettings(CommandSettings):
    """Change header values of an OTA file and keep every sub-element; the integrity code is recomputed."""

    image: Path = option("OTA file to read", cli=Cli(positional=True, metavar="IN"))
    outfile: Path = option("output OTA file (written atomically; may be IN)", cli=Cli(("-o",)))
    version: FileVersion | None = option("new file version: dotted a.b.c.d or an integer", None)
    string: HeaderString | None = option("new header string, at most 32 ASCII characters", None)
    string_hex: HeaderStringHex | None = option(
        "new header string as its raw bytes in hex (up to 64 digits); not with --string",
        None,
        Cli(metavar="HEX"),
    )
    mfg_id: U16 | None = option("new manufacturer code", None)
    image_type: U16 | None = option("new image type", None)
    min_hwv: U16 | None = option("new minimum hardware version 0xVVRR", None)
    max_hwv: U16 | None = option("new maximum hardware version 0xVVRR", None)
    credentials: U8 | None = option("new security credential version (1 byte)", None)
    dest_eui64: Eui64 | None = option("new upgrade file destination EUI64, 16 hex digits", None)
    stack_version: U16 | None = option("new Zigbee stack version", None)
    drop_signatures: bool = option(
        "remove Smart Energy signature and certificate elements (0x0001, 0x0002, 0x0005, 0x0006), "
        "which a new header invalidates",
        False,
    )
    integrity_variant: Variant | None = option(
        "variant of the recomputed integrity code; default: the input's", None, Cli(metavar="VARIANT")
    )
    public_key: Path | None = option(
        "check the XBee3 file-system signature (which covers only the image) with this P-256 public key",
        None,
        Cli(metavar="PEM"),
    )
