"""Index entries (z2m and zigpy) and the merge rules; zigpy's own schema and loaders as oracles."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
from pathlib import Path

import pytest

from ota_action.errors import InputError
from ota_action.formats.zigbee.elements import SubElement
from ota_action.formats.zigbee.header import OtaHeader
from ota_action.formats.zigbee.image import build_image
from ota_action.publish.index import (
    FileFacts,
    IndexFormat,
    IndexOptions,
    file_facts,
    file_url,
    index_document,
    ota_header_string,
    size_warning,
    z2m_entry,
    zigpy_entry,
)
from ota_action.publish.merge import MergeError, MergeKind, merge, plan_merge
from ota_action.publish.schema import entries as index_entries

PAYLOAD = bytes(range(256)) * 8


def _image(version: int = 0x01020304, *, hw: bool = False, string: bytes = b"test image") -> bytes:
    header = OtaHeader.create(
        manufacturer_code=0x1234,
        image_type=0xABCD,
        file_version=version,
        header_string=string,
        minimum_hardware_version=0x0102 if hw else None,
        maximum_hardware_version=0x0304 if hw else None,
    )
    return build_image(header, [SubElement(0x0000, PAYLOAD)], integrity=True)


def _facts(data: bytes, name: str = "fw.ota") -> FileFacts:
    return file_facts(io.BytesIO(data), name, chunk=1000)  # small chunks: the header spans reads


def test_facts_hash_in_one_pass() -> None:
    data = _image()
    facts = _facts(data)
    assert facts.file_size == len(data) == facts.total_image_size
    assert facts.sha512 == hashlib.sha512(data).hexdigest()
    assert facts.sha3_256 == hashlib.sha3_256(data).hexdigest()
    assert facts.sha256 == hashlib.sha256(data).hexdigest()
    assert facts.header.file_version == 0x01020304


def test_z2m_entry_remote_exact() -> None:
    data = _image(hw=True)
    opts = IndexOptions(
        url_base="https://example.com/fw/",
        model_id="LAMP-1",
        manufacturer_names=("Acme",),
        min_file_version=1,
        max_file_version=0x01020303,
        release_notes="fixes",
        force=True,
    )
    entry = z2m_entry(_facts(data, "my fw (1).ota"), opts)
    assert entry == {
        "fileName": "my fw (1).ota",
        "fileVersion": 0x01020304,
        "fileSize": len(data),
        "url": "https://example.com/fw/my%20fw%20(1).ota",
        "imageType": 0xABCD,
        "manufacturerCode": 0x1234,
        "sha512": hashlib.sha512(data).hexdigest(),
        "otaHeaderString": "test image",
        "hardwareVersionMin": 0x0102,
        "hardwareVersionMax": 0x0304,
        "modelId": "LAMP-1",
        "manufacturerName": ["Acme"],
        "minFileVersion": 1,
        "maxFileVersion": 0x01020303,
        "releaseNotes": "fixes",
        "force": True,
    }
    # zigbee-OTA's key order (addImageToBase), then the extra metas.
    assert list(entry)[:9] == [
        "fileName",
        "fileVersion",
        "fileSize",
        "url",
        "imageType",
        "manufacturerCode",
        "sha512",
        "otaHeaderString",
        "hardwareVersionMin",
    ]


def test_zigpy_entry_local_exact() -> None:
    data = _image()
    entry = zigpy_entry(_facts(data), IndexOptions(model_id="LAMP-1", specificity=3), "sub/fw.ota")
    assert entry == {
        "path": "sub/fw.ota",
        "file_version": 0x01020304,
        "file_size": len(data),
        "image_type": 0xABCD,
        "manufacturer_id": 0x1234,
        "checksum": "sha3-256:" + hashlib.sha3_256(data).hexdigest(),
        "model_names": ["LAMP-1"],
        "specificity": 3,
    }


def test_local_paths_must_stay_below_the_index() -> None:
    facts = _facts(_image())
    for bad in ("../fw.ota", "/abs/fw.ota", "a/../../b.ota"):
        with pytest.raises(ValueError, match="relative POSIX"):
            z2m_entry(facts, IndexOptions(), bad)


def test_header_string_rule_of_zigbee_ota() -> None:
    # buffer.toString("utf8", 20, 52).replaceAll("\0", ""): NULs anywhere removed, bad UTF-8 replaced.
    header = OtaHeader.create(manufacturer_code=1, image_type=2, file_version=3, header_string=b"ab\0cd\xff")
    assert ota_header_string(header) == "abcd\ufffd"


def test_url_escaping_matches_encode_uri_component() -> None:
    assert file_url("https://h/x", "a b+c&d~e!'()*.ota") == "https://h/x/a%20b%2Bc%26d~e!'()*.ota"


def test_size_warning_for_trailing_bytes() -> None:
    data = _image() + b"\x01\x02\x03\x04"
    facts = _facts(data)
    assert facts.file_size == facts.total_image_size + 4
    warning = size_warning(facts)
    assert warning is not None
    assert "zigpy" in warning
    assert str(len(data)) in warning
    assert size_warning(_facts(_image())) is None
    assert z2m_entry(facts, IndexOptions(url_base="https://h"))["fileSize"] == len(data)


# --- zigpy as the oracle ---------------------------------------------------------------------


def _write_local(tmp_path: Path, fmt: IndexFormat) -> tuple[Path, bytes]:
    data = _image(hw=True)
    (tmp_path / "fw").mkdir()
    (tmp_path / "fw" / "fw.ota").write_bytes(data)
    opts = IndexOptions(model_id="LAMP-1", manufacturer_names=("Acme",))
    entry = (z2m_entry if fmt is IndexFormat.Z2M else zigpy_entry)(_facts(data), opts, "fw/fw.ota")
    index = tmp_path / "index.json"
    index.write_text(json.dumps(index_document([entry], fmt)))
    return index, data


@pytest.mark.parametrize("fmt", list(IndexFormat))
def test_zigpy_local_providers_load_and_fetch(tmp_path: Path, fmt: IndexFormat) -> None:
    """zigpy validates the index with its own schema, then checks size and checksum on fetch."""
    from zigpy.ota import providers

    index, data = _write_local(tmp_path, fmt)
    cls = providers.LocalZ2MProvider if fmt is IndexFormat.Z2M else providers.LocalZigpyProvider

    async def load() -> list[providers.BaseOtaImageMetadata]:
        found = await cls(index).load_index()
        assert found is not None
        for meta in found:
            image = await meta.fetch()  # length + checksum validated, then parsed by zigpy
            assert image.serialize() == data  # type: ignore[no-untyped-call]
        return found

    (meta,) = asyncio.run(load())
    assert isinstance(meta, providers.LocalOtaImageMetadata)
    assert meta.path == tmp_path / "fw" / "fw.ota"
    assert (meta.file_version, meta.manufacturer_id, meta.image_type) == (0x01020304, 0x1234, 0xABCD)
    assert meta.model_names == ("LAMP-1",)
    assert meta.manufacturer_names == ("Acme",)
    assert (meta.min_hardware_version, meta.max_hardware_version) == (0x0102, 0x0304)
    assert meta.file_size == len(data)


@pytest.mark.parametrize("fmt", list(IndexFormat))
def test_zigpy_schema_with_format_checker_accepts_remote_entries(fmt: IndexFormat) -> None:
    import jsonschema  # type: ignore[import-untyped]
    from zigpy.ota import json_schemas, providers

    data = _image()
    opts = IndexOptions(url_base="https://example.com/ota", release_notes="notes", specificity=1)
    if fmt is IndexFormat.Z2M:
        opts = IndexOptions(url_base="https://example.com/ota", release_notes="notes", force=False)
    entry = (z2m_entry if fmt is IndexFormat.Z2M else zigpy_entry)(_facts(data), opts)
    document = index_document([entry], fmt)
    schema = json_schemas.Z2M_SCHEMA if fmt is IndexFormat.Z2M else json_schemas.REMOTE_PROVIDER_SCHEMA
    jsonschema.validate(document, schema, format_checker=jsonschema.FormatChecker())
    if fmt is IndexFormat.Z2M:
        (meta,) = providers.BaseZ2MProvider._load_z2m_index(document)
        assert meta.checksum == "sha512:" + hashlib.sha512(data).hexdigest()
    else:
        (meta,) = providers.BaseZigpyProvider._load_zigpy_index(document)
        assert meta.checksum == "sha3-256:" + hashlib.sha3_256(data).hexdigest()
    assert isinstance(meta, providers.RemoteOtaImageMetadata)
    assert meta.url == "https://example.com/ota/fw.ota"


def test_file_length_is_what_zigpy_checks(tmp_path: Path) -> None:
    """With trailing bytes, zigpy accepts the file length and rejects the header's total size."""
    from zigpy.ota import providers

    data = _image() + b"\0\0\0\0"
    (tmp_path / "fw.ota").write_bytes(data)
    facts = _facts(data)
    assert size_warning(facts) is not None
    entry = zigpy_entry(facts, IndexOptions())
    index = tmp_path / "index.json"

    async def fetch() -> None:
        found = await providers.LocalZigpyProvider(index).load_index()
        assert found is not None
        await found[0].fetch()

    index.write_text(json.dumps(index_document([entry], IndexFormat.ZIGPY)))
    asyncio.run(fetch())
    index.write_text(
        json.dumps(index_document([{**entry, "file_size": facts.total_image_size}], IndexFormat.ZIGPY))
    )
    with pytest.raises(ValueError, match="Image size is invalid"):
        asyncio.run(fetch())


# --- merge rules -----------------------------------------------------------------------------


def _z2m(name: str, version: int, digest: str, model: str | None = None, mfr: int = 1) -> dict[str, object]:
    entry: dict[str, object] = {
        "fileName": name,
        "fileVersion": version,
        "fileSize": 100,
        "url": name,
        "imageType": 2,
        "manufacturerCode": mfr,
        "sha512": digest * 128,
    }
    if model is not None:
        entry["modelId"] = model
    return entry


def test_merge_appends_unmatched_in_order() -> None:
    existing = [_z2m("a", 1, "a", model="W"), _z2m("b", 1, "b", mfr=2)]
    result = merge(existing, [_z2m("c", 1, "c", mfr=3), _z2m("d", 1, "d", model="X")], IndexFormat.Z2M)
    assert [e["fileName"] for e in result.entries] == ["a", "b", "c", "d"]
    assert [a.kind for a in result.actions] == [MergeKind.APPEND, MergeKind.APPEND]


def test_merge_replaces_older_in_place() -> None:
    existing = [_z2m("a", 1, "a"), _z2m("b", 1, "b", mfr=2), _z2m("m", 1, "m", model="X")]
    result = merge(existing, [_z2m("a2", 2, "c")], IndexFormat.Z2M)
    assert [e["fileName"] for e in result.entries] == ["a2", "b", "m"]
    (action,) = result.actions
    assert (action.kind, action.old_name, action.position) == (MergeKind.REPLACE, "a", 0)


def test_merge_model_is_part_of_the_key() -> None:
    existing = [_z2m("m", 1, "m", model="X")]
    result = merge(existing, [_z2m("n", 2, "n", model="Y")], IndexFormat.Z2M)
    assert [e["fileName"] for e in result.entries] == ["m", "n"]


def test_merge_same_file_refreshes() -> None:
    result = merge([_z2m("a", 1, "a")], [_z2m("a-copy", 1, "a")], IndexFormat.Z2M)
    assert [e["fileName"] for e in result.entries] == ["a-copy"]
    assert result.actions[0].kind is MergeKind.SAME


def test_merge_collision_names_both_files() -> None:
    with pytest.raises(MergeError) as caught:
        merge([_z2m("old.ota", 1, "a")], [_z2m("new.ota", 1, "b")], IndexFormat.Z2M)
    assert "old.ota" in caught.value.message
    assert "new.ota" in caught.value.message
    assert "\n" not in caught.value.message
    assert caught.value.exit_code == 2


def test_merge_collision_between_two_new_files() -> None:
    result = plan_merge([], [_z2m("x", 1, "a"), _z2m("y", 1, "b")], IndexFormat.Z2M)
    assert [a.kind for a in result.actions] == [MergeKind.APPEND, MergeKind.COLLIDE]
    assert [e["fileName"] for e in result.entries] == ["x"]


def test_merge_refuses_downgrade_unless_allowed() -> None:
    with pytest.raises(MergeError, match="older than"):
        merge([_z2m("new", 5, "a")], [_z2m("old", 4, "b")], IndexFormat.Z2M)
    result = merge([_z2m("new", 5, "a")], [_z2m("old", 4, "b")], IndexFormat.Z2M, allow_downgrade=True)
    assert [e["fileName"] for e in result.entries] == ["old"]


def test_check_mode_reports_without_raising_or_mutating() -> None:
    existing = [_z2m("a", 1, "a"), _z2m("b", 3, "b", mfr=2)]
    before = json.dumps(existing)
    result = plan_merge(existing, [_z2m("a2", 2, "c"), _z2m("b2", 3, "d", mfr=2)], IndexFormat.Z2M)
    assert [a.describe() for a in result.actions] == [
        "a2 (version 0x00000002): replaces a (version 0x00000001) for 0x0001/0x0002",
        "b2 (version 0x00000003) is for the same devices (0x0002/0x0002) and version as "
        "b (version 0x00000003) but a different file (digest)",
    ]
    assert len(result.refusals) == 1
    assert json.dumps(existing) == before


def test_merge_zigpy_uses_checksum_and_model_names() -> None:
    def entry(path: str, version: int, digest: str, models: list[str] | None = None) -> dict[str, object]:
        e: dict[str, object] = {
            "path": path,
            "file_version": version,
            "file_size": 1,
            "image_type": 2,
            "manufacturer_id": 1,
            "checksum": "sha3-256:" + digest * 64,
        }
        if models is not None:
            e["model_names"] = models
        return e

    result = merge([entry("a", 1, "a"), entry("m", 1, "m", ["X"])], [entry("a2", 2, "b")], IndexFormat.ZIGPY)
    assert [e["path"] for e in result.entries] == ["a2", "m"]
    with pytest.raises(
        MergeError,
        match=r"^m2 \(version 0x00000001\) .* as m \(version 0x00000001\) but a different file \(digest\)$",
    ):
        merge([entry("m", 1, "m", ["X"])], [entry("m2", 1, "z", ["X"])], IndexFormat.ZIGPY)


def test_index_entries_checks_shape() -> None:
    assert index_entries({"firmwares": []}, IndexFormat.ZIGPY) == []
    with pytest.raises(InputError, match="not a zigpy index"):
        index_entries([], IndexFormat.ZIGPY)
    with pytest.raises(InputError, match="not a z2m index"):
        index_entries({"firmwares": []}, IndexFormat.Z2M)
    with pytest.raises(InputError, match=r"entry 0 .* no 'sha512'"):
        index_entries(
            [{"fileVersion": 1, "fileSize": 1, "manufacturerCode": 1, "imageType": 1, "url": "x"}],
            IndexFormat.Z2M,
        )
