"""Every real file in the corpus: inspect and verify agree with the manifest, and zbota rebuilds them.

The expectations are parsed from ``MANIFEST.md`` (decoded there with an independent parser and
cross-checked with zigpy), so a wrong decoder here cannot also write its own expectations.
Collected only when the corpus is switched on (``OTA_TEST_CORPUS``, see tests/conftest.py).
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ota_action.formats.zigbee.elements import IMAGE_INTEGRITY_CODE, SubElement
from ota_action.formats.zigbee.header import OtaHeader
from ota_action.formats.zigbee.image import ParsedImage, build_image, parse_image
from ota_action.formats.zigbee.integrity import aes_mmo
from tests.conftest import CORPUS_ON, corpus_path, run_cli

pytestmark = pytest.mark.corpus


@dataclass
class Expected:
    name: str
    size: int
    sha256: str
    header: dict[str, int]
    hardware: dict[str, int] = field(default_factory=dict)
    string: str = ""
    elements: list[tuple[int, int, int]] = field(default_factory=list)
    trailing: int = 0
    integrity: dict[str, str] = field(default_factory=dict)
    stored: str | None = None


def _manifest() -> list[Expected]:
    if not CORPUS_ON:
        return []
    path = corpus_path("ota") / "MANIFEST.md"
    entries = []
    for block in re.split(r"^### \d+\. ", path.read_text(), flags=re.M)[1:]:
        name = re.match(r"`([^`]+)`", block)
        assert name
        size = re.search(r"sha256: `([0-9a-f]{64})`\s+size: (\d+) bytes", block)
        assert size
        header_line = re.search(r"- header: (.*)", block)
        assert header_line
        header = {k: int(v, 0) for k, v in re.findall(r"(\w+)=(0x[0-9A-Fa-f]+|\d+)", header_line.group(1))}
        entry = Expected(name.group(1), int(size.group(2)), size.group(1), header)
        optional = re.search(r"- optional header fields: (.*)", block)
        assert optional
        entry.hardware = {k: int(v, 16) for k, v in re.findall(r"(\w+)=(0x[0-9A-Fa-f]+)", optional.group(1))}
        string = re.search(r"- header string: '(.*)' \[", block)
        assert string
        entry.string = string.group(1)
        elements = re.search(r"- sub-elements: (.*?); walk ends", block)
        assert elements
        entry.elements = [
            (int(t, 16), int(n), int(o))
            for t, n, o in re.findall(r"0x([0-9A-F]{4})\(len (\d+) @(\d+)\)", elements.group(1))
        ]
        trailing = re.search(r"bytes after total_image_size: (\d+)", block)
        assert trailing
        entry.trailing = int(trailing.group(1))
        verdicts = re.search(r"stored=([0-9a-f]{32});? A=(\w+) B=(\w+) C=(\w+)", block)
        if verdicts:
            entry.stored = verdicts.group(1)
            entry.integrity = dict(zip("ABC", verdicts.groups()[1:], strict=True))
        entries.append(entry)
    return entries


MANIFEST = _manifest()
VARIANT_OF_RULE = {"A": "standard", "C": "covers-tag-header", "B": "short-padding-only"}


def test_manifest_is_read() -> None:
    assert len(MANIFEST) == 6
    assert sum(1 for e in MANIFEST if e.integrity) == 2


def _ids(entry: Expected) -> str:
    return entry.name


@pytest.fixture(params=MANIFEST, ids=_ids)
def expected(request: pytest.FixtureRequest, corpus: Path) -> Expected:
    entry: Expected = request.param
    return entry


def _inspect(path: Path) -> dict[str, Any]:
    result = run_cli("inspect", path, "--json")
    assert result.code == 0, result.err
    data: dict[str, Any] = json.loads(result.out)
    return data


def test_inspect_matches_manifest(expected: Expected, corpus: Path) -> None:
    path = corpus / expected.name
    data = _inspect(path)
    h = expected.header
    assert data["header_version"] == h["hdr_ver"]
    assert data["header_length"] == h["hdr_len"]
    assert data["field_control"] == h["field_ctrl"]
    assert data["manufacturer_code"] == h["mfr"]
    assert data["image_type"] == h["image_type"]
    assert data["file_version"] == h["file_ver"]
    assert data["zigbee_stack_version"] == h["stack_ver"]
    assert data["total_image_size"] == h["total_image_size"]
    assert data["file_size"] == expected.size
    assert data["sha256"] == expected.sha256
    assert data["header_string"] == expected.string.rstrip("\0")
    assert data["minimum_hardware_version"] == expected.hardware.get("min_hw")
    assert data["maximum_hardware_version"] == expected.hardware.get("max_hw")
    assert data["security_credential_version"] is None
    assert data["upgrade_file_destination"] is None
    assert [(e["tag"], e["length"], e["offset"]) for e in data["sub_elements"]] == expected.elements
    assert data["trailing_bytes"] == expected.trailing


def test_integrity_verdict_matches_manifest(expected: Expected, corpus: Path) -> None:
    data = _inspect(corpus / expected.name)
    integrity = data["integrity"]
    assert isinstance(integrity, dict)
    if not expected.integrity:
        assert integrity == {"present": False, "valid": None, "variant": None, "stored": None}
        return
    passing = [rule for rule, verdict in expected.integrity.items() if verdict == "PASS"]
    assert len(passing) == 1
    assert integrity["present"] is True
    assert integrity["valid"] is True
    assert integrity["variant"] == VARIANT_OF_RULE[passing[0]]
    assert integrity["stored"] == expected.stored


def test_verify_verdicts(expected: Expected, corpus: Path) -> None:
    result = run_cli("verify", corpus / expected.name, "--json")
    data = json.loads(result.out)
    assert result.code == 0, data["errors"]
    assert data["valid"] is True
    warnings = " ".join(data["warnings"])
    if expected.trailing:
        # Either unidentified trailing bytes (a warning) or Salus' CRC-32 of the file (a note).
        messages = " ".join(f["message"] for f in data["findings"])
        assert f"{expected.trailing} bytes after the total image size" in messages
        trailer = data["trailer"]
        if trailer["kind"] == "crc32-le":
            raw = (corpus / expected.name).read_bytes()
            total = data["total_image_size"]
            assert trailer["valid"] is True
            assert (
                int(trailer["stored"], 16) == zlib.crc32(raw[:total]) == int.from_bytes(raw[total:], "little")
            )
            assert ("note", "trailer-crc32") in [(f["level"], f["code"]) for f in data["findings"]]
    if expected.integrity.get("B") == "PASS":
        assert "short-padding-only" in warnings


def rebuild_inputs(data: bytes, parsed: ParsedImage) -> tuple[OtaHeader, list[SubElement], bool]:
    """The header and elements that build_image needs to reproduce ``parsed``.

    Padding elements are kept as ordinary elements and an integrity element, if last,
    becomes ``integrity=True``.
    """
    refs = list(parsed.elements)
    integrity = bool(refs) and refs[-1].tag == IMAGE_INTEGRITY_CODE
    if integrity:
        refs = refs[:-1]
    header = parsed.header._replace(total_image_size=0)
    return header, [SubElement(r.tag, parsed.element_data(data, r)) for r in refs], integrity


def test_rebuild_byte_for_byte(expected: Expected, corpus: Path) -> None:
    """Feed the header values and extracted sub-elements back to the writer."""
    data = (corpus / expected.name).read_bytes()
    parsed = parse_image(data)
    header, elements, integrity = rebuild_inputs(data, parsed)
    image = data[: parsed.header.total_image_size]
    rebuilt = build_image(header, elements, integrity=integrity)
    if expected.integrity and expected.integrity["A"] != "PASS":
        # A vendor hash (Develco, rule B): every byte but the 16-byte code is reproduced,
        # and ours is the standard code over the same bytes.
        assert rebuilt[:-16] == image[:-16]
        assert rebuilt[-16:] != image[-16:]
        assert rebuilt[-16:] == aes_mmo(image[:-22])
    else:
        assert rebuilt == image


def test_rebuild_plain_files_through_the_cli(corpus: Path, tmp_path: Path) -> None:
    """zbota with the same option values and extracted data reproduces the Legrand and Salus files."""
    for name in ("1021-002a-001845ff-NLW.zigbee", "HS1SA_EM-SALUS-0621-V14-190907.ota"):
        data = (corpus / name).read_bytes()
        parsed = parse_image(data)
        (element,) = parsed.elements
        payload = tmp_path / "payload.bin"
        payload.write_bytes(parsed.element_data(data, element))
        h = parsed.header
        out = tmp_path / "rebuilt.ota"
        result = run_cli(
            "zbota", "-o", out, "-m", hex(h.manufacturer_code), "-i", hex(h.image_type),
            "-v", hex(h.file_version), "-t", f"0x0000:{payload}",
            "--string", h.header_string.rstrip(b"\0").decode("ascii"),
        )  # fmt: skip
        assert result.code == 0, result.err
        assert out.read_bytes() == data[: h.total_image_size]


def test_rebuild_ubisys_with_hardware_versions_and_integrity(corpus: Path, tmp_path: Path) -> None:
    """The Ubisys file: field control 0x0004, a 0xF7BD tag first, integrity code (rule A) last."""
    data = (corpus / "10F2-7B2A-0000-0005-02010230-m7b-r0.ota.zigbee").read_bytes()
    parsed = parse_image(data)
    tags = []
    for ref in parsed.elements[:-1]:
        path = tmp_path / f"{ref.tag:04x}.bin"
        path.write_bytes(parsed.element_data(data, ref))
        tags += ["-t", f"0x{ref.tag:04X}:{path}"]
    out = tmp_path / "rebuilt.ota"
    result = run_cli(
        "zbota", "-o", out, "-m", "0x10F2", "-i", "0x7B2A", "-v", "2.1.2.48",
        "--min-hwv", "0x0000", "--max-hwv", "0x0005", "--string", "ubisys R0 2.0.1", *tags, "-ic",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert out.read_bytes() == data
