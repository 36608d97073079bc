"""``verify --public-key A --public-key B``: the report names the key that signed each file.

Files are signed with two different keys (the release gate's "production, not
development" and a key rotation's old and new); verify with both keys must name, for
each file, the one that verifies it, by its path and fingerprint, through the CLI, its
JSON and the Action's one-key-a-line input.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from ota_action.doors.action import run as action
from ota_action.edges import log
from ota_action.signing.public import fingerprint
from tests.conftest import run_cli
from tests.xbee_keys import KeyForms, new_key

PRODUCTION, DEVELOPMENT = new_key(), new_key()


@pytest.fixture
def signed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    image = tmp_path / "xbfs.bin"
    image.write_bytes(bytes(range(256)) * 12)
    paths: dict[str, Path] = {}
    for name, key in (("production", PRODUCTION), ("development", DEVELOPMENT)):
        (tmp_path / f"{name}.pem").write_bytes(key.public_pem())
        monkeypatch.setenv("OTA_SIGNING_KEY", key.pem().decode())
        out = tmp_path / f"{name}.fsota"
        assert run_cli("xbee-fs", image, "-o", out, "-v", "100D").code == 0
        paths[name] = out
    monkeypatch.delenv("OTA_SIGNING_KEY")
    return paths


def _named(verdict: str, path: Path, key: KeyForms) -> bool:
    return (
        verdict.startswith("valid (")
        and f"key fingerprint {fingerprint(key.public)}, public key {str(path)!r})" in verdict
    )


def test_each_file_names_the_key_that_signed_it(signed: dict[str, Path], tmp_path: Path) -> None:
    keys: list[str | Path] = [
        "--public-key",
        tmp_path / "development.pem",
        "--public-key",
        tmp_path / "production.pem",
    ]
    for name, key in (("production", PRODUCTION), ("development", DEVELOPMENT)):
        result = run_cli("verify", signed[name], *keys, "--json")
        assert result.code == 0, result.err
        assert _named(json.loads(result.out)["signature"], tmp_path / f"{name}.pem", key)
        text = run_cli("verify", signed[name], *keys).out
        assert f"public key {str(tmp_path / f'{name}.pem')!r})" in text
    batch = run_cli("verify", signed["production"], signed["development"], *keys, "--json")
    assert batch.code == 0
    verdicts = {json.loads(line)["file"]: json.loads(line)["signature"] for line in batch.out.splitlines()}
    assert _named(verdicts[str(signed["production"])], tmp_path / "production.pem", PRODUCTION)
    assert _named(verdicts[str(signed["development"])], tmp_path / "development.pem", DEVELOPMENT)


def test_the_release_gate_refuses_the_development_key(signed: dict[str, Path], tmp_path: Path) -> None:
    result = run_cli("verify", signed["development"], "--public-key", tmp_path / "production.pem", "--json")
    assert result.code == 1
    assert json.loads(result.out)["valid"] is False
    other = new_key()
    (tmp_path / "other.pem").write_bytes(other.public_pem())
    result = run_cli(
        "verify",
        signed["development"],
        "--public-key",
        tmp_path / "production.pem",
        "--public-key",
        tmp_path / "other.pem",
        "--json",
    )
    assert result.code == 1
    verdict = json.loads(result.out)["signature"]
    assert "verifies with none of the 2 public keys given" in verdict
    assert fingerprint(PRODUCTION.public) in verdict
    assert fingerprint(other.public) in verdict


def test_the_same_key_twice_is_refused(signed: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "copy.pem"
    copy.write_bytes(PRODUCTION.public_pem())
    result = run_cli(
        "verify", signed["production"], "--public-key", tmp_path / "production.pem", "--public-key", copy
    )
    assert result.code == 2
    assert (
        f"--public-key {str(copy)!r}: is the same key as {str(tmp_path / 'production.pem')!r}" in result.err
    )


def test_the_action_takes_one_public_key_a_line(
    signed: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in [k for k in os.environ if k.startswith(("INPUT_", "OTA_", "GITHUB_"))]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    monkeypatch.setenv("INPUT_COMMAND", "verify")
    monkeypatch.setenv("INPUT_IMAGE", "development.fsota")
    monkeypatch.setenv("INPUT_PUBLIC-KEY", "production.pem\ndevelopment.pem\n")
    monkeypatch.setenv("OTA_RESULT_FILE", str(tmp_path / "result.json"))
    out = io.StringIO()
    try:
        assert action.main(out) == 0, out.getvalue()
    finally:
        log.reset()
    assert _named(
        json.loads((tmp_path / "result.json").read_text())["signature"], Path("development.pem"), DEVELOPMENT
    )
