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
)
FOR_KEYS = {"cryptography", "ota_action.formats.xbee", "ota_action.signing.keys"}
PROBE = (
    "import io, json, sys\n"
    "from ota_action.doors.cli import main\n"
    "code = main(sys.argv[1:], out=io.StringIO(), err=io.StringIO())\n"
    "print(json.dumps({'code': code, 'modules': sorted(sys.modules)}))\n"
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
