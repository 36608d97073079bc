"""``xbee-fs --sign-command``: an external signer, like a KMS CLI, checked by others.

The KMS recipes of docs/signing.md run exactly as written there, against stand-ins for
their CLIs built on openssl (tests/kms_standins.py).  Every form a signer may print is
read (DER, raw r‖s, hex, base64, base64url, Vault, JSON); each result is checked with
openssl, digi-xbee and Digi's recipe by hand.  Every failure (exit status, garbage,
a hang, too much output, another key's signature) exits 2, writes nothing and shows
nothing the command printed; the command's environment holds no secret of ours.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ota_action.edges import log
from tests.conftest import ROOT, need_tool, run_cli
from tests.kms_standins import install
from tests.test_xbee import digi_recipe
from tests.xbee_keys import PASSPHRASE, new_key

KEY = new_key()
OTHER = new_key()
SECRET_NOISE = "arn:aws:kms:eu-west-1:123456789012:key/SECRET-KEY-ID AccessDenied token=sk-live-0042"
PIN = "5522-pin-never-shown"
# A signer that prints its digest's signature in FORM: openssl signs, Python re-encodes.
PRINTER = r"""
import base64, os, subprocess, sys
digest = bytes.fromhex(sys.stdin.read().strip())
assert digest.hex() == os.environ["OTA_SIGN_DIGEST"]
der = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", sys.argv[2]], input=digest,
                     capture_output=True, check=True, timeout=60).stdout
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
r, s = decode_dss_signature(der)
raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
out = {"der": der, "raw": raw, "hex": der.hex().upper().encode() + b"\n",
       "rawhex": raw.hex().encode(), "base64": base64.encodebytes(der),
       "base64url": base64.urlsafe_b64encode(raw).rstrip(b"="),
       "json": b'{"Signature": "%s"}' % base64.b64encode(der),
       "quoted": b'"' + base64.b64encode(der) + b'"\n'}[sys.argv[1]]
sys.stdout.buffer.write(out)
"""


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    need_tool("openssl")
    for name in ("OTA_SIGNING_KEY", "OTA_SIGNING_KEY_PASSPHRASE", "OTA_PKCS11_PIN", "OTA_SIGN_COMMAND"):
        monkeypatch.delenv(name, raising=False)
    paths = {
        "key": tmp_path / "keys" / "kms.pem",
        "other": tmp_path / "keys" / "other.pem",
        "public": tmp_path / "keys" / "kms-public.pem",
        "printer": tmp_path / "keys" / "printer.py",
    }
    paths["key"].parent.mkdir()
    paths["key"].write_bytes(KEY.pem())
    paths["other"].write_bytes(OTHER.pem())
    paths["public"].write_bytes(KEY.public_pem())
    paths["printer"].write_text(PRINTER, encoding="utf-8")
    monkeypatch.setenv("STANDIN_KEY", str(paths["key"]))
    monkeypatch.setenv("PATH", f"{install(tmp_path / 'bin')}{os.pathsep}{os.environ['PATH']}")
    yield paths
    log.reset()


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "xbfs.bin"
    path.write_bytes(bytes((i * 31 + 7) % 256 for i in range(5000)))
    return path


def _checked(image: Path, out: Path, public: Path) -> None:
    """openssl, digi-xbee and Digi's recipe agree on the file."""
    blob = out.read_bytes()
    signature = blob[62 + 6144 :]
    assert blob == digi_recipe(image.read_bytes(), signature, file_version=0x100D)
    (out.parent / "img.bin").write_bytes(blob[62 : 62 + 6144])
    (out.parent / "sig.bin").write_bytes(signature)
    checked = subprocess.run(
        ["openssl", "dgst", "-sha256", "-verify", str(public), "-signature", "sig.bin", "img.bin"],
        cwd=out.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.stdout.strip() == "Verified OK", checked.stderr
    from digi.xbee.firmware import _OTAFile

    parsed = _OTAFile(str(out))
    parsed.parse_file()
    assert (parsed.manufacturer_code, parsed.total_size, parsed.discard_size) == (0x101E, len(blob), 62)


def _sign(image: Path, out: Path, command: str, public: Path, *extra: str) -> dict[str, object]:
    result = run_cli(
        "xbee-fs",
        image,
        "-o",
        out,
        "-v",
        "100D",
        "--sign-command",
        command,
        "--expect-public-key",
        public,
        "--json",
        *extra,
    )
    assert result.code == 0, result.err
    data: dict[str, object] = json.loads(result.out)
    return data


def recipes() -> dict[str, dict[str, str]]:
    """The KMS recipe blocks of docs/signing.md: their exported variables, by heading."""
    text = (ROOT / "docs" / "signing.md").read_text(encoding="utf-8")
    found: dict[str, dict[str, str]] = {}
    for heading, block in re.findall(r"### ([^\n]+)\n.*?```sh\n(# needs:.*?)```", text, re.S):
        exports = dict(re.findall(r"^export (\w+)=(.+)$", block, re.M))
        found[heading] = {k: shlex.split(v)[0] for k, v in exports.items()}
    return found


def test_the_docs_have_the_four_recipes() -> None:
    assert sorted(recipes()) == ["AWS KMS", "Azure Key Vault", "Google Cloud KMS", "HashiCorp Vault transit"]


@pytest.mark.parametrize("name", sorted(recipes()))
def test_each_documented_recipe_signs_a_verifiable_file(
    name: str, keys: dict[str, Path], image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exports = recipes()[name]
    for variable, value in exports.items():
        monkeypatch.setenv(variable, value)
    out = tmp_path / "out" / "fs.fsota"
    data = _sign(image, out, exports["OTA_SIGN_COMMAND"], keys["public"])
    assert data["key_form"] == "signer command"
    _checked(image, out, keys["public"])


@pytest.mark.parametrize("form", ["der", "raw", "hex", "rawhex", "base64", "base64url", "json", "quoted"])
def test_every_printed_form_is_detected_and_checked(
    form: str, keys: dict[str, Path], image: Path, tmp_path: Path
) -> None:
    command = f'"{sys.executable}" "{keys["printer"]}" {form} "{keys["key"]}"'
    out = tmp_path / "out" / "fs.fsota"
    _sign(image, out, command, keys["public"])
    _checked(image, out, keys["public"])


def _fails(image: Path, tmp_path: Path, command: str, public: Path | None, *extra: str) -> str:
    out = tmp_path / "never" / "fs.fsota"
    args: list[str | Path] = ["xbee-fs", image, "-o", out, "-v", "100D", "--sign-command", command, *extra]
    if public is not None:
        args += ["--expect-public-key", public]
    result = run_cli(*args)
    assert result.code == 2, result.out + result.err
    assert result.out == ""
    assert not out.exists()
    assert not (tmp_path / "never").exists() or list((tmp_path / "never").iterdir()) == []
    assert "SECRET-KEY-ID" not in result.err
    assert "Traceback" not in result.err
    return result.err


def test_a_signer_with_another_key_is_refused_before_anything_is_written(
    keys: dict[str, Path], image: Path, tmp_path: Path
) -> None:
    command = f'"{sys.executable}" "{keys["printer"]}" base64 "{keys["other"]}"'
    err = _fails(image, tmp_path, command, keys["public"])
    assert err.startswith(
        "ota-action xbee-fs: error: --sign-command: the signature from sign-command does not"
    )
    assert "it signs with another key" in err


@pytest.mark.parametrize(
    ("command", "extra", "message"),
    [
        (
            f"echo '{SECRET_NOISE}' >&2; echo '{SECRET_NOISE}'; exit 3",
            [],
            "exited with status 3; its output is not shown",
        ),
        (f"echo '{SECRET_NOISE}'", [], "bytes that are not a P-256 signature"),
        ("printf ''", [], "printed 0 bytes that are not a P-256 signature"),
        ("sleep 30", ["--sign-timeout", "1"], "did not finish within 1 seconds and was stopped"),
        ("head -c 200000 /dev/zero", [], "printed 200000 bytes; a signature is at most a few hundred"),
        ("no-such-signer-command-anywhere", [], "exited with status 127 (command not found?)"),
        ("kill -9 $$", [], "was killed by signal 9"),
    ],
)
def test_signer_failures_exit_2_and_show_nothing_it_printed(
    keys: dict[str, Path], image: Path, tmp_path: Path, command: str, extra: list[str], message: str
) -> None:
    err = _fails(image, tmp_path, command, keys["public"], *extra)
    assert message in err, err
    assert SECRET_NOISE not in err


def test_a_hung_signer_is_killed_with_its_children(
    keys: dict[str, Path], image: Path, tmp_path: Path
) -> None:
    pid_file = tmp_path / "child.pid"
    err = _fails(
        image, tmp_path, f"sleep 600 & echo $! > '{pid_file}'; wait", keys["public"], "--sign-timeout", "1"
    )
    assert "was stopped" in err
    # A killed process can take a moment to leave a loaded machine's run queue: wait for it
    # (bounded, far below the child's own 600 s, so a child left running still fails).
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 30
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(pid)


def _running(pid: int) -> bool:
    """True while ``pid`` runs (a killed child no one has reaped yet is a zombie: not running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


def test_the_signer_needs_the_expected_public_key(keys: dict[str, Path], image: Path, tmp_path: Path) -> None:
    err = _fails(image, tmp_path, "true", None)
    assert "--sign-command: needs --expect-public-key" in err


def test_the_signers_environment_holds_no_secret(
    keys: dict[str, Path], image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTA_PKCS11_PIN", PIN)
    monkeypatch.setenv("CI_PASS", PASSPHRASE)
    monkeypatch.setenv("SAME_VALUE_ELSEWHERE", PIN)
    monkeypatch.setenv("INPUT_SOMETHING", "an-action-input")
    dump = tmp_path / "env.txt"
    command = f'env > "{dump}"; "{sys.executable}" "{keys["printer"]}" der "{keys["key"]}"'
    _sign(image, tmp_path / "fs.fsota", command, keys["public"], "--passphrase-env", "CI_PASS")
    seen = dump.read_text()
    for secret in (PIN, PASSPHRASE, "an-action-input"):
        assert secret not in seen
    assert "OTA_SIGN_DIGEST=" in seen
    assert "STANDIN_KEY=" in seen  # what the signer itself needs passes through


def test_nothing_the_signer_prints_reaches_any_channel_even_with_debug(
    keys: dict[str, Path], image: Path, tmp_path: Path
) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTA_")}
    base |= {"PYTHONPATH": str(ROOT), "OTA_DEBUG": "1", "OTA_LOG_LEVEL": "debug", "OTA_PKCS11_PIN": PIN}
    commands = [
        f"echo '{SECRET_NOISE}' >&2; exit 5",
        f"echo '{SECRET_NOISE}'",
        f'echo "{SECRET_NOISE}" >&2; "{sys.executable}" "{keys["printer"]}" hex "{keys["key"]}"',
    ]
    for index, command in enumerate(commands):
        args = [
            sys.executable,
            "-m",
            "ota_action",
            "xbee-fs",
            str(image),
            "-o",
            str(tmp_path / f"o{index}.fsota"),
        ]
        args += ["-v", "100D", "--expect-public-key", str(keys["public"]), "--verbose"]
        result = subprocess.run(
            args, env={**base, "OTA_SIGN_COMMAND": command}, capture_output=True, timeout=120, cwd=tmp_path
        )
        assert result.returncode == (0 if index == 2 else 2), result.stderr
        for channel in (result.stdout, result.stderr):
            assert SECRET_NOISE.encode() not in channel
            assert PIN.encode() not in channel
