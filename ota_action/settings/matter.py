"""Settings of ``matter``: build a Matter OTA software update image from a payload."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator

from ota_action.formats.matter.header import (
    BUILD_DIGESTS,
    MAX_RELEASE_NOTES_URL,
    MAX_VERSION_STRING,
    DigestType,
)
from ota_action.settings import U16, Cli, CommandSettings, option
from ota_action.values import parse_int


def _version(value: Any) -> Any:
    """A 32-bit software version, decimal or 0x-hex (Matter versions are plain integers)."""
    return value if value is None else parse_int(value, bits=32)


def _no_control(text: str) -> None:
    bad = next((c for c in text if not c.isprintable()), None)
    if bad is not None:
        raise ValueError(f"holds the control character U+{ord(bad):04X}; give printable text")


def _version_string(value: Any) -> Any:
    if value is None:
        return None
    text = str(value)
    _no_control(text)
    size = len(text.encode("utf-8"))
    if not 1 <= size <= MAX_VERSION_STRING:
        raise ValueError(f"is {size} bytes of UTF-8; the header holds 1-{MAX_VERSION_STRING}")
    return text


def _url(value: Any) -> Any:
    if value is None:
        return None
    text = str(value)
    _no_control(text)
    if not text.isascii() or " " in text:
        raise ValueError("must be an ASCII URL without spaces (percent-encode other characters)")
    if not 1 <= len(text) <= MAX_RELEASE_NOTES_URL:
        raise ValueError(f"is {len(text)} characters; the header holds 1-{MAX_RELEASE_NOTES_URL}")
    if "://" not in text:
        raise ValueError("must be an absolute URL such as https://example.com/notes")
    return text


DIGEST_NAMES = ", ".join(d.label for d in BUILD_DIGESTS)


def _digest(value: Any) -> Any:
    if isinstance(value, DigestType):
        return value
    text = str(value).strip().lower().replace("_", "-")
    found = next((d for d in BUILD_DIGESTS if d.label == text), None)
    if found is None:
        raise ValueError(f"must be one of {DIGEST_NAMES}")
    return found


def _nonzero_id(value: Any) -> Any:
    if value is not None and parse_int(value, bits=16) == 0:
        raise ValueError("is 0, which the specification reserves; give the id from your certificate")
    return value


SoftwareVersion = Annotated[int, BeforeValidator(_version)]
VersionString = Annotated[str, BeforeValidator(_version_string)]
Url = Annotated[str, BeforeValidator(_url)]
Digest = Annotated[DigestType, BeforeValidator(_digest)]
Id = Annotated[U16, BeforeValidator(_nonzero_id)]


class MatterSettings(CommandSettings):
    """Build a Matter OTA software update image (Matter Core specification, "OTA Software
    Update File Format") from PAYLOAD (a raw binary, a GBL, an MCUboot image...), given
    --vendor-id, --product-id, --version and --version-string. Or, with --from-image
    IN.ota instead of PAYLOAD, rewrap that image: its payload and every header value not
    given are kept, and the digest is computed again."""

    outfile: Path = option("output Matter OTA image (its directory is created)", cli=Cli(("-o",)))
    vendor_id: Id | None = option("vendor id, e.g. 0xFFF1 (the test vendor ids are 0xFFF1-0xFFF4)", None)
    product_id: Id | None = option("product id, e.g. 0x8001", None)
    version: SoftwareVersion | None = option("software version, a 32-bit integer (decimal or 0x-hex)", None)
    version_string: VersionString | None = option(
        "software version string people read, 1-64 bytes, e.g. 2.0", None
    )
    payload: Path | None = option(
        "payload file: the firmware the device installs", None, Cli(positional=True, metavar="PAYLOAD")
    )
    min_version: SoftwareVersion | None = option(
        "lowest software version this image may be applied to (below --version)", None
    )
    max_version: SoftwareVersion | None = option(
        "highest software version this image may be applied to (below --version)", None
    )
    release_notes_url: Url | None = option(
        "URL of the release notes, 1-256 ASCII characters (https:// expected)", None, Cli(metavar="URL")
    )
    digest: Digest | None = option(
        f"image digest algorithm: {DIGEST_NAMES} (default sha256; with --from-image, the image's)",
        None,
        Cli(metavar="ALGORITHM"),
    )
    from_image: Path | None = option(
        "rewrap this Matter OTA image: keep its payload and the header values not given "
        "(instead of PAYLOAD; -o may be this file)",
        None,
        Cli(metavar="OTA"),
    )
    dcl_out: Path | None = option(
        "also write the Distributed Compliance Ledger model-version fields of the image to this JSON file",
        None,
        Cli(metavar="JSON"),
    )
    ota_url: Url | None = option(
        "URL the image is published at (the DCL otaUrl; needs --dcl-out)", None, Cli(metavar="URL")
    )
