"""The container, for real, without a Docker engine.

debootstrap makes a minimal Debian bookworm with Python; buildah (chroot isolation,
vfs storage, both from Debian's packages) imports it, builds our Dockerfile on it with
``--build-arg BASE_IMAGE``, and runs the image's own ENTRYPOINT against a mounted
workspace with GitHub's environment, as the runner's ``docker run`` does: build an OTA
file, verify it (Action mode and CLI mode), and fail cleanly on a bad input.

The base root file system (a tarball) and buildah's store are cached under
``.cache/container/`` (``OTA_CONTAINER_CACHE`` moves it), so only the first run pays
for debootstrap, and the build uses ``--layers`` so a second run reuses the layers.
One test function, so parallel workers never build at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, ROOT, need_tool
from tests.test_action import ZBOTA, declared_inputs, parse_file_commands, workflow_commands

pytestmark = pytest.mark.container

CACHE = Path(os.environ.get("OTA_CONTAINER_CACHE") or ROOT / ".cache" / "container")
PACKAGES = ("python3", "python3-venv", "ca-certificates")
BASE_TAR = CACHE / f"debian-bookworm-minbase-{'-'.join(PACKAGES)}.tar"
BASE_IMAGE = "localhost/ota-action-base:bookworm"
IMAGE = "localhost/ota-action:test"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
RUNNER_UID = 1001  # the runner user owns the workspace on GitHub's hosted runners


class Buildah:
    def __init__(self, path: str) -> None:
        self.base = [path, "--storage-driver", "vfs", "--root", str(CACHE / "storage")]
        self.base += ["--runroot", str(CACHE / "run")]

    def __call__(
        self, *args: str, check: bool = True, timeout: int = 900
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([*self.base, *args], capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            pytest.fail(
                f"buildah {' '.join(args[:2])} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result


def _need_root() -> None:
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("the container test needs root in CI (debootstrap, buildah chroot)")
        pytest.skip("the container test needs root (debootstrap, buildah chroot)")


def _base_tarball(tmp: Path) -> Path:
    """A minimal Debian bookworm with Python, made once and kept in the cache."""
    if BASE_TAR.is_file():
        return BASE_TAR
    debootstrap = need_tool("debootstrap")
    rootfs = tmp / "rootfs"
    subprocess.run(
        [debootstrap, "--variant=minbase", f"--include={','.join(PACKAGES)}", "bookworm", str(rootfs)],
        check=True,
        capture_output=True,
        timeout=1200,
    )
    partial = BASE_TAR.with_suffix(".partial")
    subprocess.run(["tar", "-C", str(rootfs), "-cf", str(partial), "."], check=True, timeout=600)
    partial.replace(BASE_TAR)
    subprocess.run(["rm", "-rf", str(rootfs)], check=True)
    return BASE_TAR


def _base_image(buildah: Buildah, tmp: Path) -> None:
    if buildah("inspect", "--type", "image", BASE_IMAGE, check=False).returncode == 0:
        return
    tarball = _base_tarball(tmp)
    ctr = buildah("from", "scratch").stdout.strip()
    try:
        buildah("add", ctr, str(tarball), "/")
        buildah("config", "--cmd", "/usr/bin/python3", ctr)
        buildah("commit", "-q", ctr, BASE_IMAGE)
    finally:
        buildah("rm", ctr, check=False)


CONTEXT_LABEL = "org.ota-action.test.context"


def context_digest() -> str:
    """SHA-256 of what the build reads: Dockerfile, .dockerignore and the files it lets in.

    .dockerignore is a whitelist (``*`` then ``!path`` lines), so those paths are the
    whole build context. An image labelled with this digest (and the base's id) needs no
    rebuild at all; otherwise ``--layers`` reuses what it can.
    """
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8")
    assert "\n*\n" in f"\n{ignore}", ".dockerignore must stay a whitelist"
    files = [ROOT / "Dockerfile", ROOT / ".dockerignore"]
    for line in ignore.splitlines():
        if line.startswith("!"):
            path = ROOT / line[1:].strip().rstrip("/")
            files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for path in files:
        if "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _built_from(buildah: Buildah, digest: str) -> bool:
    found = buildah("inspect", "--type", "image", IMAGE, check=False)
    if found.returncode != 0:
        return False
    labels = json.loads(found.stdout)["OCIv1"]["config"].get("Labels") or {}
    return bool(labels.get(CONTEXT_LABEL) == digest)


@pytest.fixture
def image(tmp_path: Path) -> tuple[Buildah, dict[str, Any]]:
    _need_root()
    buildah = Buildah(need_tool("buildah"))
    need_tool("debootstrap")
    CACHE.mkdir(parents=True, exist_ok=True)
    _base_image(buildah, tmp_path)
    base_id = json.loads(buildah("inspect", "--type", "image", BASE_IMAGE).stdout)["FromImageID"]
    digest = hashlib.sha256(f"{base_id}:{context_digest()}".encode()).hexdigest()
    if not _built_from(buildah, digest):
        # --layers keeps each instruction's result as an intermediate image, so a rebuild
        # reuses every layer whose inputs did not change (dependencies survive source edits).
        build = ["bud", "--layers", "--isolation", "chroot", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}"]
        build += ["--label", f"{CONTEXT_LABEL}={digest}", "-t", IMAGE]
        if CA_BUNDLE.is_file():  # pip inside RUN needs the host's CA bundle
            build += ["-v", f"{CA_BUNDLE}:{CA_BUNDLE}:ro"]
        buildah(*build, "-f", str(ROOT / "Dockerfile"), str(ROOT), timeout=1800)
        # The previous build's final image, now untagged and childless; intermediate layer
        # images have children and are kept for the next build.
        buildah("rmi", "--prune", check=False)
    config = json.loads(buildah("inspect", "--type", "image", IMAGE).stdout)["OCIv1"]["config"]
    return buildah, config


class Container:
    """``buildah run`` with the runner's mounts: workspace and file-command directory."""

    def __init__(self, buildah: Buildah, entrypoint: Sequence[str], root: Path) -> None:
        self.buildah = buildah
        self.entrypoint = list(entrypoint)
        self.workspace = root / "workspace"
        self.commands = root / "file_commands"
        self.workspace.mkdir()
        self.commands.mkdir()
        self.ctr = buildah("from", IMAGE).stdout.strip()

    def run(
        self, env: dict[str, str], args: Sequence[str] = ()
    ) -> tuple[subprocess.CompletedProcess[str], str]:
        for name in ("set_output", "step_summary", "set_env"):
            (self.commands / name).write_text("")
        environ = {
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "GITHUB_WORKSPACE": "/github/workspace",
            "GITHUB_OUTPUT": "/github/file_commands/set_output",
            "GITHUB_STEP_SUMMARY": "/github/file_commands/step_summary",
            "GITHUB_ENV": "/github/file_commands/set_env",
            "HOME": "/github/home",
            "PATH": "utter-nonsense",  # the workflow's PATH leaks in; the entrypoint must not care
            "PYTHONPATH": "/nonexistent",
            **env,
        }
        command = [
            "run",
            "--isolation",
            "chroot",
            "--workingdir",
            "/github/workspace",
            "-v",
            f"{self.workspace}:/github/workspace",
            "-v",
            f"{self.commands}:/github/file_commands",
        ]
        for key, value in environ.items():
            command += ["--env", f"{key}={value}"]
        result = self.buildah(*command, self.ctr, "--", *self.entrypoint, *args, check=False, timeout=300)
        return result, (self.commands / "set_output").read_text()

    def inputs(self, given: dict[str, str]) -> dict[str, str]:
        return {f"INPUT_{name.upper()}": given.get(name, "") for name in declared_inputs()}

    def remove(self) -> None:
        self.buildah("rm", self.ctr, check=False)


def test_container_builds_an_ota_file_and_verifies_it(
    image: tuple[Buildah, dict[str, Any]], tmp_path: Path
) -> None:
    buildah, config = image
    entrypoint = config["Entrypoint"]
    assert entrypoint == ["/opt/ota-action/venv/bin/python", "-I", "-u", "/opt/ota-action/entrypoint.py"]
    assert not config.get("User")
    assert not config.get("WorkingDir")
    assert config["Labels"]["org.opencontainers.image.title"] == "ota-action"

    container = Container(buildah, entrypoint, tmp_path)
    try:
        firmware = container.workspace / "firmware"
        firmware.mkdir()
        (firmware / "app.hex").write_bytes((ROOT / "examples" / "firmware" / "app.hex").read_bytes())
        os.chown(container.workspace, RUNNER_UID, RUNNER_UID)

        # 1. Action mode: build.
        result, outputs_text = container.run(container.inputs(ZBOTA))
        assert result.returncode == 0, result.stdout + result.stderr
        outputs = parse_file_commands(outputs_text)
        assert outputs["ota-file"] == "dist/app.ota"
        written = container.workspace / "dist" / "app.ota"
        data = written.read_bytes()
        assert outputs["sha256"] == hashlib.sha256(data).hexdigest()
        assert outputs["size"] == str(len(data))
        assert outputs["file-version"] == "0x01000001"
        for path in (written, written.parent):
            assert path.stat().st_uid == RUNNER_UID, f"{path} not given to the workspace owner"
        summary = (container.commands / "step_summary").read_text()
        assert "| Manufacturer ID | 0x1234 |" in summary

        # 2. Action mode: verify what was built.
        result, outputs_text = container.run(container.inputs({"command": "verify", "image": "dist/app.ota"}))
        assert result.returncode == 0, result.stdout + result.stderr
        assert json.loads(parse_file_commands(outputs_text)["summary-json"])["valid"] is True

        # 3. CLI mode (arguments): `docker run IMAGE verify dist/app.ota --json`.
        result, _ = container.run({}, ["verify", "dist/app.ota", "--json"])
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["valid"] is True
        assert report["sha256"] == outputs["sha256"]

        # 4. A bad input: exit 2, an annotation naming it, no outputs.
        result, outputs_text = container.run(container.inputs({**ZBOTA, "mfg-id": "0x1FFFF"}))
        assert result.returncode == 2
        assert outputs_text == ""
        errors = [c for c in workflow_commands(result.stdout) if c.name == "error"]
        assert [e.props["title"] for e in errors] == ["Input mfg-id"]

        # 5. The image has libcrypto, so AES-MMO takes the fast path.
        probe = "from ota_action.formats.zigbee.integrity import backend; print(backend().name)"
        result = buildah(
            "run",
            "--isolation",
            "chroot",
            container.ctr,
            "--",
            entrypoint[0],
            "-I",
            "-c",
            probe,
            check=False,
        )
        assert result.stdout.strip() == "libcrypto", result.stderr
    finally:
        container.remove()
