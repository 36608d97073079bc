"""The "Rebuild" command ``extract`` prints: pasted into ``sh``, it rebuilds the file byte
for byte and runs nothing else, whatever the header string holds.

Both doors are run as users run them (subprocesses, bounded by timeouts).  The printed
line goes to ``/bin/sh`` unchanged; the Action's Markdown summary is rendered by
GitHub's own renderer (``cmark-gfm``, Debian package of the same name).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ota_action.commands.extract import zbota_args
from ota_action.formats.zigbee import aes
from ota_action.formats.zigbee.elements import SubElement
from ota_action.formats.zigbee.extract import plan_extract
from ota_action.formats.zigbee.header import OtaHeader
from ota_action.formats.zigbee.image import build_image
from ota_action.settings.zigbee import ZbotaSettings
from tests.conftest import CorpusDir
from tests.test_action import FakeRunner

BIN = Path(sys.executable).parent
HOSTILE_STRINGS = [
    "x -t 0xF000:/etc/passwd",
    "a$(id>../pwn);b",
    'it\'s `id` "q" $HOME',
    "two  spaces; rm -rf ~ *",
    "-o /tmp/x --integrity",
    "back\\slash & | > <",
    "www.evil.example http://x.y",
    "```",
]


def _ota(header_string: str, tmp: Path) -> Path:
    header = OtaHeader.create(
        manufacturer_code=0x1234,
        image_type=0x0005,
        file_version=0x01020304,
        header_string=header_string.encode("ascii"),
        minimum_hardware_version=1,
        maximum_hardware_version=0x0203,
    )
    data = build_image(header, [SubElement(0x0000, bytes(range(256)) * 4), SubElement(0xF000, b"tail")])
    path = tmp / "app.ota"
    path.write_bytes(data)
    return path


def _tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def _sh(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(cwd), "LC_ALL": "C.UTF-8"}
    return subprocess.run(
        ["/bin/sh", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("header_string", HOSTILE_STRINGS)
def test_pasted_rebuild_command_rebuilds_byte_for_byte_and_runs_nothing_else(
    tmp_path: Path, header_string: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    original = _ota(header_string, work)
    result = subprocess.run(
        [sys.executable, "-m", "ota_action", "extract", "app.ota", "-d", "parts dir"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    (line,) = [ln for ln in result.stdout.splitlines() if ln.startswith("Rebuild")]
    command = line.removeprefix("Rebuild: ")
    assert command.startswith("cd 'parts dir' && ota-action zbota ")
    before = _tree(tmp_path)
    shell = _sh(command, work)
    assert shell.returncode == 0, shell.stderr
    rebuilt = work / "parts dir" / "rebuilt.ota"
    assert rebuilt.read_bytes() == original.read_bytes()
    assert _tree(tmp_path) - before == {"work/parts dir/rebuilt.ota"}  # no ../pwn, nothing else
    assert "uid=" not in shell.stdout + shell.stderr  # id never ran


def test_arguments_come_from_the_zbota_settings_model() -> None:
    """Every option printed is one ZbotaSettings declares, and they validate as zbota's."""
    header = OtaHeader.create(
        manufacturer_code=0x1234,
        image_type=1,
        file_version=2,
        header_string=b"s",
        zigbee_stack_version=3,
        security_credential_version=4,
        upgrade_file_destination=0x0011223344556677,
        minimum_hardware_version=5,
        maximum_hardware_version=6,
    )
    data = build_image(header, [SubElement(0x0000, bytes(10)), SubElement(0x0000, b"x")], integrity=True)
    import io

    args = zbota_args(plan_extract(io.BytesIO(data), len(data), backend=aes.get()).recipe)
    assert args is not None
    from ota_action.settings import flag_of

    flags = {flag_of(name, info) for name, info in ZbotaSettings.model_fields.items()}
    assert {a.split("=", 1)[0] for a in args} <= flags
    assert "--dest-eui64=0011223344556677" in args
    assert "--stack-version=0x0003" in args
    assert "--credentials=0x04" in args


def _have_cmark() -> str:
    tool = shutil.which("cmark-gfm")
    if tool is None and os.environ.get("CI") != "true":
        pytest.skip("cmark-gfm (Debian package cmark-gfm) is not installed")
    assert tool, "cmark-gfm is listed in requirements/apt.txt"
    return tool


def _render(markdown: str) -> str:
    tool = _have_cmark()
    result = subprocess.run(
        [tool, "-e", "autolink", "-e", "table", "-e", "strikethrough", "-e", "tagfilter"],
        input=markdown,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


@pytest.mark.parametrize("header_string", ["a`b``c", "www.ev.il http://x.y a@b.co", "```"])
def test_action_summary_shows_the_rebuild_command_as_a_safe_code_block(
    tmp_path: Path, header_string: str
) -> None:
    fake = FakeRunner(tmp_path)
    _ota(header_string, fake.workspace)
    run = fake.run({"command": "extract", "image": "app.ota", "directory": "parts"})
    assert run.code == 0, run.stdout + run.stderr
    rendered = _render(run.summary)
    assert "<a " not in rendered  # nothing from the file became a link
    blocks = [
        html.unescape(b)
        for b in re.findall(r'<pre><code class="language-sh">(.*?)</code></pre>', rendered, re.S)
    ]
    assert len(blocks) == 1, rendered
    command = blocks[0].strip()
    assert command.startswith("cd parts && ota-action zbota ")
    shell = _sh(command, fake.workspace)
    assert shell.returncode == 0, shell.stderr
    assert (fake.workspace / "parts" / "rebuilt.ota").read_bytes() == (
        fake.workspace / "app.ota"
    ).read_bytes()
    manifest = json.loads((fake.workspace / "parts" / "ota.json").read_text())
    assert manifest["zbota_args"] == json.loads(run.outputs["summary-json"])["zbota_args"]


LINKY = ["www.ev.il http://x.y a@b.co", "HTTPS://X.Y WWW.A.B", "mailto:a@b.co ftp://f.g", "xmpp:a@b.co"]


@pytest.mark.parametrize("header_string", LINKY)
def test_header_strings_are_never_links_in_the_summary(tmp_path: Path, header_string: str) -> None:
    fake = FakeRunner(tmp_path)
    _ota(header_string, fake.workspace)
    run = fake.run({"command": "inspect", "image": "app.ota"})
    assert run.code == 0, run.stdout + run.stderr
    rendered = _render(run.summary)
    assert "<a " not in rendered
    visible = html.unescape(re.sub(r"<[^>]*>", "", rendered))
    assert header_string in visible  # shown, as text, exactly


def test_failure_message_is_never_a_link(tmp_path: Path) -> None:
    fake = FakeRunner(tmp_path)
    run = fake.run({"command": "inspect", "image": "http://x.y/a@b.co.ota"})
    assert run.code == 2
    rendered = _render(run.summary)
    assert "❌" in rendered
    assert "<a " not in rendered


def test_real_files_rebuild_from_the_pasted_line(corpus_dir: CorpusDir, tmp_path: Path) -> None:
    """Every rebuildable corpus file: the printed line, pasted into sh, gives it back."""
    from tests.test_fleet_corpus import IKEA, OUTCOMES

    rebuilt = 0
    for (folder, name), outcome in sorted(OUTCOMES.items()):
        if outcome is not None:
            continue
        source = corpus_dir(folder) / name
        work = tmp_path / f"{rebuilt:02d}"
        work.mkdir()
        result = subprocess.run(
            [sys.executable, "-m", "ota_action", "extract", str(source), "-d", "parts"],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        (line,) = [
            ln.removeprefix("Rebuild: ") for ln in result.stdout.splitlines() if ln.startswith("Rebuild")
        ]
        shell = _sh(line, work)
        assert shell.returncode == 0, (name, shell.stderr)
        expected = (work / "parts" / "payload.ota" if name == IKEA else source).read_bytes()
        assert (work / "parts" / "rebuilt.ota").read_bytes() == expected, name
        rebuilt += 1
    assert rebuilt >= 10


def test_a_directory_name_that_cannot_be_shown_gets_no_cd(tmp_path: Path) -> None:
    _ota("plain", tmp_path)
    weird = "we\x1b[31mird\ndir"
    result = subprocess.run(
        [sys.executable, "-m", "ota_action", "extract", "app.ota", "-d", weird],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout
    (line,) = [ln for ln in result.stdout.splitlines() if ln.startswith("Rebuild")]
    assert line.startswith("Rebuild (in the directory): ota-action zbota ")
    shell = _sh(line.split(": ", 1)[1], tmp_path / weird)
    assert shell.returncode == 0, shell.stderr
    assert (tmp_path / weird / "rebuilt.ota").read_bytes() == (tmp_path / "app.ota").read_bytes()
