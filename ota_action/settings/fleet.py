"""Settings of the commands that manage files already built: ``index``, ``extract``, ``rewrap``.

Field names are shared with ``zbota`` where the meaning is the same (``version``,
``mfg_id``, ``string``...), so each is one Action input and one ``OTA_*`` variable.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator
from pydantic_settings import NoDecode

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
from ota_action.values import parse_int

FORMATS = ("z2m", "zigpy", "zigpy-ota", "dcl")


def _format(value: Any) -> Any:
    if value is None:
        return None
    text = str(value).strip().lower()
    if text not in FORMATS:
        raise ValueError("must be z2m, zigpy, zigpy-ota or dcl")
    return text


# What an index never carries from an option: C0 controls, DEL, C1 controls, bidi
# embeddings/overrides/isolates and marks (an RLO shows "moc.elpmaxe" as "example.com"),
# line/paragraph separators, the BOM, and surrogates (not text; UTF-8 cannot hold them).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)


def _url_base(value: Any) -> Any:
    if value is None:
        return None
    text = str(value).strip()
    if not text.startswith(("https://", "http://")) or any(c.isspace() for c in text) or _UNSAFE.search(text):
        raise ValueError(
            "must be an http(s) URL without spaces or control characters, e.g. https://example.com/ota"
        )
    return text


def _text(value: Any) -> Any:
    """One line of printable text (a model id, a manufacturer name) for an index hubs read."""
    if value is None:
        return None
    text = str(value)
    if not text or _UNSAFE.search(text) or len(text) > 256:
        raise ValueError("must be one line of printable text (no control characters), at most 256 characters")
    return text


def _notes(value: Any) -> Any:
    """Release notes: text of several lines (CRLF made LF), no other control characters."""
    if value is None:
        return None
    text = str(value).replace("\r\n", "\n").strip("\n")
    if not text or len(text) > 4096 or _UNSAFE.search(text.replace("\n", "").replace("\t", "")):
        raise ValueError("must be printable text (several lines allowed), at most 4096 characters")
    return text


def _specificity(value: Any) -> Any:
    if value is None:
        return None
    number = parse_int(value, bits=32)
    if number > 0x7FFFFFFF:
        raise ValueError("is out of range (0 to 2147483647)")
    return number


Paths = Annotated[list[Path], NoDecode, BeforeValidator(lines_of)]
Line = Annotated[str, BeforeValidator(_text)]


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
    format: Annotated[Literal["z2m", "zigpy", "zigpy-ota", "dcl"] | None, BeforeValidator(_format)] = option(
        "index format: z2m (zigbee-OTA index.json), zigpy ({firmwares: [...]}), zigpy-ota "
        "(-o is a folder: each file copied as MMMM-TTTT-VVVVVVVV_<sha3>.ota with its .yaml) "
        "or dcl (Matter images: a JSON list of Distributed Compliance Ledger model-version documents); "
        "default: the --merge index's, else z2m",
        None,
    )
    url_base: Annotated[str | None, BeforeValidator(_url_base)] = option(
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
    release_notes: Annotated[str | None, BeforeValidator(_notes)] = option(
        "release notes for the entries (z2m releaseNotes, zigpy release_notes)", None, Cli(metavar="TEXT")
    )
    force_update: bool = option(
        "z2m only: offer the file even to devices that report this version already (force: true)", False
    )
    specificity: Annotated[int | None, BeforeValidator(_specificity)] = option(
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
