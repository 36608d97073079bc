"""The Distributed Compliance Ledger model-version fields of a Matter OTA image.

A vendor publishes each software version of a product on the CSA's ledger
(``dcld tx model add-model-version``, DCL ``docs/transactions/model.md``); the fields
that point devices at the image come from the image itself, and are computed here from
its header, size and SHA-256, so a release step never retypes them:

- ``otaUrl``, ``otaFileSize`` (a decimal string: the ledger's JSON writes its uint64
  that way), ``otaChecksum`` (base64 of the SHA-256 of the whole file) and
  ``otaChecksumType`` 1 (SHA-256 in the IANA Named Information registry);
- ``softwareVersion``, ``softwareVersionString``, ``releaseNotesUrl`` from the header;
- ``minApplicableSoftwareVersion`` and ``maxApplicableSoftwareVersion``, which the ledger
  requires: the header's values, else 0 and ``softwareVersion - 1`` (the header's "no
  limit" within the versions an update can come from).
"""

from __future__ import annotations

import base64
from typing import Any

from ota_action.formats.matter.header import MatterHeader

SHA256_TYPE = 1  # IANA Named Information Hash Algorithm Registry: sha-256


def dcl_fields(
    header: MatterHeader, *, file_size: int, sha256_hex: str, ota_url: str | None
) -> dict[str, Any]:
    """The model-version document for one image; ``otaUrl`` only when the URL is known."""
    version = header.software_version
    fields: dict[str, Any] = {
        "vid": header.vendor_id,
        "pid": header.product_id,
        "softwareVersion": version,
        "softwareVersionString": header.software_version_string,
    }
    if ota_url is not None:
        fields["otaUrl"] = ota_url
    fields.update(
        {
            "otaFileSize": str(file_size),
            "otaChecksum": base64.b64encode(bytes.fromhex(sha256_hex)).decode("ascii"),
            "otaChecksumType": SHA256_TYPE,
            "minApplicableSoftwareVersion": (
                0 if header.min_applicable_version is None else header.min_applicable_version
            ),
            "maxApplicableSoftwareVersion": (
                max(version - 1, 0)
                if header.max_applicable_version is None
                else header.max_applicable_version
            ),
        }
    )
    if header.release_notes_url is not None:
        fields["releaseNotesUrl"] = header.release_notes_url
    return fields
