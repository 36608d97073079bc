"""Real files (issue 14): rewrap identity, extract -> rebuild, index entries vs MANIFEST.md.

Runs only when ``OTA_TEST_CORPUS`` lists corpus folders (``os.pathsep``-separated; the
folders named ``ota`` and ``ota-vendor`` with their MANIFEST.md).  The files are read
where they are, never copied.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from pathlib import Path

import pytest

from ota_action.errors import FormatError, InputError
from ota_action.index import IndexOptions, file_facts, size_warning, z2m_entry, zigpy_entry
from ota_action.zigbee.extract import plan_extract, rebuild
from ota_action.zigbee.rewrap import HeaderChanges, rewrap_bytes


def _dirs() -> list[Path]:
    value = os.environ.get("OTA_TEST_CORPUS", "")
    return [Path(p) for p in value.split(os.pathsep) if p and Path(p).is_dir()]


def _files() -> list[Path]:
    return sorted(p for d in _dirs() for p in d.iterdir() if p.is_file() and p.name != "MANIFEST.md")


pytestmark = pytest.mark.skipif(not _files(), reason="OTA_TEST_CORPUS is not set")
FILES = _files()


def _ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_rewrap_identity(path: Path) -> None:
    data = path.read_bytes()
    refusal = ""
    try:
        out, plan = rewrap_bytes(data, HeaderChanges())
    except FormatError:
        pytest.skip("not an OTA file at offset 0 (a container)")
    except InputError as exc:
        refusal = exc.message
    if refusal:
        # Refusals are the documented ones only: signatures and non-plain layouts.
        assert "signature" in refusal or "plain sub-element layout" in refusal
        return
    assert out == data
    assert plan.warnings == ()


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_rewrap_new_version_keeps_variant(path: Path) -> None:
    data = path.read_bytes()
    try:
        _, before = rewrap_bytes(data, HeaderChanges())
    except (FormatError, InputError):
        pytest.skip("not rewrappable (see test_rewrap_identity)")
    out, plan = rewrap_bytes(data, HeaderChanges(file_version=0xFFFFFFFE))
    _, after = rewrap_bytes(out, HeaderChanges())
    assert after.integrity is before.integrity is plan.integrity
    assert len(out) == len(data)


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_extract_rebuilds(path: Path) -> None:
    data = path.read_bytes()
    try:
        plan = plan_extract(io.BytesIO(data), len(data))
    except FormatError:
        pytest.skip("not an OTA file at offset 0 (a container)")
    if plan.recipe is None:
        assert plan.not_rebuildable
        return
    files = {f.name: data[f.offset : f.offset + f.length] for f in plan.files}
    assert rebuild(plan.recipe, files.__getitem__) == data


def _manifest_rows() -> dict[str, dict[str, int | str]]:
    """file name -> size, sha256 (or its first 16 digits) and header values from MANIFEST.md."""
    rows: dict[str, dict[str, int | str]] = {}
    for directory in _dirs():
        manifest = directory / "MANIFEST.md"
        if not manifest.is_file():
            continue
        text = manifest.read_text(encoding="utf-8")
        for block in re.split(r"^### \d+\. ", text, flags=re.M)[1:]:
            name = re.match(r"`([^`]+)`", block)
            sha = re.search(r"sha256: `([0-9a-f]{64})`\s+size: (\d+) bytes", block)
            hdr = re.search(r"mfr=0x([0-9A-F]+) image_type=0x([0-9A-F]+) file_ver=0x([0-9A-F]+)", block)
            if name and sha and hdr:
                rows[name.group(1)] = {
                    "sha256": sha.group(1),
                    "size": int(sha.group(2)),
                    "manufacturerCode": int(hdr.group(1), 16),
                    "imageType": int(hdr.group(2), 16),
                    "fileVersion": int(hdr.group(3), 16),
                }
        for match in re.finditer(r"^\| `([^`]+)`[^|]*\| ([0-9a-f]{16}) \| (\d+) \|", text, flags=re.M):
            rows[match.group(1)] = {"sha256": match.group(2), "size": int(match.group(3))}
    return rows


@pytest.mark.parametrize("path", FILES, ids=_ids(FILES))
def test_index_entries_match_manifest(path: Path) -> None:
    rows = _manifest_rows()
    row = next(
        (r for name, r in rows.items() if path.name == name or path.name.startswith(name.split("…")[0])), None
    )
    if row is None:
        pytest.skip("not described in a MANIFEST.md")
    with path.open("rb") as handle:
        try:
            facts = file_facts(handle, path.name)
        except FormatError:
            pytest.skip("not an OTA file at offset 0 (a container)")
    data = path.read_bytes()
    assert facts.sha256.startswith(str(row["sha256"]))
    z2m = z2m_entry(facts, IndexOptions(url_base="https://example.com/ota"))
    zigpy = zigpy_entry(facts, IndexOptions(), path.name)
    assert z2m["fileSize"] == zigpy["file_size"] == row["size"] == len(data)
    assert z2m["sha512"] == hashlib.sha512(data).hexdigest()
    assert zigpy["checksum"] == "sha3-256:" + hashlib.sha3_256(data).hexdigest()
    for key, zkey in (
        ("manufacturerCode", "manufacturer_id"),
        ("imageType", "image_type"),
        ("fileVersion", "file_version"),
    ):
        if key in row:
            assert z2m[key] == zigpy[zkey] == row[key]
    assert (size_warning(facts) is None) == (facts.total_image_size == len(data))
