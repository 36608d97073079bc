"""extract: files + ota.json whose zbota arguments rebuild the file byte for byte.

Where the arguments use only options zbota has today, the real CLI rebuilds the file; the
new options (--integrity-variant, --allow-duplicate-tag, --string-hex) are checked through
:func:`rebuild`, the reference for what zbota must do with them.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ota_action.commands.extract import zbota_args
from ota_action.formats.zigbee import aes
from ota_action.formats.zigbee.elements import SubElement
from ota_action.formats.zigbee.extract import ExtractPlan, plan_extract, rebuild, string_option
from ota_action.formats.zigbee.header import OtaHeader
from ota_action.formats.zigbee.image import build_image
from tests.conftest import run_cli
from tests.test_rewrap import ref_code

NEW_OPTIONS = ("--integrity-variant", "--allow-duplicate-tag", "--string-hex")


def _plan(data: bytes) -> ExtractPlan:
    return plan_extract(io.BytesIO(data), len(data), backend=aes.get())


def _files(plan: ExtractPlan, data: bytes) -> dict[str, bytes]:
    return {f.name: data[f.offset : f.offset + f.length] for f in plan.files}


def _rebuild_with_cli(
    plan: ExtractPlan, data: bytes, directory: Path, monkeypatch: pytest.MonkeyPatch
) -> bytes:
    for name, content in _files(plan, data).items():
        (directory / name).write_bytes(content)
    (directory / "ota.json").write_text(json.dumps({**plan.manifest, "zbota_args": zbota_args(plan.recipe)}))
    args = json.loads((directory / "ota.json").read_text())["zbota_args"]
    monkeypatch.chdir(directory)
    result = run_cli("zbota", *args, "-o", "rebuilt.ota")
    assert result.code == 0, result.err
    return (directory / "rebuilt.ota").read_bytes()


def _header(**kw: object) -> OtaHeader:
    values: dict[str, object] = {
        "manufacturer_code": 0x1234,
        "image_type": 0x0005,
        "file_version": 0x01000001,
    }
    values.update(kw)
    return OtaHeader.create(**values)  # type: ignore[arg-type]


def test_plain_file_exact_plan_and_cli_rebuild(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    header = _header(header_string=b"-dash first", minimum_hardware_version=1, maximum_hardware_version=2)
    data = build_image(header, [SubElement(0xF000, b"abc"), SubElement(0x0000, bytes(300))], integrity=True)
    plan = _plan(data)
    assert [f.name for f in plan.files] == ["00-0xF000.bin", "01-0x0000.bin", "02-0x0003.bin"]
    assert zbota_args(plan.recipe) == [
        "--mfg-id=0x1234",
        "--image-type=0x0005",
        "--version=0x01000001",
        "--string=-dash first",
        "--min-hwv=0x0001",
        "--max-hwv=0x0002",
        "--tag=0xF000:00-0xF000.bin",
        "--tag=0x0000:01-0x0000.bin",
        "--integrity",
    ]
    manifest = plan.manifest
    assert manifest["header"]["file_version"] == 0x01000001
    assert manifest["header"]["header_string_hex"] == (b"-dash first".ljust(32, b"\0")).hex()
    assert manifest["integrity_variant"] == "standard"
    assert manifest["not_rebuildable"] is None
    assert _rebuild_with_cli(plan, data, tmp_path, monkeypatch) == data


def test_align_padding_rebuilds_with_align(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = build_image(_header(), [SubElement(0x0000, bytes(100))], align=256, fill=0xAA)
    plan = _plan(data)
    args = zbota_args(plan.recipe)
    assert args is not None
    assert "--align=256" in args
    assert "--fill=0xAA" in args
    assert all(not a.startswith("--tag=0xFFFF") for a in args)
    assert _rebuild_with_cli(plan, data, tmp_path, monkeypatch) == data


def test_reserved_tag_uses_allow_reserved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = build_image(_header(), [SubElement(0x0000, b"x"), SubElement(0xCDEF, b"nordic")])
    plan = _plan(data)
    args = zbota_args(plan.recipe)
    assert args is not None
    assert args[-1] == "--allow-reserved-tag"
    assert _rebuild_with_cli(plan, data, tmp_path, monkeypatch) == data


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (bytes(32), (None, False)),
        (b"NULL".ljust(32, b"\0"), ("NULL", False)),
        (b"A" * 32, ("A" * 32, False)),
        (b" " * 32, ((b" " * 32).hex(), True)),
        (b"ab\0cd".ljust(32, b"\0"), (b"ab\0cd".ljust(32, b"\0").hex(), True)),
        (b"\x0agood_image".ljust(32, b"\0"), (b"\x0agood_image".ljust(32, b"\0").hex(), True)),
        (b"caf\xc3\xa9".ljust(32, b"\0"), (b"caf\xc3\xa9".ljust(32, b"\0").hex(), True)),
    ],
)
def test_string_option(raw: bytes, expected: tuple[str | None, bool]) -> None:
    assert string_option(raw) == expected


@pytest.mark.parametrize("variant", ["covers-tag-header", "short-padding-only"])
def test_new_options_only_when_needed(variant: str) -> None:
    from ota_action.formats.zigbee.integrity import IntegrityVariant

    header = _header(header_string=b" padded ")
    elements = [SubElement(0xF006, b"1"), SubElement(0x0000, bytes(9000)), SubElement(0xF006, b"2")]
    base = build_image(header, elements, integrity=True)
    data = base[:-16] + ref_code(base, IntegrityVariant(variant))
    plan = _plan(data)
    args = zbota_args(plan.recipe)
    assert args is not None
    assert f"--integrity-variant={variant}" in args
    assert "--allow-duplicate-tag" in args
    assert f"--string-hex={b' padded '.ljust(32, bytes(1)).hex()}" in args
    assert plan.recipe is not None
    assert rebuild(plan.recipe, _files(plan, data).__getitem__, backend=aes.get()) == data
    plain = zbota_args(_plan(build_image(_header(), [SubElement(0x0000, b"x")], integrity=True)).recipe)
    assert plain is not None
    assert not [a for a in plain if a.startswith(NEW_OPTIONS)]


def test_not_rebuildable_is_explained() -> None:
    signed = build_image(_header(), [SubElement(0x0000, b"x"), SubElement(0x0001, bytes(50))])
    assert "signature element 0x0001" in (_plan(signed).not_rebuildable or "")
    trailing = build_image(_header(), [SubElement(0x0000, b"x")]) + b"\0\0\0\0"
    plan = _plan(trailing)
    assert zbota_args(plan.recipe) is None
    assert plan.manifest["zbota_args"] is None
    assert plan.manifest["not_rebuildable"] == "4 bytes follow the total image size; zbota writes none"
    # the files are still planned: extract writes every element
    assert [f.name for f in plan.files] == ["00-0x0000.bin"]


def test_file_names_are_plain_and_widen() -> None:
    data = build_image(_header(), [SubElement(0xF000 + i, b"") for i in range(101)])
    names = [f.name for f in _plan(data).files]
    assert names[0] == "000-0xF000.bin"
    assert names[100] == "100-0xF064.bin"
    assert all("/" not in n and "\\" not in n and not n.startswith(".") for n in names)


def test_ota_json_header_is_the_inspect_json_header(tmp_path: Path) -> None:
    """One header->JSON mapping: what ota.json records is what inspect --json prints."""
    header = _header(
        header_string=b"one map", upgrade_file_destination=0x0011223344556677, zigbee_stack_version=3
    )
    path = tmp_path / "a.ota"
    path.write_bytes(build_image(header, [SubElement(0x0000, b"x")]))
    assert run_cli("extract", path, "-d", tmp_path / "x").code == 0
    manifest = json.loads((tmp_path / "x" / "ota.json").read_text())["header"]
    shown = json.loads(run_cli("inspect", path, "--json").out)
    assert len(manifest) == 14
    assert {key: shown[key] for key in manifest} == manifest
    assert manifest["upgrade_file_destination"] == "0011223344556677"
