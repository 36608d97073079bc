"""What each read-only command imports, asserted by name (never by timing).

``verify`` and ``inspect`` are what a pre-commit hook runs on every commit, so they must
start without pydantic, pydantic-settings, structlog, cryptography (unless a
``--public-key`` asks for a signature check), the Intel HEX reader or the settings
models.  Each case runs the real CLI in a fresh interpreter and lists ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent
HEAVY = (
    "pydantic",
    "pydantic_core",
    "pydantic_settings",
    "structlog",
    "cryptography",
    "intelhex",
    "asyncio",
    "email",
    "ota_action.settings",
    # the firmware readers (verify needs only formats.firmware.kinds, the small table of
    # first bytes that tells a build's text file put where a binary belongs)
    "ota_action.formats.firmware.intelhex",
    "ota_action.formats.firmware.srecord",
    "ota_action.formats.firmware.elf",
    "ota_action.formats.firmware.read",
    "ota_action.formats.firmware.merge",
    "ota_action.results.combine",
    "ota_action.formats.xbee",  # the XBee and key modules are for --public-key only
    "ota_action.signing.keys",
)
FOR_KEYS = {"cryptography", "ota_action.formats.xbee", "ota_action.signing.keys"}
# What verify or inspect of a plain Zigbee file never imports (issue 25): each reader but
# the Zigbee one is chosen by the file's first bytes before it is imported, the payload
# kinds the file does not hold are not created, a single file needs no batch, reading
# needs neither the image builder nor the atomic-output side, and text needs no JSON.
NOT_FOR_A_ZIGBEE_FILE = (
    "ota_action.formats.matter",
    "ota_action.commands.matter_reading",
    "ota_action.results.matter",
    "ota_action.publish.dcl",
    "ota_action.commands.gbl_file",
    "ota_action.results.gbl_file",
    "pygbl",
    "ota_action.commands.signatures",
    "ota_action.commands.inspect_batch",
    "ota_action.results.batch",
    "ota_action.results.entries",
    "ota_action.formats.zigbee.payload_kinds",
    "ota_action.formats.zigbee.silabs",
    "ota_action.formats.zigbee.layouts_vendor",
    "ota_action.formats.mcuboot",
    "ota_action.formats.telink.image",
    "ota_action.formats.zigbee.image",
    "ota_action.results.zbota",
    "ota_action.results.written",
    "ota_action.formats.zigbee.sources",
    "ota_action.edges.outputs",
    "secrets",
    "tempfile",
    "html",
    "json",
)
# The batch machinery, imported at the top of commands/batch.py, whose single-file path
# is being made light on another branch (issue 25); xfail until that lands.
BATCH_ONLY = ("ota_action.edges.walk", "concurrent.futures", "logging")
PROBE = (  # json only after the modules are listed: whether the command imports it is asserted
    "import io, sys\n"
    "from ota_action.doors.cli import main\n"
    "code = main(sys.argv[1:], out=io.StringIO(), err=io.StringIO())\n"
    "modules = sorted(sys.modules)\n"
    "import json\n"
    "print(json.dumps({'code': code, 'modules': modules}))\n"
)


def imported(*args: str | Path, env: dict[str, str] | None = None) -> tuple[int, set[str]]:
    """Exit code and the modules loaded by ``ota-action ARGS`` in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=120,
        env=env,
    )
    report = json.loads(result.stdout.splitlines()[-1])
    return report["code"], set(report["modules"])


@pytest.fixture(scope="module")
def ota_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file with an integrity code, so verify runs AES-MMO too."""
    folder = tmp_path_factory.mktemp("startup")
    (folder / "fw.bin").write_bytes(bytes(range(256)) * 64)
    out = folder / "sub" / "a.ota"
    result = run_cli(
        "zbota",
        "-o",
        out,
        "-m",
        "0x1234",
        "-i",
        "0x0001",
        "-v",
        "1.2.3.4",
        "-t",
        f"0:{folder / 'fw.bin'}",
        "-ic",
    )
    assert result.code == 0, result.err
    (folder / "sub" / "b.zigbee").write_bytes(out.read_bytes())
    return out


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in HEAVY if m in modules)


def test_verify_one_file_imports_nothing_it_does_not_use(ota_file: Path) -> None:
    code, modules = imported("verify", ota_file)
    assert code == 0
    assert _heavy(modules) == []
    assert "ota_action.formats.zigbee.integrity" in modules  # it did check the code


@pytest.mark.parametrize(
    "args",
    [
        ("verify", "--json"),
        ("verify", "--quiet"),
        ("inspect",),
        ("inspect", "--json"),
    ],
)
def test_read_only_commands_stay_light(ota_file: Path, args: tuple[str, ...]) -> None:
    code, modules = imported(*args, ota_file)
    assert code == 0
    assert _heavy(modules) == []


@pytest.mark.parametrize("command", ["verify", "inspect"])
def test_a_zigbee_file_loads_only_the_zigbee_reader(ota_file: Path, command: str) -> None:
    code, modules = imported(command, ota_file)
    assert code == 0
    assert sorted(m for m in NOT_FOR_A_ZIGBEE_FILE if m in modules) == []
    assert "ota_action.commands.reading" in modules


@pytest.mark.xfail(reason="commands/batch.py imports them at its top (the batch branch)", strict=False)
def test_a_zigbee_file_loads_no_batch_machinery(ota_file: Path) -> None:
    _code, modules = imported("verify", ota_file)
    assert sorted(m for m in BATCH_ONLY if m in modules) == []


def test_json_is_imported_for_json_only(ota_file: Path) -> None:
    assert "json" in imported("verify", "--json", ota_file)[1]


def _ota_around(folder: Path, name: str, image: bytes) -> Path:
    from ota_action.formats.zigbee.elements import SubElement
    from tests.vendor_files import ota

    path = folder / name
    path.write_bytes(ota([SubElement(0x0000, image)]))
    return path


def test_each_other_reader_and_payload_kind_is_imported_for_its_own_files(tmp_path: Path) -> None:
    """The other side of the assertions above: a file of each kind still gets its code."""
    from tests.test_matter_verify import built
    from tests.vendor_files import ebl, gbl, hue_sbl, telink_ota

    (tmp_path / "bare.gbl").write_bytes(gbl())
    (tmp_path / "telink-encrypted.ota").write_bytes(telink_ota())
    (tmp_path / "hue.sbl-ota").write_bytes(hue_sbl())
    telink_app = bytearray(b"\xff" * 64)
    telink_app[8:12] = b"KNLT"
    cases = {
        tmp_path / "bare.gbl": {"ota_action.commands.gbl_file", "ota_action.results.gbl_file"},
        built(tmp_path): {"ota_action.formats.matter.image", "ota_action.results.matter"},
        _ota_around(tmp_path, "gbl.ota", gbl()): {"ota_action.formats.zigbee.silabs"},
        _ota_around(tmp_path, "ebl.ota", ebl()): {"ota_action.formats.zigbee.silabs"},
        _ota_around(tmp_path, "mcuboot.ota", (0x96F3B83D).to_bytes(4, "little") + bytes(60)): {
            "ota_action.formats.zigbee.payload_kinds",
            "ota_action.formats.mcuboot.image",
        },
        _ota_around(tmp_path, "telink.ota", bytes(telink_app)): {"ota_action.formats.telink.image"},
        tmp_path / "telink-encrypted.ota": {"ota_action.formats.zigbee.layouts_vendor"},
        tmp_path / "hue.sbl-ota": {"ota_action.formats.zigbee.layouts_vendor"},
    }
    for path, expected in cases.items():
        _code, modules = imported("verify", path)
        assert expected <= modules, path.name
        assert "ota_action.commands.matter_reading" not in modules or path.name == "app.ota"
        assert "ota_action.commands.gbl_file" not in modules or path.name == "bare.gbl"


def test_verify_of_a_folder_stays_light(ota_file: Path) -> None:
    code, modules = imported("verify", ota_file.parent)
    assert code == 0
    assert _heavy(modules) == []


def test_verify_from_the_environment_and_its_errors_stay_light(ota_file: Path) -> None:
    import os

    env = {**os.environ, "OTA_IMAGE": str(ota_file), "OTA_JSON": "true"}
    assert _heavy(imported("verify", env=env)[1]) == []
    code, modules = imported("verify", "--public-kee", "x", ota_file)  # misspelt option
    assert code == 2
    assert _heavy(modules) == []
    code, modules = imported("verify", ota_file.parent / "missing.ota")
    assert code == 2
    assert _heavy(modules) == []
    code, modules = imported("verify", "--help")
    assert code == 0
    assert _heavy(modules) == []


def test_public_key_brings_cryptography_and_nothing_else_heavy(ota_file: Path, tmp_path: Path) -> None:
    public = tmp_path / "public.pem"
    assert run_cli("keygen", "--private-out", tmp_path / "private.pem", "--public-out", public).code == 0
    _code, modules = imported("verify", "--public-key", public, ota_file)
    assert "cryptography" in modules
    assert [m for m in _heavy(modules) if m not in FOR_KEYS] == []


def test_verbose_brings_structlog_only_when_asked(ota_file: Path) -> None:
    _code, modules = imported("verify", "--verbose", ota_file)
    assert "structlog" in modules
    assert "pydantic" not in modules
