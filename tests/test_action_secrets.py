"""The Action's secret channel, run in-process so ``os.environ`` itself can be watched.

Secrets are taken out of the environment before anything runs and reach the signer as
:class:`~ota_action.secret.Secret` objects; messages name the input the user gave.
"""

from __future__ import annotations

import io
import os
import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest

from ota_action.doors.action import run as action
from ota_action.edges import log
from ota_action.signing import keys as signing
from ota_action.signing import pkcs11
from tests import softhsm
from tests.conftest import need_tool
from tests.test_action import PASSPHRASE, _p256_pem, workflow_commands
from tests.xbee_keys import new_key


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "xbfs.bin").write_bytes(bytes(range(256)) * 16)
    for key in [k for k in os.environ if k.startswith(("INPUT_", "OTA_", "GITHUB_"))]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(ws)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(ws))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "out.txt"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    yield ws
    log.reset()


def run_action(monkeypatch: pytest.MonkeyPatch, inputs: dict[str, str]) -> tuple[int, str]:
    for name, value in inputs.items():
        monkeypatch.setenv(f"INPUT_{name.upper()}", value)
    out = io.StringIO()
    code = action.main(out)
    return code, out.getvalue()


XBEE = {"command": "xbee-fs", "image": "xbfs.bin", "outfile": "fs.ota", "version": "100D"}


def _environ_holds(*secrets: str) -> list[str]:
    return [k for k, v in os.environ.items() for s in secrets if s.strip() and s.strip() in v]


def test_the_secret_is_never_in_os_environ(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = _p256_pem(PASSPHRASE.encode())
    seen: list[list[str]] = []
    real = signing.load_private_key

    def watching(*args: object, **kwargs: object) -> signing.LoadedKey:
        # What a child process started now would inherit.
        seen.append(_environ_holds(key, PASSPHRASE))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(signing, "load_private_key", watching)
    code, out = run_action(monkeypatch, {**XBEE, "signing-key": key, "signing-key-passphrase": PASSPHRASE})
    assert code == 0, out
    assert seen == [[]]  # the signer ran, and the environment held no secret
    assert _environ_holds(key, PASSPHRASE) == []
    assert "INPUT_SIGNING-KEY" not in os.environ
    assert "OTA_SIGNING_KEY" not in os.environ


def test_ota_variables_are_taken_out_of_the_environment_too(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = _p256_pem()
    monkeypatch.setenv("OTA_SIGNING_KEY", key)
    code, out = run_action(monkeypatch, XBEE)
    assert code == 0, out
    assert _environ_holds(key) == []
    masks = [c.message for c in workflow_commands(out) if c.name == "add-mask"]
    assert {line.strip() for line in key.splitlines() if "PRIVATE KEY" not in line} <= set(masks)


def test_a_bad_key_input_is_named_as_the_input(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = run_action(monkeypatch, {**XBEE, "signing-key": "not a key at all"})
    assert code == 2
    errors = [c for c in workflow_commands(out) if c.name == "error"]
    assert errors[0].props["title"] == "Input signing-key"
    assert errors[0].message == "input signing-key: is not a private key in PEM, DER or base64 form"
    assert "environment variable" not in out


def test_a_wrong_passphrase_names_both_inputs(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = _p256_pem(PASSPHRASE.encode())
    code, out = run_action(monkeypatch, {**XBEE, "signing-key": key, "signing-key-passphrase": "wrong one"})
    assert code == 2
    error = next(c for c in workflow_commands(out) if c.name == "error")
    assert error.message == (
        "input signing-key: the passphrase in input signing-key-passphrase does not decrypt this key "
        "(wrong passphrase, or a damaged key)"
    )


def test_a_missing_key_names_the_inputs(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = run_action(monkeypatch, XBEE)
    assert code == 2
    error = next(c for c in workflow_commands(out) if c.name == "error")
    assert error.props["title"] == "Input signing-key"
    assert error.message.startswith(
        "input signing-key: no signing key: give the P-256 private key from a secret"
    )
    assert "input key-file" in error.message
    assert "--key-env" not in error.message


def test_key_file_is_its_own_input(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (workspace / "k.pem").write_text(_p256_pem())
    code, out = run_action(monkeypatch, {**XBEE, "key-file": "k.pem"})
    assert code == 0, out
    assert (workspace / "fs.ota").is_file()


def test_key_file_and_signing_key_together_are_refused(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workspace / "k.pem").write_text(_p256_pem())
    code, out = run_action(monkeypatch, {**XBEE, "key-file": "k.pem", "signing-key": _p256_pem()})
    assert code == 2
    error = next(c for c in workflow_commands(out) if c.name == "error")
    assert error.props["title"] == "Input key-file"
    assert "input signing-key is also set; give exactly one key source" in error.message


@pytest.mark.parametrize("name", ["signing-key", "signing-key-passphrase"])
@pytest.mark.parametrize("command", ["combine", "inspect", "verify"])  # zbota: tests/test_zbota_gbl.py
def test_a_command_that_does_not_sign_refuses_secrets(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, command: str, name: str
) -> None:
    code, out = run_action(monkeypatch, {"command": command, name: "s3cret-value-here"})
    assert code == 2
    error = next(c for c in workflow_commands(out) if c.name == "error")
    assert error.props["title"] == f"Input {name}"
    assert (
        error.message == f"input {name}: is not used by command {command}: it signs nothing; remove the input"
    )
    assert _environ_holds("s3cret-value-here") == []


def test_underscore_spelling_of_a_secret_input_is_taken_masked_and_used(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``act`` and some runners write INPUT_SIGNING_KEY: it is a secret all the same."""
    key = _p256_pem()
    monkeypatch.setenv("INPUT_SIGNING_KEY", key)  # underscore spelling, set directly
    code, out = run_action(monkeypatch, XBEE)
    assert code == 0, out
    assert (workspace / "fs.ota").is_file()
    assert "INPUT_SIGNING_KEY" not in os.environ
    assert _environ_holds(key) == []
    masks = {c.message for c in workflow_commands(out) if c.name == "add-mask"}
    body = {line.strip() for line in key.splitlines() if "PRIVATE KEY" not in line}
    assert body <= masks
    shown = "\n".join(line for line in out.splitlines() if not line.startswith("::add-mask::"))
    assert not any(line in shown for line in body)


def test_two_spellings_of_one_input_with_different_values_are_refused(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INPUT_MFG_ID", "0x1234")
    code, out = run_action(monkeypatch, {**XBEE, "signing-key": _p256_pem(), "mfg-id": "0x101E"})
    assert code == 2
    error = next(c for c in workflow_commands(out) if c.name == "error")
    assert error.props["title"] == "Input mfg-id"
    assert "given twice" in error.message


def test_taken_secrets_are_secret_objects_from_the_start(workspace: Path) -> None:
    from ota_action.doors.action.secrets import take_secrets

    key = _p256_pem()
    environ = {"INPUT_SIGNING-KEY-PIN": "4321-pin", "OTA_SIGNING_KEY": key, "OTA_PKCS11_PIN": "9876-pin"}
    taken, forms = take_secrets(environ)
    assert environ == {}
    assert {"4321-pin", "9876-pin"} <= set(forms)
    for text in (repr(taken), str(taken), repr(taken.given())):
        assert "4321-pin" not in text
        assert "9876-pin" not in text
        assert "PRIVATE" not in text
        assert key.splitlines()[1] not in text
    assert taken.given().pin is taken.inputs["signing-key-pin"]  # the input wins over the variable
    with pytest.raises(TypeError):
        pickle.dumps(taken)


# --- the token and signer-command sources through the Action ----------------------------

TOKEN_PIN = softhsm.PIN


@pytest.fixture
def token(tmp_path_factory: pytest.TempPathFactory) -> softhsm.SoftHsm:
    need_tool("softhsm2-util")
    need_tool("pkcs11-tool")
    return softhsm.shared_softhsm(tmp_path_factory.mktemp("softhsm"))


def _channels(out: str, tmp_path: Path) -> dict[str, str]:
    """Everything a person or a later step sees: stdout less the masks, outputs, summary."""
    shown = "\n".join(line for line in out.splitlines() if not line.startswith("::add-mask::"))
    read = {
        n: (tmp_path / n).read_text() if (tmp_path / n).exists() else "" for n in ("out.txt", "summary.md")
    }
    return {"stdout": shown, **read}


@pytest.mark.parametrize(
    ("pin", "key_uri", "expected"),
    [
        (TOKEN_PIN, softhsm.uri(softhsm.TOKEN, "xbee"), 0),
        ("1111-wrong-pin", softhsm.uri(softhsm.TOKEN, "xbee"), 2),
        (TOKEN_PIN, softhsm.uri("missing-token", "xbee"), 2),
    ],
    ids=["right-pin", "wrong-pin", "missing-token"],  # a test id holding the PIN lands in the environment
)
def test_the_token_pin_input_is_masked_used_and_never_shown(
    token: softhsm.SoftHsm,
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    pin: str,
    key_uri: str,
    expected: int,
) -> None:
    seen: list[list[str]] = []
    real = pkcs11.login

    def watching(*args: object, **kwargs: object) -> object:
        seen.append(_environ_holds(pin))  # what a child process started now would inherit
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pkcs11, "login", watching)
    monkeypatch.setenv("RUNNER_DEBUG", "1")
    monkeypatch.setenv("OTA_DEBUG", "1")
    code, out = run_action(monkeypatch, {**XBEE, "signing-key-uri": key_uri, "signing-key-pin": pin})
    assert code == expected, out
    assert pin in [c.message for c in workflow_commands(out) if c.name == "add-mask"]
    for name, text in _channels(out, workspace.parent).items():
        assert pin not in text, name
    assert seen in ([[]], [])
    assert _environ_holds(pin) == []
    if expected == 0:
        assert (workspace / "fs.ota").is_file()
    else:
        error = next(c for c in workflow_commands(out) if c.name == "error")
        assert error.props["title"] == "Input signing-key-uri"


def test_a_signer_command_through_the_action_shows_nothing_it_prints(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    noise = "AccessDeniedException arn:aws:kms:eu-west-1:1234:key/do-not-show"
    key = new_key()
    (workspace / "public.pem").write_bytes(key.public_pem())
    code, out = run_action(
        monkeypatch,
        {
            **XBEE,
            "sign-command": f"echo '{noise}'; echo '{noise}' >&2; exit 4",
            "expect-public-key": "public.pem",
            "signing-key-pin": "unused-pin-4242",
        },
    )
    assert code == 2
    error = next(c for c in workflow_commands(out) if c.name == "error")
    assert error.props["title"] == "Input sign-command"
    assert "exited with status 4; its output is not shown" in error.message
    for name, text in _channels(out, workspace.parent).items():
        assert noise not in text, name
        assert "unused-pin-4242" not in text, name
    assert not (workspace / "fs.ota").exists()
