"""What each command imports at start-up, asserted by name (never by timing).

``verify`` and ``inspect`` are what a pre-commit hook runs on every commit, so they must
start without pydantic, pydantic-settings, structlog, cryptography (unless a
``--public-key`` asks for a signature check), the Intel HEX reader or the settings
models.  ``zbota`` and ``gbl`` (issue 24's benchmarks beside Commander) load no settings
model either, and a plain ``zbota`` no cryptography.  Each case runs the real CLI in a
fresh interpreter and lists ``sys.modules``.
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
    # records are made by ota_action.records: dataclasses would bring inspect (ast, dis,
    # tokenize) and compile six methods per class (CONTRIBUTING.md, "Records")
    "dataclasses",
    "inspect",
)
# (cryptography's serialization imports dataclasses itself)
FOR_KEYS = {"cryptography", "ota_action.formats.xbee", "ota_action.signing.keys", "dataclasses", "inspect"}
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
    "ota_action.values",  # zbota's and combine's input types (options.problems imports it lazily)
    "argparse",  # a plain command line is read by doors/quick_args.py
    "shutil",
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


# --- commands that write: zbota and gbl (issues 24 and 25) ---------------------------------
# Neither loads its settings model: the option table checks their fields with the models'
# own rules (docs/speed.md), and a run imports only what it uses.
NO_MODEL = ("pydantic", "pydantic_core", "pydantic_settings", "structlog", "ota_action.settings")


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in names if m in modules)


@pytest.fixture(scope="module")
def firmware(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1 MiB of raw binary, the benchmark's zbota input."""
    path = tmp_path_factory.mktemp("zbota") / "app.bin"
    path.write_bytes(bytes(range(256)) * 4096)
    return path


def _zbota(firmware: Path, *extra: str) -> tuple[int, set[str]]:
    out = firmware.with_name(f"out{len(extra)}.ota")
    args: tuple[str | Path, ...] = (
        "zbota",
        "-o",
        out,
        "-m",
        "0x1234",
        "-i",
        "1",
        "-t",
        f"0:{firmware}",
        *extra,
    )
    return imported(*args)


def test_zbota_of_a_binary_loads_no_model_and_no_cryptography(firmware: Path) -> None:
    code, modules = _zbota(firmware, "-v", "0x01000001", "--string", "bench")
    assert code == 0
    assert _loaded(modules, (*NO_MODEL, "cryptography", "pygbl", "intelhex")) == []
    assert "ota_action.commands.gbl" not in modules  # the GBL builder is for --gbl only
    # no integrity code: no AES backend (ctypes, libcrypto); the CLI reads its line itself
    assert _loaded(modules, ("ota_action.formats.zigbee.aes", "ctypes", "argparse", "shutil")) == []
    assert _loaded(modules, ("dataclasses", "inspect")) == []  # records, not dataclasses


def test_zbota_with_an_integrity_code_loads_no_model(firmware: Path) -> None:
    code, modules = _zbota(firmware, "-v", "1.2.3.4", "--integrity")
    assert code == 0
    assert _loaded(modules, (*NO_MODEL, "pygbl")) == []
    assert "ota_action.formats.zigbee.integrity" in modules


def test_zbota_of_a_telink_payload_loads_no_model(tmp_path: Path) -> None:
    from tests.test_telink import application

    image = tmp_path / "telink.bin"
    image.write_bytes(application(4096))
    out = tmp_path / "telink.ota"
    args = ("zbota", "-o", out, "-m", "0x1141", "-i", "0xD3A3", "-t", f"0:{image}")
    code, modules = imported(*args, "-v", "payload", "--prepare", "telink", "--version-scheme", "ncs")
    assert code == 0
    assert _loaded(modules, (*NO_MODEL, "cryptography", "pygbl")) == []
    assert "ota_action.formats.telink.image" in modules


def test_zbota_errors_load_no_model(firmware: Path) -> None:
    code, modules = _zbota(firmware, "-v", "1.2.3", "--version-scheme", "semver")
    assert code == 2
    assert _loaded(modules, NO_MODEL) == []


@pytest.fixture(scope="module")
def signing_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.derive_private_key(0x6B1, ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path = tmp_path_factory.mktemp("gbl") / "key.pem"
    path.write_text(pem)
    return path, pem


def test_gbl_sign_loads_no_model(firmware: Path, signing_key: tuple[Path, str]) -> None:
    out = firmware.with_name("app.gbl")
    args = ("gbl", "-o", out, firmware, "--address", "0x08006000", "--sign", "--key-file", signing_key[0])
    code, modules = imported(*args)
    assert code == 0
    assert _loaded(modules, NO_MODEL) == []
    assert "cryptography" in modules  # it signed


def test_gbl_sign_with_the_key_in_the_environment(firmware: Path, signing_key: tuple[Path, str]) -> None:
    """The light path finds key material as the model path does: OTA_SIGNING_KEY, as a Secret
    that no output repeats."""
    import os

    out = firmware.with_name("env.gbl")
    env = {**os.environ, "OTA_SIGNING_KEY": signing_key[1]}
    probe = PROBE.replace("io.StringIO(), err=io.StringIO()", "sys.stdout, err=sys.stderr")
    result = subprocess.run(
        [sys.executable, "-c", probe, "gbl", "-o", out, firmware, "--address", "0x08006000", "--sign"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=120,
        env=env,
    )
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["code"] == 0, result.stderr
    assert _loaded(set(report["modules"]), NO_MODEL) == []
    assert "signed (key " in result.stdout
    body = signing_key[1].splitlines()[1]
    assert body not in result.stdout
    assert body not in result.stderr


def test_index_check_loads_no_model(ota_file: Path) -> None:
    """``index --check --merge INDEX`` is the ota-index-check pre-commit hook."""
    index = ota_file.parent / "index.json"
    assert run_cli("index", ota_file, "-o", index).code == 0
    code, modules = imported("index", "--check", "--merge", index, ota_file)
    assert code == 0
    assert _loaded(modules, (*NO_MODEL, "cryptography")) == []
