"""index --format dcl: the ledger's model-version documents of Matter images.

Oracles: the images are Commander's own (``ota create --type matter``), their header
fields are read back with connectedhomeip's ``chip.tlv`` (the reader ``ota_image_tool.py``
uses), and the checksum is hashlib's SHA-256 of the whole file, base64 as the ledger holds it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from tests.conftest import run_cli
from tests.test_matter import PAYLOAD, build, chip_decode, commander


def _commander_images(tmp_path: Path) -> tuple[Path, Path]:
    a = tmp_path / "rel" / "board a" / "app.ota"
    b = tmp_path / "rel" / "b" / "app.ota"
    a.parent.mkdir(parents=True)
    b.parent.mkdir(parents=True)
    a.write_bytes(
        commander(tmp_path, "--vendorid", "0xFFF1", "--productid", "0x8001", "--swversion", "5",
                  "--swstring", "5.0", "--digest", "sha256")
    )  # fmt: skip
    b.write_bytes(
        commander(tmp_path, "--vendorid", "0xFFF2", "--productid", "0x8002", "--swversion", "70001",
                  "--swstring", "7.0.1", "--min-sw", "3", "--max-sw", "70000",
                  "--releasenote", "https://example.com/notes", "--digest", "sha512")
    )  # fmt: skip
    return a, b


def test_documents_of_commander_images_match_their_headers(tmp_path: Path) -> None:
    a, b = _commander_images(tmp_path)
    out = tmp_path / "dcl.json"
    result = run_cli(
        "index", "--format", "dcl", tmp_path / "rel", "--url-base", "https://dl.example/fw/",
        "--root", tmp_path, "-o", out,
    )  # fmt: skip
    assert result.code == 0, result.err
    documents = {d["pid"]: d for d in json.loads(out.read_text())}
    assert set(documents) == {0x8001, 0x8002}
    for path, url in (
        (a, "https://dl.example/fw/rel/board%20a/app.ota"),
        (b, "https://dl.example/fw/rel/b/app.ota"),
    ):
        data = path.read_bytes()
        _, header = chip_decode(data)  # 0 vid, 1 pid, 2 version, 3 string, 5/6 min/max, 7 notes
        doc = documents[header[1]]
        assert doc["vid"] == header[0]
        assert doc["softwareVersion"] == header[2]
        assert doc["softwareVersionString"] == header[3]
        assert doc["otaUrl"] == url
        assert doc["otaFileSize"] == str(len(data))
        assert doc["otaChecksum"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
        assert doc["otaChecksumType"] == 1
        assert doc["minApplicableSoftwareVersion"] == header.get(5, 0)
        assert doc["maxApplicableSoftwareVersion"] == header.get(6, header[2] - 1)
        assert doc.get("releaseNotesUrl") == header.get(7)
    assert documents[0x8002]["minApplicableSoftwareVersion"] == 3
    assert documents[0x8002]["maxApplicableSoftwareVersion"] == 70000


def test_one_mapping_with_matter_dcl_out(tmp_path: Path) -> None:
    """The same image, the same document, whichever command writes it."""
    (tmp_path / "dist").mkdir()
    _, _ = build(
        tmp_path, "--vendor-id", "0xFFF1", "--product-id", "0x8001", "--version", "2",
        "--version-string", "2.0", "--dcl-out", str(tmp_path / "dcl-one.json"),
        "--ota-url", "https://dl.example/ours.ota", name="ours.ota",
    )  # fmt: skip
    single = json.loads((tmp_path / "dcl-one.json").read_text())
    out = tmp_path / "dcl.json"
    result = run_cli(
        "index", "--format", "dcl", tmp_path / "ours.ota", "--url-base", "https://dl.example/", "-o", out
    )
    assert result.code == 0, result.err
    assert json.loads(out.read_text()) == [single]


def test_without_url_base_no_ota_url(tmp_path: Path) -> None:
    a, _ = _commander_images(tmp_path)
    out = tmp_path / "dcl.json"
    assert run_cli("index", "--format", "dcl", a, "-o", out).code == 0
    (doc,) = json.loads(out.read_text())
    assert "otaUrl" not in doc


def _zigbee(tmp_path: Path) -> Path:
    (tmp_path / "p.bin").write_bytes(PAYLOAD)
    z = tmp_path / "rel" / "z.ota"
    z.parent.mkdir(parents=True, exist_ok=True)
    assert (
        run_cli(
            "zbota", "-o", z, "-m", "0x1234", "-i", "1", "-v", "1", "-t", f"0x0000:{tmp_path / 'p.bin'}"
        ).code
        == 0
    )
    return z


def test_a_zigbee_file_is_refused_by_dcl_and_skipped_in_a_folder(tmp_path: Path) -> None:
    z = _zigbee(tmp_path)
    out = tmp_path / "dcl.json"
    named = run_cli("index", "--format", "dcl", z, "-o", out)
    assert named.code == 2
    assert "is not a Matter OTA image" in named.err
    assert "z.ota" in named.err
    assert not out.exists()
    _commander_images(tmp_path)
    folder = run_cli("index", "--format", "dcl", tmp_path / "rel", "-o", out)
    assert folder.code == 0, folder.err
    assert len(json.loads(out.read_text())) == 2
    assert "z.ota: skipped, not a Matter OTA image" in " ".join((folder.out + folder.err).split())


def test_a_matter_image_is_refused_by_z2m_and_zigpy_naming_dcl(tmp_path: Path) -> None:
    a, _ = _commander_images(tmp_path)
    for fmt in ("z2m", "zigpy"):
        result = run_cli("index", "--format", fmt, a, "-o", tmp_path / "i.json")
        assert result.code == 2
        assert "is a Matter OTA image" in result.err
        assert "--format dcl" in result.err
        assert result.err.count("Zigbee OTA file") <= 1
    assert not (tmp_path / "i.json").exists()


def test_corrupt_image_and_hub_options_are_refused(tmp_path: Path) -> None:
    a, _ = _commander_images(tmp_path)
    data = bytearray(a.read_bytes())
    data[-1] ^= 1
    a.write_bytes(bytes(data))
    out = tmp_path / "dcl.json"
    bad = run_cli("index", "--format", "dcl", a, "-o", out)
    assert bad.code == 2
    assert "digest does not match" in bad.err
    for option in (["--model-id", "X"], ["--merge", str(out)], ["--force-update"], ["--check"]):
        result = run_cli("index", "--format", "dcl", a, "-o", out, *option)
        assert result.code == 2, option
        assert "not to --format dcl" in result.err, (option, result.err)
    assert not out.exists()


def test_the_action_builds_and_indexes_matter_images_in_one_workspace(tmp_path: Path) -> None:
    from tests.test_action import FakeRunner

    runner = FakeRunner(tmp_path)
    (runner.workspace / "build").mkdir()
    (runner.workspace / "build" / "app.bin").write_bytes(PAYLOAD)
    for board, pid in (("a", "0x8001"), ("b", "0x8002")):
        made = runner.run(
            {
                "command": "matter", "outfile": f"dist/{board}/app.ota", "vendor-id": "0xFFF1",
                "product-id": pid, "version": "2", "version-string": "2.0", "payload": "build/app.bin",
            }
        )  # fmt: skip
        assert made.code == 0, made.stdout
    indexed = runner.run(
        {"command": "index", "format": "dcl", "files": "dist", "url-base": "https://dl.example/fw",
         "outfile": "dist/dcl.json"}
    )  # fmt: skip
    assert indexed.code == 0, indexed.stdout
    assert indexed.outputs["index-file"] == "dist/dcl.json"
    documents = json.loads((runner.workspace / "dist" / "dcl.json").read_text())
    assert [d["otaUrl"] for d in documents] == [
        "https://dl.example/fw/a/app.ota",
        "https://dl.example/fw/b/app.ota",
    ]
    for document, board in zip(documents, "ab", strict=True):
        data = (runner.workspace / "dist" / board / "app.ota").read_bytes()
        assert document["otaChecksum"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert json.loads(indexed.outputs["index-entry"]) == documents
    assert "software version 2 (2.0)" in indexed.summary
