"""Packaging: ``pip install .`` leaves the checkout as it was, and the metadata is complete."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.conftest import ROOT

SOURCES = ("pyproject.toml", "README.md", "LICENSE", "ota_action")


def _copy_sources(dest: Path) -> None:
    for name in SOURCES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)


def test_building_a_wheel_leaves_no_build_directory_in_the_checkout(tmp_path: Path) -> None:
    """What ``pip install .`` does, offline: build the wheel in place (flit-core from dev.txt)."""
    source, out = tmp_path / "checkout", tmp_path / "wheels"
    source.mkdir()
    _copy_sources(source)
    before = sorted(p.name for p in source.iterdir())
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            ".",
        ],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in source.iterdir()) == before
    (wheel,) = out.glob("ota_action-*.whl")
    assert wheel.stat().st_size > 10_000


def test_metadata_names_the_license_and_the_repository() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "Apache-2.0"
    assert "Apache License" in (ROOT / "LICENSE").read_text(encoding="utf-8")[:200]
    assert project["urls"]["Source"] == "https://github.com/ota-action/ota-action"
    assert all(url.startswith("https://github.com/ota-action/ota-action") for url in project["urls"].values())
