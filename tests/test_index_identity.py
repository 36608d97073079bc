"""Issue 21: an index never offers a device another board's firmware.

The merge cases run the CLI the way a custom-firmware project does (one ``index
--merge`` per board, boards sharing manufacturer code and image type).  The ``--check``
simulation is checked against the real libraries on generated indexes:

* zigbee-herdsman's own ``Device.findMatchingOtaImage`` (the npm package unpacked with
  ``npm pack`` into a temporary folder, run by ``tests/herdsman_match.js``), and
* zigpy's own ``OTA.get_ota_images`` over its local provider (the files on disk are
  fetched, length- and checksum-checked by zigpy).

For every device the index names, all three must pick the same entry.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ota_action.formats.zigbee.elements import SubElement
from ota_action.formats.zigbee.header import OtaHeader
from ota_action.formats.zigbee.image import build_image
from ota_action.publish import matching
from ota_action.publish.identity import identity
from ota_action.publish.index import IndexFormat
from tests.conftest import ROOT, need_tool, run_cli

HERDSMAN = "zigbee-herdsman@10.9.5"  # the version payloads-and-fleets.md read
# The registry's dist.integrity of that tarball: what runs as the oracle is what was read.
HERDSMAN_SHA512 = "iAbHRsM4YkyYrP65pp3NgPOfbkG6+iEC4V+WWT0qVJO82tDtW26r+eTqxOkF0ieeOLW+TA0TUZ0JZ6rgMwgKoQ=="
URL = "https://raw.githubusercontent.com/acme/fw/v1.2.0"
MFR, TYPE = 0x1141, 0xAA07


@dataclass(frozen=True)
class Board:
    name: str
    model: str
    vendor: str


BOARDS = [Board(f"BOARD_{i:02d}", f"TS{i:04d}", f"_TZ3000_{i:08x}") for i in range(12)]


def _build(path: Path, version: int, *, mfr: int = MFR, image_type: int = TYPE, seed: str = "") -> bytes:
    header = OtaHeader.create(manufacturer_code=mfr, image_type=image_type, file_version=version)
    data = build_image(header, [SubElement(0x0000, (seed or path.as_posix()).encode() * 16)], integrity=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def _merge(
    tmp_path: Path, board: Board, file: Path, *extra: str, index: str = "index.json"
) -> tuple[int, str]:
    result = run_cli(
        "index", file, "--root", tmp_path / "bin", "--url-base", URL, "--model-id", board.model,
        "--manufacturer-name", board.vendor, "--merge", tmp_path / index, "-o", tmp_path / index, *extra,
    )  # fmt: skip
    return result.code, result.err


# --- merges, the project's way ---------------------------------------------------------------


def test_per_board_merges_of_boards_sharing_codes_all_succeed(tmp_path: Path) -> None:
    for board in BOARDS:  # every board's file has the same name, in its own folder
        _build(tmp_path / "bin" / board.name / "tlc_switch-1.1.2.zigbee", 0x11023000)
        code, err = _merge(tmp_path, board, tmp_path / "bin" / board.name / "tlc_switch-1.1.2.zigbee")
        assert code == 0, err
    entries = json.loads((tmp_path / "index.json").read_text())
    assert [(e["modelId"], e["manufacturerName"]) for e in entries] == [(b.model, [b.vendor]) for b in BOARDS]
    assert [e["url"] for e in entries] == [f"{URL}/{b.name}/tlc_switch-1.1.2.zigbee" for b in BOARDS]
    assert len({e["sha512"] for e in entries}) == len(BOARDS)


def test_a_version_bump_replaces_only_its_own_entry(tmp_path: Path) -> None:
    for board in BOARDS[:4]:
        _build(tmp_path / "bin" / board.name / "fw-1.zigbee", 1)
        assert _merge(tmp_path, board, tmp_path / "bin" / board.name / "fw-1.zigbee")[0] == 0
    before = json.loads((tmp_path / "index.json").read_text())
    _build(tmp_path / "bin" / BOARDS[2].name / "fw-2.zigbee", 2)
    code, err = _merge(tmp_path, BOARDS[2], tmp_path / "bin" / BOARDS[2].name / "fw-2.zigbee")
    assert code == 0, err
    after = json.loads((tmp_path / "index.json").read_text())
    assert [after[i] == before[i] for i in range(4)] == [True, True, False, True]
    assert (after[2]["fileVersion"], after[2]["url"]) == (2, f"{URL}/{BOARDS[2].name}/fw-2.zigbee")


def test_a_true_collision_fails_naming_both_entries(tmp_path: Path) -> None:
    board = BOARDS[0]
    _build(tmp_path / "bin" / "a" / "fw.zigbee", 1)
    assert _merge(tmp_path, board, tmp_path / "bin" / "a" / "fw.zigbee")[0] == 0
    before = (tmp_path / "index.json").read_bytes()
    # The same board's devices, named by manufacturer only: both entries would match them.
    _build(tmp_path / "bin" / "b" / "other.zigbee", 3)
    result = run_cli(
        "index", tmp_path / "bin" / "b" / "other.zigbee", "--url-base", URL, "--manufacturer-name",
        board.vendor, "--merge", tmp_path / "index.json", "-o", tmp_path / "index.json",
    )  # fmt: skip
    assert result.code == 2, result.err
    assert (
        f"{URL}/other.zigbee (version 0x00000003) collides with {URL}/a/fw.zigbee (version 0x00000001)"
        in result.err
    )
    assert f"--merge {str(tmp_path / 'index.json')!r}" in result.err
    assert f"model {board.model!r}, manufacturer name {board.vendor!r}" in result.err
    assert (tmp_path / "index.json").read_bytes() == before


def test_a_downgrade_quotes_both_versions_and_names_the_option(tmp_path: Path) -> None:
    board = BOARDS[1]
    _build(tmp_path / "bin" / "new.zigbee", 0x01020300)
    assert _merge(tmp_path, board, tmp_path / "bin" / "new.zigbee")[0] == 0
    _build(tmp_path / "bin" / "old.zigbee", 0x01020100)
    code, err = _merge(tmp_path, board, tmp_path / "bin" / "old.zigbee")
    assert code == 2
    assert f"{URL}/old.zigbee (version 0x01020100) is older than {URL}/new.zigbee (version 0x01020300)" in err
    assert "--allow-downgrade" in err
    code, err = _merge(tmp_path, board, tmp_path / "bin" / "old.zigbee", "--allow-downgrade")
    assert code == 0, err
    assert [e["fileVersion"] for e in json.loads((tmp_path / "index.json").read_text())] == [0x01020100]


def test_urls_keep_the_folder_and_two_files_never_share_one(tmp_path: Path) -> None:
    _build(tmp_path / "bin" / "A one" / "fw.zigbee", 1, image_type=1)
    _build(tmp_path / "bin" / "B#2" / "fw.zigbee", 1, image_type=2)
    result = run_cli("index", tmp_path / "bin", "--url-base", URL + "/", "-o", tmp_path / "i.json")
    assert result.code == 0, result.err
    urls = [e["url"] for e in json.loads((tmp_path / "i.json").read_text())]
    assert urls == [f"{URL}/A%20one/fw.zigbee", f"{URL}/B%232/fw.zigbee"]
    # Named one by one, each file is relative to its own folder: the same URL, refused.
    result = run_cli(
        "index", tmp_path / "bin" / "A one" / "fw.zigbee", tmp_path / "bin" / "B#2" / "fw.zigbee",
        "--url-base", URL, "-o", tmp_path / "j.json",
    )  # fmt: skip
    assert result.code == 2
    assert f"{URL}/fw.zigbee to two different files" in result.err
    assert not (tmp_path / "j.json").exists()


# --- the real libraries as oracles of --check ------------------------------------------------


@pytest.fixture(scope="session")
def herdsman_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """zigbee-herdsman's dist/ (``OTA_HERDSMAN_DIST``, else ``npm pack`` into a temporary folder)."""
    given = os.environ.get("OTA_HERDSMAN_DIST")
    if given:
        return Path(given)
    npm = need_tool("npm")
    need_tool("node")
    folder = tmp_path_factory.mktemp("herdsman")
    subprocess.run(
        [npm, "pack", "--silent", HERDSMAN], cwd=folder, check=True, capture_output=True, timeout=300
    )
    (tarball,) = folder.glob("zigbee-herdsman-*.tgz")
    digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    assert digest == HERDSMAN_SHA512, f"{HERDSMAN} from npm is not the tarball the tests pin"
    with tarfile.open(tarball) as archive:
        archive.extractall(folder, filter="data")
    return folder / "package" / "dist"


def herdsman_picks(dist: Path, index: Path, devices: list[matching.Device]) -> list[int | None]:
    job = {
        "index": str(index.resolve()),
        "devices": [
            {
                "modelID": d.model,
                "manufacturerName": d.manufacturer_name,
                "imageType": d.image_type,
                "manufacturerCode": d.manufacturer,
                "fileVersion": d.current_version,
                "hardwareVersion": d.hardware,
            }
            for d in devices
        ],
    }
    done = subprocess.run(
        ["node", str(ROOT / "tests" / "herdsman_match.js"), str(dist)],
        input=json.dumps(job), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    picks: list[int | None] = json.loads(done.stdout)
    return picks


def zigpy_picks(index: Path, devices: list[matching.Device], fmt: IndexFormat) -> list[int | None]:
    """zigpy's OTA manager, one local provider, asked for each device's upgrades."""
    from zigpy.ota import OTA, providers
    from zigpy.zcl.clusters.general import QueryNextImageCommand

    cls = providers.LocalZ2MProvider if fmt is IndexFormat.Z2M else providers.LocalZigpyProvider
    document = json.loads(index.read_text())
    entries = document if fmt is IndexFormat.Z2M else document["firmwares"]
    paths = [(index.parent / e["path"]).resolve() for e in entries]

    class FakeDevice:
        def __init__(self, d: matching.Device) -> None:
            self.model, self.manufacturer, self.manufacturer_id = d.model, d.manufacturer_name, d.manufacturer

    async def run() -> list[int | None]:
        ota = OTA({"enabled": False}, None)  # type: ignore[arg-type]
        ota.register_provider(cls(index))
        out: list[int | None] = []
        for d in devices:
            field_control = QueryNextImageCommand.FieldControl(0 if d.hardware is None else 1)  # type: ignore[no-untyped-call]
            query = QueryNextImageCommand(
                field_control=field_control, manufacturer_code=d.manufacturer, image_type=d.image_type,
                current_file_version=d.current_version, hardware_version=d.hardware,
            )  # fmt: skip
            result = await ota.get_ota_images(FakeDevice(d), query)  # type: ignore[arg-type]
            if not result.upgrades:
                out.append(None)
                continue
            meta = result.upgrades[0].metadata
            assert isinstance(meta, providers.LocalOtaImageMetadata)
            out.append(paths.index(Path(meta.path).resolve()))
        return out

    return asyncio.run(run())


def _fleet(tmp_path: Path, fmt: IndexFormat, boards: int = 40) -> Path:
    """40 boards x 3 variants sharing codes; one index of normal files and one of the rest."""
    index = tmp_path / "bin" / "index.json"
    for i in range(boards):
        board = Board(f"B{i:02d}", f"TS{i % 7:04d}-{i // 7}", f"_TZ3000_{i:08x}")
        folder = tmp_path / "bin" / board.name
        _build(folder / "fw.zigbee", 0x11023000)
        _build(folder / "from_tuya.zigbee", 0xFFFFFFFE, mfr=0x1002, image_type=0xD3A3)
        for name in ("fw.zigbee", "from_tuya.zigbee"):
            result = run_cli(
                "index", folder / name, "--model-id", board.model, "--manufacturer-name", board.vendor,
                "--format", fmt.value, "--merge", index, "-o", index,
            )  # fmt: skip
            assert result.code == 0, result.err
    return index


def _devices_and_owners(
    entries: list[dict[str, Any]], fmt: IndexFormat
) -> tuple[list[matching.Device], list[int]]:
    devices, owners = [], []
    for position, entry in enumerate(entries):
        for device in matching.devices_of(identity(entry, fmt)):
            devices.append(device)
            owners.append(position)
    return devices, owners


@pytest.mark.parametrize("fmt", list(IndexFormat))
def test_a_fleet_index_offers_every_device_its_own_file_in_both_hubs(
    tmp_path: Path, fmt: IndexFormat, herdsman_dist: Path
) -> None:
    index = _fleet(tmp_path, fmt)
    document = json.loads(index.read_text())
    entries = document if fmt is IndexFormat.Z2M else document["firmwares"]
    assert len(entries) == 80
    devices, owners = _devices_and_owners(entries, fmt)
    ours = [matching.pick(entries, d, fmt) for d in devices]
    assert ours == owners
    assert zigpy_picks(index, devices, fmt) == owners
    if fmt is IndexFormat.Z2M:
        assert herdsman_picks(herdsman_dist, index, devices) == owners
    check = run_cli("index", "--check", "--merge", index)
    assert check.code == 0, check.out + check.err
    assert (
        f"Checked 80 entries of {index} for Zigbee2MQTT and ZHA: 80 devices, each is offered its own file"
        in (check.out.replace("\n    ", " "))
    )


def _shadowing_index(tmp_path: Path) -> Path:
    """A generic entry (no model) before a board's own: the herdsman pattern that misleads."""
    generic = _build(tmp_path / "g.ota", 7, seed="generic")
    own = _build(tmp_path / "own.ota", 8, seed="own")
    del generic, own
    first = run_cli("index", tmp_path / "g.ota", "--manufacturer-name", "_TZ_A", "-o", tmp_path / "i.json")
    assert first.code == 0, first.err
    entries = json.loads((tmp_path / "i.json").read_text())
    second = run_cli("index", tmp_path / "own.ota", "--model-id", "M1", "--manufacturer-name", "_TZ_A",
                     "-o", tmp_path / "j.json")  # fmt: skip
    assert second.code == 0, second.err
    entries += json.loads((tmp_path / "j.json").read_text())
    (tmp_path / "bad.json").write_text(json.dumps(entries))
    return tmp_path / "bad.json"


def test_check_reports_a_cross_board_offer_that_herdsman_really_makes(
    tmp_path: Path, herdsman_dist: Path
) -> None:
    index = _shadowing_index(tmp_path)
    entries = json.loads(index.read_text())
    device = matching.devices_of(identity(entries[1], IndexFormat.Z2M))[0]
    assert herdsman_picks(herdsman_dist, index, [device]) == [0] == [matching.z2m_pick(entries, device)]
    check = run_cli("index", "--check", "--merge", index)
    assert check.code == 1
    assert "index-cross-offer" not in check.out  # codes are in --json; the text says it in words
    assert (
        "Zigbee2MQTT offers g.ota (built for other devices) to device 0x1141/0xAA07, model 'M1'" in check.out
    )
    assert "not own.ota" in check.out


def test_check_reports_an_entry_no_device_can_reach(tmp_path: Path) -> None:
    _build(tmp_path / "old.ota", 1, seed="old")
    _build(tmp_path / "new.ota", 2, seed="new")
    for name in ("old", "new"):
        assert (
            run_cli(
                "index", tmp_path / f"{name}.ota", "--format", "zigpy", "-o", tmp_path / f"{name}.json"
            ).code
            == 0
        )
    firmwares = [json.loads((tmp_path / f"{n}.json").read_text())["firmwares"][0] for n in ("old", "new")]
    (tmp_path / "both.json").write_text(json.dumps({"firmwares": firmwares}))
    devices = matching.devices_of(identity(firmwares[0], IndexFormat.ZIGPY))
    assert zigpy_picks(tmp_path / "both.json", devices, IndexFormat.ZIGPY) == [1]  # zigpy: the newest
    check = run_cli("index", "--check", "--json", "--merge", tmp_path / "both.json")
    assert check.code == 1
    codes = [f["code"] for f in json.loads(check.out)["findings"]]
    assert codes == ["index-unreachable"]
    assert "old.ota is unreachable: ZHA (zigpy) offers new.ota" in check.out


# --- zigpy-ota's publishing kit ----------------------------------------------------------------


def test_zigpy_ota_kit_names_each_file_and_writes_a_sidecar_yaml_reads_back(tmp_path: Path) -> None:
    import hashlib

    from ruamel.yaml import YAML

    data = _build(tmp_path / "bin" / "A" / "fw.zigbee", 0x01020304)
    notes = '- fixes\n- "quoted": &anchor !tag | more'
    result = run_cli(
        "index", tmp_path / "bin", "--format", "zigpy-ota", "--model-id", "TS0001", "--manufacturer-name",
        "_TZ3000_a", "--manufacturer-name", "Ünïcode", "--min-file-version", "0x01000000",
        "--release-notes", notes, "--url-base", URL, "-o", tmp_path / "kit",
    )  # fmt: skip
    assert result.code == 0, result.err
    name = f"1141-AA07-01020304_{hashlib.sha3_256(data).hexdigest()[:6]}.ota"
    assert sorted(p.name for p in (tmp_path / "kit").iterdir()) == [name, name + ".yaml"]
    assert (tmp_path / "kit" / name).read_bytes() == data
    meta = YAML(typ="safe").load((tmp_path / "kit" / (name + ".yaml")).read_text(encoding="utf-8"))
    assert meta == {
        "file_name": name,
        "source_file_name": "fw.zigbee",
        "source_url": f"{URL}/A/fw.zigbee",
        "release_notes": notes,
        "manufacturer_names": ["_TZ3000_a", "Ünïcode"],
        "model_names": ["TS0001"],
        "min_current_file_version": 0x01000000,
    }
    refused = run_cli("index", tmp_path / "bin", "--format", "zigpy-ota", "--merge", tmp_path / "x.json",
                      "-o", tmp_path / "kit")  # fmt: skip
    assert refused.code == 2
    assert "not to --format zigpy-ota" in refused.err
    again = run_cli("index", tmp_path / "bin", "--format", "zigpy-ota", "-o", tmp_path / "kit")
    assert again.code == 0, again.err  # rewriting a kit folder is fine
    assert not YAML(typ="safe").load((tmp_path / "kit" / (name + ".yaml")).read_text()).get("model_names")


# --- the pickers against the real libraries on random indexes ----------------------------------


def _random_index(tmp_path: Path, fmt: IndexFormat, seed: int) -> tuple[Path, list[matching.Device]]:
    """Entries over 2 codes x 2 image types with random models, names, hardware and version
    ranges (real files behind them, so zigpy can fetch and check each), and random devices."""
    import random

    from ota_action.publish.index import IndexOptions, file_facts, index_entry

    rng = random.Random(seed)
    models, names = ["M1", "M2", "M3"], ["_A", "_B", "_C"]
    entries = []
    for i in range(24):
        mfr, kind = rng.choice((0x1141, 0x1002)), rng.choice((1, 2))
        hw = sorted(rng.sample(range(0, 8), 2)) if rng.random() < 0.3 else None
        header = OtaHeader.create(
            manufacturer_code=mfr, image_type=kind, file_version=rng.randrange(1, 40),
            minimum_hardware_version=None if hw is None else hw[0],
            maximum_hardware_version=None if hw is None else hw[1],
        )  # fmt: skip
        data = build_image(header, [SubElement(0, f"file {i}".encode() * 8)], integrity=False)
        (tmp_path / f"f{i:02d}.ota").write_bytes(data)
        with (tmp_path / f"f{i:02d}.ota").open("rb") as f:
            facts = file_facts(f, f"f{i:02d}.ota")
        low = rng.choice((None, 5, 10))
        opts = IndexOptions(
            model_id=rng.choice((None, *models)),
            manufacturer_names=tuple(rng.sample(names, rng.randrange(0, 3))),
            min_file_version=low,
            max_file_version=rng.choice((None, 20, 30)) if low is None else None,
            specificity=rng.choice((None, 1)) if fmt is IndexFormat.ZIGPY else None,
        )
        entries.append(index_entry(fmt, facts, opts, f"f{i:02d}.ota"))
    document = entries if fmt is IndexFormat.Z2M else {"firmwares": entries}
    (tmp_path / "index.json").write_text(json.dumps(document))
    devices = [
        matching.Device(
            rng.choice((0x1141, 0x1002)),
            rng.choice((1, 2)),
            rng.choice(models),
            rng.choice(names),
            rng.choice((None, 0, 3, 7)),
            rng.choice((0, 5, 12, 25, 35)),
        )
        for _ in range(150)
    ]
    return tmp_path / "index.json", devices


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_z2m_picker_is_herdsmans_on_random_indexes(
    tmp_path: Path, seed: int, herdsman_dist: Path
) -> None:
    index, devices = _random_index(tmp_path, IndexFormat.Z2M, seed)
    entries = json.loads(index.read_text())
    ours = [matching.z2m_pick(entries, d) for d in devices]
    assert ours == herdsman_picks(herdsman_dist, index, devices)
    assert len({p for p in ours if p is not None}) > 3  # the devices reach several entries


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_zigpy_picker_is_zigpys_on_random_indexes(tmp_path: Path, seed: int) -> None:
    index, devices = _random_index(tmp_path, IndexFormat.ZIGPY, seed)
    entries = json.loads(index.read_text())["firmwares"]
    ours = [matching.zigpy_pick(entries, d) for d in devices]
    assert ours == zigpy_picks(index, devices, IndexFormat.ZIGPY)
    assert len({p for p in ours if p is not None}) > 3
