"""Packaging: ``pip install .`` leaves the checkout as it was, and the metadata is complete."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.conftest import ROOT

SOURCES = ("pyproject.toml", "README.md", "LICENSE", "ota_action", "docs", "examples", "CONTRIBUTING.md")


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


def test_the_sdist_ships_the_package_docs_and_examples_and_no_tests(tmp_path: Path) -> None:
    """The tests need files an sdist cannot carry (the corpus, system tools): they stay out."""
    import tarfile

    source = tmp_path / "checkout"
    source.mkdir()
    _copy_sources(source)
    result = subprocess.run(
        [sys.executable, "-c", "import flit_core.buildapi as b; print(b.build_sdist('dist'))"],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    with tarfile.open(source / "dist" / result.stdout.strip()) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    tops = {name.split("/", 1)[0] for name in names}
    shipped = {"ota_action", "docs", "examples", "README.md", "LICENSE", "pyproject.toml", "CONTRIBUTING.md"}
    assert tops == {*shipped, "PKG-INFO"}
    assert {"docs/troubleshooting.md", "examples/firmware/app.hex", "ota_action/__init__.py"} <= names


def test_classifiers_name_every_tested_python_and_requires_python_is_the_oldest() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    versions = [
        c.rsplit(" ", 1)[1]
        for c in project["classifiers"]
        if c.startswith("Programming Language :: Python :: 3.")
    ]
    assert versions == ["3.11", "3.12", "3.13"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "for version in 3.11 3.12 3.13; do" in ci
    assert project["requires-python"] == ">=3.11"
    assert sys.version_info >= (3, 11)
