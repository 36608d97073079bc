"""The GitHub Action, run the way the runner runs it: ``entrypoint.py`` in a subprocess.

A fake runner gives it a workspace (its cwd), empty file-command files, GitHub's
variables and one ``INPUT_<NAME>`` per declared input (hyphens kept, ``''`` when
omitted), then reads the outputs file with the runner's own parsing rules and the
annotations from stdout the way the runner does (honouring ``::stop-commands::``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from ota_action.edges import github
from tests.conftest import ROOT, run_cli

ENTRYPOINT = ROOT / "entrypoint.py"
FIRMWARE = ROOT / "examples" / "firmware" / "app.hex"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def declared_inputs() -> list[str]:
    data = YAML(typ="safe").load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return list(data["inputs"])


def parse_file_commands(text: str) -> dict[str, str]:
    """``$GITHUB_OUTPUT`` as the runner reads it (FileCommandManager.cs)."""
    out: dict[str, str] = {}
    lines, i = text.split("\n"), 0
    while i < len(lines):
        line = lines[i]
        if not line:
            i += 1
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            j = lines.index(delim, i + 1)  # ValueError == "Matching delimiter not found"
            out[name] = "\n".join(lines[i + 1 : j])
            i = j + 1
        else:
            name, value = line.split("=", 1)
            out[name] = value
            i += 1
    return out


def _unescape(text: str, prop: bool = False) -> str:
    if prop:
        text = text.replace("%3A", ":").replace("%2C", ",")
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


@dataclass
class Command:
    name: str
    props: dict[str, str]
    message: str


def workflow_commands(stdout: str) -> list[Command]:
    """The workflow commands the runner would act on (ActionCommand.cs), in order."""
    found: list[Command] = []
    stop_token: str | None = None
    for raw in stdout.split("\n"):
        line = raw.strip()
        if stop_token is not None:
            if line == f"::{stop_token}::":
                stop_token = None
            continue
        if not line.startswith("::"):
            continue
        head, sep, message = line[2:].partition("::")
        if not sep:
            continue
        name, _, props_text = head.partition(" ")
        props = {}
        for item in filter(None, props_text.split(",")):
            key, _, value = item.partition("=")
            props[key] = _unescape(value, prop=True)
        if name == "stop-commands":
            stop_token = message
            continue
        found.append(Command(name, props, _unescape(message)))
    return found


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    outputs_text: str
    summary: str
    env_file: str
    workspace: Path
    commands: list[Command] = field(default_factory=list)

    def annotations(self, kind: str) -> list[Command]:
        return [c for c in self.commands if c.name == kind]

    @property
    def log(self) -> str:
        return ANSI.sub("", self.stdout)


class FakeRunner:
    """A temporary workspace and file-command directory, as the runner mounts them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.workspace = root / "workspace"
        self.commands_dir = root / "file_commands"
        self.workspace.mkdir()
        self.commands_dir.mkdir()
        (root / "home").mkdir()
        (root / "temp").mkdir()

    def file(self, name: str) -> Path:
        return self.commands_dir / name

    def environment(self, inputs: Mapping[str, str], env: Mapping[str, str | None]) -> dict[str, str]:
        files = {
            "GITHUB_OUTPUT": "set_output",
            "GITHUB_STEP_SUMMARY": "step_summary",
            "GITHUB_ENV": "set_env",
            "GITHUB_PATH": "add_path",
            "GITHUB_STATE": "save_state",
        }
        environ = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.root / "home"),
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "GITHUB_WORKSPACE": str(self.workspace),
            "RUNNER_TEMP": str(self.root / "temp"),
            "GITHUB_REPOSITORY": "octo-org/firmware",
            "GITHUB_SHA": "0" * 40,
            "GITHUB_RUN_ID": "1",
        }
        for variable, name in files.items():
            path = self.file(name)
            path.write_text("", encoding="utf-8")
            environ[variable] = str(path)
        unknown = set(inputs) - set(declared_inputs())
        assert not unknown, f"not declared in action.yml: {unknown}"
        # The runner delivers every declared input; an omitted one is ''.
        for name in declared_inputs():
            environ[f"INPUT_{name.upper()}"] = inputs.get(name, "")
        for key, value in env.items():
            if value is None:
                environ.pop(key, None)
            else:
                environ[key] = value
        return environ

    def run(self, inputs: Mapping[str, str], env: Mapping[str, str | None] | None = None) -> Run:
        environ = self.environment(inputs, env or {})
        result = subprocess.run(
            [sys.executable, "-I", str(ENTRYPOINT)],
            cwd=self.workspace,
            env=environ,
            capture_output=True,
            text=True,
            timeout=120,
        )
        outputs_text = self.file("set_output").read_text(encoding="utf-8")
        return Run(
            code=result.returncode,
            stdout=result.stdout,
            stderr=result.stderr,
            outputs=parse_file_commands(outputs_text),
            outputs_text=outputs_text,
            summary=self.file("step_summary").read_text(encoding="utf-8"),
            env_file=self.file("set_env").read_text(encoding="utf-8"),
            workspace=self.workspace,
            commands=workflow_commands(result.stdout),
        )


@pytest.fixture
def runner(tmp_path: Path) -> FakeRunner:
    fake = FakeRunner(tmp_path)
    (fake.workspace / "firmware").mkdir()
    (fake.workspace / "firmware" / "app.hex").write_bytes(FIRMWARE.read_bytes())
    return fake


ZBOTA = {
    "command": "zbota",
    "outfile": "dist/app.ota",
    "mfg-id": "0x1234",
    "image-type": "0x0001",
    "version": "1.0.0.1",
    "tags": "0x0000:firmware/app.hex\n0xf000:32\n",
    "string": "ota-action test",
    "integrity": "true",
}


def assert_failed(run: Run, code: int, input_name: str, *fragments: str) -> Command:
    """A failure: exit status, one error annotation naming the input, no outputs at all."""
    assert run.code == code, run.stdout + run.stderr
    assert run.outputs_text == ""
    errors = run.annotations("error")
    assert errors, run.stdout
    first = errors[0]
    assert first.props["title"] == f"Input {input_name}"
    for fragment in fragments:
        assert fragment in first.message
    assert "Traceback" not in run.stdout + run.stderr
    assert "❌" in run.summary
    return first


# --- zbota ------------------------------------------------------------------------------


def test_zbota_outputs_match_the_file_written(runner: FakeRunner) -> None:
    run = runner.run(ZBOTA)
    assert run.code == 0, run.stdout + run.stderr
    assert run.annotations("error") == []
    out = run.outputs
    assert set(out) == {"ota-file", "sha256", "sha512", "sha3-256", "size", "file-version", "summary-json"}
    assert out["ota-file"] == "dist/app.ota"  # relative to the workspace, never a container path
    data = (run.workspace / "dist" / "app.ota").read_bytes()
    assert out["sha256"] == hashlib.sha256(data).hexdigest()
    assert out["sha512"] == hashlib.sha512(data).hexdigest()
    assert out["sha3-256"] == hashlib.sha3_256(data).hexdigest()
    assert out["size"] == str(len(data))
    assert out["file-version"] == "0x01000001"
    magic, _hv, _hl, _fc, mfg, image_type, version = struct.unpack_from("<IHHHHHI", data)
    assert (magic, mfg, image_type, version) == (0x0BEEF11E, 0x1234, 0x0001, 0x01000001)
    summary = json.loads(out["summary-json"])
    assert summary["command"] == "zbota"
    assert summary["ok"] is True
    assert [e["tag"] for e in summary["sub_elements"]] == [0x0000, 0xF000, 0x0003]
    assert summary["integrity"]["valid"] is True
    # The step summary: header table, sub-elements, integrity, sha256.
    assert "| Manufacturer ID | 0x1234 |" in run.summary
    assert "| 0xF000 | manufacturer-specific | 32 |" in run.summary
    assert "**Integrity code:** valid (standard)" in run.summary
    assert out["sha256"] in run.summary
    # The independent check: the CLI's verify accepts what the Action wrote.
    assert run_cli("verify", run.workspace / "dist" / "app.ota").code == 0


def test_zbota_logs_each_step_with_its_figures(runner: FakeRunner) -> None:
    run = runner.run(ZBOTA)
    assert run.code == 0
    log = run.log
    assert re.search(r"action\.inputs .*command=zbota", log)
    written = next(line for line in log.splitlines() if "zbota.written" in line)
    assert f"sha256={run.outputs['sha256']}" in written
    assert f"size={run.outputs['size']}" in written
    assert re.search(r"action\.outputs .*bytes=\d+", log)
    assert re.search(r"action\.summary .*bytes=\d+ .*truncated=False", log)
    assert re.search(r"action\.done .*seconds=", log)


def test_json_logs_with_ota_log_format(runner: FakeRunner) -> None:
    run = runner.run(ZBOTA, {"OTA_LOG_FORMAT": "json"})
    assert run.code == 0
    events = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    written = next(e for e in events if e["event"] == "zbota.written")
    assert written["sha256"] == run.outputs["sha256"]
    assert written["size"] == int(run.outputs["size"])
    assert {"action.inputs", "action.outputs", "action.done"} <= {e["event"] for e in events}


def test_zbota_bad_value_names_the_input(runner: FakeRunner) -> None:
    run = runner.run({**ZBOTA, "mfg-id": "0x1FFFF"})
    error = assert_failed(run, 2, "mfg-id", "0x1FFFF")
    assert error.message.startswith("input mfg-id")
    assert not (run.workspace / "dist").exists()


def test_zbota_missing_required_input(runner: FakeRunner) -> None:
    run = runner.run({k: v for k, v in ZBOTA.items() if k != "outfile"})
    assert_failed(run, 2, "outfile", "is required")


def test_zbota_missing_tag_file(runner: FakeRunner) -> None:
    run = runner.run({**ZBOTA, "tags": "0x0000:firmware/missing.bin"})
    assert_failed(run, 2, "tags", "missing.bin", "does not exist")
    assert not (run.workspace / "dist" / "app.ota").exists()


def test_outfile_outside_the_workspace_is_refused(runner: FakeRunner) -> None:
    outside = runner.root / "elsewhere.ota"
    run = runner.run({**ZBOTA, "outfile": str(outside)})
    assert_failed(run, 2, "outfile", "inside the workspace")
    assert not outside.exists()


def test_boolean_input_false_is_false(runner: FakeRunner) -> None:
    run = runner.run({**ZBOTA, "integrity": "false"})
    assert run.code == 0
    assert json.loads(run.outputs["summary-json"])["integrity"]["present"] is False


# --- inspect and verify -----------------------------------------------------------------


@pytest.fixture
def built(runner: FakeRunner) -> Path:
    run = runner.run(ZBOTA)
    assert run.code == 0
    return runner.workspace / run.outputs["ota-file"]


def test_inspect(runner: FakeRunner, built: Path) -> None:
    run = runner.run({"command": "inspect", "image": "dist/app.ota"})
    assert run.code == 0, run.stdout
    data = built.read_bytes()
    assert run.outputs["sha256"] == hashlib.sha256(data).hexdigest()
    assert run.outputs["size"] == str(len(data))
    assert run.outputs["file-version"] == "0x01000001"
    assert "ota-file" not in run.outputs  # inspect writes nothing
    assert "| Image Type | 0x0001 |" in run.summary


def test_inspect_missing_file(runner: FakeRunner) -> None:
    run = runner.run({"command": "inspect", "image": "dist/none.ota"})
    assert_failed(run, 2, "image", "dist/none.ota", "does not exist")


def test_verify_valid(runner: FakeRunner, built: Path) -> None:
    run = runner.run({"command": "verify", "image": "dist/app.ota"})
    assert run.code == 0, run.stdout
    assert json.loads(run.outputs["summary-json"])["valid"] is True
    assert "### ✅ ota-action verify" in run.summary


def test_verify_corrupt_file_fails_with_annotations(runner: FakeRunner, built: Path) -> None:
    data = bytearray(built.read_bytes())
    data[100] ^= 0xFF  # inside the upgrade image: the integrity code no longer matches
    built.write_bytes(bytes(data))
    run = runner.run({"command": "verify", "image": "dist/app.ota"})
    assert run.code == 1
    # A verdict is published (a later step with if: always() can read it); no ota-file.
    summary = json.loads(run.outputs["summary-json"])
    assert (summary["valid"], summary["ok"]) == (False, False)
    assert [f["code"] for f in summary["findings"] if f["level"] == "error"] == ["integrity"]
    assert "ota-file" not in run.outputs
    errors = run.annotations("error")
    assert any("integrity" in e.message.lower() for e in errors), errors
    assert "❌" in run.summary


def test_verify_not_an_ota_file(runner: FakeRunner) -> None:
    (runner.workspace / "junk.ota").write_bytes(b"not an OTA file at all" * 4)
    run = runner.run({"command": "verify", "image": "junk.ota"})
    assert_failed(run, 1, "image", "junk.ota")


# --- command selection ------------------------------------------------------------------


def test_unknown_command(runner: FakeRunner) -> None:
    run = runner.run({"command": "frobnicate"})
    error = assert_failed(run, 2, "command", "frobnicate")
    for name in ("zbota", "inspect", "verify"):
        assert name in error.message


def test_missing_command(runner: FakeRunner) -> None:
    assert_failed(runner.run({}), 2, "command", "is required")


def test_keygen_is_not_offered(runner: FakeRunner) -> None:
    run = runner.run({"command": "keygen"})
    assert_failed(run, 2, "command", "keygen")


def test_input_the_command_does_not_take(runner: FakeRunner, built: Path) -> None:
    run = runner.run({"command": "inspect", "image": "dist/app.ota", "mfg-id": "0x1234"})
    assert_failed(run, 2, "mfg-id", "not used by command inspect")


# --- combine and xbee-fs (land with their own branches) ---------------------------------


def _intel_hex(path: Path, start: int, data: bytes) -> None:
    from intelhex import IntelHex

    ih = IntelHex()
    ih.puts(start, data)
    ih.write_hex_file(str(path))


def test_combine(runner: FakeRunner) -> None:
    _intel_hex(runner.workspace / "boot.hex", 0x0000, b"\x01" * 64)
    _intel_hex(runner.workspace / "app2.hex", 0x1000, b"\x02" * 64)
    inputs = {"command": "combine", "files": "boot.hex\napp2.hex\n", "outfile": "dist/all.hex"}
    run = runner.run(inputs)
    assert run.code == 0, run.stdout + run.stderr
    assert run.outputs["ota-file"] == "dist/all.hex"
    from intelhex import IntelHex

    merged = IntelHex(str(run.workspace / "dist" / "all.hex"))
    assert merged.tobinstr(0x0000, 0x003F) == b"\x01" * 64
    assert merged.tobinstr(0x1000, 0x103F) == b"\x02" * 64
    overlap = runner.run({**inputs, "files": "boot.hex\nboot.hex\n", "outfile": "dist/bad.hex"})
    if overlap.code != 0:  # an identical overlap may be accepted; a failure must name files
        assert_failed(overlap, 2, "files")


def _p256_pem(passphrase: bytes | None = None) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    encryption: serialization.KeySerializationEncryption = serialization.NoEncryption()
    if passphrase:
        encryption = serialization.BestAvailableEncryption(passphrase)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    ).decode()


XBEE_FS = {
    "command": "xbee-fs",
    "image": "xbfs.bin",
    "outfile": "dist/fs.ota",
    "mfg-id": "0x101E",
    "version": "0x0000100B",
}


def test_xbee_fs(runner: FakeRunner) -> None:
    (runner.workspace / "xbfs.bin").write_bytes(bytes(range(256)) * 16)
    inputs = {**XBEE_FS, "signing-key": _p256_pem()}
    run = runner.run(inputs)
    assert run.code == 0, run.stdout + run.stderr
    written = run.workspace / run.outputs["ota-file"]
    assert hashlib.sha256(written.read_bytes()).hexdigest() == run.outputs["sha256"]
    bad = runner.run({**inputs, "signing-key": "not a key"})
    assert_failed(bad, 2, "signing-key")
    assert "not a key" not in bad.stdout.replace("::add-mask::not a key", "")


# --- the environment around the Action --------------------------------------------------


def test_plain_ota_variables_without_github(runner: FakeRunner) -> None:
    """``docker run -e OTA_...`` in GitLab or Jenkins: no inputs, no GitHub files."""
    env: dict[str, str | None] = {
        "GITHUB_ACTIONS": None,
        "GITHUB_OUTPUT": None,
        "GITHUB_STEP_SUMMARY": None,
        "GITHUB_WORKSPACE": None,
        "OTA_COMMAND": "zbota",
        "OTA_OUTFILE": "out/app.ota",
        "OTA_MFG_ID": "0x1234",
        "OTA_IMAGE_TYPE": "2",
        "OTA_VERSION": "0x00000005",
        "OTA_TAG": "0x0000:firmware/app.hex",
    }
    run = runner.run({}, env)
    assert run.code == 0, run.stdout + run.stderr
    assert (run.workspace / "out" / "app.ota").is_file()
    assert "OTA image generated and saved to: out/app.ota" in run.stdout
    assert not any(line.startswith("::") for line in run.stdout.splitlines())  # no workflow commands
    assert "deprecated" not in run.stdout
    assert run.summary == ""


def test_old_variable_names_still_work_with_a_warning(runner: FakeRunner) -> None:
    """OTA_TAGS (now OTA_TAG, after --tag) keeps earlier pipelines working, and says so."""
    env: dict[str, str | None] = {
        "GITHUB_ACTIONS": None,
        "GITHUB_OUTPUT": None,
        "GITHUB_STEP_SUMMARY": None,
        "GITHUB_WORKSPACE": None,
        "OTA_COMMAND": "zbota",
        "OTA_OUTFILE": "out/app.ota",
        "OTA_MFG_ID": "0x1234",
        "OTA_IMAGE_TYPE": "2",
        "OTA_VERSION": "5",
        "OTA_TAGS": "0x0000:firmware/app.hex",
    }
    run = runner.run({}, env)
    assert run.code == 0, run.stdout + run.stderr
    assert "warning: environment variable OTA_TAGS is deprecated; use OTA_TAG\n" in run.stdout


def test_ota_variable_error_names_the_variable(runner: FakeRunner) -> None:
    run = runner.run({**ZBOTA, "mfg-id": ""}, {"OTA_MFG_ID": "0xNOPE"})
    assert_failed(run, 2, "mfg-id (from OTA_MFG_ID)", "0xNOPE")


def test_github_output_unset_does_not_crash(runner: FakeRunner) -> None:
    run = runner.run(ZBOTA, {"GITHUB_OUTPUT": None, "GITHUB_STEP_SUMMARY": None})
    assert run.code == 0, run.stdout + run.stderr
    assert (run.workspace / "dist" / "app.ota").is_file()


def test_result_file_for_other_ci_systems(runner: FakeRunner) -> None:
    result = runner.workspace / "result.json"  # inside the workspace, like every path (issue 12)
    run = runner.run(ZBOTA, {"GITHUB_OUTPUT": None, "OTA_RESULT_FILE": str(result)})
    assert run.code == 0
    assert (
        json.loads(result.read_text())["sha256"]
        == hashlib.sha256((run.workspace / "dist" / "app.ota").read_bytes()).hexdigest()
    )


def test_hostile_path_and_pythonpath(runner: FakeRunner) -> None:
    run = runner.run(ZBOTA, {"PATH": "utter-nonsense", "PYTHONPATH": "/nonexistent", "PYTHONHOME": None})
    assert run.code == 0, run.stdout + run.stderr
    assert run.outputs["ota-file"] == "dist/app.ota"


def test_newline_in_a_value_cannot_inject_a_command(runner: FakeRunner) -> None:
    evil = "dist/x\n::error title=pwned::pwned\n::add-mask::ota.ota"
    run = runner.run({**ZBOTA, "outfile": evil})
    assert run.code == 0, run.stdout + run.stderr
    assert [c.name for c in run.commands] == []  # nothing but our own (none on success)
    assert run.outputs["ota-file"] == evil  # the heredoc carries the newlines intact
    assert (run.workspace / evil).is_file()
    bad = runner.run({**ZBOTA, "outfile": evil, "mfg-id": "0x1FFFF\n::error::pwned"})
    assert [(c.name, c.props.get("title")) for c in bad.commands] == [("error", "Input mfg-id")]
    assert "::error::pwned" in bad.commands[0].message  # carried as data, on one line


def test_huge_element_list_is_bounded_in_summary_and_json(runner: FakeRunner, built: Path) -> None:
    data = bytearray(built.read_bytes())
    count = 40000  # 40000 sub-elements: listed in full, well over 1 MiB of Markdown
    data += struct.pack("<HI", 0xF001, 0) * count
    struct.pack_into("<I", data, 52, len(data))  # total image size
    built.write_bytes(bytes(data))
    run = runner.run({"command": "inspect", "image": "dist/app.ota"})
    assert run.code == 0, run.stdout[-2000:]
    assert len(run.summary.encode()) < 200 * 1024
    assert f"... and {3 + count - 1000} more sub-elements not listed ({3 + count} in all)" in run.summary
    full = json.loads(run.outputs["summary-json"])
    assert len(full["sub_elements"]) == full["sub_elements_listed"] == 1000
    assert full["sub_elements_total"] == 3 + count
    assert len(run.outputs["summary-json"]) < 300 * 1024


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
def test_files_are_given_to_the_workspace_owner(runner: FakeRunner) -> None:
    os.chown(runner.workspace, 4321, 4322)
    run = runner.run({**ZBOTA, "outfile": "deep/er/app.ota"})
    assert run.code == 0, run.stdout
    for path in ("deep", "deep/er", "deep/er/app.ota"):
        st = (run.workspace / path).stat()
        assert (st.st_uid, st.st_gid) == (4321, 4322), path
    assert re.search(r"action\.chown .*uid=4321", run.log)


# --- secrets ----------------------------------------------------------------------------

PASSPHRASE = "correct horse battery staple 7%"


def _leak_check(run: Run, secrets: list[str]) -> None:
    """No secret in any channel a person or a later step can see.

    ``::add-mask::`` lines are consumed by the runner and never shown, so they are the
    one place the secret may appear; everything else is checked raw, without relying
    on the runner's masking.
    """
    visible_stdout = "\n".join(
        line for line in run.stdout.splitlines() if not line.startswith("::add-mask::")
    )
    channels = {
        "stdout": visible_stdout,
        "stderr": run.stderr,
        "outputs": run.outputs_text,
        "summary": run.summary,
        "env": run.env_file,
        "annotations": "\n".join(c.message + str(c.props) for c in run.commands if c.name != "add-mask"),
    }
    for secret in secrets:
        for line in filter(None, (s.strip() for s in secret.splitlines())):
            if len(line) < 8:
                continue  # PEM armour lines are not secret
            for name, text in channels.items():
                assert line not in text, f"secret line leaked on {name}"


def test_secrets_are_masked_first_and_never_leak(runner: FakeRunner) -> None:
    key = _p256_pem(PASSPHRASE.encode())
    for inputs in (
        {**ZBOTA, "signing-key": key, "signing-key-passphrase": PASSPHRASE},
        {**ZBOTA, "mfg-id": "-1", "signing-key": key, "signing-key-passphrase": PASSPHRASE},
        {
            "command": "verify",
            "image": "nothing.ota",
            "signing-key": key,
            "signing-key-passphrase": PASSPHRASE,
        },
        {"command": "nope", "signing-key": key, "signing-key-passphrase": PASSPHRASE},
    ):
        run = runner.run(inputs, {"OTA_LOG_LEVEL": "debug"})
        _leak_check(run, [key, PASSPHRASE])
        # Masks come before any other output, one per secret line and the passphrase.
        first_lines = run.stdout.splitlines()
        masks = [c.message for c in run.commands if c.name == "add-mask"]
        assert first_lines[: len(masks)] == [github.add_mask(m) for m in masks]
        body = [line.strip() for line in key.splitlines() if "PRIVATE KEY" not in line]
        assert set(body) <= set(masks)
        assert PASSPHRASE in masks
        assert "" not in masks


def test_secrets_are_not_printed_outside_github(runner: FakeRunner) -> None:
    """Nothing consumes ``::add-mask::`` elsewhere: printing it would show the secret."""
    key = _p256_pem()
    (runner.workspace / "xbfs.bin").write_bytes(bytes(range(256)) * 16)
    run = runner.run(
        {**XBEE_FS, "signing-key": key, "signing-key-passphrase": PASSPHRASE},
        {"GITHUB_ACTIONS": None, "GITHUB_OUTPUT": None},
    )
    assert run.code == 0
    assert "add-mask" not in run.stdout
    for line in key.splitlines()[1:-1]:
        assert line not in run.stdout
    assert PASSPHRASE not in run.stdout


# --- pure pieces ------------------------------------------------------------------------


def test_escaping_follows_the_toolkit() -> None:
    assert github.escape_data("50%\r\nnext") == "50%25%0D%0Anext"
    assert github.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert github.command("error", "bad\n::x", title="Input a,b") == "::error title=Input a%2Cb::bad%0A::x"
    assert github.command("add-mask", "s3cr%t") == "::add-mask::s3cr%25t"


def test_output_format_round_trips_through_the_runner_parser() -> None:
    values = {"a": "", "b": "one line", "c": "two\nlines\n", "d": "x<<y=z", "e": "é ✅"}
    text = "".join(github.format_output(k, v) for k, v in values.items())
    assert parse_file_commands(text) == values
    with pytest.raises(ValueError, match="delimiter"):
        github.format_output("n", "contains DELIM", "DELIM")
    assert github.new_delimiter() != github.new_delimiter()


def test_truncate_summary_keeps_whole_lines_and_utf8() -> None:
    text = "".join(f"| ✅ row {i} |\n" for i in range(1000))
    short, truncated = github.truncate_summary(text, limit=2000)
    assert truncated
    assert len(short.encode()) <= 2000
    body = short.split("\n\n> ")[0]
    assert all(line.startswith("| ✅ row") and line.endswith("|") for line in body.splitlines())
    assert github.truncate_summary("small", limit=2000) == ("small", False)


def test_mask_forms_cover_every_line_and_no_empty_string() -> None:
    from ota_action.edges.masking import mask_forms

    forms = mask_forms(["line one\n\n  line two  \n", "pass"])
    assert {"line one", "line two", "pass"} <= set(forms)
    assert "" not in forms


def test_entrypoint_with_arguments_is_the_cli(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-I", str(ENTRYPOINT), "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert result.stdout.startswith("ota-action ")
    out = tmp_path / "cli.ota"
    args: list[Any] = ["zbota", "-o", out, "-m", "1", "-i", "1", "-v", "1", "-t", f"0:{FIRMWARE}"]
    result = subprocess.run(
        [sys.executable, "-I", str(ENTRYPOINT), *map(str, args)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert out.is_file()


def test_action_log_processors_keep_values_on_one_line_and_annotate() -> None:
    import io

    from ota_action.edges import log

    stream = io.StringIO()
    try:
        logger = log.configure(
            stream=stream,
            extra_processors=(log.one_line_values, log.Annotations(stream)),
            default_format="console",
        )
        logger.info("zbota.written", outfile="a\n::error::pwned.ota", size=12)
        logger.warning("hex.gap", title="Gap in app.hex", file="app.hex", line=7, bytes=16)
        logger.error("action.failed", annotated=True)
    finally:
        log.reset()
    text = ANSI.sub("", stream.getvalue())
    commands = workflow_commands(text)
    assert [(c.name, c.props) for c in commands] == [
        ("warning", {"title": "Gap in app.hex", "file": "app.hex", "line": "7"})
    ]
    assert commands[0].message == "hex.gap (bytes=16)"
    assert "outfile=a\\n::error::pwned.ota" in text
    assert "size=12" in text
