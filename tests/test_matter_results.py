"""The Matter results built by hand: exact text, Markdown, JSON keys, outputs and batch rows."""

from __future__ import annotations

from pathlib import Path

from ota_action.formats.matter.header import MatterHeader
from ota_action.formats.zigbee.checks import Finding
from ota_action.results.matter import MatterResult, MatterSummary, MatterVerifyResult

HEADER = MatterHeader(
    0xFFF1,
    0x8001,
    2,
    "2.0",
    1000,
    1,
    bytes(range(32)),
    min_applicable_version=1,
    release_notes_url="https://e.x/n",
)
DIGEST = bytes(range(32)).hex()
FIELDS = [
    "  Vendor id: 0xFFF1",
    "  Product id: 0x8001",
    "  Software version: 2 (0x00000002)",
    "  Software version string: 2.0",
    "  Applicable versions: 1 to any",
    "  Release notes URL: https://e.x/n",
    "  Payload: 1000 bytes at offset 93",
    f"  Digest: sha256 {DIGEST}",
]


def built() -> MatterResult:
    return MatterResult(
        outfile=Path("dist/app.ota"), size=1093, sha256="ab" * 32, sha512="cd" * 64, sha3_256="ef" * 32,
        payload=Path("build/app.bin"), image=MatterSummary(1093, 77, HEADER, True),
        dcl_out=Path("dist/dcl.json"), dcl={"vid": 0xFFF1},
    )  # fmt: skip


def test_matter_result_views() -> None:
    result = built()
    assert result.text().splitlines() == [
        "Payload: build/app.bin",
        "Matter OTA image: 1093 bytes (prefix 16, header 77, payload 1000)",
        *FIELDS,
        "  Digest check: matches the payload",
        "DCL model-version fields written to: dist/dcl.json",
        "File size: 1093 bytes",
        "SHA-256: " + "ab" * 32,
        "Saved to: dist/app.ota",
        "Result: written (dist/app.ota, 1093 bytes, version 2.0, sha256 digest matches)",
    ]
    markdown = result.markdown().splitlines()
    assert markdown[:6] == [
        "### ✅ ota-action matter",
        "",
        "**Matter OTA image:** app.ota",
        "",
        "| Field | Value |",
        "|---|---|",
    ]
    assert "| Software version string | 2.0 |" in markdown
    assert markdown[-1] == "**SHA-256:** `" + "ab" * 32 + "`"
    outputs = result.outputs(Path.cwd().resolve())
    assert {k: v for k, v in outputs.items() if k != "summary-json"} == {
        "ota-file": "dist/app.ota",
        "sha256": "ab" * 32,
        "sha512": "cd" * 64,
        "sha3-256": "ef" * 32,
        "size": "1093",
        "software-version": "2",
        "dcl-file": "dist/dcl.json",
    }
    assert list(result.to_json()) == [
        "schema_version", "command", "ok", "outfile", "size", "sha256", "payload", "from_image",
        "payload_range", "format",
        "file_identifier", "total_size", "header_size", "payload_offset", "vendor_id", "product_id",
        "software_version", "software_version_string", "payload_size", "min_applicable_version",
        "max_applicable_version", "release_notes_url", "digest_type", "digest_algorithm", "digest",
        "digest_matches", "unknown_tags", "dcl_out", "dcl", "warnings", "errors", "findings",
    ]  # fmt: skip
    assert result.written() == (Path("dist/app.ota"), Path("dist/dcl.json"))


def test_matter_verify_result_and_its_batch_row() -> None:
    result = MatterVerifyResult(
        file=Path("a.ota"), size=1093, sha256="ab" * 32, image=MatterSummary(1093, 77, HEADER, False),
        dcl={}, findings=(Finding.error("digest", "sha256 of the payload differs"),),
    )  # fmt: skip
    assert result.text().splitlines() == [
        "File: a.ota",
        "  1093 bytes, SHA-256 " + "ab" * 32,
        "Matter OTA image: 1093 bytes (prefix 16, header 77, payload 1000)",
        *FIELDS,
        "  Digest check: DOES NOT match the payload",
        "error: sha256 of the payload differs",
        "Result: invalid (1 error)",
    ]
    assert result.exit_code == 1
    assert result.to_json()["valid"] is False
    assert result.batch_row() == [
        "invalid", "0xFFF1", "0x8001", "0x00000002", "1093", "matter", "a.ota",
        "sha256 of the payload differs",
    ]  # fmt: skip
    assert result.summary_row()["software_version"] == 2
    assert result.summary_row()["layout"] == "matter"
