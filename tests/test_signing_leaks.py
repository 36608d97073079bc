"""Leak scan: no command that takes a key lets any form of it, or its passphrase, out.

Every run - in-process through ``run_cli`` and as a subprocess ``python -m ota_action``,
successes and failures, with ``--verbose`` and ``OTA_LOG_LEVEL=debug`` in both log
formats - is searched in stdout, stderr (where logs go) and every file it wrote, for
the PEM body and each of its lines, the base64 of the PEM and of the DER (PKCS#8 and
SEC1), the DER raw and in hex, the private scalar in hex and the passphrase.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ota_action.edges import log
from tests import softhsm
from tests.conftest import ROOT, need_tool, run_cli
from tests.xbee_keys import PASSPHRASE, KeyForms, b64, new_key

KEY = new_key()
SECRETS = KEY.secrets()
ENCRYPTED_PEM = KEY.pem(password=PASSPHRASE)
ENCRYPTED_DER = KEY.der(password=PASSPHRASE)
OTHER_PASS_PEM = KEY.pem(password="some-other-passphrase")
SECRETS["encrypted pem body"] = b"".join(x for x in ENCRYPTED_PEM.splitlines() if not x.startswith(b"-"))
SECRETS["base64 of encrypted pem"] = b64(ENCRYPTED_PEM).encode()


def _scan(where: str, blob: bytes) -> None:
    for name, secret in SECRETS.items():
        assert secret not in blob, f"{name} found in {where}"


def _scan_dir(directory: Path, inputs: set[Path]) -> int:
    scanned = 0
    for path in directory.rglob("*"):
        if path.is_file() and path not in inputs:
            _scan(str(path), path.read_bytes())
            scanned += 1
    return scanned


# Each case: (name, environment, extra args, expected exit status).
def _cases(tmp: Path) -> Iterator[tuple[str, dict[str, str], list[str], int]]:
    key_file = tmp / "in" / "key.der"
    enc_file = tmp / "in" / "enc.der"
    yield (
        "encrypted pem + passphrase",
        {"OTA_SIGNING_KEY": ENCRYPTED_PEM.decode(), "OTA_SIGNING_KEY_PASSPHRASE": PASSPHRASE},
        [],
        0,
    )
    yield "literal \\n pem", {"OTA_SIGNING_KEY": KEY.pem().decode().replace("\n", "\\n")}, [], 0
    yield (
        "base64 der + unneeded passphrase",
        {"OTA_SIGNING_KEY": b64(KEY.der()), "OTA_SIGNING_KEY_PASSPHRASE": PASSPHRASE},
        [],
        0,
    )
    yield (
        "base64 encrypted pem",
        {"CI_KEY": b64(ENCRYPTED_PEM), "CI_PASS": PASSPHRASE},
        ["--key-env", "CI_KEY", "--passphrase-env", "CI_PASS"],
        0,
    )
    yield "key file", {}, ["--key-file", str(key_file)], 0
    yield "encrypted key file", {"OTA_SIGNING_KEY_PASSPHRASE": PASSPHRASE}, ["--key-file", str(enc_file)], 0
    yield (
        "wrong passphrase",
        {"OTA_SIGNING_KEY": OTHER_PASS_PEM.decode(), "OTA_SIGNING_KEY_PASSPHRASE": PASSPHRASE},
        [],
        2,
    )
    yield "missing passphrase", {"OTA_SIGNING_KEY": ENCRYPTED_PEM.decode()}, [], 2
    yield "two key sources", {"OTA_SIGNING_KEY": KEY.pem().decode()}, ["--key-file", str(key_file)], 2
    yield (
        "bad version with key set",
        {"OTA_SIGNING_KEY": KEY.pem().decode(), "OTA_SIGNING_KEY_PASSPHRASE": PASSPHRASE},
        ["--version", "nonsense"],
        2,
    )
    yield "key pasted into --key-env", {}, ["--key-env", b64(KEY.pem())], 2
    yield "key pasted into --key-file", {}, ["--key-file", b64(KEY.der())], 2
    yield (
        "key pasted into --passphrase-env",
        {"OTA_SIGNING_KEY": KEY.pem().decode()},
        ["--passphrase-env", PASSPHRASE],
        2,
    )
    yield "key as env var OTA_KEY_FILE", {"OTA_KEY_FILE": b64(KEY.der())}, [], 2


def _prepare(tmp: Path) -> tuple[Path, set[Path]]:
    (tmp / "in").mkdir()
    (tmp / "in" / "key.der").write_bytes(KEY.der())
    (tmp / "in" / "enc.der").write_bytes(ENCRYPTED_DER)
    image = tmp / "in" / "xbfs.bin"
    image.write_bytes(bytes(range(256)) * 20)
    return image, {tmp / "in" / "key.der", tmp / "in" / "enc.der"}


_SCRUB = (
    "OTA_SIGNING_KEY",
    "OTA_SIGNING_KEY_PASSPHRASE",
    "OTA_KEY_FILE",
    "CI_KEY",
    "CI_PASS",
    "OTA_LOG_LEVEL",
    "OTA_LOG_FORMAT",
)


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_no_secret_leaves_an_in_process_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, log_format: str
) -> None:
    image, inputs = _prepare(tmp_path)
    outcomes = []
    for index, (name, env, extra, expected) in enumerate(_cases(tmp_path)):
        for var in _SCRUB:
            monkeypatch.delenv(var, raising=False)
        for var, value in env.items():
            monkeypatch.setenv(var, value)
        monkeypatch.setenv("OTA_LOG_FORMAT", log_format)
        out_dir = tmp_path / f"out{index}"
        args = ["xbee-fs", str(image), "-o", str(out_dir / "fs.fsota"), "-v", "100D", *extra]
        for flags in (["--verbose"], ["--verbose", "--json"]):
            try:
                result = run_cli(*args, *flags)
            finally:
                log.reset()
            assert result.code == expected, (name, result.err)
            _scan(f"{name} stdout", result.out.encode())
            _scan(f"{name} stderr", result.err.encode())
            if expected == 0:
                assert "xbee_fs.written" in result.err  # the log really was on
            else:
                assert "error:" in result.err
            outcomes.append(name)
    assert _scan_dir(tmp_path, inputs) >= 6
    assert len(outcomes) == 28


def test_no_secret_leaves_a_subprocess_run(tmp_path: Path) -> None:
    image, inputs = _prepare(tmp_path)
    base = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    base["PYTHONPATH"] = str(ROOT)
    for index, (name, env, extra, expected) in enumerate(_cases(tmp_path)):
        # alternate the two ways of switching the log on, so each case runs once
        modes: tuple[tuple[dict[str, str], list[str]], ...] = (
            ({"OTA_LOG_LEVEL": "debug"}, []),
            ({"OTA_LOG_FORMAT": "console"}, ["--verbose", "--json"]),
        )
        for level_env, flags in (modes[index % 2],):
            run_env = {**base, **env, **level_env}
            args = [sys.executable, "-m", "ota_action", "xbee-fs", str(image)]
            args += ["-o", str(tmp_path / f"sub{index}" / "fs.fsota"), "-v", "100D", *extra, *flags]
            result = subprocess.run(args, env=run_env, capture_output=True, cwd=tmp_path)
            assert result.returncode == expected, (name, result.stderr)
            _scan(f"{name} subprocess stdout", result.stdout)
            _scan(f"{name} subprocess stderr", result.stderr)
            if expected == 0 and not flags:
                assert b"xbee_fs.key_loaded" in result.stderr  # debug events were logged
    assert _scan_dir(tmp_path, inputs) >= 6


def test_no_secret_leaves_verify_or_keygen_logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    image, inputs = _prepare(tmp_path)
    monkeypatch.setenv("OTA_SIGNING_KEY", ENCRYPTED_PEM.decode())
    monkeypatch.setenv("OTA_SIGNING_KEY_PASSPHRASE", PASSPHRASE)
    out = tmp_path / "fs.fsota"
    try:
        assert run_cli("xbee-fs", image, "-o", out, "-v", "100D").code == 0
        public = tmp_path / "public.pem"
        public.write_bytes(KEY.public_pem())
        result = run_cli("verify", out, "--public-key", public, "--verbose", "--json")
        assert result.code == 0
        _scan("verify", (result.out + result.err).encode())
        # keygen prints its own new private key on stdout by design; never in its log
        monkeypatch.setenv("OTA_LOG_LEVEL", "debug")
        generated = run_cli(
            "keygen", "--private-out", tmp_path / "new" / "k.pem", "--public-out", tmp_path / "new" / "p.pem"
        )
    finally:
        log.reset()
    assert generated.code == 0
    loaded = serialization.load_pem_private_key((tmp_path / "new" / "k.pem").read_bytes(), None)
    assert isinstance(loaded, ec.EllipticCurvePrivateKey)
    new = KeyForms(loaded)
    new_secrets = new.secrets()
    assert "keygen.written" in generated.err
    for name, secret in new_secrets.items():
        if name != "passphrase":
            assert secret not in generated.err.encode(), name
            assert secret not in (tmp_path / "new" / "p.pem").read_bytes(), name
    assert _scan_dir(tmp_path, inputs | {tmp_path / "new" / "k.pem", tmp_path / "new" / "p.pem"}) >= 2


# --- the token and signer-command sources ---------------------------------------------

NOISE = "KMS says: AccessDenied for key/never-shown-7731 with token sk-never-shown"


def _new_source_cases(
    tmp: Path, hsm_uri: str, key_file: Path
) -> Iterator[tuple[str, dict[str, str], list[str], int]]:
    public = tmp / "in" / "public.pem"
    signer = "printf '%s\\n' \"$OTA_SIGN_DIGEST_BASE64\" | openssl base64 -d | "
    signer += f"openssl pkeyutl -sign -inkey '{key_file}'"
    pin = {"OTA_PKCS11_PIN": softhsm.PIN, "OTA_SIGNING_KEY_PASSPHRASE": PASSPHRASE}
    yield "token", pin, ["--key-uri", hsm_uri], 0
    yield "token, wrong pin", {"OTA_PKCS11_PIN": "0000-" + softhsm.PIN}, ["--key-uri", hsm_uri], 2
    yield "token missing", pin, ["--key-uri", hsm_uri.replace("ota-ci", "gone")], 2
    yield "command", pin, ["--sign-command", signer, "--expect-public-key", str(public)], 0
    fail = f"echo '{NOISE}'; echo '{NOISE}' >&2; exit 9"
    yield "command fails", pin, ["--sign-command", fail, "--expect-public-key", str(public)], 2
    yield "command garbage", pin, ["--sign-command", f"echo '{NOISE}'", "--expect-public-key", str(public)], 2
    hang = [
        "--sign-command",
        f"echo '{NOISE}'; sleep 30",
        "--sign-timeout",
        "1",
        "--expect-public-key",
        str(public),
    ]
    yield "command hangs", pin, hang, 2


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_no_pin_or_signer_output_leaves_a_run_of_the_new_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory, log_format: str
) -> None:
    need_tool("softhsm2-util")
    need_tool("openssl")
    softhsm.shared_softhsm(tmp_path_factory.mktemp("softhsm"))
    image, inputs = _prepare(tmp_path)
    (tmp_path / "in" / "key.pem").write_bytes(KEY.pem())
    (tmp_path / "in" / "public.pem").write_bytes(KEY.public_pem())
    inputs |= {tmp_path / "in" / "key.pem", tmp_path / "in" / "public.pem"}
    secrets = {**SECRETS, "pin": softhsm.PIN.encode(), "noise": NOISE.encode(), "noise part": b"never-shown"}
    cases = _new_source_cases(tmp_path, softhsm.uri(softhsm.TOKEN, "xbee"), tmp_path / "in" / "key.pem")
    for index, (name, env, extra, expected) in enumerate(cases):
        for var in (*_SCRUB, "OTA_PKCS11_PIN"):
            monkeypatch.delenv(var, raising=False)
        for var, value in {**env, "OTA_LOG_FORMAT": log_format, "OTA_DEBUG": "1"}.items():
            monkeypatch.setenv(var, value)
        args = ["xbee-fs", str(image), "-o", str(tmp_path / f"new{index}" / "fs.fsota"), "-v", "100D", *extra]
        try:
            result = run_cli(*args, "--verbose")
        finally:
            log.reset()
        assert result.code == expected, (name, result.err)
        for secret_name, secret in secrets.items():
            assert secret not in (result.out + result.err).encode(), f"{secret_name} leaked in {name}"
    for path in tmp_path.rglob("*"):
        if path.is_file() and path not in inputs:
            for secret_name, secret in secrets.items():
                assert secret not in path.read_bytes(), f"{secret_name} in {path}"
