"""The issue-14 commands as users run them: zbota's new options, rewrap, extract, index.

Oracles: an independent AES-MMO (tests/test_rewrap.py, over ``cryptography``'s AES),
zlib's CRC-32, hashlib, zigpy's own loaders for the written index, and hand-written
expected entries.  Every refusal is exit 2, one line naming the option, and no file.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import zlib
from pathlib import Path

import pytest

from ota_action.formats.zigbee.elements import SubElement
from ota_action.formats.zigbee.header import OtaHeader
from ota_action.formats.zigbee.image import build_image, parse_image
from ota_action.formats.zigbee.integrity import IntegrityVariant
from tests.conftest import ROOT, run_cli
from tests.test_rewrap import ref_code

PAYLOAD = bytes(range(256)) * 40  # 10240 bytes: past 8192, where the padding forms differ


def _zbota(tmp_path: Path, *extra: str, out: str = "out.ota") -> tuple[int, str, Path]:
    (tmp_path / "app.bin").write_bytes(PAYLOAD)
    (tmp_path / "meta.bin").write_bytes(b"meta")
    result = run_cli(
        "zbota",
        "-m",
        "0x1234",
        "-i",
        "0x0042",
        "-v",
        "0x01020304",
        "-t",
        f"0x0000:{tmp_path / 'app.bin'}",
        *extra,
        "-o",
        tmp_path / out,
    )
    return result.code, result.err, tmp_path / out


def _refused(code: int, err: str, *names: str) -> None:
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    for name in names:
        assert name in err, err


# --- zbota: what real files contain ------------------------------------------------------


@pytest.mark.parametrize("variant", list(IntegrityVariant))
def test_zbota_integrity_variants_match_an_independent_aes_mmo(
    tmp_path: Path, variant: IntegrityVariant
) -> None:
    code, err, out = _zbota(tmp_path, "--integrity", f"--integrity-variant={variant.value}")
    assert code == 0, err
    data = out.read_bytes()
    assert data[-16:] == ref_code(data, variant)
    parsed = parse_image(data)
    assert parsed.integrity.valid
    assert parsed.integrity.variant is variant


def test_zbota_non_standard_variant_warns_naming_the_devices(tmp_path: Path) -> None:
    (tmp_path / "app.bin").write_bytes(PAYLOAD)
    result = run_cli(
        "zbota", "-m", "1", "-i", "1", "-v", "1", "-t", f"0:{tmp_path / 'app.bin'}",
        "--integrity", "--integrity-variant", "covers-tag-header", "-o", tmp_path / "o.ota", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    findings = json.loads(result.out)["findings"]
    assert [f["code"] for f in findings] == ["integrity-variant"]
    assert "NodOn" in findings[0]["message"]


def test_zbota_variant_needs_integrity(tmp_path: Path) -> None:
    code, err, out = _zbota(tmp_path, "--integrity-variant=short-padding-only")
    _refused(code, err, "--integrity-variant", "--integrity")
    assert not out.exists()


def test_zbota_duplicate_tags_only_when_allowed(tmp_path: Path) -> None:
    meta = f"0xF000:{tmp_path / 'meta.bin'}"
    code, err, out = _zbota(tmp_path, "-t", meta, "-t", meta)
    _refused(code, err, "--tag", "0xF000", "--allow-duplicate-tag")
    assert not out.exists()
    code, err, out = _zbota(tmp_path, "-t", meta, "-t", meta, "--allow-duplicate-tag")
    assert code == 0, err
    parsed = parse_image(out.read_bytes())
    assert [e.tag for e in parsed.elements] == [0x0000, 0xF000, 0xF000]


def test_zbota_string_hex_writes_the_raw_bytes(tmp_path: Path) -> None:
    raw = b"AB\x00garbage\xff" + bytes(20)
    code, err, out = _zbota(tmp_path, "--string-hex", raw.hex())
    assert code == 0, err
    assert out.read_bytes()[20:52] == raw.ljust(32, b"\0")
    code, err, out = _zbota(tmp_path, "--string-hex", "41" * 33, out="o2.ota")
    _refused(code, err, "--string-hex", "32")
    assert not out.exists()


def test_zbota_string_and_string_hex_are_exclusive(tmp_path: Path) -> None:
    code, err, out = _zbota(tmp_path, "--string", "x", "--string-hex", "41")
    _refused(code, err, "--string-hex", "--string")
    assert not out.exists()


def test_zbota_crc_trailer_is_zlib_crc32_of_the_image(tmp_path: Path) -> None:
    code, err, out = _zbota(tmp_path, "--crc-trailer", "--integrity")
    assert code == 0, err
    data = out.read_bytes()
    image, trailer = data[:-4], data[-4:]
    assert trailer == zlib.crc32(image).to_bytes(4, "little")
    assert parse_image(data).header.total_image_size == len(image)


def test_zbota_outputs_sha512_and_sha3(tmp_path: Path) -> None:
    from ota_action.commands import COMMANDS
    from ota_action.settings import load

    (tmp_path / "app.bin").write_bytes(PAYLOAD)
    command = COMMANDS["zbota"].load()
    settings = load(
        command.settings,
        {"mfg_id": "1", "image_type": "1", "version": "1", "tags": [f"0:{tmp_path / 'app.bin'}"],
         "outfile": str(tmp_path / "o.ota")},
        environ={},
    )  # fmt: skip
    from ota_action.edges import published

    published_here = published.INDEX_DIGESTS.set(True)  # as the Action door does
    try:
        outputs = command.run(settings).outputs(tmp_path)
    finally:
        published.INDEX_DIGESTS.reset(published_here)
    data = (tmp_path / "o.ota").read_bytes()
    assert outputs["sha512"] == hashlib.sha512(data).hexdigest()
    assert outputs["sha3-256"] == hashlib.sha3_256(data).hexdigest()
    assert outputs["sha256"] == hashlib.sha256(data).hexdigest()


# --- rewrap ------------------------------------------------------------------------------


def _file(
    variant: IntegrityVariant | None = IntegrityVariant.STANDARD, *, tags: tuple[int, ...] = ()
) -> bytes:
    header = OtaHeader.create(
        manufacturer_code=0x1234, image_type=0x0042, file_version=0x00000005, header_string=b"rewrap"
    )
    elements = [SubElement(0x0000, PAYLOAD), *(SubElement(t, b"x" * 48) for t in tags)]
    return build_image(
        header, elements, integrity=variant is not None, variant=variant or IntegrityVariant.STANDARD
    )


@pytest.mark.parametrize("variant", [None, *IntegrityVariant])
def test_rewrap_without_change_is_the_identity(tmp_path: Path, variant: IntegrityVariant | None) -> None:
    data = _file(variant)
    (tmp_path / "in.ota").write_bytes(data)
    result = run_cli("rewrap", tmp_path / "in.ota", "-o", tmp_path / "out.ota")
    assert result.code == 0, result.err
    assert (tmp_path / "out.ota").read_bytes() == data


@pytest.mark.parametrize("variant", list(IntegrityVariant))
def test_rewrap_new_version_verifies_in_the_same_variant(tmp_path: Path, variant: IntegrityVariant) -> None:
    (tmp_path / "in.ota").write_bytes(_file(variant))
    result = run_cli(
        "rewrap", tmp_path / "in.ota", "-o", tmp_path / "out.ota", "--version", "2.0.0.1", "--json"
    )
    assert result.code == 0, result.err
    data = (tmp_path / "out.ota").read_bytes()
    assert int.from_bytes(data[14:18], "little") == 0x02000001
    assert data[-16:] == ref_code(data, variant)
    report = json.loads(result.out)
    assert report["old_file_version"] == 5
    assert report["integrity_variant"] == variant.value
    assert report["sha512"] == hashlib.sha512(data).hexdigest()
    verify = run_cli("verify", tmp_path / "out.ota", "--json")
    assert json.loads(verify.out)["integrity"]["variant"] == variant.value


def test_rewrap_in_place(tmp_path: Path) -> None:
    path = tmp_path / "fw.ota"
    path.write_bytes(_file())
    assert run_cli("rewrap", path, "-o", path, "--mfg-id", "0x4321").code == 0
    assert parse_image(path.read_bytes()).header.manufacturer_code == 0x4321
    assert parse_image(path.read_bytes()).integrity.valid


@pytest.mark.parametrize("tag", [0x0001, 0x0002, 0x0005, 0x0006])
def test_rewrap_refuses_signatures_unless_dropped(tmp_path: Path, tag: int) -> None:
    (tmp_path / "in.ota").write_bytes(_file(None, tags=(tag,)))
    result = run_cli("rewrap", tmp_path / "in.ota", "-o", tmp_path / "out.ota", "--version", "9")
    _refused(result.code, result.err, "IN", f"0x{tag:04X}", "--drop-signatures")
    assert not (tmp_path / "out.ota").exists()
    dropped = run_cli("rewrap", tmp_path / "in.ota", "-o", tmp_path / "out.ota", "--drop-signatures")
    assert dropped.code == 0, dropped.err
    assert [e.tag for e in parse_image((tmp_path / "out.ota").read_bytes()).elements] == [0x0000]


def test_rewrap_refuses_a_container(tmp_path: Path) -> None:
    inner = _file()
    ngis = b"NGIS" + bytes(12) + (28).to_bytes(4, "little") + len(inner).to_bytes(4, "little") + bytes(4)
    (tmp_path / "in.ota").write_bytes(ngis + inner + bytes(512))
    result = run_cli("rewrap", tmp_path / "in.ota", "-o", tmp_path / "out.ota")
    _refused(result.code, result.err, "IN", "ikea-ngis", "extract")
    assert not (tmp_path / "out.ota").exists()


def test_rewrap_string_options_are_exclusive(tmp_path: Path) -> None:
    (tmp_path / "in.ota").write_bytes(_file())
    result = run_cli(
        "rewrap", tmp_path / "in.ota", "-o", tmp_path / "o.ota", "--string", "a", "--string-hex", "41"
    )
    _refused(result.code, result.err, "--string-hex", "--string")
    assert not (tmp_path / "o.ota").exists()


# --- extract -----------------------------------------------------------------------------


def _rebuild(directory: Path) -> bytes:
    args = json.loads((directory / "ota.json").read_text())["zbota_args"]
    # The arguments name files relative to the directory: resolve them as `cd DIR` would.
    fixed = [a.replace(":", f":{directory}/", 1) if a.startswith("--tag=") else a for a in args]
    out = directory.parent / "rebuilt.ota"
    result = run_cli("zbota", *fixed, "-o", out)
    assert result.code == 0, result.err
    return out.read_bytes()


@pytest.mark.parametrize("variant", [None, *IntegrityVariant])
def test_extract_then_zbota_rebuilds_byte_for_byte(tmp_path: Path, variant: IntegrityVariant | None) -> None:
    header = OtaHeader.create(
        manufacturer_code=0x1234, image_type=0x0042, file_version=7, header_string=b" lead\x00tail\xfe"
    )
    elements = [SubElement(0xF000, b"m1"), SubElement(0x0000, PAYLOAD), SubElement(0xF000, b"m2")]
    data = build_image(
        header, elements, integrity=variant is not None, variant=variant or IntegrityVariant.STANDARD
    )
    (tmp_path / "in.ota").write_bytes(data)
    result = run_cli("extract", tmp_path / "in.ota", "-d", tmp_path / "x", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    code_file = [] if variant is None else ["03-0x0003.bin"]
    assert report["files"] == ["00-0xF000.bin", "01-0x0000.bin", "02-0xF000.bin", *code_file, "ota.json"]
    assert (tmp_path / "x" / "01-0x0000.bin").read_bytes() == PAYLOAD
    manifest = json.loads((tmp_path / "x" / "ota.json").read_text())
    assert "--allow-duplicate-tag" in manifest["zbota_args"]
    assert f"--string-hex={header.header_string.hex()}" in manifest["zbota_args"]
    assert _rebuild(tmp_path / "x") == data


def test_extract_never_overwrites_without_force(tmp_path: Path) -> None:
    (tmp_path / "in.ota").write_bytes(_file())
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "ota.json").write_text("mine")
    result = run_cli("extract", tmp_path / "in.ota", "-d", tmp_path / "x")
    _refused(result.code, result.err, "--directory", "ota.json", "--force")
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == ["ota.json"]
    assert (tmp_path / "x" / "ota.json").read_text() == "mine"
    forced = run_cli("extract", tmp_path / "in.ota", "-d", tmp_path / "x", "--force")
    assert forced.code == 0, forced.err
    assert json.loads((tmp_path / "x" / "ota.json").read_text())["zbota_args"]


def test_extract_unwraps_a_container(tmp_path: Path) -> None:
    inner = _file()
    ngis = b"NGIS" + bytes(12) + (28).to_bytes(4, "little") + len(inner).to_bytes(4, "little") + bytes(4)
    (tmp_path / "in.ota").write_bytes(ngis + inner + bytes(512))
    result = run_cli("extract", tmp_path / "in.ota", "-d", tmp_path / "x")
    assert result.code == 0, result.err
    assert (tmp_path / "x" / "payload.ota").read_bytes() == inner
    manifest = json.loads((tmp_path / "x" / "ota.json").read_text())
    assert manifest["container"]["kind"] == "ikea-ngis"
    assert manifest["payload"] == "payload.ota"
    assert _rebuild(tmp_path / "x") == inner


def test_extract_refuses_a_directory_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "in.ota").write_bytes(_file())
    (tmp_path / "x").write_text("file")
    result = run_cli("extract", tmp_path / "in.ota", "-d", tmp_path / "x")
    _refused(result.code, result.err, "--directory")


# --- index -------------------------------------------------------------------------------


def _publish(
    tmp_path: Path, version: int = 5, name: str = "fw.ota", payload: bytes = PAYLOAD, image_type: int = 0x42
) -> bytes:
    header = OtaHeader.create(manufacturer_code=0x1234, image_type=image_type, file_version=version)
    data = build_image(header, [SubElement(0x0000, payload)], integrity=True)
    (tmp_path / "files").mkdir(exist_ok=True)
    (tmp_path / "files" / name).write_bytes(data)
    return data


def test_index_z2m_entry_is_the_hand_written_one(tmp_path: Path) -> None:
    data = _publish(tmp_path)
    result = run_cli(
        "index", tmp_path / "files" / "fw.ota", "--url-base", "https://example.com/ota/",
        "--model-id", "LAMP 1", "-o", tmp_path / "index.json",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert json.loads((tmp_path / "index.json").read_text()) == [
        {
            "fileName": "fw.ota",
            "fileVersion": 5,
            "fileSize": len(data),
            "url": "https://example.com/ota/fw.ota",
            "imageType": 0x42,
            "manufacturerCode": 0x1234,
            "sha512": hashlib.sha512(data).hexdigest(),
            "otaHeaderString": "",
            "modelId": "LAMP 1",
        }
    ]


def test_index_finds_files_as_verify_does(tmp_path: Path) -> None:
    """Folders recursively (sorted, by suffix), globs expanded, a stray file skipped."""
    _publish(tmp_path, version=5, name="b.ota")
    (tmp_path / "files" / "sub").mkdir()
    _publish(tmp_path, version=6, name="sub/a.zigbee", image_type=0x43)  # another device
    (tmp_path / "files" / "notes.txt").write_text("not an OTA file")
    (tmp_path / "files" / "junk.bin").write_bytes(b"junk" * 20)
    result = run_cli("index", tmp_path / "files", "-o", tmp_path / "index.json")
    assert result.code == 0, result.err
    entries = json.loads((tmp_path / "index.json").read_text())
    assert [(e["path"], e["fileVersion"]) for e in entries] == [("files/b.ota", 5), ("files/sub/a.zigbee", 6)]
    assert "junk.bin" in result.out  # skipped with a warning, named
    globbed = run_cli("index", str(tmp_path / "files" / "**" / "*.zigbee"), "-o", tmp_path / "g.json")
    assert globbed.code == 0, globbed.err
    assert [e["path"] for e in json.loads((tmp_path / "g.json").read_text())] == ["files/sub/a.zigbee"]


def test_index_local_zigpy_is_loaded_by_zigpy(tmp_path: Path) -> None:
    from zigpy.ota import providers

    data = _publish(tmp_path)
    result = run_cli("index", tmp_path / "files", "--format", "zigpy", "-o", tmp_path / "index.json")
    assert result.code == 0, result.err
    document = json.loads((tmp_path / "index.json").read_text())
    assert document == {
        "firmwares": [
            {
                "path": "files/fw.ota",
                "file_version": 5,
                "file_size": len(data),
                "image_type": 0x42,
                "manufacturer_id": 0x1234,
                "checksum": "sha3-256:" + hashlib.sha3_256(data).hexdigest(),
            }
        ]
    }

    async def load() -> bytes:
        found = await providers.LocalZigpyProvider(tmp_path / "index.json").load_index()
        assert found is not None
        (meta,) = found
        image = await meta.fetch()  # zigpy checks length and checksum
        return bytes(image.serialize())  # type: ignore[no-untyped-call]

    assert asyncio.run(load()) == data


def test_index_options_reach_both_formats_and_zigpy_still_loads(tmp_path: Path) -> None:
    from zigpy.ota import providers

    data = _publish(tmp_path)
    common = [
        "--min-file-version", "0.0.0.2", "--max-file-version", "0x00000004",
        "--release-notes", "Fixes the LED\nand the button",
    ]  # fmt: skip
    z2m = run_cli("index", tmp_path / "files", *common, "--force-update", "-o", tmp_path / "z2m.json")
    assert z2m.code == 0, z2m.err
    (entry,) = json.loads((tmp_path / "z2m.json").read_text())
    assert {k: entry[k] for k in ("minFileVersion", "maxFileVersion", "releaseNotes", "force")} == {
        "minFileVersion": 2,
        "maxFileVersion": 4,
        "releaseNotes": "Fixes the LED\nand the button",
        "force": True,
    }
    zigpy = run_cli(
        "index", tmp_path / "files", "--format", "zigpy", *common, "--specificity", "3",
        "-o", tmp_path / "zigpy.json",
    )  # fmt: skip
    assert zigpy.code == 0, zigpy.err
    (firmware,) = json.loads((tmp_path / "zigpy.json").read_text())["firmwares"]
    keys = ("min_current_file_version", "max_current_file_version", "release_notes", "specificity")
    assert {k: firmware[k] for k in keys} == {
        "min_current_file_version": 2,
        "max_current_file_version": 4,
        "release_notes": "Fixes the LED\nand the button",
        "specificity": 3,
    }

    async def load() -> tuple[int | None, int | None, int | None]:
        found = await providers.LocalZigpyProvider(tmp_path / "zigpy.json").load_index()
        assert found is not None
        (meta,) = found
        assert bytes((await meta.fetch()).serialize()) == data  # type: ignore[no-untyped-call]
        return meta.min_current_file_version, meta.max_current_file_version, meta.specificity

    assert asyncio.run(load()) == (2, 4, 3)


@pytest.mark.parametrize(
    ("args", "where", "problem"),
    [
        (["--format", "zigpy", "--force-update"], "--force-update", "applies to the z2m format only"),
        (["--specificity", "1"], "--specificity '1'", "applies to the zigpy format only"),
        (
            ["--min-file-version", "5", "--max-file-version", "4"],
            "--min-file-version '0x00000005'",
            "is above",
        ),
        (["--release-notes", "a\x1b[31mb"], "--release-notes", "must be printable text"),
    ],
)
def test_index_option_refusals(tmp_path: Path, args: list[str], where: str, problem: str) -> None:
    _publish(tmp_path)
    result = run_cli("index", tmp_path / "files", *args, "-o", tmp_path / "index.json")
    assert result.code == 2, result.err
    assert where in result.err, result.err
    assert problem in result.err, result.err
    assert not (tmp_path / "index.json").exists()


def test_index_local_path_must_be_below_the_index(tmp_path: Path) -> None:
    _publish(tmp_path)
    (tmp_path / "out").mkdir()
    result = run_cli("index", tmp_path / "files" / "fw.ota", "-o", tmp_path / "out" / "index.json")
    _refused(result.code, result.err, "--url-base")
    assert not (tmp_path / "out" / "index.json").exists()


def test_index_warns_when_the_file_is_longer_than_its_image(tmp_path: Path) -> None:
    data = _publish(tmp_path)
    (tmp_path / "files" / "fw.ota").write_bytes(data + b"\0\0\0\0")
    result = run_cli("index", tmp_path / "files", "-o", tmp_path / "i.json", "--json")
    report = json.loads(result.out)
    assert [f["code"] for f in report["findings"]] == ["index-file-size"]
    assert report["entries"][0]["fileSize"] == len(data) + 4


def _index(tmp_path: Path, *files: str, extra: tuple[str, ...] = ()) -> tuple[int, str]:
    result = run_cli(
        "index", *(tmp_path / "files" / f for f in files), "--merge", tmp_path / "index.json",
        "-o", tmp_path / "index.json", *extra,
    )  # fmt: skip
    return result.code, result.err


def test_merge_replaces_the_older_entry_and_keeps_the_order(tmp_path: Path) -> None:
    _publish(tmp_path, 5, "a.ota")
    other = OtaHeader.create(manufacturer_code=0x9999, image_type=1, file_version=1)
    (tmp_path / "files" / "other.ota").write_bytes(build_image(other, [SubElement(0, b"o")]))
    assert run_cli("index", tmp_path / "files", "-o", tmp_path / "index.json").code == 0
    _publish(tmp_path, 6, "b.ota")
    code, err = _index(tmp_path, "b.ota")
    assert code == 0, err
    names = [e["fileName"] for e in json.loads((tmp_path / "index.json").read_text())]
    assert names == ["b.ota", "other.ota"]


def test_merge_refuses_same_version_with_another_digest(tmp_path: Path) -> None:
    _publish(tmp_path, 5, "a.ota")
    assert run_cli("index", tmp_path / "files" / "a.ota", "-o", tmp_path / "index.json").code == 0
    before = (tmp_path / "index.json").read_bytes()
    _publish(tmp_path, 5, "b.ota", payload=PAYLOAD[::-1])
    code, err = _index(tmp_path, "b.ota")
    _refused(code, err, "a.ota", "b.ota", "digest")
    assert (tmp_path / "index.json").read_bytes() == before


def test_merge_refuses_a_downgrade_unless_allowed(tmp_path: Path) -> None:
    _publish(tmp_path, 6, "new.ota")
    assert run_cli("index", tmp_path / "files" / "new.ota", "-o", tmp_path / "index.json").code == 0
    _publish(tmp_path, 5, "old.ota")
    code, err = _index(tmp_path, "old.ota")
    _refused(code, err, "old.ota", "new.ota", "older")
    code, err = _index(tmp_path, "old.ota", extra=("--allow-downgrade",))
    assert code == 0, err
    assert [e["fileName"] for e in json.loads((tmp_path / "index.json").read_text())] == ["old.ota"]


def test_merge_same_file_refreshes_in_place(tmp_path: Path) -> None:
    _publish(tmp_path, 5, "a.ota")
    assert run_cli("index", tmp_path / "files" / "a.ota", "-o", tmp_path / "index.json").code == 0
    before = (tmp_path / "index.json").read_bytes()
    code, err = _index(tmp_path, "a.ota")
    assert code == 0, err
    assert (tmp_path / "index.json").read_bytes() == before


def test_check_mode_reports_and_writes_nothing(tmp_path: Path) -> None:
    _publish(tmp_path, 5, "a.ota")
    assert run_cli("index", tmp_path / "files" / "a.ota", "-o", tmp_path / "index.json").code == 0
    before = (tmp_path / "index.json").read_bytes()
    _publish(tmp_path, 5, "b.ota", payload=b"other")
    _publish(tmp_path, 7, "c.ota")
    collide = run_cli(
        "index", tmp_path / "files" / "b.ota", "--merge", tmp_path / "index.json", "--check", "--json"
    )
    assert collide.code == 1
    report = json.loads(collide.out)
    assert [a["kind"] for a in report["actions"]] == ["collide"]
    assert [f["code"] for f in report["findings"]] == ["index-collision"]
    replace = run_cli(
        "index", tmp_path / "files" / "c.ota", "--merge", tmp_path / "index.json", "--check", "--json"
    )
    assert replace.code == 0
    assert json.loads(replace.out)["actions"][0]["kind"] == "replace"
    assert (tmp_path / "index.json").read_bytes() == before


def test_merge_format_must_match(tmp_path: Path) -> None:
    _publish(tmp_path)
    (tmp_path / "index.json").write_text('{"firmwares": []}')
    code, err = _index(tmp_path, "fw.ota", extra=("--format", "z2m"))
    _refused(code, err, "--merge", "zigpy")


def test_index_of_a_non_ota_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.ota").write_bytes(b"not an ota file at all")
    result = run_cli("index", tmp_path / "x.ota", "--url-base", "https://e.com", "-o", tmp_path / "i.json")
    _refused(result.code, result.err, "FILE|DIR", "not a Zigbee OTA file")
    assert not (tmp_path / "i.json").exists()


# --- the Action: build, describe, take apart, index, in one workspace ----------------------


def test_action_builds_rewraps_extracts_and_indexes(tmp_path: Path) -> None:
    from tests.test_action import ZBOTA, FakeRunner

    fake = FakeRunner(tmp_path)
    (fake.workspace / "firmware").mkdir()
    (fake.workspace / "firmware" / "app.hex").write_bytes((ROOT / "examples/firmware/app.hex").read_bytes())
    built = fake.run(ZBOTA)
    assert built.code == 0, built.stdout + built.stderr
    data = (fake.workspace / "dist" / "app.ota").read_bytes()
    assert built.outputs["sha512"] == hashlib.sha512(data).hexdigest()
    assert built.outputs["sha3-256"] == hashlib.sha3_256(data).hexdigest()

    rewrapped = fake.run(
        {"command": "rewrap", "image": "dist/app.ota", "outfile": "dist/v2.ota", "version": "2.0.0.0"}
    )
    assert rewrapped.code == 0, rewrapped.stdout + rewrapped.stderr
    assert rewrapped.outputs["ota-file"] == "dist/v2.ota"
    assert rewrapped.outputs["file-version"] == "0x02000000"
    v2 = (fake.workspace / "dist" / "v2.ota").read_bytes()
    assert rewrapped.outputs["sha3-256"] == hashlib.sha3_256(v2).hexdigest()

    extracted = fake.run({"command": "extract", "image": "dist/v2.ota", "directory": "parts"})
    assert extracted.code == 0, extracted.stdout + extracted.stderr
    assert extracted.outputs["directory"] == "parts"
    assert (fake.workspace / "parts" / "ota.json").is_file()

    indexed = fake.run(
        {"command": "index", "files": "dist/v2.ota", "outfile": "index.json", "model-id": "M1"}
    )
    assert indexed.code == 0, indexed.stdout + indexed.stderr
    assert indexed.outputs["index-file"] == "index.json"
    entry = json.loads(indexed.outputs["index-entry"])
    assert entry["url"] == "dist/v2.ota"
    assert entry["sha512"] == hashlib.sha512(v2).hexdigest()
    assert json.loads((fake.workspace / "index.json").read_text()) == [entry]


def test_action_extract_outside_the_workspace_is_refused(tmp_path: Path) -> None:
    from tests.test_action import FakeRunner, assert_failed

    fake = FakeRunner(tmp_path)
    (fake.workspace / "a.ota").write_bytes(_file())
    run = fake.run({"command": "extract", "image": "a.ota", "directory": "../outside"})
    assert_failed(run, 2, "directory")
    assert not (tmp_path / "outside").exists()
