"""Issue 25's figures, each beside its peer from the same run (``python -m bench --only speed``).

- start-up: ``ota-action verify FILE`` beside ``python -c pass``;
- ``zbota`` of a 1 MiB image beside Silicon Labs Commander's ``ota create`` of the same
  file (byte-identical output, checked);
- batch: ``ota-action verify DIR`` of a folder of real files beside zigpy's parse-only
  and parse + validate and zigbee-herdsman's ``parseOtaImage`` (each one process over the
  whole folder, files in the page cache);
- pre-commit: the ``ota-verify`` hook's entry run by ``pre-commit`` on a repository of
  1,000 OTA files, beside one batch ``verify`` of the same files;
(``combine`` at 15 and 60 inputs is the ``combine-scaling`` section, bench/combine_scaling.py.)

The folder is made of the real files of ``OTA_TEST_CORPUS`` (default: the corpus folders
of this machine, if present), copied round-robin into a temporary folder (never into the
repository); synthetic files when there is none.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench import batch, tools
from bench.inputs import KIB, MIB, random_bytes
from bench.measure import FAILED, UNAVAILABLE, Figure, run_process

SECTION = "speed"
DEFAULT_CORPUS = ("/work/shared/corpus/ota", "/work/shared/corpus/ota-vendor")
COMMANDER_CACHE = Path.home() / ".cache" / "pycommander"
ZIGPY_PARSE_ONLY = batch.ZIGPY_SCRIPT.replace("        validate_ota_image(image)\n", "")


def _timed(
    figure: Figure,
    argv: Sequence[str | Path],
    repeats: int,
    *,
    ok: Sequence[int] = (0,),
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Figure:
    """Best-of-``repeats`` after a warm-up (byte-compiles, fills the page cache)."""
    env = env or tools.child_env()
    for index in range(repeats + 1):
        run = run_process(argv, env=env, cwd=cwd)
        if run.returncode not in ok:
            figure.status, figure.note = FAILED, f"exit {run.returncode}: {(run.stderr or run.stdout)[-200:]}"
            return figure
        if index:
            figure.runs_s.append(run.wall_s)
            figure.peak_rss_mib.append(run.peak_rss_mib)
    return figure


def _ratio(ours: Figure, peer: Figure, key: str = "ratio_to_peer") -> None:
    """ours / peer (min times) into ``ours.extra``: 2.0 means ours took twice as long."""
    if ours.min_s and peer.min_s:
        ours.extra[key] = round(ours.min_s / peer.min_s, 2)
        ours.extra["peer"] = peer.name


def _small_ota(work: Path) -> Path:
    (work / "small.bin").write_bytes(random_bytes(150 * KIB, seed=5))
    out = work / "small.ota"
    argv: list[str | Path] = [
        *tools.ota_action(),
        "zbota",
        "-o",
        out,
        "-m",
        "0x1234",
        "-i",
        "1",
        "-v",
        "1.0.0.1",
    ]
    subprocess.run([*argv, "-t", f"0:{work / 'small.bin'}", "-ic"], check=True, capture_output=True)
    return out


def startup(work: Path, repeats: int, log: Callable[[str], None]) -> list[Figure]:
    log(f"verify FILE vs python -c pass x{repeats}")
    # Each a series of its own: a run right after another program's is slower (python -c
    # pass 12.2 ms after verify, 11.3 ms after itself), which would flatter the ratio.
    bare = _timed(Figure(SECTION, "python -c pass"), [sys.executable, "-c", "pass"], repeats)
    one = _small_ota(work)
    ours = _timed(Figure(SECTION, "ota-action verify FILE"), [*tools.ota_action(), "verify", one], repeats)
    ours.note = "150 KiB file with an integrity code"
    _ratio(ours, bare)
    return [bare, ours]


def commander() -> str | None:
    """Commander's command-line binary (``pip install silabs-pycommander`` unpacks it)."""
    found = shutil.which("commander-cli") or shutil.which("commander")
    if found:
        return found
    wrapper = Path(sys.executable).with_name("pycommander-cli")
    if wrapper.is_file():
        subprocess.run([str(wrapper), "--version"], capture_output=True, check=False)  # unpacks the binary
    cached = sorted(COMMANDER_CACHE.glob("*/commander-cli/commander-cli"))
    return str(cached[-1]) if cached else None


def zbota_vs_commander(work: Path, size: int, repeats: int, log: Callable[[str], None]) -> list[Figure]:
    log(f"zbota vs Commander ota create, {size} bytes x{repeats}")
    image = work / "commander.bin"
    image.write_bytes(random_bytes(size, seed=23))
    common = ("0x1234", "0x0001", "0x01000001", "bench")
    ours_out, theirs_out = work / "ours.ota", work / "commander.ota"
    ours_argv: list[str | Path] = [
        *tools.ota_action(),
        "zbota",
        "-o",
        ours_out,
        "-m",
        common[0],
        "-i",
        common[1],
    ]
    ours_argv += ["-v", common[2], "--string", common[3], "-t", f"0:{image}"]
    ours = _timed(Figure(SECTION, "ota-action zbota", size_bytes=size), ours_argv, repeats)
    binary = commander()
    peer = Figure(SECTION, "Commander ota create", size_bytes=size)
    if binary is None:
        peer.status, peer.note = UNAVAILABLE, "pip install silabs-pycommander"
        return [ours, peer]
    argv: list[str | Path] = [
        binary,
        "ota",
        "create",
        "--upgrade-image",
        image,
        "--manufacturer-id",
        common[0],
    ]
    argv += [
        "--image-type",
        common[1],
        "--firmware-version",
        common[2],
        "--string",
        common[3],
        "-o",
        theirs_out,
    ]
    _timed(peer, argv, repeats)  # a series of its own (see startup)
    if ours_out.is_file() and theirs_out.is_file():
        ours.note = "byte-identical" if ours_out.read_bytes() == theirs_out.read_bytes() else "OUTPUT DIFFERS"
    _ratio(ours, peer)
    return [ours, peer]


def _corpus_sources() -> list[Path]:
    if not os.environ.get("OTA_TEST_CORPUS"):
        found = [d for d in DEFAULT_CORPUS if Path(d).is_dir()]
        os.environ["OTA_TEST_CORPUS"] = os.pathsep.join(found)
    return batch.corpus_files()


def _folder(work: Path, count: int) -> tuple[Path, str]:
    folder = work / f"files-{count}"
    folder.mkdir()
    _corpus_sources()
    what = batch.fill(folder, count)
    for path in folder.iterdir():  # into the page cache
        path.read_bytes()
    return folder, what


def batch_verify(work: Path, count: int, repeats: int, log: Callable[[str], None]) -> list[Figure]:
    folder, what = _folder(work, count)
    log(f"batch verify of {what} x{repeats}")
    files = sorted(folder.iterdir())
    size = sum(p.stat().st_size for p in files)
    ours = Figure(SECTION, "ota-action verify DIR", size_bytes=size, note=what)
    _timed(ours, [*tools.ota_action(), "verify", folder, "--quiet"], repeats, ok=(0, 1))
    parse = Figure(SECTION, "zigpy parse only", size_bytes=size)
    _timed(parse, [sys.executable, "-c", ZIGPY_PARSE_ONLY.format(suffixes=batch.SUFFIXES), folder], repeats)
    validate = Figure(SECTION, "zigpy parse + validate", size_bytes=size)
    script = batch.ZIGPY_SCRIPT.format(suffixes=batch.SUFFIXES)
    _timed(validate, [sys.executable, "-c", script, folder], repeats)
    herdsman = Figure(SECTION, "zigbee-herdsman parseOtaImage", size_bytes=size)
    module, node = batch.herdsman(work, os.environ.get("HERDSMAN_OTA_JS")), shutil.which("node")
    if module is None or node is None:
        herdsman.status, herdsman.note = UNAVAILABLE, "npm pack zigbee-herdsman failed"
    else:
        (work / "parse.js").write_text(batch.HERDSMAN_SCRIPT.format(suffixes=list(batch.SUFFIXES)))
        _timed(herdsman, [node, work / "parse.js", module, folder], repeats)
    _ratio(ours, parse)
    ours.extra["ratio_to_zigpy_validate"] = (
        round(ours.min_s / validate.min_s, 2) if ours.min_s and validate.min_s else None
    )
    ours.extra["files"] = len(files)
    return [ours, parse, validate, herdsman]


def precommit(work: Path, count: int, repeats: int, log: Callable[[str], None]) -> list[Figure]:
    """The hook as a project runs it: ``pre-commit run --all-files`` over ``count`` files."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    pre_commit = shutil.which("pre-commit", path=path)
    ours = Figure(SECTION, "pre-commit ota-verify hook")
    if pre_commit is None:
        ours.status, ours.note = UNAVAILABLE, "pre-commit not installed"
        return [ours]
    repo = work / "repo"
    repo.mkdir()
    folder, what = _folder(repo, count)
    log(f"pre-commit on {what} x{repeats}")
    env = tools.child_env(PRE_COMMIT_HOME=str(work / "pre-commit-home"))
    env["PATH"] = path
    # The published hook's own entry and file pattern, as a local hook: no clone, no
    # per-run install, so the figure is pre-commit plus ota-action and nothing else.
    (repo / ".pre-commit-config.yaml").write_text(_local_config())
    # Files as a project's are: committed, and older than the index. Files written in the
    # same second as the index are "racily clean" to git, which then re-hashes every one of
    # them on each `git diff` pre-commit runs (git at 97% CPU: 1.5 s instead of 0.8 s, or
    # not, depending on where the second boundary fell).
    past = time.time() - 60
    for file in folder.iterdir():
        os.utime(file, (past, past))
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    commit = ["git", *identity, "commit", "-q", "-m", "files"]
    for argv in (["git", "init", "-q"], ["git", "add", "."], commit):
        subprocess.run(argv, cwd=repo, check=True, env=env)
    _timed(ours, [pre_commit, "run", "--all-files"], repeats, ok=(0, 1), cwd=repo, env=env)
    batch_fig = Figure(SECTION, "ota-action verify (same files, one process)")
    _timed(batch_fig, [*tools.ota_action(), "verify", folder, "--quiet"], repeats, ok=(0, 1))
    ours.note = what
    _ratio(ours, batch_fig)
    return [ours, batch_fig]


def _local_config() -> str:
    from ruamel.yaml import YAML

    root = Path(__file__).resolve().parent.parent
    yaml = YAML(typ="safe")
    hooks = yaml.load((root / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "ota-verify")  # the OTA files' hook is the one timed
    local = {**hook, "language": "system"}
    local["entry"] = f"{Path(sys.executable).with_name('ota-action')} verify --quiet"
    text = io.StringIO()
    yaml.dump({"repos": [{"repo": "local", "hooks": [local]}]}, text)
    return text.getvalue()


def run(work: Path, repeats: int, tiny: bool, log: Callable[[str], None]) -> list[Figure]:
    size = 16 * KIB if tiny else MIB
    count = 40 if tiny else 1341
    figures = startup(work, max(repeats, 10), log)
    figures += zbota_vs_commander(work, size, repeats, log)
    figures += batch_verify(work, count, repeats, log)
    figures += precommit(work, 40 if tiny else 1000, repeats, log)
    return figures
