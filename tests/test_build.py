"""``build FLEET.toml``: a whole fleet in one step (issue 21).

Oracles: the bytes ``zbota`` writes for the same values (the build must be byte-identical
to one ``zbota`` per image), zigbee-herdsman's own ``findMatchingOtaImage`` and zigpy's
own OTA manager over the written indexes (see ``tests/test_index_identity.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ota_action.publish import matching
from ota_action.publish.identity import identity
from ota_action.publish.index import IndexFormat
from tests.conftest import run_cli
from tests.test_index_identity import herdsman_dist, herdsman_picks, zigpy_picks

__all__ = ["herdsman_dist"]  # the fixture, imported so pytest finds it here

BOARDS = 40


def _fleet(tmp_path: Path, boards: int = BOARDS, *, extra: str = "") -> Path:
    lines = [
        "[defaults]",
        "manufacturer_code = 0x1141",
        'string = "Telink OTA Image"',
        'name = "{board}/{manufacturer_code:04x}-{image_type:04x}-{file_version:08x}-{board}.zigbee"',
        extra,
    ]
    for i in range(boards):
        board = f"TS{i:04d}_B"
        (tmp_path / "build" / board).mkdir(parents=True, exist_ok=True)
        (tmp_path / "build" / board / "app.bin").write_bytes(board.encode() * 64)
        lines += [
            "[[image]]",
            f'board = "{board}"',
            f'payload = "build/{board}/app.bin"',
            "image_type = 0xAA07",
            'version = "1.1.2.0"',
            f'manufacturer_names = ["_TZ3000_{i:08x}"]',
            f'model_id = "TS{i % 5:04d}"',  # five models shared by 40 boards, told apart by name
            "variants = [",
            '  { suffix = "-forced", version = 0xFFFFFFFF, index = "forced" },',
            '  { suffix = "-from_tuya", manufacturer_code = 0x1002, image_type = 0xD3A3, '
            + "version = 0xFFFFFFFE },",  # an inline table is one line in TOML 1.0
            "]",
        ]
    lines += [
        "[[index]]",
        'name = "index_router.json"',
        "images = \"variant != 'forced'\"",
        "[[index]]",
        'name = "index_forced.json"',
        "images = \"variant == 'forced'\"",
        "[[index]]",
        'name = "zha.json"',
        'format = "zigpy"',
        "images = \"variant != 'forced'\"",
    ]
    (tmp_path / "FLEET.toml").write_text("\n".join(lines) + "\n")
    return tmp_path / "FLEET.toml"


def _entries(path: Path) -> list[dict[str, object]]:
    document = json.loads(path.read_text())
    return document if isinstance(document, list) else document["firmwares"]


def test_a_fleet_of_40_boards_x_3_variants_in_one_run(tmp_path: Path, herdsman_dist: Path) -> None:
    manifest = _fleet(tmp_path)
    result = run_cli("build", manifest, "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["files_total"] == BOARDS * 3
    assert [i["entries"] for i in report["indexes"]] == [BOARDS * 2, BOARDS, BOARDS * 2]
    dist = tmp_path / "dist"
    for name, fmt in (("index_router.json", IndexFormat.Z2M), ("index_forced.json", IndexFormat.Z2M),
                      ("zha.json", IndexFormat.ZIGPY)):  # fmt: skip
        entries = _entries(dist / name)
        devices, owners = [], []
        for position, entry in enumerate(entries):
            for device in matching.devices_of(identity(entry, fmt)):
                devices.append(device)
                owners.append(position)
        assert len(devices) == len(entries)  # one model and one name per board
        assert zigpy_picks(dist / name, devices, fmt) == owners  # 0 cross-board offers, 0 unreachable
        if fmt is IndexFormat.Z2M:
            assert herdsman_picks(herdsman_dist, dist / name, devices) == owners


def test_each_image_is_the_file_zbota_writes(tmp_path: Path) -> None:
    manifest = _fleet(tmp_path, 2)
    assert run_cli("build", manifest).code == 0
    board = "TS0001_B"
    own = run_cli(
        "zbota", "-m", "0x1002", "-i", "0xD3A3", "-v", "0xFFFFFFFE", "--string", "Telink OTA Image",
        "-t", f"0x0000:{tmp_path / 'build' / board / 'app.bin'}", "-o", tmp_path / "alone.zigbee",
    )  # fmt: skip
    assert own.code == 0, own.err
    built = tmp_path / "dist" / board / f"1002-d3a3-fffffffe-{board}-from_tuya.zigbee"
    assert built.read_bytes() == (tmp_path / "alone.zigbee").read_bytes()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (('version = "1.1.2.0"', 'version = "1.1.2.300"', 1),
         "image TS0000_B: key 'version' = '1.1.2.300': has a part above 255"),
        (("image_type = 0xAA07", "image_typ = 0xAA07", 1),
         "image TS0000_B: key 'image_typ' = 43527: is neither"),
        (('manufacturer_names = ["_TZ3000_00000001"]\nmodel_id = "TS0001"',
          'manufacturer_names = ["_TZ3000_00000000"]\nmodel_id = "TS0000"', 1),
         "index index_router.json, image TS0001_B: "),
        (("index = \"forced\"", "index = \"forced\", crc_trailer = 5", 1), "key 'crc_trailer' = '5'"),
        (('images = "variant == \'forced\'"', 'images = "variant ~ 1"', 1), "is not a selection"),
    ],
)  # fmt: skip
def test_manifest_errors_name_the_image_the_key_and_the_value_and_write_nothing(
    tmp_path: Path, change: tuple[str, str, int], problem: str
) -> None:
    manifest = _fleet(tmp_path, 2)
    manifest.write_text(manifest.read_text().replace(*change))
    result = run_cli("build", manifest)
    assert result.code == 2, result.err
    assert problem in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert not (tmp_path / "dist").exists()


def test_two_images_may_not_write_one_file(tmp_path: Path) -> None:
    manifest = _fleet(tmp_path, 2, extra='name = "same.zigbee"')
    text = manifest.read_text().replace('name = "{board}/', 'name_unused = "{board}/')
    manifest.write_text(text.replace("name_unused = ", "# "))
    result = run_cli("build", manifest)
    assert result.code == 2
    assert "writes the same file as image TS0000_B" in result.err
    assert not (tmp_path / "dist").exists()


def _ncs_reference(text: str) -> int:
    """nRF Connect SDK's zb_add_ota_header.py convert_version_string_to_int, as it computes it."""
    numbers = text.split(".")
    js = [0x100 * 0x10000, 0x10000, 1]
    return sum(js[i] * int(numbers[i]) for i in range(3))


@pytest.mark.parametrize(
    ("scheme", "version", "expected"),
    [
        ("ncs", "2.7.31", _ncs_reference("2.7.31")),
        ("ncs", "v1.0.65535+build.9", _ncs_reference("1.0.65535")),
        ("dotted", "1.2.3", 0x01020300),
        ("integer", "0x00010203", 0x00010203),
    ],
)
def test_version_schemes_give_the_header_version(
    tmp_path: Path, scheme: str, version: str, expected: int
) -> None:
    manifest = _fleet(tmp_path, 1, extra=f'version_scheme = "{scheme}"')
    manifest.write_text(manifest.read_text().replace('version = "1.1.2.0"', f'version = "{version}"'))
    result = run_cli("build", manifest, "--json")
    assert result.code == 0, result.err
    versions = {f["variant"]: f["file_version"] for f in json.loads(result.out)["files"]}
    assert versions[""] == expected


@pytest.mark.parametrize(
    ("scheme", "version", "problem"),
    [
        ("ncs", "1.2.65536", "part 3 is 65536, above 65535"),
        ("ncs", "1.2.3-rc.1", "pre-release"),
        ("dotted", "1.2.3.4.5", "more than 4 parts"),
        ("semver", "1.2.3", "key 'version_scheme' = 'semver': must be dotted, ncs or integer"),
    ],
)
def test_a_version_a_scheme_cannot_hold_is_refused(
    tmp_path: Path, scheme: str, version: str, problem: str
) -> None:
    manifest = _fleet(tmp_path, 1, extra=f'version_scheme = "{scheme}"')
    manifest.write_text(manifest.read_text().replace('version = "1.1.2.0"', f'version = "{version}"'))
    result = run_cli("build", manifest)
    assert result.code == 2
    assert problem in result.err
    assert not (tmp_path / "dist").exists()


def test_the_action_builds_a_fleet_from_its_manifest_input(tmp_path: Path) -> None:
    from tests.test_action import FakeRunner

    fake = FakeRunner(tmp_path)
    _fleet(fake.workspace, 2)
    done = fake.run({"command": "build", "manifest": "FLEET.toml", "outdir": "out"})
    assert done.code == 0, done.stdout + done.stderr
    assert done.outputs["directory"] == "out"
    summary = json.loads(done.outputs["summary-json"])
    assert summary["files_total"] == 6
    assert [i["file"] for i in summary["indexes"]] == [
        "out/index_router.json",
        "out/index_forced.json",
        "out/zha.json",
    ]
    assert len(_entries(fake.workspace / "out" / "index_router.json")) == 4


def test_a_telink_fleet_is_the_projects_own_files_from_prepare_and_the_payloads_version(
    tmp_path: Path,
) -> None:
    """Issue 24's custom-firmware project: each board's compiler output, fixed up by
    ``prepare = "telink"`` and versioned by its own header (``version = "payload"``), is the
    byte-identical file the project's 12-line script and writer make (tests/test_telink.py)."""
    from tests.test_telink import IMAGE_TYPE, MFG, application, ota_file, project_script

    lines = ["[defaults]", f"manufacturer_code = {MFG:#x}", f"image_type = {IMAGE_TYPE:#x}"]
    lines += ['prepare = "telink"', 'version = "payload"']
    boards = {"TS0001": (5003, 0x10013001), "TS0002": (4096, 0x10023001), "TS0003": (77, 0x20003001)}
    for board, (size, version) in boards.items():
        (tmp_path / f"{board}.bin").write_bytes(application(size, version))
        lines += ["[[image]]", f'board = "{board}"', f'payload = "{board}.bin"', f'model_id = "{board}"']
        lines += ['variants = [{ suffix = "-forced", version = 0xFFFFFFFF, index = "forced" }]']
    (tmp_path / "FLEET.toml").write_text("\n".join(lines) + "\n")
    result = run_cli("build", tmp_path / "FLEET.toml", "--json")
    assert result.code == 0, result.err
    files = {(f["board"], f["variant"]): f for f in json.loads(result.out)["files"]}
    for board, (size, version) in boards.items():
        prepared = project_script(application(size, version))
        own = Path(files[board, ""]["file"])
        assert own.name == f"{MFG:04x}-{IMAGE_TYPE:04x}-{version:08x}-{board}.zigbee"
        assert own.read_bytes() == ota_file(prepared, version=version)
        forced = Path(files[board, "forced"]["file"]).read_bytes()
        assert forced == ota_file(prepared, version=0xFFFFFFFF)
