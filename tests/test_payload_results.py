"""The gbl and mcuboot results built by hand: exact text, step summary, JSON and outputs."""

from __future__ import annotations

from pathlib import Path

from ota_action.results.gbl import GblResult
from ota_action.results.mcuboot import McubootResult

SHA = "ab" * 32


def test_gbl_result_views() -> None:
    result = GblResult(
        outfile=Path("dist/app.gbl"),
        size=476,
        sha256=SHA,
        address=0x08006000,
        image_size=5000,
        compression="lz4",
        encrypted=True,
        signed=True,
        public_key_fingerprint="c3" * 32,
    )
    assert result.text() == (
        "GBL3 file written: dist/app.gbl (476 bytes)\n"
        "Program data: 5000 bytes at 0x08006000-0x08007387\n"
        f"Image: compressed with lz4, encrypted (AES-128-CTR), signed (key {'c3' * 32})\n"
        f"SHA-256: {SHA}\n"
        "Result: written (dist/app.gbl, 476 bytes, compressed with lz4, encrypted (AES-128-CTR), "
        f"signed (key {'c3' * 32}))\n"
    )
    data = result.to_json()
    assert list(data) == [
        "schema_version",
        "command",
        "ok",
        "outfile",
        "size",
        "sha256",
        "address",
        "image_size",
        "compression",
        "encrypted",
        "signed",
        "public_key_fingerprint",
        "warnings",
        "errors",
        "findings",
    ]
    assert (data["command"], data["address"]) == ("gbl", "0x08006000")
    assert result.markdown().splitlines()[:4] == [
        "### ✅ ota-action gbl",
        "",
        "| Field | Value |",
        "|---|---|",
    ]
    assert "| Compression | lz4 |" in result.markdown()
    outputs = result.outputs(Path("."))
    assert (outputs["ota-file"], outputs["sha256"], outputs["size"]) == ("dist/app.gbl", SHA, "476")


def test_mcuboot_result_views() -> None:
    result = McubootResult(
        outfile=Path("app.signed.bin"),
        size=10675,
        sha256=SHA,
        image_version="1.2.3+4",
        header_size=0x200,
        image_size=10000,
        security_counter=7,
        signed=False,
        padded_to=None,
    )
    assert result.text() == (
        "MCUboot image written: app.signed.bin (10675 bytes)\n"
        "Version: 1.2.3+4  Header: 0x0200 bytes  Image: 10000 bytes  Security counter: 7\n"
        "Signature: not signed\n"
        f"SHA-256: {SHA}\n"
        "Result: written (app.signed.bin, 10675 bytes, version 1.2.3+4, not signed)\n"
    )
    assert result.to_json()["padded_to"] is None
    assert "| Security counter | 7 |" in result.markdown()
