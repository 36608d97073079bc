"""``build FLEET.toml``: signed GBL images from every key source of ``gbl`` (issue 24).

Each source signs a fleet: a key in ``OTA_SIGNING_KEY`` (the default), in a variable
``key_env`` names, in a ``key_file``, in a SoftHSM2 token (``key_uri``, PIN from
``OTA_PKCS11_PIN``; tokens made by softhsm2-util and pkcs11-tool, tests/softhsm.py) and
behind a ``sign_command`` (openssl signing, tests/test_sign_command.py's printer).
Oracles: Simplicity Commander's ``gbl3 parse --verify`` with the source's public key (as
the other tool reads it: pkcs11-tool for the token) checks every GBL's signature, and its
application bytes are the firmware that went in; another key fails there.  Every run is
searched for every form of every key and the PIN (tests/xbee_keys.py's forms).
"""

from __future__ import annotations

import json
import os
import struct
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from ota_action.edges import log
from ota_action.signing import pkcs11
from tests.conftest import need_tool, run_cli
from tests.softhsm import PIN, TOKEN, SoftHsm, shared_softhsm, uri
from tests.test_gbl import ADDRESS, DATA, aes_key_file, parse
from tests.test_sign_command import PRINTER
from tests.xbee_keys import PASSPHRASE, KeyForms, new_key

KEYS = {name: new_key() for name in ("env", "key_env", "key_file", "command", "other")}
SOURCES = ("env", "key_env", "key_file", "pkcs11", "command")
_VARIABLES = ("OTA_SIGNING_KEY", "OTA_SIGNING_KEY_PASSPHRASE", "OTA_SIGNING_KEY_URI", "OTA_PKCS11_PIN")


@pytest.fixture(scope="session")
def hsm(tmp_path_factory: pytest.TempPathFactory) -> SoftHsm:
    need_tool("softhsm2-util")
    need_tool("pkcs11-tool")
    return shared_softhsm(tmp_path_factory.mktemp("softhsm"))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hsm: SoftHsm) -> Iterator[Path]:
    """Firmware, key files and public keys beside the manifest; the secrets in the environment."""
    need_tool("openssl")
    for name in (*_VARIABLES, "OTA_SIGN_COMMAND", "FLEET_KEY", "BOARD_B_KEY"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "keys").mkdir()
    (tmp_path / "app.bin").write_bytes(DATA)
    for name, key in KEYS.items():
        (tmp_path / "keys" / f"{name}.pem").write_bytes(key.pem())
        (tmp_path / "keys" / f"{name}.pub").write_bytes(key.public_pem())
    for label, name in (("xbee", "pkcs11"), ("second", "pkcs11-second")):
        token = serialization.load_der_public_key(hsm.public_key_der(TOKEN, label))
        (tmp_path / "keys" / f"{name}.pub").write_bytes(
            token.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
    (tmp_path / "keys" / "printer.py").write_text(PRINTER, encoding="utf-8")
    monkeypatch.setenv("OTA_SIGNING_KEY", KEYS["env"].pem().decode())
    monkeypatch.setenv("FLEET_KEY", KEYS["key_env"].pem().decode())
    monkeypatch.setenv("OTA_PKCS11_PIN", PIN)
    yield tmp_path
    log.reset()


def _source(source: str, where: Path) -> str:
    """The manifest lines that name ``source`` (nothing: the default, OTA_SIGNING_KEY)."""
    return {
        "env": "",
        "key_env": 'key_env = "FLEET_KEY"',
        "key_file": 'key_file = "keys/key_file.pem"',
        "pkcs11": f'key_uri = "{uri(TOKEN, "xbee")}"',
        "command": f'sign_command = "{sys.executable} {where / "keys" / "printer.py"} der '
        + f'{where / "keys" / "command.pem"}"\nexpect_public_key = "keys/command.pub"',
    }[source]


def _image(board: str, image_type: int, *lines: str) -> str:
    return "\n".join(
        ["[[image]]", f'board = "{board}"', 'payload = "app.bin"', f"image_type = {image_type}", *lines]
    )


def _manifest(where: Path, defaults: str, *images: str) -> Path:
    head = ["[defaults]", "manufacturer_code = 0x1049", "version = 1", "gbl = true", "sign = true"]
    text = "\n".join([*head, f"address = {ADDRESS:#x}", defaults, *images]) + "\n"
    (where / "FLEET.toml").write_text(text, encoding="utf-8")
    return where / "FLEET.toml"


def _gbl(ota: Path) -> bytes:
    """The upgrade image (tag 0x0000) of an OTA file, read by hand from the header length."""
    blob = ota.read_bytes()
    header = struct.unpack_from("<H", blob, 6)[0]
    tag, length = struct.unpack_from("<HI", blob, header)
    assert tag == 0
    return blob[header + 6 : header + 6 + length]


def _commander_verifies(tmp_path: Path, ota: Path, public: Path) -> bool:
    done, app = parse(tmp_path, _gbl(ota), "--verify", str(public))
    if done.returncode == 0:
        assert app == DATA
    return done.returncode == 0


def _secrets() -> dict[str, bytes]:
    found = {"pin": PIN.encode()}
    for name, key in KEYS.items():
        found |= {f"{name} {form}": value for form, value in key.secrets().items()}
    return found


def _scan(where: str, blob: bytes) -> None:
    for name, secret in _secrets().items():
        assert secret not in blob, f"{name} found in {where}"


def _built(result_out: str) -> dict[str, Path]:
    files = json.loads(result_out)["files"]
    return {f["board"] + (f"/{f['variant']}" if f["variant"] else ""): Path(f["file"]) for f in files}


def _count_logins(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    opens: list[int] = []
    real_open = pkcs11.open_signer

    def counting(*args: Any, **kwargs: Any) -> pkcs11.Pkcs11Signer:
        opens.append(1)
        return real_open(*args, **kwargs)

    monkeypatch.setattr(pkcs11, "open_signer", counting)
    return opens


@pytest.mark.parametrize("source", SOURCES)
def test_each_key_source_signs_the_whole_fleet(
    project: Path, source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    opens = _count_logins(monkeypatch)
    variants = 'variants = [{ suffix = "-forced", version = 0xFFFFFFFF }]'
    manifest = _manifest(project, _source(source, project), _image("A", 1, variants), _image("B", 2))
    result = run_cli("build", manifest, "--json", "--verbose")
    assert result.code == 0, result.err
    built = _built(result.out)
    assert sorted(built) == ["A", "A/forced", "B"]
    public = project / "keys" / f"{source}.pub"
    for path in built.values():
        assert _commander_verifies(project, path, public), path
    assert not _commander_verifies(project, built["A"], project / "keys" / "other.pub")
    _scan("stdout", result.out.encode())
    _scan("stderr", result.err.encode())
    for path in (project / "dist").rglob("*"):
        if path.is_file():
            _scan(str(path), path.read_bytes())
    assert len(opens) == (1 if source == "pkcs11" else 0)  # one login for the three images


def test_every_image_its_own_source_in_one_fleet(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOARD_B_KEY", KEYS["key_env"].pem().decode())
    monkeypatch.delenv("FLEET_KEY")
    images = [_image(f"{s.upper()}", i + 1, _source(s, project)) for i, s in enumerate(SOURCES)]
    images[1] = _image("KEY_ENV", 2, 'key_env = "BOARD_B_KEY"')
    result = run_cli("build", _manifest(project, "", *images), "--json")
    assert result.code == 0, result.err
    built = _built(result.out)
    for source in SOURCES:
        own = project / "keys" / f"{source}.pub"
        assert _commander_verifies(project, built[source.upper()], own), source
    # each image has its own key: the default's key does not verify another source's GBL
    assert not _commander_verifies(project, built["KEY_FILE"], project / "keys" / "env.pub")
    _scan("stdout", result.out.encode())


def test_the_runs_options_are_the_default_an_image_overrides(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = _manifest(project, "", _image("A", 1), _image("B", 2, 'key_file = "keys/key_file.pem"'))
    result = run_cli("build", manifest, "--key-uri", uri(TOKEN, "xbee"), "--json")
    assert result.code == 2  # as for gbl: OTA_SIGNING_KEY and --key-uri are two key sources
    assert "--key-uri: image A: " in result.err
    assert "give exactly one key source" in result.err
    monkeypatch.delenv("OTA_SIGNING_KEY")
    result = run_cli("build", manifest, "--key-uri", uri(TOKEN, "xbee"), "--json")
    assert result.code == 0, result.err
    built = _built(result.out)
    assert _commander_verifies(project, built["A"], project / "keys" / "pkcs11.pub")
    assert _commander_verifies(project, built["B"], project / "keys" / "key_file.pub")
    result = run_cli("build", manifest, "--key-env", "FLEET_KEY", "--json", "-o", project / "again")
    assert result.code == 0, result.err
    assert _commander_verifies(project, _built(result.out)["A"], project / "keys" / "key_env.pub")
    other = project / "keys" / "other.pub"
    result = run_cli(
        "build", manifest, "--key-env", "FLEET_KEY", "--expect-public-key", other, "-o", project / "no"
    )
    assert result.code == 2
    assert (
        "--expect-public-key: image A: environment variable FLEET_KEY holds the key with fingerprint"
        in result.err
    )
    assert not (project / "no").exists()


def test_two_keys_of_one_token_share_its_login(project: Path) -> None:
    """python-pkcs11 logs in per token for the process: the second key's session must not
    log in again (UserAlreadyLoggedIn), and the two sign from the pool one at a time."""
    labels = ("xbee", "second")
    images = [_image(f"B{i}", i + 1, f'key_uri = "{uri(TOKEN, labels[i % 2])}"') for i in range(6)]
    result = run_cli("build", _manifest(project, "", *images), "--json")
    assert result.code == 0, result.err
    built = _built(result.out)
    for i in range(6):
        public = project / "keys" / ("pkcs11.pub", "pkcs11-second.pub")[i % 2]
        assert _commander_verifies(project, built[f"B{i}"], public)
    assert not _commander_verifies(project, built["B1"], project / "keys" / "pkcs11.pub")


def test_an_encrypted_key_file_is_decrypted_once_with_the_images_passphrase(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ota_action.signing import keys

    (project / "keys" / "encrypted.pem").write_bytes(KEYS["key_file"].pem(password=PASSPHRASE))
    monkeypatch.setenv("MG_PASS", PASSPHRASE)
    loads: list[int] = []
    real_load = keys.load_private_key

    def counting(*args: Any, **kwargs: Any) -> keys.LoadedKey:
        loads.append(1)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(keys, "load_private_key", counting)
    source = 'key_file = "keys/encrypted.pem"\npassphrase_env = "MG_PASS"'
    variants = 'variants = [{ suffix = "-forced", version = 0xFFFFFFFF }]'
    result = run_cli("build", _manifest(project, source, _image("A", 1, variants), _image("B", 2)), "--json")
    assert result.code == 0, result.err
    for path in _built(result.out).values():
        assert _commander_verifies(project, path, project / "keys" / "key_file.pub")
    assert len(loads) == 1  # one scrypt/PBKDF2 for three images
    _scan("stdout and stderr", (result.out + result.err).encode())
    monkeypatch.setenv("MG_PASS", "not-" + PASSPHRASE)
    result = run_cli("build", _manifest(project, source, _image("A", 1)), "-o", project / "wrong")
    assert result.code == 2
    assert "image A: key 'key_file'" in result.err
    assert "MG_PASS" in result.err
    _scan("stderr", result.err.encode())


def test_the_expected_public_key_may_be_written_in_the_manifest(project: Path) -> None:
    """A public key is no secret: its PEM (or FK hex) may stand in the manifest itself."""
    pem = KEYS["key_file"].public_pem().decode()
    point = KEYS["key_file"].point().hex()
    for expected in (f'"""\n{pem}"""', f'"{point}"'):
        source = f'key_file = "keys/key_file.pem"\nexpect_public_key = {expected}'
        result = run_cli("build", _manifest(project, source, _image("A", 1)), "--json")
        assert result.code == 0, result.err
        assert _commander_verifies(project, _built(result.out)["A"], project / "keys" / "key_file.pub")
    source = f'key_file = "keys/key_file.pem"\nexpect_public_key = "{KEYS["other"].point().hex()}"'
    result = run_cli("build", _manifest(project, source, _image("A", 1)), "-o", project / "no")
    assert result.code == 2
    assert "image A: key 'expect_public_key': key-file holds the key with fingerprint" in result.err


BAD = [
    ('key_env = "NOT_SET_ANYWHERE"', "image B: key 'key_env': no signing key: environment variable NOT_SET"),
    ('key_file = "keys/missing.pem"', "/keys/missing.pem': file does not exist"),
    (f'key_uri = "{uri("no-such-token", "xbee")}"', "image B: key 'key_uri': no token matches"),
    ('key_uri = "pkcs11:token=ota-ci;object=xbee"', "image B: key 'key_uri': names no PKCS#11 module"),
    ('sign_command = "true"', "image B: key 'sign_command': needs --expect-public-key"),
    ('key_file = "keys/key_file.pem"\nexpect_public_key = "keys/other.pub"',
     "image B: key 'expect_public_key': "),
    ('key_file = "keys/key_file.pem"\nkey_uri = "pkcs11:token=x"',
     "image B: the image's table gives 'key_file' and 'key_uri'; give exactly one key source"),
    ('key_uri = "pkcs11:token=x"\nsigning_key_uri = "pkcs11:token=y"', "they are one key"),
    ("key_file = \"{pem}\"", "image B: key 'key_file': in the image's table looks like key material"),
    (f'pin = "{PIN}"', "image B: key 'pin': is neither a zbota nor an index option; a key or a PIN never"),
    ("signing_key = \"{pem}\"", "image B: key 'signing_key': is neither"),
    ("gbl = false\nsign = true", "image B: key 'sign': makes a GBL: give gbl = true"),
    ('gbl = false\nkey_file = "keys/key_file.pem"',
     "image B: key 'key_file': names a key source, but the image signs nothing"),
]  # fmt: skip


@pytest.mark.parametrize(("lines", "problem"), BAD)
def test_a_bad_source_names_the_image_and_the_key_and_writes_nothing(
    project: Path, lines: str, problem: str
) -> None:
    one_line = KEYS["key_file"].pem().decode().replace("\n", "\\n")
    manifest = _manifest(project, "", _image("A", 1), _image("B", 2, lines.replace("{pem}", one_line)))
    result = run_cli("build", manifest, "--json")
    assert result.code == 2, result.err
    assert problem in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert result.out == ""
    _scan("stderr", result.err.encode())
    assert not (project / "dist").exists()


def test_a_signer_failing_while_its_image_is_built_names_the_image(project: Path) -> None:
    """A signer command fails only when asked for a signature, on a worker: the error
    still names the image and the key, and shows nothing the command printed."""
    failing = f'sign_command = "echo {PIN}; exit 9"\nexpect_public_key = "keys/command.pub"'
    result = run_cli("build", _manifest(project, "", _image("A", 1, failing)))
    assert result.code == 2
    assert "image A: key 'sign_command': exited with status 9; its output is not shown" in result.err
    assert PIN not in result.err
    assert not list((project / "dist").rglob("*.zigbee"))


def test_a_wrong_pin_is_tried_once_and_never_shown(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTA_PKCS11_PIN", "0000-wrong-" + PIN)
    opens = _count_logins(monkeypatch)
    images = [_image(f"B{i}", i + 1) for i in range(3)]
    manifest = _manifest(project, _source("pkcs11", project), *images)
    result = run_cli("build", manifest, "--verbose")
    assert result.code == 2
    assert "image B0: key 'key_uri': the PIN in environment variable OTA_PKCS11_PIN is not" in result.err
    assert PIN not in result.out + result.err
    assert len(opens) == 1  # not one login per image: a real token locks after a few wrong PINs
    assert not (project / "dist").exists()


def test_an_unsigned_image_ignores_the_defaults_key_source(project: Path) -> None:
    manifest = _manifest(
        project,
        'key_file = "keys/key_file.pem"\ncompress = "lzma"',
        _image("SIGNED", 1),
        _image("PLAIN", 2, "gbl = false"),
        _image("UNSIGNED_GBL", 3, "sign = false"),
    )
    result = run_cli("build", manifest, "--json")
    assert result.code == 0, result.err
    built = _built(result.out)
    assert _commander_verifies(project, built["SIGNED"], project / "keys" / "key_file.pub")
    assert _gbl(built["PLAIN"]) == DATA  # the raw payload, no GBL
    done, app = parse(project, _gbl(built["UNSIGNED_GBL"]))
    assert done.returncode == 0
    assert app == DATA


def _key_forms(key: KeyForms) -> list[str]:
    return [key.pem().decode().strip().splitlines()[1]]


def _action(project: Path, monkeypatch: pytest.MonkeyPatch, inputs: dict[str, str]) -> tuple[int, str, str]:
    """The Action in-process (so this branch's code runs), in ``project`` as its workspace."""
    from tests.test_action_secrets import run_action

    for key in [k for k in os.environ if k.startswith(("INPUT_", "OTA_", "GITHUB_"))]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(project)
    (project / "gh").mkdir(exist_ok=True)
    summary = project / "gh" / "summary.md"
    for name, value in {
        "GITHUB_WORKSPACE": str(project),
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(project / "gh" / "out.txt"),
        "GITHUB_STEP_SUMMARY": str(summary),
    }.items():
        monkeypatch.setenv(name, value)
    code, out = run_action(monkeypatch, inputs)
    files = (project / "gh" / "out.txt", summary)
    return code, out, "".join(f.read_text(encoding="utf-8") for f in files if f.exists())


def test_the_action_masks_every_images_key_and_signs_with_the_pin_input(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_action import workflow_commands

    images = [
        _image("DEFAULT", 1),
        _image("BOARD", 2, 'key_env = "BOARD_B_KEY"'),
        _image("TOKEN", 3, f'key_uri = "{uri(TOKEN, "xbee")}"'),
    ]
    _manifest(project, "", *images)
    monkeypatch.setenv("BOARD_B_KEY", KEYS["key_env"].pem().decode())
    inputs = {"command": "build", "manifest": "FLEET.toml", "signing-key": KEYS["env"].pem().decode()}
    code, out, published = _action(project, monkeypatch, {**inputs, "signing-key-pin": PIN})
    assert code == 0, out
    masks = {c.message for c in workflow_commands(out) if c.name == "add-mask"}
    for key in ("env", "key_env"):
        assert set(_key_forms(KEYS[key])) <= masks, key  # the image's own variable too
    assert PIN in masks
    checks = {"DEFAULT": "env", "BOARD": "key_env", "TOKEN": "pkcs11"}
    for board, key in checks.items():
        (path,) = (project / "dist" / board).glob("*.zigbee")
        assert _commander_verifies(project, path, project / "keys" / f"{key}.pub"), board
    masked = out.replace("::add-mask::", "")
    for line in out.splitlines():
        if line.startswith("::add-mask::"):
            masked = masked.replace(line.removeprefix("::add-mask::"), "")
    _scan("the Action's log", masked.encode())
    _scan("the Action's outputs and summary", published.encode())


def test_the_action_refuses_a_key_input_no_image_uses(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _manifest(project, "", _image("PLAIN", 1, "gbl = false"))
    inputs = {"command": "build", "manifest": "FLEET.toml", "signing-key": KEYS["env"].pem().decode()}
    code, out, _ = _action(project, monkeypatch, inputs)
    assert code == 2
    assert "input signing-key: is not used by command build: no image of the manifest signs" in out
    assert not (project / "dist").exists()


ENV_DUMP = r"""
import os, runpy, sys
with open(sys.argv[1], "a", encoding="utf-8", errors="surrogateescape") as dump:
    dump.write("\n".join(f"{k}={v}" for k, v in os.environ.items()) + "\n")
sys.argv = [sys.argv[2], *sys.argv[3:]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_a_signer_command_inherits_no_secret_of_the_build_and_the_aes_key_is_masked(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build's sign command sees none of the run's secrets, its own or another image's
    (a key in BOARD_B_KEY, the Action's key and PIN inputs, a GBL's AES key), and the AES
    key an image's encrypt_key_env names is masked like a signing key."""
    from tests.test_action import workflow_commands

    aes = "0F1E2D3C4B5A69788796A5B4C3D2E1F0"
    dump = project / "child-env.txt"
    (project / "keys" / "env_dump.py").write_text(ENV_DUMP, encoding="utf-8")
    command = (
        f'sign_command = "{sys.executable} {project / "keys" / "env_dump.py"} {dump} '
        f'{project / "keys" / "printer.py"} der {project / "keys" / "command.pem"}"\n'
        'expect_public_key = "keys/command.pub"'
    )
    images = [
        _image("DEFAULT", 1),
        _image("BOARD", 2, 'key_env = "BOARD_B_KEY"'),
        _image("COMMAND", 3, command, 'encrypt_key_env = "GBL_AES_KEY"'),
    ]
    _manifest(project, "", *images)
    monkeypatch.setenv("BOARD_B_KEY", KEYS["key_env"].pem().decode())
    monkeypatch.setenv("GBL_AES_KEY", aes)
    inputs = {"command": "build", "manifest": "FLEET.toml", "signing-key": KEYS["env"].pem().decode()}
    code, out, published = _action(project, monkeypatch, {**inputs, "signing-key-pin": PIN})
    assert code == 0, out
    masks = {c.message for c in workflow_commands(out) if c.name == "add-mask"}
    assert aes in masks
    (path,) = (project / "dist" / "COMMAND").glob("*.zigbee")
    key_file = aes_key_file(project, bytes.fromhex(aes))
    public = str(project / "keys" / "command.pub")
    done, app = parse(project, _gbl(path), "--verify", public, "--decrypt", str(key_file))
    assert done.returncode == 0, done.stdout + done.stderr  # signed by the command's key
    assert app == DATA  # and encrypted with the AES key from GBL_AES_KEY
    seen = dump.read_text(encoding="utf-8")
    assert "OTA_SIGN_DIGEST=" in seen  # the command ran and this is its environment
    assert aes not in seen
    assert "GBL_AES_KEY=" not in seen
    assert PIN not in seen
    for name in ("env", "key_env"):
        for form, value in KEYS[name].secrets().items():
            assert value.decode(errors="replace") not in seen, (name, form)
    assert aes not in published
