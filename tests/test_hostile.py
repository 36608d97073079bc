# ruff: noqa: PLW1509, S103
"""Hostile input (issue 12): every case a subprocess under a memory limit and a timeout.

Each case asserts the exit status, a stable fragment of the message, that no planted
secret (a P-256 key in every form, a GitHub-token-like value, whatever the case pasted)
appears in stdout, stderr, the step outputs, the summary or any file written, that no
traceback is shown and that no temporary is left behind.  Cases needing root (device
nodes, setuid to drop privileges) run in CI, which is root; locally they skip when not root.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import IN_CI, ROOT, need_tool
from tests.subproc import writing_output
from tests.xbee_keys import PASSPHRASE, KeyForms, new_key

ENTRYPOINT = ROOT / "entrypoint.py"
# A hang guard, not a speed limit: every case takes well under a second on an idle machine,
# and a loaded laptop or CI runner may be many times slower; a hang still fails, later.
TIMEOUT = 120
MEMORY = 1536 * 1024 * 1024
TOKEN = "ghp_" + "Zq7" * 12  # shaped like a GitHub token
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
NOBODY = 65534


def need_root() -> None:
    if not IS_ROOT:
        if IN_CI:
            pytest.fail("CI runs as root; this case must not be skipped there")
        pytest.skip("needs root (mknod, /dev/null as output, setuid)")


def _limits(memory: int, uid: int | None) -> Callable[[], None]:
    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        if uid is not None:
            os.setgid(uid)
            os.setuid(uid)

    return apply


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    outputs: str = ""
    summary: str = ""

    @property
    def text(self) -> str:
        return self.out + self.err


@dataclass
class World:
    """A temporary workspace with planted secrets, and runners for both doors."""

    root: Path
    key: KeyForms = field(default_factory=new_key)
    secret_inputs: set[Path] = field(default_factory=set)
    extra_secrets: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ws = self.root / "ws"
        self.runner_dir = self.root / "runner"
        for d in (self.ws, self.runner_dir, self.root / "home", self.root / "outside"):
            d.mkdir()
        (self.ws / "fw.bin").write_bytes(bytes(range(256)) * 8)
        (self.ws / "a.hex").write_text(":020000040000FA\n:0400000001020304F2\n:00000001FF\n")
        (self.ws / "b.hex").write_text(":020000040000FA\n:0400100005060708C6\n:00000001FF\n")
        (self.root / "outside" / "secret.bin").write_bytes(b"outside the workspace")
        self.pem = self.key.pem().decode()
        os.chmod(self.ws, 0o755)
        os.chmod(self.root, 0o755)

    # -- files ------------------------------------------------------------------------------
    def p(self, name: str) -> Path:
        return self.ws / name

    def fifo(self, name: str) -> str:
        os.mkfifo(self.p(name))
        return name

    def secret_file(self, name: str, data: bytes) -> str:
        self.p(name).write_bytes(data)
        self.secret_inputs.add(self.p(name))
        return name

    def ota(self, name: str = "app.ota", *extra: str) -> str:
        result = self.cli("zbota", "-o", name, "-m", "0x1234", "-i", "1", "-v", "1", "-t", "0:fw.bin", *extra)
        assert result.code == 0, result.text
        return name

    def xbfs(self) -> str:
        self.p("xbfs.bin").write_bytes(bytes(range(256)) * 40)
        return "xbfs.bin"

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.root / "home"),
            "LANG": "C.UTF-8",
            "GITHUB_TOKEN": TOKEN,
            "HOSTILE_PLANTED_KEY": self.pem,
            "PYTHONPATH": str(ROOT),
        }
        env.update(extra or {})
        return env

    # -- running ----------------------------------------------------------------------------
    def cli(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        memory: int = MEMORY,
        uid: int | None = None,
        envb: dict[bytes, bytes] | None = None,
        wrap: tuple[str, ...] = (),
    ) -> Outcome:
        text_env = self.env(env)
        environ = {k.encode(): v.encode() for k, v in text_env.items()} | (envb or {})
        result = subprocess.run(
            [*wrap, sys.executable, "-m", "ota_action", *args],
            cwd=self.ws,
            env=environ,
            capture_output=True,
            timeout=TIMEOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_limits(memory, uid),
        )
        return Outcome(result.returncode, _text(result.stdout), _text(result.stderr))

    def action(self, inputs: dict[str, str], env: dict[str, str | None] | None = None) -> Outcome:
        outputs = self.runner_dir / "set_output"
        summary = self.runner_dir / "step_summary"
        for path in (outputs, summary):
            if not path.exists():
                path.write_text("")
        environ = self.env(
            {
                "GITHUB_ACTIONS": "true",
                "CI": "true",
                "GITHUB_WORKSPACE": str(self.ws),
                "GITHUB_OUTPUT": str(outputs),
                "GITHUB_STEP_SUMMARY": str(summary),
            }
        )
        environ.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
        for key, value in (env or {}).items():
            if value is None:
                environ.pop(key, None)
            else:
                environ[key] = value
        result = subprocess.run(
            [sys.executable, "-I", str(ENTRYPOINT)],
            cwd=self.ws,
            env=environ,
            capture_output=True,
            timeout=TIMEOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_limits(MEMORY, None),
        )
        return Outcome(
            result.returncode,
            _text(result.stdout),
            _text(result.stderr),
            outputs.read_text() if outputs.is_file() else "",
            summary.read_text() if summary.is_file() else "",
        )

    # -- checking ---------------------------------------------------------------------------
    def needles(self) -> dict[str, bytes]:
        found = dict(self.key.secrets())
        found["token"] = TOKEN.encode()
        for i, value in enumerate(self.extra_secrets):
            found[f"pasted {i}"] = value.encode()
        return {name: value for name, value in found.items() if len(value) >= 8}

    def assert_clean(self, outcome: Outcome) -> None:
        # ::add-mask:: lines carry the secret to the runner, which hides it from the log.
        out = "\n".join(line for line in outcome.out.splitlines() if not line.startswith("::add-mask::"))
        blobs = {"stdout": out, "stderr": outcome.err, "outputs": outcome.outputs}
        blobs["summary"] = outcome.summary
        needles = self.needles()
        for where, text in blobs.items():
            data = text.encode("utf-8", "surrogateescape")
            for name, needle in needles.items():
                assert needle not in data, f"{name} leaked into {where}"
        for path in _walk(self.root):
            if path in self.secret_inputs or not path.is_file() or path.is_symlink():
                continue
            leaked = _leaked(path, needles)
            assert not leaked, f"{', '.join(leaked)} leaked into {path}"
        leftovers = [p for p in _walk(self.root) if p.name.endswith(".tmp")]
        assert not leftovers, f"left behind: {leftovers}"
        assert "Traceback" not in outcome.text


def _linked(w: World, target: str, name: str, args: list[str]) -> list[str]:
    """Make the symlink ``name -> target`` in the workspace, then give the arguments."""
    os.symlink(target, w.p(name))
    return args


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


CHUNK = 1 << 20


def _data_runs(fd: int, size: int) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of each run of data; what lies between is a hole (zero bytes).

    Where ``SEEK_DATA`` is missing or refused (Windows, some file systems) the whole
    file is one run, so nothing is ever skipped that holds data.
    """
    seek_data, seek_hole = getattr(os, "SEEK_DATA", None), getattr(os, "SEEK_HOLE", None)
    if seek_data is None or seek_hole is None:
        yield 0, size
        return
    pos = 0
    while pos < size:
        try:
            start = os.lseek(fd, pos, seek_data)
        except OSError as error:
            if error.errno == errno.ENXIO:  # only a hole after pos
                return
            yield pos, size
            return
        end = min(os.lseek(fd, start, seek_hole), size)
        yield start, end
        pos = end


def _pieces(path: Path, zeros_kept: int) -> Iterator[bytes]:
    """The file's bytes in order, at most 1 MiB at a time, each hole cut to ``zeros_kept`` zeros.

    A needle of at most ``zeros_kept`` bytes occurs in the cut stream exactly when it occurs
    in the file: an occurrence touching a hole uses fewer zeros than that from one side, and
    none can span a hole that long. So an 8 GiB sparse file is checked in microseconds.
    """
    with path.open("rb") as handle:
        fd, size, pos = handle.fileno(), os.fstat(handle.fileno()).st_size, 0
        for start, end in _data_runs(fd, size):
            if start > pos:
                yield bytes(min(start - pos, zeros_kept))
            handle.seek(start)
            at = start
            while at < end:
                chunk = handle.read(min(CHUNK, end - at))
                if not chunk:
                    break
                yield chunk
                at += len(chunk)
            pos = end
        if size > pos:
            yield bytes(min(size - pos, zeros_kept))


def _leaked(path: Path, needles: dict[str, bytes]) -> list[str]:
    """Names of the needles found in the file, read in chunks (bounded memory, any size)."""
    if not needles:
        return []
    longest = max(len(n) for n in needles.values())
    found: set[str] = set()
    tail = b""
    for piece in _pieces(path, longest):
        window = tail + piece
        found.update(name for name, needle in needles.items() if needle in window)
        tail = window[-(longest - 1) :]
    return sorted(found)


def test_the_leak_check_finds_a_needle_across_chunks_and_holes(tmp_path: Path) -> None:
    """The streamed check is as strict as reading the whole file: chunk edges and holes hide nothing."""
    across = b"ACROSS-THE-CHUNK-EDGE"
    into_hole = b"SECRET-KEY-BYTES\x00\x00"  # ends in zeros that lie in a hole
    path = tmp_path / "sparse.bin"
    with path.open("wb") as handle:
        handle.write(b"\x01" * (2 * CHUNK))
        handle.seek(CHUNK - 7)
        handle.write(across)  # data read in 1 MiB chunks: this one straddles two
        handle.seek(4 * CHUNK - 16)
        handle.write(into_hole[:-2])  # data ends on a block boundary, a hole follows
        handle.truncate(64 * CHUNK)
    needles = {"across": across, "into hole": into_hole, "absent": b"not-in-the-file"}
    assert _leaked(path, needles) == ["across", "into hole"]
    assert _leaked(path, {"zeros": bytes(40)}) == ["zeros"]  # a hole is zero bytes, not nothing
    assert path.stat().st_size == 64 * CHUNK


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + dirnames:
            yield Path(dirpath) / name


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def expect(world: World, outcome: Outcome, code: int, fragment: str) -> None:
    assert outcome.code == code, outcome.text
    assert fragment in outcome.text, outcome.text
    world.assert_clean(outcome)


ZB = ("zbota", "-m", "0x1234", "-i", "1", "-v", "1")


# === 1. Paths in the Action resolve inside the workspace, and are regular files =========

OUTSIDE = "outside the workspace"


def _environ_link(w: World) -> str:
    os.symlink("/proc/self/environ", w.p("extra.bin"))
    return "extra.bin"


def _outside_link(w: World) -> str:
    os.symlink(w.root / "outside" / "secret.bin", w.p("link.bin"))
    return "link.bin"


def _outside_hex(w: World) -> str:
    (w.root / "outside" / "x.hex").write_text(":00000001FF\n")
    os.symlink(w.root / "outside" / "x.hex", w.p("x.hex"))
    return "x.hex"


def _dir_link(w: World) -> str:
    os.symlink(w.root / "outside", w.p("dist"))
    return "dist/app.ota"


ZB_INPUTS = {"command": "zbota", "mfg-id": "0x1234", "image-type": "1", "version": "1", "outfile": "o.ota"}

CONFINE_CASES: dict[str, Callable[[World], dict[str, str]]] = {
    "tag-proc-environ": lambda w: {**ZB_INPUTS, "tags": f"0x0000:{_environ_link(w)}"},
    "tag-symlink-out": lambda w: {**ZB_INPUTS, "tags": f"0x0000:{_outside_link(w)}"},
    "tag-absolute-out": lambda w: {**ZB_INPUTS, "tags": f"0x0000:{w.root / 'outside' / 'secret.bin'}"},
    "tag-dotdot": lambda w: {**ZB_INPUTS, "tags": "0x0000:../outside/secret.bin"},
    "tag-etc-passwd": lambda w: {**ZB_INPUTS, "tags": "0x0000:/etc/passwd"},
    "tag-hex-out": lambda w: {**ZB_INPUTS, "tags": f"0x0000:{_outside_hex(w)}"},
    "outfile-absolute-out": lambda w: {
        **ZB_INPUTS,
        "tags": "0:fw.bin",
        "outfile": str(w.root / "outside" / "o.ota"),
    },
    "outfile-dotdot": lambda w: {**ZB_INPUTS, "tags": "0:fw.bin", "outfile": "../outside/o.ota"},
    "outfile-dir-link": lambda w: {**ZB_INPUTS, "tags": "0:fw.bin", "outfile": _dir_link(w)},
    "combine-file-out": lambda w: {
        "command": "combine",
        "files": f"a.hex\n{_outside_hex(w)}",
        "outfile": "m.hex",
    },
    "inspect-image-environ": lambda w: {"command": "inspect", "image": _environ_link(w)},
    "verify-image-out": lambda w: {"command": "verify", "image": str(w.root / "outside" / "secret.bin")},
    "verify-public-key-out": lambda w: {
        "command": "verify",
        "image": w.ota(),
        "public-key": _outside_link(w),
    },
    "xbee-fs-image-environ": lambda w: {
        "command": "xbee-fs",
        "image": _environ_link(w),
        "version": "100D",
        "outfile": "fs.fsota",
        "signing-key": w.pem,
    },
}


@pytest.mark.parametrize("case", sorted(CONFINE_CASES))
def test_action_paths_stay_in_the_workspace(world: World, case: str) -> None:
    outcome = world.action(CONFINE_CASES[case](world))
    expect(world, outcome, 2, "workspace")
    assert "::error" in outcome.out
    assert outcome.outputs == ""
    assert not (world.root / "outside" / "o.ota").exists()
    assert not world.p("o.ota").exists()


def test_result_file_outside_the_workspace(world: World) -> None:
    inputs = {**ZB_INPUTS, "tags": "0:fw.bin"}
    outcome = world.action(inputs, {"OTA_RESULT_FILE": str(world.root / "outside" / "r.json")})
    expect(world, outcome, 2, "OTA_RESULT_FILE")
    assert not world.p("o.ota").exists()  # checked before the work
    assert not (world.root / "outside" / "r.json").exists()


def test_docker_run_without_arguments_is_confined_to_the_working_directory(world: World) -> None:
    env = {
        "GITHUB_ACTIONS": None,
        "GITHUB_WORKSPACE": None,
        "GITHUB_OUTPUT": None,
        "GITHUB_STEP_SUMMARY": None,
        "OTA_COMMAND": "zbota",
        "OTA_OUTFILE": "o.ota",
        "OTA_MFG_ID": "1",
        "OTA_IMAGE_TYPE": "1",
        "OTA_VERSION": "1",
        "OTA_TAGS": f"0x0000:{_environ_link(world)}",
    }
    expect(world, world.action({}, env), 2, OUTSIDE)


def test_symlink_inside_the_workspace_is_followed(world: World) -> None:
    os.symlink("fw.bin", world.p("alias.bin"))
    outcome = world.action({**ZB_INPUTS, "tags": "0:alias.bin"})
    expect(world, outcome, 0, "saved to")


def test_cli_is_not_confined(world: World) -> None:
    outcome = world.cli(*ZB, "-o", "o.ota", "-t", f"0:{world.root / 'outside' / 'secret.bin'}")
    expect(world, outcome, 0, "saved to")


# === 2. Outputs that are not regular files are refused, never replaced ====================

NOT_REGULAR = "exists and is a"


def _refused(command: str, fragment: str) -> str:
    """keygen refuses anything at the path (even a device) as already existing."""
    return "already exists" if command == "keygen" else fragment


def _out_args(command: str, out: str, w: World) -> list[str]:
    if command == "zbota":
        return [*ZB, "-o", out, "-t", "0:fw.bin"]
    if command == "combine":
        return ["combine", "a.hex", "b.hex", "-o", out]
    if command == "xbee-fs":
        return ["xbee-fs", w.xbfs(), "-v", "100D", "-o", out]
    return ["keygen", "--private-out", out]


OUTPUT_COMMANDS = ["zbota", "combine", "xbee-fs", "keygen"]


@pytest.mark.parametrize("command", OUTPUT_COMMANDS)
def test_mknod_device_is_not_replaced(world: World, command: str) -> None:
    need_root()
    name = "dev.hex" if command == "combine" else "dev.ota"
    os.mknod(world.p(name), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    outcome = world.cli(*_out_args(command, name, world), env={"OTA_SIGNING_KEY": world.pem})
    expect(world, outcome, 2, _refused(command, "device"))
    assert stat.S_ISCHR(os.lstat(world.p(name)).st_mode)


@pytest.mark.parametrize("command", OUTPUT_COMMANDS)
def test_dev_stdout_is_refused(world: World, command: str) -> None:
    # /dev/stdout is a symbolic link to /proc/self/fd/1: the same link in the work folder
    # proves the rule without risking the machine's own /dev/stdout (and the mknod test
    # above covers /dev/null's kind, a character device).
    out = "so.hex" if command == "combine" else "so.ota"
    os.symlink("/proc/self/fd/1", world.p(out))
    outcome = world.cli(*_out_args(command, out, world), env={"OTA_SIGNING_KEY": world.pem})
    expect(world, outcome, 2, _refused(command, "symbolic link"))
    assert world.p(out).is_symlink()


@pytest.mark.parametrize("command", OUTPUT_COMMANDS)
def test_dash_is_not_standard_output(world: World, command: str) -> None:
    outcome = world.cli(*_out_args(command, "-", world), env={"OTA_SIGNING_KEY": world.pem})
    assert outcome.code == 2, outcome.text
    assert "standard output is not supported" in outcome.err or "output type" in outcome.err
    world.assert_clean(outcome)
    assert not world.p("-").exists()


@pytest.mark.parametrize("command", OUTPUT_COMMANDS)
def test_fifo_output_is_refused(world: World, command: str) -> None:
    name = world.fifo("pipe.hex" if command == "combine" else "pipe.ota")
    outcome = world.cli(*_out_args(command, name, world), env={"OTA_SIGNING_KEY": world.pem})
    expect(world, outcome, 2, _refused(command, "FIFO"))
    assert stat.S_ISFIFO(os.lstat(world.p(name)).st_mode)


def test_symlink_to_a_regular_file_is_not_replaced(world: World) -> None:
    world.p("real.ota").write_bytes(b"keep")
    os.symlink("real.ota", world.p("link.ota"))
    outcome = world.cli(*ZB, "-o", "link.ota", "-t", "0:fw.bin")
    expect(world, outcome, 2, "symbolic link")
    assert world.p("link.ota").is_symlink()
    assert world.p("real.ota").read_bytes() == b"keep"


def test_action_outfile_dev_null(world: World) -> None:
    outcome = world.action({**ZB_INPUTS, "tags": "0:fw.bin", "outfile": "/dev/null"})
    expect(world, outcome, 2, "workspace")


# === 3. Strings from files cannot become workflow commands or terminal escapes ===========

INJECTIONS = {
    "set-output": "\n::set-output name=ok::1\n",
    "error-command": "\n::error::pwned\n",
    "stop-commands": "\n::stop-commands::x\n",
    "ansi": "\x1b[31mRED\x1b[0m\x1b]0;title\x07",
    "carriage-return": "ok\r::warning::cr",
    "img": '<img src="https://x.test/p">',
}


def _commands(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("::")]


@pytest.mark.parametrize("kind", sorted(INJECTIONS))
@pytest.mark.parametrize("command", ["inspect", "verify"])
def test_header_string_is_escaped_in_text(world: World, kind: str, command: str) -> None:
    ota = world.ota("app.ota", "--string", INJECTIONS[kind])
    outcome = world.cli(command, ota)
    assert outcome.code == 0, outcome.text
    assert _commands(outcome.out) == []
    assert "\x1b" not in outcome.out
    assert "\r" not in outcome.out
    assert "\x07" not in outcome.out
    world.assert_clean(outcome)


@pytest.mark.parametrize("kind", sorted(INJECTIONS))
def test_header_string_is_escaped_in_the_action(world: World, kind: str) -> None:
    ota = world.ota("app.ota", "--string", INJECTIONS[kind])
    outcome = world.action({"command": "inspect", "image": ota}, {"GITHUB_ACTIONS": None})
    assert outcome.code == 0, outcome.text
    assert _commands(outcome.out) == [], outcome.out
    assert "<img" not in outcome.summary
    assert "\x1b" not in outcome.summary
    world.assert_clean(outcome)


def test_raw_control_bytes_in_a_header_string(world: World) -> None:
    ota = world.p(world.ota())
    data = bytearray(ota.read_bytes())
    data[20:52] = b"\n::error::x\x9b31m\x1b[2J\xe2\x80\xae\x00".ljust(32, b"\x00")
    ota.write_bytes(bytes(data))
    outcome = world.cli("inspect", "app.ota")
    assert outcome.code == 0, outcome.text
    assert _commands(outcome.out) == []
    assert "\x1b" not in outcome.out
    assert "\u202e" not in outcome.out
    world.assert_clean(outcome)


@pytest.mark.parametrize("name", ["x\n::error::name.ota", "x\x1b[2J.ota", "x\u202egnp.ota"])
def test_file_names_are_escaped(world: World, name: str) -> None:
    world.ota("app.ota")
    os.rename(world.p("app.ota"), world.p(name))
    outcome = world.cli("inspect", name)
    assert outcome.code == 0, outcome.text
    assert _commands(outcome.out) == []
    assert "\x1b" not in outcome.out
    assert "\u202e" not in outcome.out
    missing = world.cli("inspect", name + ".missing")
    expect(world, missing, 2, "does not exist")
    assert _commands(missing.err) == []
    assert "\x1b" not in missing.err


# === 4. Values that look like secrets are never repeated ================================

REDACTED = "<redacted: looks like key material>"


def _encrypted_key_env(w: World) -> dict[str, str]:
    return {"OTA_SIGNING_KEY": w.key.pem(password=PASSPHRASE).decode()}


SECRET_CASES: dict[
    str, tuple[Callable[[World], list[str]], Callable[[World], str], dict[str, str] | None, str]
] = {
    # name: (args, pasted secret, env, fragment)
    "passphrase-env-holds-a-passphrase": (
        lambda w: ["xbee-fs", w.xbfs(), "-v", "100D", "-o", "fs.fsota", "--passphrase-env", "Hunter2Secret"],
        lambda w: "Hunter2Secret",
        None,
        "named by --passphrase-env",
    ),
    "key-env-holds-a-passphrase": (
        lambda w: ["xbee-fs", w.xbfs(), "-v", "100D", "-o", "fs.fsota", "--key-env", "Hunter2Secret"],
        lambda w: "Hunter2Secret",
        {},
        "named by --key-env",
    ),
    "key-env-holds-a-scalar": (
        lambda w: ["xbee-fs", w.xbfs(), "-v", "100D", "-o", "fs.fsota", "--key-env", w.key.scalar_hex()],
        lambda w: w.key.scalar_hex(),
        None,
        "--key-env",
    ),
    "key-file-holds-a-scalar": (
        lambda w: ["xbee-fs", w.xbfs(), "-v", "100D", "-o", "fs.fsota", "--key-file", w.key.scalar_hex()],
        lambda w: w.key.scalar_hex(),
        {},
        "--key-file",
    ),
    "key-file-holds-a-passphrase": (
        lambda w: ["xbee-fs", w.xbfs(), "-v", "100D", "-o", "fs.fsota", "--key-file", "Hunter2Secret"],
        lambda w: "Hunter2Secret",
        {},
        "does not exist",
    ),
    "key-file-holds-a-pem": (
        lambda w: ["xbee-fs", w.xbfs(), "-v", "100D", "-o", "fs.fsota", "--key-file", w.pem],
        lambda w: w.pem,
        {},
        "looks like key material",
    ),
    "inspect-image-is-a-pem": (
        lambda w: ["inspect", w.pem],
        lambda w: w.pem,
        None,
        "looks like key material",
    ),
    "verify-image-is-a-pem": (lambda w: ["verify", w.pem], lambda w: w.pem, None, "looks like key material"),
    "verify-image-is-base64": (
        lambda w: ["verify", base64.b64encode(w.pem.encode()).decode()],
        lambda w: base64.b64encode(w.pem.encode()).decode(),
        None,
        "looks like key material",
    ),
    "xbee-fs-image-is-a-pem": (
        lambda w: ["xbee-fs", w.pem, "-v", "100D", "-o", "fs.fsota"],
        lambda w: w.pem,
        None,
        "looks like key material",
    ),
    "public-key-is-a-pem": (
        lambda w: ["verify", w.ota(), "--public-key", w.pem],
        lambda w: w.pem,
        None,
        "looks like key material",
    ),
    "string-is-a-pem": (
        lambda w: [*ZB, "-o", "o.ota", "-t", "0:fw.bin", "--string", w.pem],
        lambda w: w.pem,
        None,
        "--string",
    ),
    "string-is-a-pem-line": (
        lambda w: [*ZB, "-o", "o.ota", "-t", "0:fw.bin", "--string", w.pem.splitlines()[1]],
        lambda w: w.pem.splitlines()[1],
        None,
        "--string",
    ),
    "zbota-outfile-is-a-pem": (
        lambda w: [*ZB, "-o", w.pem, "-t", "0:fw.bin"],
        lambda w: w.pem,
        None,
        "looks like key material",
    ),
    "combine-outfile-is-a-pem": (
        lambda w: ["combine", "a.hex", "b.hex", "-o", w.pem.replace("\n", "/") + ".hex"],
        lambda w: w.pem.splitlines()[1],
        None,
        "looks like key material",
    ),
    "xbee-fs-outfile-is-a-pem": (
        lambda w: ["xbee-fs", w.xbfs(), "-v", "100D", "-o", w.pem.replace("\n", "/")],
        lambda w: w.pem.splitlines()[1],
        None,
        "looks like key material",
    ),
    "keygen-out-is-a-pem": (
        lambda w: ["keygen", "--private-out", w.pem.replace("\n", "/")],
        lambda w: w.pem.splitlines()[1],
        None,
        "looks like key material",
    ),
    "tag-file-is-a-pem": (
        lambda w: [*ZB, "-o", "o.ota", "-t", "0:" + w.pem],
        lambda w: w.pem,
        None,
        "key material",
    ),
    "mfg-id-is-a-scalar": (
        lambda w: [*ZB[:2], w.key.scalar_hex(), *ZB[3:], "-o", "o.ota", "-t", "0:fw.bin"],
        lambda w: w.key.scalar_hex(),
        None,
        "--mfg-id",
    ),
    "unknown-command-is-a-pem": (lambda w: [w.pem], lambda w: w.pem, None, "unknown command"),
    "stray-argument-is-a-pem": (
        lambda w: ["inspect", "x.ota", w.pem],
        lambda w: w.pem,
        None,
        "FILE: looks like key material, not a file name",
    ),
    "env-string-is-a-pem": (
        lambda w: [*ZB, "-o", "o.ota", "-t", "0:fw.bin"],
        lambda w: w.pem,
        {"OTA_STRING": "PEM"},
        "--string",
    ),
}


@pytest.mark.parametrize("case", sorted(SECRET_CASES))
def test_pasted_secrets_are_not_echoed(world: World, case: str) -> None:
    make_args, pasted, env, fragment = SECRET_CASES[case]
    args = make_args(world)
    world.extra_secrets.append(pasted(world))
    environ = {"OTA_SIGNING_KEY": world.pem} if env is None else dict(env)
    if environ.get("OTA_STRING") == "PEM":
        environ["OTA_STRING"] = world.pem
    if case.startswith("passphrase-env"):
        environ = _encrypted_key_env(world)
    outcome = world.cli(*args, env=environ)
    expect(world, outcome, 2, fragment)
    # Nothing named after key lines was created.
    assert {p.name for p in world.ws.iterdir()} <= {"fw.bin", "a.hex", "b.hex", "xbfs.bin", "app.ota"}


ACTION_SECRET_CASES: dict[str, Callable[[World], dict[str, str]]] = {
    "outfile": lambda w: {**ZB_INPUTS, "tags": "0:fw.bin", "outfile": w.pem},
    "string": lambda w: {**ZB_INPUTS, "tags": "0:fw.bin", "string": w.pem},
    "tags": lambda w: {**ZB_INPUTS, "tags": "0:" + w.pem.splitlines()[1]},
    "command": lambda w: {"command": w.pem.splitlines()[1]},
    "image": lambda w: {"command": "inspect", "image": w.pem.splitlines()[1]},
}


@pytest.mark.parametrize("case", sorted(ACTION_SECRET_CASES))
def test_action_inputs_holding_secrets_are_not_echoed(world: World, case: str) -> None:
    world.extra_secrets.append(world.pem.splitlines()[1])
    outcome = world.action(ACTION_SECRET_CASES[case](world), {"GITHUB_ACTIONS": None})
    assert outcome.code == 2, outcome.text
    world.assert_clean(outcome)


# === 5. FIFOs, devices, directories, sockets and huge files as inputs ===================

INPUT_CASES: dict[str, tuple[Callable[[World], list[str]], str]] = {
    "zbota-tag-fifo": (lambda w: [*ZB, "-o", "o.ota", "-t", f"0:{w.fifo('t.bin')}"], "FIFO"),
    "zbota-hex-tag-fifo": (lambda w: [*ZB, "-o", "o.ota", "-t", f"0:{w.fifo('t.hex')}"], "FIFO"),
    "zbota-tag-dev-zero": (lambda w: [*ZB, "-o", "o.ota", "-t", "0:/dev/zero"], "device"),
    "zbota-tag-dev-urandom": (lambda w: [*ZB, "-o", "o.ota", "-t", "0:/dev/urandom"], "device"),
    "zbota-tag-directory": (lambda w: [*ZB, "-o", "o.ota", "-t", "0:."], "directory"),
    "zbota-tag-symlink-to-dev-zero": (
        lambda w: _linked(w, "/dev/zero", "z.hex", [*ZB, "-o", "o.ota", "-t", "0:z.hex"]),
        "device",
    ),
    "combine-fifo": (lambda w: ["combine", "a.hex", w.fifo("f.hex"), "-o", "m.hex"], "FIFO"),
    "combine-dev-zero": (
        lambda w: _linked(w, "/dev/zero", "z.hex", ["combine", "a.hex", "z.hex", "-o", "m.hex"]),
        "device",
    ),
    "inspect-fifo": (lambda w: ["inspect", w.fifo("i.ota")], "FIFO"),
    "inspect-dev-zero": (lambda w: ["inspect", "/dev/zero"], "device"),
    "inspect-dev-urandom": (lambda w: ["inspect", "/dev/urandom"], "device"),
    "inspect-directory-holding-a-fifo": (lambda w: ["inspect", _folder_with_fifo(w)], "FIFO"),
    "verify-fifo": (lambda w: ["verify", w.fifo("v.ota")], "FIFO"),
    "verify-public-key-fifo": (lambda w: ["verify", w.ota(), "--public-key", w.fifo("k.pem")], "FIFO"),
    "verify-public-key-dev-zero": (lambda w: ["verify", w.ota(), "--public-key", "/dev/zero"], "device"),
    "xbee-fs-image-fifo": (lambda w: ["xbee-fs", w.fifo("x.bin"), "-v", "100D", "-o", "f.fsota"], "FIFO"),
    "xbee-fs-image-dev-zero": (lambda w: ["xbee-fs", "/dev/zero", "-v", "100D", "-o", "f.fsota"], "device"),
    "xbee-fs-key-file-fifo": (
        lambda w: ["xbee-fs", w.xbfs(), "-v", "100D", "-o", "f.fsota", "--key-file", w.fifo("k.pem")],
        "FIFO",
    ),
    "xbee-fs-key-file-dev-zero": (
        lambda w: ["xbee-fs", w.xbfs(), "-v", "100D", "-o", "f.fsota", "--key-file", "/dev/zero"],
        "device",
    ),
    "inspect-socket": (lambda w: ["inspect", _socket(w)], "socket"),
    # Streamed, so never read whole: refused from its size alone (the u32 total image size).
    "zbota-huge-sparse-tag": (
        lambda w: [*ZB, "-o", "o.ota", "-t", f"0:{_sparse(w, 'huge.bin', 8 << 30)}"],
        "holds at most 4294967295 bytes",
    ),
}


def _folder_with_fifo(w: World) -> str:
    """A folder is read as a batch: a FIFO inside it is one unusable entry (never opened)."""
    w.p("fifos").mkdir()
    w.fifo("fifos/f.ota")
    return "fifos"


def _socket(w: World) -> str:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(w.p("s.ota")))
    w.__dict__["_sock"] = sock
    return "s.ota"


def _sparse(w: World, name: str, size: int) -> str:
    with w.p(name).open("wb") as handle:
        handle.truncate(size)
    return name


@pytest.mark.parametrize("case", sorted(INPUT_CASES))
def test_inputs_must_be_regular_files(world: World, case: str) -> None:
    make_args, fragment = INPUT_CASES[case]
    args = make_args(world)
    outcome = world.cli(*args, env={} if "--key-file" in args else {"OTA_SIGNING_KEY": world.pem})
    expect(world, outcome, 2, fragment)
    for name in ("o.ota", "m.hex", "f.fsota"):
        assert not world.p(name).exists()


# === 6. Runner files that misbehave: checked before the work, undone after ===============


def _summary_dir(w: World) -> dict[str, str | None]:
    (w.runner_dir / "sdir").mkdir()
    return {"GITHUB_STEP_SUMMARY": str(w.runner_dir / "sdir")}


RUNNER_CASES: dict[str, tuple[Callable[[World], dict[str, str | None]], str]] = {
    "summary-is-a-directory": (_summary_dir, "GITHUB_STEP_SUMMARY"),
    "summary-folder-missing": (
        lambda w: {"GITHUB_STEP_SUMMARY": str(w.runner_dir / "no" / "s")},
        "GITHUB_STEP_SUMMARY",
    ),
    "summary-read-only": (lambda w: {"GITHUB_STEP_SUMMARY": "/proc/version"}, "not writable"),
    "summary-is-a-device": (lambda w: {"GITHUB_STEP_SUMMARY": "/dev/full"}, "not a regular file"),
    "output-folder-missing": (lambda w: {"GITHUB_OUTPUT": str(w.runner_dir / "no" / "o")}, "GITHUB_OUTPUT"),
    "output-is-a-directory": (lambda w: {"GITHUB_OUTPUT": str(w.runner_dir)}, "GITHUB_OUTPUT"),
    "result-file-is-a-directory": (lambda w: {"OTA_RESULT_FILE": str(w.ws)}, "OTA_RESULT_FILE"),
    "result-file-is-a-fifo": (lambda w: {"OTA_RESULT_FILE": str(w.p(w.fifo("r.json")))}, "OTA_RESULT_FILE"),
}


@pytest.mark.parametrize("case", sorted(RUNNER_CASES))
def test_runner_files_are_checked_before_the_work(world: World, case: str) -> None:
    make_env, fragment = RUNNER_CASES[case]
    outcome = world.action({**ZB_INPUTS, "tags": "0:fw.bin"}, make_env(world))
    expect(world, outcome, 2, fragment)
    assert "::error" in outcome.out
    assert not world.p("o.ota").exists()
    assert "ota-file" not in outcome.outputs


def test_publication_rollback_takes_everything_back(world: World, tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from ota_action.edges import github

    out = world.runner_dir / "o"
    out.write_text("before\n")
    summary = world.runner_dir / "s"
    env = {"GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary)}
    publication = github.Publication(env)
    artifact = world.p("new.ota")
    artifact.write_bytes(b"x")
    publication.written = [artifact]
    github.append_outputs(out, {"ota-file": "new.ota"})
    github.append_summary(summary, "# done\n")
    publication.rollback()
    assert out.read_text() == "before\n"
    assert not summary.exists()
    assert not artifact.exists()


# === 7. Partial files: signals, stale temporaries, long names ===========================


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_signal_during_a_large_write_leaves_nothing(world: World, signum: int) -> None:
    _sparse(world, "big.bin", 200 << 20)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ota_action", *ZB, "-o", "big.ota", "-t", "0:big.bin"],
        cwd=world.ws,
        env=world.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_limits(3 << 30, None),
    )
    deadline = time.monotonic() + TIMEOUT
    caught = False
    while time.monotonic() < deadline and proc.poll() is None:
        if writing_output(proc.pid, world.ws):  # a named temporary, or an unnamed O_TMPFILE
            proc.send_signal(signal.SIGSTOP)
            proc.send_signal(signum)
            proc.send_signal(signal.SIGCONT)
            caught = True
            break
        time.sleep(0.0005)
    out, err = proc.communicate(timeout=TIMEOUT)
    if not caught:
        pytest.fail(f"the output was never seen being written (exit {proc.returncode})")
    expected = 130 if signum == signal.SIGINT else 128 + signum
    assert proc.returncode == expected, _text(err)
    assert not world.p("big.ota").exists()
    world.assert_clean(Outcome(proc.returncode, _text(out), _text(err)))


def test_stale_temporaries_are_removed_fresh_ones_kept(world: World) -> None:
    stale, fresh = world.p(".ota-deadbeef.tmp"), world.p(".ota-livelive.tmp")
    stale.write_bytes(b"x" * 100)
    fresh.write_bytes(b"y")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    outcome = world.cli(*ZB, "-o", "o.ota", "-t", "0:fw.bin")
    assert outcome.code == 0, outcome.text
    assert not stale.exists()
    assert fresh.exists()
    fresh.unlink()
    world.assert_clean(outcome)


@pytest.mark.parametrize("length", [250, 254, 255])
def test_long_output_names_are_accepted(world: World, length: int) -> None:
    name = "a" * (length - 4) + ".ota"
    outcome = world.cli(*ZB, "-o", name, "-t", "0:fw.bin")
    expect(world, outcome, 0, "saved to")
    assert world.p(name).is_file()


# === 8. keygen never overwrites, even racing itself ======================================


def test_parallel_keygen_has_one_winner(world: World) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "ota_action", "keygen", "--private-out", "race.pem", "--json"],
            cwd=world.ws,
            env=world.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=_limits(MEMORY, None),
        )
        for _ in range(12)
    ]
    results = [(p.wait(timeout=60), p.stdout.read(), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    winners = [json.loads(out) for code, out, _ in results if code == 0]
    assert len(winners) == 1, [(c, e) for c, _, e in results]
    assert all(code == 2 and b"already exists" in err for code, _, err in results if code != 0)
    pem = world.p("race.pem").read_bytes()
    assert base64.b64decode(winners[0]["private_key_base64"]) == pem
    assert stat.S_IMODE(world.p("race.pem").stat().st_mode) == 0o600


@pytest.mark.parametrize("existing", ["file", "dangling-symlink", "fifo"])
def test_keygen_refuses_anything_at_the_path(world: World, existing: str) -> None:
    if existing == "file":
        world.p("k.pem").write_bytes(b"old")
    elif existing == "fifo":
        world.fifo("k.pem")
    else:
        os.symlink("nowhere.pem", world.p("k.pem"))
    outcome = world.cli("keygen", "--private-out", "k.pem")
    expect(world, outcome, 2, "already exists")
    assert not world.p("nowhere.pem").exists()


# === 9. No more exit 70 for a user's mistake; OTA_DEBUG never changes the status =========

LONG = "n" * 300


EXIT2_CASES: dict[str, tuple[Callable[[World], list[str]], str]] = {
    "input-name-too-long": (lambda w: ["inspect", LONG + ".ota"], "too long"),
    "input-dir-too-long": (lambda w: ["inspect", LONG + "/x.ota"], "too long"),
    "output-name-too-long": (lambda w: [*ZB, "-o", LONG + ".ota", "-t", "0:fw.bin"], "too long"),
    "output-dir-too-long": (lambda w: [*ZB, "-o", LONG + "/x.ota", "-t", "0:fw.bin"], "too long"),
    "tag-name-too-long": (lambda w: [*ZB, "-o", "o.ota", "-t", f"0:{LONG}.hex"], "too long"),
    "keygen-name-too-long": (lambda w: ["keygen", "--private-out", LONG + ".pem"], "too long"),
    "key-file-name-too-long": (
        lambda w: ["xbee-fs", w.xbfs(), "-v", "100D", "-o", "f.fsota", "--key-file", LONG],
        "too long",
    ),
    "input-symlink-loop": (
        lambda w: _linked(w, "loop.ota", "loop.ota", ["inspect", "loop.ota"]),
        "symbolic link loop",
    ),
    "output-symlink-loop": (
        lambda w: _linked(w, "loop.ota", "loop.ota", [*ZB, "-o", "loop.ota", "-t", "0:fw.bin"]),
        "symbolic link",
    ),
    "input-under-a-file": (lambda w: ["inspect", "fw.bin/x.ota"], "not a directory"),
    "output-under-a-file": (lambda w: [*ZB, "-o", "fw.bin/x.ota", "-t", "0:fw.bin"], "not a directory"),
    "dangling-symlink": (
        lambda w: _linked(w, "gone.ota", "d.ota", ["inspect", "d.ota"]),
        "symbolic link to a file that does not exist",
    ),
}


@pytest.mark.parametrize("debug", ["", "1"])
@pytest.mark.parametrize("case", sorted(EXIT2_CASES))
def test_user_mistakes_are_exit_2_with_or_without_debug(world: World, case: str, debug: str) -> None:
    make_args, fragment = EXIT2_CASES[case]
    args = make_args(world)
    env = {"OTA_DEBUG": debug} if "--key-file" in args else {"OTA_DEBUG": debug, "OTA_SIGNING_KEY": world.pem}
    outcome = world.cli(*args, env=env)
    expect(world, outcome, 2, fragment)
    assert len(outcome.err.strip().splitlines()) == 1


@pytest.mark.parametrize("where", ["input", "output"])
def test_permission_denied_is_exit_2(world: World, where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root passes every permission check, so the errno is simulated (in-process)."""
    import errno

    from ota_action.edges import files
    from ota_action.errors import InputError

    def denied(*args: object, **kwargs: object) -> os.stat_result:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "stat" if where == "input" else "lstat", denied)
    check: Callable[[], object] = (
        (lambda: files.read_input(world.p("fw.bin"), field="image"))
        if where == "input"
        else (lambda: files.check_output_path(world.p("o.ota")))
    )
    with pytest.raises(InputError, match="permission denied"):
        check()


def test_permission_denied_subprocess(world: World) -> None:
    """Root without the capabilities that bypass file modes (CI is root; setpriv from
    util-linux drops them) meets a locked directory as any user would."""
    need_root()
    setpriv = need_tool("setpriv")
    locked = world.p("locked")
    locked.mkdir()
    world.ota("locked/app.ota")
    locked.chmod(0)
    try:
        outcome = world.cli(
            "inspect",
            "locked/app.ota",
            wrap=(setpriv, "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all", "--"),
        )
    finally:
        locked.chmod(0o700)
    expect(world, outcome, 2, "permission denied")


@pytest.mark.parametrize("debug", ["", "1"])
def test_non_utf8_passphrase_is_used_byte_for_byte(world: World, debug: str) -> None:
    from cryptography.hazmat.primitives import serialization

    raw = b"pass\xffword"
    pem = world.key.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(raw),
    )
    world.secret_file("enc.pem", pem)
    args = ["xbee-fs", world.xbfs(), "-v", "100D", "-o", "f.fsota", "--key-file", "enc.pem"]
    good = world.cli(*args, envb={b"OTA_SIGNING_KEY_PASSPHRASE": raw, b"OTA_DEBUG": debug.encode()})
    expect(world, good, 0, "saved to")
    world.p("f.fsota").unlink()
    wrong = world.cli(*args, envb={b"OTA_SIGNING_KEY_PASSPHRASE": b"nope\xfe", b"OTA_DEBUG": debug.encode()})
    expect(world, wrong, 2, "does not decrypt")
    assert b"\xfe" not in wrong.err.encode("utf-8", "surrogateescape")


BUG = (
    "import sys, ota_action.commands.inspect as m\n"
    "def boom(settings):\n"
    "    secret = {pem!r}\n"
    "    raise RuntimeError('bug holding ' + secret)\n"
    "m.run_inspect = boom\n"
    "from ota_action.doors.cli import main\n"
    "sys.exit(main(['inspect', 'x.ota']))\n"
)


@pytest.mark.parametrize("debug", ["", "1"])
def test_internal_error_is_70_whatever_ota_debug_says(world: World, debug: str) -> None:
    world.ota("x.ota")
    result = subprocess.run(
        [sys.executable, "-c", BUG.format(pem=world.pem)],
        cwd=world.ws,
        env=world.env({"OTA_DEBUG": debug}),
        capture_output=True,
        timeout=TIMEOUT,
        preexec_fn=_limits(MEMORY, None),
    )
    err = _text(result.stderr)
    assert result.returncode == 70, err
    assert "internal error (RuntimeError)" in err
    assert ("Traceback" in err) == bool(debug)
    for name, needle in world.needles().items():
        assert needle.decode("latin-1") not in err, name


# === 10. Keys as people have them =======================================================


def _params_pem(w: World) -> str:
    params = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
    from cryptography.hazmat.primitives import serialization

    return params + w.key.pem(serialization.PrivateFormat.TraditionalOpenSSL).decode()


@pytest.mark.parametrize("given", ["env", "file", "base64-env", "crlf-env"])
def test_ec_parameters_block_before_the_key(world: World, given: str) -> None:
    pem = _params_pem(world)
    args = ["xbee-fs", world.xbfs(), "-v", "100D", "-o", "f.fsota"]
    env: dict[str, str] = {}
    if given == "file":
        world.secret_file("k.pem", pem.encode())
        args += ["--key-file", "k.pem"]
    elif given == "base64-env":
        env["OTA_SIGNING_KEY"] = base64.b64encode(pem.encode()).decode()
    elif given == "crlf-env":
        env["OTA_SIGNING_KEY"] = pem.replace("\n", "\r\n")
    else:
        env["OTA_SIGNING_KEY"] = pem
    outcome = world.cli(*args, env=env)
    expect(world, outcome, 0, "saved to")


def test_openssl_ecparam_genkey_output_is_accepted(world: World) -> None:
    openssl = need_tool("openssl")
    pem = subprocess.run(
        [openssl, "ecparam", "-name", "prime256v1", "-genkey"],
        capture_output=True,
        check=True,
        timeout=TIMEOUT,
    ).stdout
    assert b"EC PARAMETERS" in pem
    world.secret_file("k.pem", pem)
    outcome = world.cli("xbee-fs", world.xbfs(), "-v", "100D", "-o", "f.fsota", "--key-file", "k.pem")
    assert outcome.code == 0, outcome.text
    assert "Traceback" not in outcome.text
    assert b"PRIVATE" not in outcome.text.encode()
