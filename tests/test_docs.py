"""Every command the README and docs/ show runs as written; every workflow they show lints.

For each Markdown file (README.md, CONTRIBUTING.md, docs/*.md) the fenced blocks are
taken from the Markdown parser (markdown-it-py, as GitHub's CommonMark renders them) and:

* ``sh`` / ``bash`` / ``shell`` blocks run **in file order**, each from the root of one
  scratch copy of the repository per file (so a block may use what an earlier block of the
  same file made, never what another file made), with bash ``-e -o pipefail``, the venv's
  ``bin`` first on ``PATH`` (as after ``. .venv/bin/activate``), a scratch ``HOME``, no
  ``OTA_*`` / ``GITHUB_*`` variables and a time limit;
* ``console`` blocks run their ``$ `` lines the same way (the other lines are output);
* a block whose first line is ``# needs: WHAT`` cannot run here (a registry, a runner,
  minutes of measuring): it is only checked to be valid bash (``bash -n``);
* ``yaml`` blocks that are workflows (``on`` and ``jobs``), or lists of steps (put in a
  one-job workflow), are checked by actionlint with the repository's ``action.yml``
  beside them; other YAML (GitLab CI) must parse.

The README's size and the place of its Action quick start are checked here too, and that
relative links point at files (except the docs other branches are writing, listed below).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from ruamel.yaml import YAML

from tests.conftest import ROOT, need_tool

SHELL = {"sh", "bash", "shell"}
NEEDS = re.compile(r"\A# needs: \S")
BLOCK_TIMEOUT = 180  # seconds for one block; the slowest here takes a few seconds
# Copied into the scratch tree: the repository as a fresh clone has it (no venv, caches, builds).
IGNORED = shutil.ignore_patterns(
    ".git", ".venv*", ".cache", "build", "dist", "__pycache__", ".*_cache", ".hypothesis", "bench/out"
)
# docs/ pages a branch is still writing; links to them may dangle until they land (none now).
PENDING: set[str] = set()


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def needs(self) -> bool:
        return bool(NEEDS.match(self.text))


def documents() -> list[Path]:
    return [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(path: Path) -> list[Block]:
    tokens = MarkdownIt("commonmark").parse(path.read_text(encoding="utf-8"))
    return [
        Block(
            path,
            token.map[0] + 1 if token.map else 0,
            token.info.split()[0] if token.info else "",
            token.content,
        )
        for token in tokens
        if token.type == "fence"
    ]


def script(block: Block) -> str:
    if block.lang == "console":
        return "\n".join(line[2:] for line in block.text.splitlines() if line.startswith("$ "))
    return block.text


def scratch_copy(tmp_path: Path) -> Path:
    work = tmp_path / "repo"
    shutil.copytree(ROOT, work, ignore=IGNORED, symlinks=True)
    (work / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)  # as set up by the README
    return work


def clean_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("OTA_", "GITHUB_", "RUNNER_", "INPUT_"))}
    venv_bin = str(Path(sys.executable).parent)
    return {**keep, "HOME": str(home), "PATH": venv_bin + os.pathsep + keep.get("PATH", ""), "NO_COLOR": "1"}


def run_block(block: Block, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    bash = need_tool("bash")
    flags = ["-n"] if block.needs else ["-e", "-o", "pipefail"]
    return subprocess.run(
        [bash, *flags, "-c", script(block)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )


RUNNABLE = [p for p in documents() if p.is_file()]


@pytest.mark.parametrize("path", RUNNABLE, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shell_block_runs_as_written(path: Path, tmp_path: Path) -> None:
    shell = [b for b in blocks(path) if b.lang in SHELL or b.lang == "console"]
    work, env = scratch_copy(tmp_path), clean_env(tmp_path)
    for block in shell:
        result = run_block(block, work, env)
        assert result.returncode == 0, (
            f"{block.where}: exit {result.returncode}\n--- block\n{block.text}"
            f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
        )


def test_blocks_that_cannot_run_here_are_few() -> None:
    """``# needs:`` is for a registry, a runner or minutes of measuring, not for convenience."""
    skipped = [b.where for p in RUNNABLE for b in blocks(p) if b.lang in SHELL and b.needs]
    ran = [b for p in RUNNABLE for b in blocks(p) if b.lang in SHELL and not b.needs]
    assert len(ran) >= 15, "the docs test ran almost nothing"
    assert len(skipped) <= 12, skipped


STEPS_WORKFLOW = "on: push\njobs:\n  docs:\n    runs-on: ubuntu-24.04\n    steps:\n"


def as_workflow(text: str) -> str | None:
    """The block as a workflow actionlint can check: a workflow as it is, a list of steps
    inside a one-job workflow; None for other YAML (GitLab CI), which must only parse."""
    data = YAML(typ="safe").load(text)
    if isinstance(data, dict) and "jobs" in data and ("on" in data or True in data):
        return text
    is_steps = isinstance(data, list) and bool(data)
    if is_steps and all(isinstance(s, dict) and ("uses" in s or "run" in s) for s in data):
        return STEPS_WORKFLOW + textwrap.indent(textwrap.dedent(text), "      ")
    return None


@pytest.mark.parametrize("path", RUNNABLE, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_workflow_block_passes_actionlint(path: Path, tmp_path: Path) -> None:
    yaml_blocks = [b for b in blocks(path) if b.lang in {"yaml", "yml"}]
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    shutil.copy2(ROOT / "action.yml", tmp_path / "action.yml")
    files = []
    for number, block in enumerate(yaml_blocks):
        workflow = as_workflow(block.text)
        if workflow is not None:
            files.append(workflows / f"block-{block.line}-{number}.yml")
            files[-1].write_text(workflow, encoding="utf-8")
    if not files:
        return
    actionlint = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or need_tool("actionlint")
    result = subprocess.run(
        [actionlint, "-no-color", *map(str, files)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"{path.name}: {result.stdout}{result.stderr}"


def test_the_readme_is_short_and_starts_with_what_a_newcomer_needs() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 250, len(lines)
    head = "\n".join(lines[:15])
    assert "./scripts/test" in head
    assert re.search(r"python3 -m venv \.venv && \.venv/bin/pip install .*\.venv/bin/ota-action zbota ", head)
    quick = next(i for i, line in enumerate(lines) if line.startswith("## GitHub Action quick start"))
    fence = next(i for i in range(quick, len(lines)) if lines[i].startswith("```yaml"))
    end = next(i for i in range(fence + 1, len(lines)) if lines[i].startswith("```"))
    assert end < 60, "the Action quick start ends within the first 60 lines"
    assert end - fence - 1 <= 10, "a 10-line quick start"
    assert "uses: ota-action/ota-action@" in "\n".join(lines[quick:end])


def test_the_readme_and_docs_name_only_tags_and_images_that_will_exist() -> None:
    """The release workflow makes vX.Y.Z, vX and ghcr.io/...:X.Y.Z from ota_action.__version__."""
    from ota_action import __version__

    major = __version__.split(".")[0]
    allowed_refs = {"main", f"v{major}", f"v{__version__}"}
    for path in RUNNABLE:
        text = path.read_text(encoding="utf-8")
        for ref in re.findall(r"(?<!ghcr\.io/)ota-action/ota-action(?:/portable)?@([\w.<>-]+)", text):
            assert ref in allowed_refs or ref.startswith("<") or re.fullmatch(r"[0-9a-f]{40}", ref), (
                f"{path.name}: @{ref}"
            )
        for tag in re.findall(r"ghcr\.io/ota-action/ota-action:([\w.-]+)", text):
            assert tag in {__version__, "sha-<commit>"} or tag.startswith("<"), f"{path.name}: :{tag}"
        assert "OTA_TAGS" not in text or "deprecated" in text, f"{path.name} recommends OTA_TAGS"


JARGON = re.compile(r"design card|peers\.md|§\s*\d|\bissue \d+\b", re.IGNORECASE)


def test_no_internal_jargon() -> None:
    for path in RUNNABLE:
        found = JARGON.findall(path.read_text(encoding="utf-8"))
        assert not found, f"{path.name}: {found}"


def test_relative_links_point_at_files() -> None:
    for path in RUNNABLE:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue
            resolved = (path.parent / target).resolve()
            name = resolved.relative_to(ROOT).as_posix() if resolved.is_relative_to(ROOT) else target
            assert resolved.exists() or name in PENDING, f"{path.name}: link {target}"


def test_docs_index_lists_every_page() -> None:
    index = (ROOT / "docs" / "README.md").read_text(encoding="utf-8")
    for page in sorted((ROOT / "docs").glob("*.md")):
        if page.name != "README.md":
            assert f"({page.name})" in index, page.name


def test_the_examples_are_what_the_script_makes() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make-examples"), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
