"""Real files (issue 14) through the commands: extract -> zbota, rewrap identity, index vs MANIFEST.md.

Runs only with the corpus switched on (``OTA_TEST_CORPUS``; see tests/conftest.py): each
test uses the ``corpus_dir`` fixture, so it is deselected when the corpus is off and
fails (never skips) when a folder is missing.  Every file has a documented outcome
below: rebuilt and rewrapped byte for byte, or refused with the exact reason.  The files
are read where they are, never copied into the repository.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from ota_action.formats.zigbee.image import parse_image
from tests.conftest import CorpusDir, run_cli

SIGNED = "ota-static-sample.ota"
IKEA = "10082264-zingo_lds_stoftmoln-1.1.7.ota.ota.signed"
STRAY = "the sub-element walk does not end cleanly: 2 stray bytes at offset"
PAST = "claims"

# (folder, file) -> None when extract -> zbota and rewrap reproduce it byte for byte, else
# (reason extract gives for not rebuilding, what rewrap's refusal says).
OUTCOMES: dict[tuple[str, str], tuple[str, str] | None] = {
    ("ota", "1021-002a-001845ff-NLW.zigbee"): None,
    ("ota", "10F2-7B2A-0000-0005-02010230-m7b-r0.ota.zigbee"): None,
    ("ota", "HS1SA_EM-SALUS-0621-V14-190907.ota"): None,  # Salus CRC-32 trailer: --crc-trailer
    ("ota", "HumiditySensor_4.0.3.zigbee"): None,
    ("ota", "ZLL_Plug01_OnOff_MK_0x01020509.ota"): None,
    ("ota", SIGNED): (
        "zbota cannot write Smart Energy signature element 0x0002",
        "carries Smart Energy signature elements 0x0002",
    ),
    ("ota-vendor", IKEA): None,  # a container: its payload.ota is rebuilt; rewrap refuses below
    ("ota-vendor", "1135-0000-201000F8-FLS-PP3_RGBW_16Mhz.zigbee"): None,
    ("ota-vendor", "20220607175331_OTA_lumi.switch.acn029_0.0.0_211551_20220217_08B622.ota"): None,
    ("ota-vendor", "A60_DIM_T-0x00CD-0x03483712-MF_DIS.OTA"): (STRAY, "needs the plain sub-element layout"),
    ("ota-vendor", "CSB600_20170209.ota"): None,
    ("ota-vendor", "ConnectedLamp-Atmel-Target_0012.sbl-ota"): (PAST, "needs the plain sub-element layout"),
    ("ota-vendor", "Jasco_5_0_1_OnOff_45856_v6.ota"): None,
    ("ota-vendor", "Pico_Duo_Switch_V1.0.6.ota"): None,
    ("ota-vendor", "SN-TLSR8258-SWV2C-01-v1.0.9.ota"): (STRAY, "needs the plain sub-element layout"),
    ("ota-vendor", "WLS_553805664.fw"): None,
    ("ota-vendor", "dimmerpille_v2_0_v_4_combined_OTA.ota"): (PAST, "needs the plain sub-element layout"),
}
CASES = sorted(OUTCOMES)
# Vendor layouts extract cannot rebuild but rewrap keeps byte for byte (issue 18).
REWRAPPED_LAYOUTS = {
    "A60_DIM_T-0x00CD-0x03483712-MF_DIS.OTA",
    "ConnectedLamp-Atmel-Target_0012.sbl-ota",
    "SN-TLSR8258-SWV2C-01-v1.0.9.ota",
}


def _ids(cases: list[tuple[str, str]]) -> list[str]:
    return [name for _, name in cases]


def test_every_corpus_file_has_a_documented_outcome(corpus_dir: CorpusDir) -> None:
    present = {
        (folder, p.name)
        for folder in ("ota", "ota-vendor")
        for p in corpus_dir(folder).iterdir()
        if p.is_file() and p.name != "MANIFEST.md"
    }
    assert present == set(OUTCOMES)


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_extract_then_zbota_in_the_directory_rebuilds(
    case: tuple[str, str], corpus_dir: CorpusDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = corpus_dir(case[0]) / case[1]
    result = run_cli("extract", path, "-d", tmp_path / "x", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    manifest = json.loads((tmp_path / "x" / "ota.json").read_text(encoding="utf-8"))
    assert report["zbota_args"] == manifest["zbota_args"]
    expected = OUTCOMES[case]
    if expected is not None:
        assert manifest["zbota_args"] is None
        assert expected[0] in manifest["not_rebuildable"]
        return
    target = path.read_bytes()
    if case[1] == IKEA:
        assert manifest["container"]["kind"] == "ikea-ngis"
        inner = manifest["container"]
        target = target[inner["offset"] : inner["offset"] + inner["length"]]
        assert (tmp_path / "x" / "payload.ota").read_bytes() == target
    monkeypatch.chdir(tmp_path / "x")  # the arguments name files relative to the directory
    built = run_cli("zbota", *manifest["zbota_args"], "-o", tmp_path / "rebuilt.ota")
    assert built.code == 0, built.err
    assert (tmp_path / "rebuilt.ota").read_bytes() == target


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_rewrap_identity_or_documented_refusal(
    case: tuple[str, str], corpus_dir: CorpusDir, tmp_path: Path
) -> None:
    path = corpus_dir(case[0]) / case[1]
    result = run_cli("rewrap", path, "-o", tmp_path / "out.ota")
    expected = OUTCOMES[case]
    if case[1] == IKEA:
        assert result.code == 2
        assert "vendor container (ikea-ngis)" in result.err
    elif expected is not None and case[1] not in REWRAPPED_LAYOUTS:
        assert result.code == 2
        assert expected[1] in result.err
        assert len(result.err.strip().splitlines()) == 1
    else:
        assert result.code == 0, result.err
        assert (tmp_path / "out.ota").read_bytes() == path.read_bytes()
        return
    assert not (tmp_path / "out.ota").exists()


@pytest.mark.parametrize("case", [c for c in CASES if OUTCOMES[c] is None and c[1] != IKEA], ids=str)
def test_rewrap_new_version_keeps_the_variant(
    case: tuple[str, str], corpus_dir: CorpusDir, tmp_path: Path
) -> None:
    path = corpus_dir(case[0]) / case[1]
    data = path.read_bytes()
    result = run_cli("rewrap", path, "-o", tmp_path / "out.ota", "--version", "0xFFFFFFFE")
    assert result.code == 0, result.err
    out = (tmp_path / "out.ota").read_bytes()
    before, after = parse_image(data), parse_image(out)
    assert after.header.file_version == 0xFFFFFFFE
    assert len(out) == len(data)
    assert after.integrity.variant is before.integrity.variant
    assert after.integrity.valid is before.integrity.valid is not False


def test_rewrap_drops_signatures_when_asked(corpus_dir: CorpusDir, tmp_path: Path) -> None:
    path = corpus_dir("ota") / SIGNED
    result = run_cli("rewrap", path, "-o", tmp_path / "out.ota", "--drop-signatures", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["dropped"] == ["0x0002", "0x0001"]
    tags = {e.tag for e in parse_image((tmp_path / "out.ota").read_bytes()).elements}
    assert not tags & {0x0001, 0x0002, 0x0005, 0x0006}


def _manifest_rows(folders: list[Path]) -> dict[str, dict[str, int | str]]:
    """file name -> size, sha256 (or its first 16 digits) and header values from MANIFEST.md."""
    rows: dict[str, dict[str, int | str]] = {}
    for directory in folders:
        text = (directory / "MANIFEST.md").read_text(encoding="utf-8")
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


@pytest.mark.parametrize("fmt", ["z2m", "zigpy"])
def test_index_entries_match_the_manifest(corpus_dir: CorpusDir, tmp_path: Path, fmt: str) -> None:
    folders = [corpus_dir("ota"), corpus_dir("ota-vendor")]
    rows = _manifest_rows(folders)
    result = run_cli(
        "index", *folders, "--format", fmt, "--url-base", "https://example.com/ota",
        "-o", tmp_path / "index.json", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    report = json.loads(result.out)
    document = json.loads((tmp_path / "index.json").read_text(encoding="utf-8"))
    entries = document if fmt == "z2m" else document["firmwares"]
    assert len(entries) == len(OUTCOMES)
    sized: list[str] = []
    for path_text, entry in zip(report["files"], entries, strict=True):
        path = Path(path_text)
        data = path.read_bytes()
        row = next(
            r for name, r in rows.items() if path.name == name or path.name.startswith(name.split("…")[0])
        )
        assert hashlib.sha256(data).hexdigest().startswith(str(row["sha256"]))
        size = entry["fileSize"] if fmt == "z2m" else entry["file_size"]
        assert size == row["size"] == len(data)
        if fmt == "z2m":
            assert entry["sha512"] == hashlib.sha512(data).hexdigest()
            assert entry["url"] == "https://example.com/ota/" + path.name
            keys = {
                "manufacturerCode": "manufacturerCode",
                "imageType": "imageType",
                "fileVersion": "fileVersion",
            }
        else:
            assert entry["checksum"] == "sha3-256:" + hashlib.sha3_256(data).hexdigest()
            keys = {
                "manufacturerCode": "manufacturer_id",
                "imageType": "image_type",
                "fileVersion": "file_version",
            }
        for key, mine in keys.items():
            if key in row:
                assert entry[mine] == row[key], (path.name, key)
        header_total = int.from_bytes(data[52:56], "little") if data[:4] == b"\x1e\xf1\xee\x0b" else None
        if header_total is None or header_total != len(data):
            sized.append(path.name)
    warned = [f["message"].split(":", 1)[0] for f in report["findings"] if f["code"] == "index-file-size"]
    assert warned == sized
