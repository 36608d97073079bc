"""The portable (composite) action, portable/action.yml, as far as it can be run here.

* It declares exactly the container action's inputs and outputs (same names, same
  descriptions), and hands every input to the entry point as the runner hands it to a
  container action (``INPUT_<NAME>``, hyphens kept).
* A harness plays the runner: it copies the action's files into a runner-like
  ``_actions`` directory, evaluates each step's ``${{ }}`` expressions (the only ones the
  file uses: inputs, step outputs), fakes the two ``uses:`` steps (setup-python gives this
  interpreter, the cache restores nothing), and runs every ``run:`` step with bash the way
  the runner does (``bash --noprofile --norc -eo pipefail`` on a script file, a fresh
  ``$GITHUB_OUTPUT`` per step, ``$GITHUB_ACTION_PATH``, the workspace as cwd). The venv is
  really built from the hash-locked requirements, then reused by the next run.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.conftest import ROOT, need_tool
from tests.test_action import ZBOTA, parse_file_commands, workflow_commands

PORTABLE = ROOT / "portable" / "action.yml"
# What the action installs from its own checkout (the repository as GitHub fetches it).
ACTION_FILES = (
    "portable",
    "entrypoint.py",
    "pyproject.toml",
    "README.md",
    "LICENSE",
    "ota_action",
    "requirements/runtime.txt",
)
EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


def _yaml(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return data


def test_inputs_and_outputs_are_identical_to_the_container_action() -> None:
    container, portable = _yaml(ROOT / "action.yml"), _yaml(PORTABLE)
    assert portable["inputs"] == container["inputs"]
    assert list(portable["inputs"]) == list(container["inputs"])
    assert {n: o["description"] for n, o in portable["outputs"].items()} == {
        n: o["description"] for n, o in container["outputs"].items()
    }
    for name, output in portable["outputs"].items():
        assert output["value"] == f"${{{{ steps.run.outputs.{name} }}}}"
    assert portable["runs"]["using"] == "composite"


def test_every_input_reaches_the_entry_point_as_the_runner_names_it() -> None:
    steps = _yaml(PORTABLE)["runs"]["steps"]
    (run,) = [s for s in steps if s.get("id") == "run"]
    given = {k: v for k, v in run["env"].items() if k.startswith("INPUT_")}
    assert given == {f"INPUT_{n.upper()}": f"${{{{ inputs.{n} }}}}" for n in _yaml(PORTABLE)["inputs"]}


def test_run_scripts_hold_no_expressions_and_actions_are_pinned() -> None:
    """Values reach scripts only through env: (no template injection), actions by full SHA."""
    for step in _yaml(PORTABLE)["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], step["name"]
            assert step["shell"] == "bash", step["name"]
        else:
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", step["uses"]), step["uses"]


@dataclass
class StepResult:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]


class CompositeHarness:
    """A runner-like place to run portable/action.yml's steps."""

    def __init__(self, root: Path, bash: str) -> None:
        self.bash = bash
        self.action_root = root / "_actions" / "ota-action" / "ota-action" / "v1"
        for name in ACTION_FILES:
            src, dest = ROOT / name, self.action_root / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(src, dest)
        self.action_path = self.action_root / "portable"
        self.workspace = root / "workspace"
        self.temp = root / "_temp"
        self.files = root / "_runner_file_commands"
        for path in (self.workspace, self.temp, self.files, root / "home"):
            path.mkdir()
        self.home = root / "home"
        self.spec = _yaml(self.action_path / "action.yml")

    def snapshot(self) -> dict[str, str]:
        """Every file of the action's checkout with its digest: installing must change none."""
        return {
            p.relative_to(self.action_root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(self.action_root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts
        }

    def evaluate(self, text: str, inputs: Mapping[str, str], steps: Mapping[str, dict[str, str]]) -> str:
        def value(match: re.Match[str]) -> str:
            expression = match.group(1)
            if m := re.fullmatch(r"inputs\.([a-z0-9-]+)", expression):
                assert m.group(1) in self.spec["inputs"], expression
                return inputs.get(m.group(1), "")
            if m := re.fullmatch(r"steps\.([a-z0-9_-]+)\.outputs\.([a-z0-9_-]+)", expression):
                return steps.get(m.group(1), {}).get(m.group(2), "")
            raise AssertionError(f"the harness does not know the expression {expression!r}")

        return EXPRESSION.sub(value, text)

    def run(self, inputs: Mapping[str, str], extra_env: Mapping[str, str] | None = None) -> dict[str, Any]:
        outputs: dict[str, dict[str, str]] = {}
        results: dict[str, StepResult] = {}
        summary = self.files / "step_summary"
        summary.write_text("", encoding="utf-8")
        for index, step in enumerate(self.spec["runs"]["steps"]):
            step_id = step.get("id", f"__{index}")
            if "uses" in step:
                outputs[step_id] = self._fake_uses(step, inputs, outputs)
                continue
            env = {k: self.evaluate(str(v), inputs, outputs) for k, v in step.get("env", {}).items()}
            result = self._bash(step["run"], env, extra_env or {}, summary)
            results[step_id] = result
            outputs[step_id] = result.outputs
            if result.code != 0:
                break
        action_outputs = {
            name: self.evaluate(spec["value"], inputs, outputs) for name, spec in self.spec["outputs"].items()
        }
        return {
            "steps": results,
            "outputs": {k: v for k, v in action_outputs.items() if v},
            "summary": summary.read_text(encoding="utf-8"),
        }

    def _fake_uses(
        self, step: Mapping[str, Any], inputs: Mapping[str, str], outputs: Mapping[str, dict[str, str]]
    ) -> dict[str, str]:
        action = step["uses"].split("@")[0]
        if action == "actions/setup-python":
            assert step["with"]["update-environment"] is False  # the job's Python is left alone
            return {"python-path": sys.executable, "python-version": sys.version.split()[0]}
        if action == "actions/cache":
            for key in ("path", "key"):
                assert self.evaluate(step["with"][key], inputs, outputs), f"cache {key} is empty"
            return {"cache-hit": ""}
        raise AssertionError(f"the harness cannot fake {action}")

    def _bash(
        self, script: str, env: Mapping[str, str], extra: Mapping[str, str], summary: Path
    ) -> StepResult:
        output = self.files / "set_output"
        output.write_text("", encoding="utf-8")
        script_file = self.temp / "step.sh"
        script_file.write_text(script, encoding="utf-8")
        environ = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.home),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_ACTION_PATH": str(self.action_path),
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
            "RUNNER_TEMP": str(self.temp),
            "RUNNER_OS": "Linux",
            **env,
            **extra,
        }
        result = subprocess.run(
            [self.bash, "--noprofile", "--norc", "-eo", "pipefail", str(script_file)],
            cwd=self.workspace,
            env=environ,
            capture_output=True,
            text=True,
            timeout=600,
        )
        return StepResult(
            result.returncode,
            result.stdout,
            result.stderr,
            parse_file_commands(output.read_text(encoding="utf-8")),
        )


def test_the_composite_steps_install_once_and_run_the_action(tmp_path: Path) -> None:
    bash = need_tool("bash")
    harness = CompositeHarness(tmp_path, bash)
    before = harness.snapshot()
    (harness.workspace / "firmware").mkdir()
    shutil.copy(ROOT / "examples" / "firmware" / "app.hex", harness.workspace / "firmware" / "app.hex")

    # 1. zbota: the venv is built from the locked requirements, the file written.
    first = harness.run(ZBOTA)
    run = first["steps"]["run"]
    assert run.code == 0, run.stdout + run.stderr + first["steps"]["venv"].stderr
    assert first["steps"]["venv"].outputs["reused"] == "false"
    venv_python = Path(first["steps"]["venv"].outputs["python"])
    assert venv_python.is_relative_to(harness.temp)
    outputs = first["outputs"]
    assert outputs["ota-file"] == "dist/app.ota"
    data = (harness.workspace / "dist" / "app.ota").read_bytes()
    assert outputs["sha256"] == hashlib.sha256(data).hexdigest()
    assert outputs["size"] == str(len(data))
    assert outputs["file-version"] == "0x01000001"
    assert "| Manufacturer ID | 0x1234 |" in first["summary"]
    assert harness.snapshot() == before, "installing changed the action's checkout (build/? egg-info?)"

    # 2. verify with the same venv: reused, not rebuilt.
    second = harness.run({"command": "verify", "image": outputs["ota-file"]})
    assert second["steps"]["venv"].outputs["reused"] == "true"
    assert second["steps"]["run"].code == 0, second["steps"]["run"].stdout
    assert json.loads(second["outputs"]["summary-json"])["valid"] is True

    # 3. A bad input: the step fails (exit 2) with its annotation and sets no outputs.
    third = harness.run({**ZBOTA, "mfg-id": "0x1FFFF", "outfile": "dist/bad.ota"})
    bad = third["steps"]["run"]
    assert bad.code == 2
    assert third["outputs"] == {}
    errors = [c for c in workflow_commands(bad.stdout) if c.name == "error"]
    assert [e.props["title"] for e in errors] == ["Input mfg-id"]
    assert not (harness.workspace / "dist" / "bad.ota").exists()


def test_a_stale_cached_venv_is_rebuilt(tmp_path: Path) -> None:
    """A venv restored under another key (or broken) is not trusted: install.py starts over."""
    sys.path.insert(0, str(ROOT / "portable"))
    try:
        import install
    finally:
        sys.path.remove(str(ROOT / "portable"))
    venv = tmp_path / "venv"
    python = install.venv_python(venv)
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\nexit 1\n")  # a venv whose interpreter no longer works
    python.chmod(0o755)
    (venv / install.STAMP).write_text("other-key\n")
    assert install._usable(venv, "other-key") is False
    assert install._usable(venv, install.cache_key()) is False
    key = install.cache_key()
    assert key.startswith("ota-action-venv-")
    assert re.search(r"-py3\.\d+\.\d+-[0-9a-f]{24}$", key)


@pytest.mark.parametrize("runner_os", ["ubuntu-24.04", "macos-14", "windows-2022"])
def test_self_test_runs_the_portable_action_on_every_os(runner_os: str) -> None:
    data = _yaml(ROOT / ".github" / "workflows" / "self-test.yml")
    (job,) = [
        j for j in data["jobs"].values() if any(s.get("uses") == "./portable" for s in j.get("steps", []))
    ]
    assert runner_os in job["strategy"]["matrix"]["os"]
    assert job["runs-on"] == "${{ matrix.os }}"
