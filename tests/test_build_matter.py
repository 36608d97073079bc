"""``build FLEET.toml`` with Matter images beside the Zigbee files (``matter = {...}``).

Oracles: Simplicity Commander's ``ota create --type matter`` on the same payload and values
must give the same bytes as the Matter image the build writes, and the build's
``format = "dcl"`` index must equal ``index --format dcl`` over the built images (one
mapping); the Zigbee files stay byte-identical to ``zbota`` for the same values.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import run_cli
from tests.test_matter import COMMANDER

MANIFEST = """
[defaults]
manufacturer_code = 0x1141
url_base = "https://dl.example/fw/"
version_scheme = "ncs"

[defaults.matter]
vendor_id = 0xFFF1
digest = "sha256"

[[image]]
board = "A"
payload = "app.bin"
image_type = 0xAA07
version = "1.2.3"
model_id = "A"
matter = { product_id = 0x8001 }
variants = [ { suffix = "-forced", version = 0xFFFFFFFF, index = "forced" } ]

[[image]]
board = "B"
payload = "app.bin"
image_type = 0xAA08
version = "1.2.4"
model_id = "B"

[image.matter]  # the table form: the last [[image]]'s matter
product_id = 0x8002
version = 7
version_string = "7.0"
min_version = 2
release_notes_url = "https://n.example/7"
digest = "sha512"

[[image]]
board = "C"
payload = "app.bin"
image_type = 0xAA09
version = "1.2.5"
model_id = "C"

[[index]]
name = "z2m.json"

[[index]]
name = "dcl.json"
format = "dcl"
"""
PAYLOAD = bytes(range(251)) * 40


def _build(tmp_path: Path, manifest: str = MANIFEST) -> tuple[int, str, dict[str, object]]:
    (tmp_path / "app.bin").write_bytes(PAYLOAD)
    (tmp_path / "fleet.toml").write_text(manifest)
    result = run_cli("build", tmp_path / "fleet.toml", "--json")
    return result.code, result.err, json.loads(result.out) if result.code == 0 else {}


def _commander(tmp_path: Path, *args: str) -> bytes:
    out = tmp_path / "commander.ota"
    run = subprocess.run(
        [str(COMMANDER), "ota", "create", "--type", "matter", "--input", str(tmp_path / "app.bin"),
         "-o", str(out), *args],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    return out.read_bytes()


def test_matter_images_equal_commanders_beside_the_zigbee_files(tmp_path: Path) -> None:
    code, err, result = _build(tmp_path)
    assert code == 0, err
    files = {(f["board"], f["kind"], f["variant"]): f for f in result["files"]}  # type: ignore[attr-defined]
    assert set(files) == {
        ("A", "zigbee", ""), ("A", "zigbee", "forced"), ("B", "zigbee", ""), ("C", "zigbee", ""),
        ("A", "matter", ""), ("B", "matter", ""),
    }  # fmt: skip
    dist = tmp_path / "dist"
    a = dist / "A" / "fff1-8001-01020003-A.ota"  # the Zigbee release's version (ncs: 0x01020003)
    b = dist / "B" / "fff1-8002-00000007-B.ota"
    assert a.read_bytes() == _commander(
        tmp_path, "--vendorid", "0xFFF1", "--productid", "0x8001", "--swversion", str(0x01020003),
        "--swstring", "1.2.3", "--digest", "sha256",
    )  # fmt: skip
    assert b.read_bytes() == _commander(
        tmp_path, "--vendorid", "0xFFF1", "--productid", "0x8002", "--swversion", "7", "--swstring", "7.0",
        "--min-sw", "2", "--releasenote", "https://n.example/7", "--digest", "sha512",
    )  # fmt: skip
    assert files[("A", "matter", "")]["file_version"] == 0x01020003
    # The Zigbee index holds the Zigbee files only; the ledger index the Matter images only.
    z2m = json.loads((dist / "z2m.json").read_text())
    assert sorted(e["url"].rsplit("/", 1)[1] for e in z2m) == [
        "1141-aa07-01020003-A.zigbee", "1141-aa08-01020004-B.zigbee", "1141-aa09-01020005-C.zigbee",
    ]  # fmt: skip
    (tmp_path / "dcl-cli.json").unlink(missing_ok=True)
    cli = run_cli(
        "index", "--format", "dcl", a, b, "--url-base", "https://dl.example/fw/", "--root", dist,
        "-o", tmp_path / "dcl-cli.json",
    )  # fmt: skip
    assert cli.code == 0, cli.err
    assert json.loads((dist / "dcl.json").read_text()) == json.loads((tmp_path / "dcl-cli.json").read_text())


def test_matter_keys_are_checked_by_matter_settings_naming_image_and_key(tmp_path: Path) -> None:
    cases = {
        "matter = { product_id = 0x8001 }": None,
        "matter = { product_id = 0 }": "'matter.product_id'",
        "matter = { product_id = 0x8001, min_version = 0x01020003 }": "'matter.min_version'",
        "matter = { product_id = 0x8001, colour = 1 }": "'matter.colour'",
        "matter = { product_id = 0x8001, dcl_out = 'x.json' }": "'matter.dcl_out'",
        "matter = { product_id = 0x8001, version = '1.2.3.4.5' }": "'matter.version'",
    }
    for line, problem in cases.items():
        manifest = MANIFEST.replace("matter = { product_id = 0x8001 }", line)
        code, err, _ = _build(tmp_path, manifest)
        if problem is None:
            assert code == 0, err
            continue
        assert code == 2, (line, err)
        assert "image A (matter)" in err, err
        assert problem in err, (line, err)


def test_variant_matter_and_name_clashes_are_refused(tmp_path: Path) -> None:
    variant = MANIFEST.replace('index = "forced" }', 'index = "forced", matter = { product_id = 1 } }')
    code, err, _ = _build(tmp_path, variant)
    assert code == 2
    assert "a variant is a Zigbee file" in err
    clash = MANIFEST.replace(
        "matter = { product_id = 0x8001 }",
        "matter = { product_id = 0x8001, name = 'A/1141-aa07-01020003-A.zigbee' }",
    )
    (tmp_path / "c").mkdir()
    code, err, _ = _build(tmp_path / "c", clash)
    assert code == 2
    assert "writes the same file as image A" in err
    none = MANIFEST.replace('format = "dcl"', 'format = "dcl"\nimages = ["C"]')
    (tmp_path / "d").mkdir()
    code, err, _ = _build(tmp_path / "d", none)
    assert code == 2
    assert "selects no Matter image" in err
    assert not (tmp_path / "d" / "dist").exists()
