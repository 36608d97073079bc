"""``index --format dcl``: the Distributed Compliance Ledger model-version documents of Matter images.

One mapping of an image to the ledger's fields, :func:`ota_action.publish.dcl.dcl_fields`
(the one ``matter --dcl-out`` and ``inspect`` use), over every Matter image the paths
give, found as ``index`` finds Zigbee files.  The output is a JSON list, one document per
image in the order found, so a release step submits each with
``dcld tx model add-model-version``; ``otaUrl`` follows the z2m URL rules (``--url-base``
+ the path below ``--root``, percent-encoded) and is omitted without ``--url-base`` (the
ledger wants a URL, not a local path).

An image whose digest does not match its payload, or that is truncated, is refused: the
ledger would point devices at a file they reject.  A Zigbee file named on the command
line is an error; one found in a folder is skipped with a warning, as ``index`` skips
files that are not Zigbee OTA files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ota_action.commands.index import Found, discover, relative_path
from ota_action.commands.matter_reading import read_matter_image
from ota_action.edges import files, log, same_file
from ota_action.errors import FormatError, InputError
from ota_action.formats.zigbee.checks import Finding
from ota_action.publish.dcl import dcl_fields
from ota_action.publish.index import file_url
from ota_action.results.fleet import IndexResult

if TYPE_CHECKING:
    from ota_action.settings.fleet import IndexSettings

# Options of the hub indexes a ledger document has no place for: refused, not ignored.
_HUB_ONLY = (
    "merge",
    "check",
    "allow_downgrade",
    "model_id",
    "manufacturer_names",
    "min_file_version",
    "max_file_version",
    "release_notes",
    "force_update",
    "specificity",
)


def _refuse_hub_options(settings: IndexSettings) -> None:
    for field in _HUB_ONLY:
        value = getattr(settings, field)
        if value not in (None, False, []):
            raise InputError(
                "applies to the z2m and zigpy indexes, not to --format dcl (the ledger's "
                "model-version fields come from the Matter image itself)",
                field=field,
            )


def document(item: Found, url_base: str | None) -> dict[str, Any] | None:
    """The ledger document of one image; None (skipped) for a file found in a folder that
    is not a Matter image."""
    try:
        image = read_matter_image(item.path, field="files")
    except FormatError as exc:
        if item.explicit:
            raise InputError(
                "is not a Matter OTA image (no file identifier 0x1BEEF11E); --format dcl indexes "
                "Matter images, z2m and zigpy index Zigbee OTA files",
                field="files",
                value=str(item.path),
            ) from None
        log.get().debug("index.dcl_skipped", file=str(item.path), problem=exc.message)
        return None
    if image.file_size < image.expected_total or image.computed_digest != image.header.digest:
        raise InputError(
            "is truncated or its digest does not match its payload (see verify); the ledger "
            "would point devices at an image they refuse",
            field="files",
            value=str(item.path),
        )
    url = None if url_base is None else file_url(url_base, relative_path(item.path, item.root, url=True))
    return dcl_fields(image.header, file_size=image.file_size, sha256_hex=image.sha256, ota_url=url)


def write(settings: IndexSettings) -> IndexResult:
    """``index --format dcl -o FILE``: the documents of every Matter image, as one JSON list."""
    _refuse_hub_options(settings)
    outfile = settings.outfile
    if outfile is None:
        raise InputError("is required: the JSON file the DCL documents are written to", field="outfile")
    if not settings.files:
        raise InputError("name at least one Matter OTA image", field="files")
    found = discover(settings.files, settings.root)
    same_file.refuse_overwrite(outfile, (f.path for f in found))
    findings: list[Finding] = []
    indexed: list[Path] = []
    documents: list[dict[str, Any]] = []
    for item in found:
        made = document(item, settings.url_base)
        if made is None:
            findings.append(Finding.warning("index-skipped", f"{item.path}: skipped, not a Matter OTA image"))
            continue
        indexed.append(item.path)
        documents.append(made)
    if not documents:
        raise InputError("name no Matter OTA image to index", field="files")
    files.write_atomic(outfile, (json.dumps(documents, indent=2) + "\n").encode("utf-8"))
    log.get().info("index.done", files=len(documents), entries=len(documents), outfile=str(outfile))
    return IndexResult(
        format="dcl",
        files=tuple(indexed),
        entries=tuple(documents),
        entries_total=len(documents),
        outfile=outfile,
        findings=tuple(findings),
    )


__all__ = ["document", "write"]
