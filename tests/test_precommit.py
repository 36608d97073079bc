"""The pre-commit hooks (.pre-commit-hooks.yaml) run as a project would use them.

``pre-commit try-repo`` installs this checkout into its own environment (as a project's
``.pre-commit-config.yaml`` would) and runs the hook on a scratch git repository's files:
a valid OTA file passes, a corrupted one fails the commit naming it, and a payload
``.bin`` beside them is not the hook's business.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

from tests.conftest import ROOT

HOOKS = ROOT / ".pre-commit-hooks.yaml"


def _ota(path: Path, version: str) -> None:
    payload = path.with_suffix(".bin")
    payload.write_bytes(bytes(range(256)) * 8)
    result = subprocess.run(
        [
            sys.executable, "-m", "ota_action", "zbota", "-o", str(path), "-m", "0x1234", "-i", "0x0001",
            "-v", version, "-t", f"0x0000:{payload}", "--integrity",
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    payload.unlink()


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, timeout=60)


def _try_repo(repo: Path, tmp_path: Path, hook: str) -> subprocess.CompletedProcess[str]:
    """``pre-commit try-repo`` of this checkout's ``hook`` on every file of ``repo``."""
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("OTA_TEST_CORPUS", None)
    pre_commit = shutil.which("pre-commit", path=env["PATH"])
    assert pre_commit is not None
    run = [pre_commit, "try-repo", str(ROOT), hook, "--all-files", "--color", "never"]
    return subprocess.run(run, cwd=repo, env=env, capture_output=True, text=True, timeout=600)


def test_hook_definitions_name_existing_commands() -> None:
    hooks = YAML(typ="safe").load(HOOKS.read_text(encoding="utf-8"))
    assert [h["id"] for h in hooks] == ["ota-verify", "ota-index-check"]
    for hook in hooks:
        assert hook["language"] == "python"
    assert hooks[0]["entry"] == "ota-action verify"
    # verify spreads a batch over every core itself: pre-commit's own split would run a
    # pool per chunk, N² workers on N cores (docs/speed.md, "The pre-commit hook")
    assert hooks[0]["require_serial"] is True
    program, flag, module, name = hooks[1]["entry"].split()
    assert (program, flag, module) == ("python", "-m", "ota_action.doors.hooks")
    assert name in importlib.import_module(module).HOOKS
    index_files = re.compile(hooks[1]["files"])
    for path in ("index.json", "ota/index.json", "Index1.JSON", "fw/zigpy-index.json"):
        assert index_files.search(path), path
    for path in ("package.json", "index.json.bak", "indexes/app.ota"):
        assert not index_files.search(path), path


def test_verify_hook_fails_a_commit_with_a_corrupt_ota_file(tmp_path: Path) -> None:
    repo = tmp_path / "firmware"
    repo.mkdir()
    _git(repo, "init", "-q")
    _ota(repo / "good.ota", "1.0.0.1")
    _ota(repo / "bad.zigbee", "1.0.0.2")
    data = bytearray((repo / "bad.zigbee").read_bytes())
    data[100] ^= 0xFF  # inside the upgrade image: the integrity code no longer matches
    (repo / "bad.zigbee").write_bytes(bytes(data))
    (repo / "app.bin").write_bytes(b"\x00" * 64)  # a payload, not an OTA file: not checked
    _git(repo, "add", ".")
    failed = _try_repo(repo, tmp_path, "ota-verify")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    valid = [line for line in failed.stdout.splitlines() if line.startswith("valid ")]
    invalid = [line for line in failed.stdout.splitlines() if line.startswith("invalid ")]
    assert len(valid) == 1
    assert valid[0].endswith(" good.ota")
    assert len(invalid) == 1
    assert "bad.zigbee: the integrity code does not match" in invalid[0]
    assert "app.bin" not in failed.stdout
    (repo / "bad.zigbee").unlink()
    _git(repo, "add", "-A")
    passed = _try_repo(repo, tmp_path, "ota-verify")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout


def test_index_hook_fails_a_commit_whose_index_no_longer_describes_its_files(tmp_path: Path) -> None:
    repo = tmp_path / "firmware"
    (repo / "ota").mkdir(parents=True)
    _git(repo, "init", "-q")
    _ota(repo / "ota" / "lamp.ota", "1.0.0.1")
    _ota(repo / "ota" / "plug.zigbee", "1.0.0.1")
    for name in ("index.json", "zigpy-index.json"):
        fmt = "z2m" if name == "index.json" else "zigpy"
        subprocess.run(
            [sys.executable, "-m", "ota_action", "index", "--format", fmt, "-o", str(repo / "ota" / name),
             str(repo / "ota" / "lamp.ota"), str(repo / "ota" / "plug.zigbee"), "--quiet"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    _git(repo, "add", ".")
    passed = _try_repo(repo, tmp_path, "ota-index-check")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    _ota(repo / "ota" / "plug.zigbee", "1.0.0.2")  # rebuilt, the indexes not rewritten
    _git(repo, "add", "-A")
    failed = _try_repo(repo, tmp_path, "ota-index-check")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    stale = [line for line in failed.stdout.splitlines() if line.startswith("error: plug.zigbee")]
    assert len(stale) == 2, failed.stdout  # one per index
    assert "the index says" in stale[0] or "is not the index's" in stale[0]
    assert "ota/index.json" in failed.stdout
    assert "ota/zigpy-index.json" in failed.stdout
