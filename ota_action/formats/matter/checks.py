"""The rules ``verify`` applies to a Matter OTA image: one function per finding code.

Errors are what the specification forbids or a device refuses (an OTA requestor checks
sizes, the version string and URL lengths, and the digest after download); warnings are
what works but is unwise.  Every code is stable (kebab-case, never reworded).
"""

from __future__ import annotations

from collections.abc import Callable

from ota_action.formats.matter.header import (
    DEVICE_MAX_HEADER_SIZE,
    MAX_RELEASE_NOTES_URL,
    MAX_VERSION_STRING,
    PREFIX_SIZE,
)
from ota_action.formats.matter.image import ParsedMatter
from ota_action.formats.zigbee.checks import Finding

Rule = Callable[[ParsedMatter], list[Finding]]


def _sizes(image: ParsedMatter) -> list[Finding]:
    found = []
    if image.total_size != image.expected_total:
        found.append(
            Finding.error(
                "total-size",
                f"total size is {image.total_size} but prefix ({PREFIX_SIZE}) + header "
                f"({image.header_size}) + payload ({image.header.payload_size}) is {image.expected_total}",
            )
        )
    if image.header_used < image.header_size:
        found.append(
            Finding.warning(
                "header-slack",
                f"the header TLV ends after {image.header_used} of its {image.header_size} bytes",
            )
        )
    if image.file_size < image.expected_total:
        found.append(
            Finding.error(
                "truncated",
                f"file is {image.file_size} bytes; the header says {image.expected_total} "
                f"(payload {image.payload_read} of {image.header.payload_size} bytes present)",
            )
        )
    elif image.file_size > image.expected_total:
        extra = image.file_size - image.expected_total
        found.append(
            Finding.warning("trailing-bytes", f"{extra} bytes after the payload are not part of the image")
        )
    return found


def _digest(image: ParsedMatter) -> list[Finding]:
    header = image.header
    kind = header.digest_kind
    if kind is None:
        return [
            Finding.error("digest-type", f"image digest type {header.digest_type} is not a known algorithm")
        ]
    if len(header.digest) != kind.digest_size:
        return [
            Finding.error(
                "digest-length",
                f"image digest is {len(header.digest)} bytes; {kind.label} has {kind.digest_size}",
            )
        ]
    found = []
    if image.computed_digest != header.digest:
        found.append(
            Finding.error(
                "digest",
                f"{kind.label} of the payload is {(image.computed_digest or b'').hex()}, "
                f"the header says {header.digest.hex()}",
            )
        )
    if kind.digest_size < 32:
        found.append(Finding.warning("digest-short", f"{kind.label} digest is shorter than 256 bits"))
    return found


def _strings(image: ParsedMatter) -> list[Finding]:
    header = image.header
    found = []
    size = len(header.software_version_string.encode("utf-8"))
    if not 1 <= size <= MAX_VERSION_STRING:
        found.append(
            Finding.error(
                "version-string",
                f"software version string is {size} bytes; it must be 1-{MAX_VERSION_STRING}",
            )
        )
    url = header.release_notes_url
    if url is not None:
        size = len(url.encode("utf-8"))
        if not 1 <= size <= MAX_RELEASE_NOTES_URL or not url.isascii() or not url.isprintable():
            found.append(
                Finding.error(
                    "release-notes-url",
                    f"release notes URL must be 1-{MAX_RELEASE_NOTES_URL} printable ASCII characters "
                    f"(it is {size} bytes)",
                )
            )
        elif not url.startswith("https://"):
            found.append(
                Finding.warning("release-notes-not-https", "release notes URL does not start with https://")
            )
    return found


def _versions(image: ParsedMatter) -> list[Finding]:
    header = image.header
    version = header.software_version
    found = []
    for name, value in (
        ("minimum", header.min_applicable_version),
        ("maximum", header.max_applicable_version),
    ):
        if value is not None and value >= version:
            found.append(
                Finding.error(
                    "applicable-versions",
                    f"{name} applicable version {value} is not below the software version {version}",
                )
            )
    low, high = header.min_applicable_version, header.max_applicable_version
    if low is not None and high is not None and low > high:
        found.append(
            Finding.error(
                "applicable-versions", f"minimum applicable version {low} is above the maximum {high}"
            )
        )
    return found


def _device_reader(image: ParsedMatter) -> list[Finding]:
    """What connectedhomeip's OTA requestor (OTAImageHeaderParser) refuses that the
    specification's TLV allows: a header over 1024 bytes, fields out of tag order."""
    found = []
    if image.header_size > DEVICE_MAX_HEADER_SIZE:
        found.append(
            Finding.error(
                "header-size",
                f"header is {image.header_size} bytes; devices built on connectedhomeip refuse "
                f"more than {DEVICE_MAX_HEADER_SIZE}",
            )
        )
    if not image.header.in_device_order:
        order = ", ".join(str(t) for t in image.header.tag_order)
        found.append(
            Finding.error(
                "field-order",
                f"header tags are in the order {order}; devices built on connectedhomeip read "
                "0-4, then 5, 6, 7 when present, then 8 and 9, and reject anything else before the digest",
            )
        )
    return found


def _identity(image: ParsedMatter) -> list[Finding]:
    header = image.header
    found = [
        Finding.warning(code, f"{text} is 0, which no device has")
        for code, text, value in (
            ("vendor-id", "vendor id", header.vendor_id),
            ("product-id", "product id", header.product_id),
        )
        if value == 0
    ]
    if header.unknown_tags:
        tags = ", ".join("non-context" if t < 0 else str(t) for t in header.unknown_tags)
        found.append(Finding.warning("unknown-tag", f"header holds tags this reader does not know: {tags}"))
    return found


RULES: tuple[Rule, ...] = (_sizes, _digest, _strings, _versions, _device_reader, _identity)


def check_matter(image: ParsedMatter) -> list[Finding]:
    """Every rule's findings, in rule order."""
    return [finding for rule in RULES for finding in rule(image)]
