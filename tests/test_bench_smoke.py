"""The benchmark runs end to end with tiny sizes and writes well-formed JSON.

This never asserts on a timing (tests do not time things): it checks that every figure
is present, consistent with its own runs, and that the correctness checks the
benchmark makes on each tool's output (digests, merged data, signatures) came out right.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from bench import measure, report
from bench.inputs import HexPart, intel_hex, merged_matches, read_intel_hex
from tests.conftest import ROOT

SPEC_SEQ_8192 = "dc6b0687f09f8607131c170b3bd31591"  # Zigbee spec C.5.4
SHORT_FORM_SEQ_8192 = "5c9fe131087bd5b94afbc4d2592e3dee"  # what short-form-only code gives
FIGURE_KEYS = {
    "section",
    "name",
    "status",
    "size_bytes",
    "runs",
    "runs_s",
    "min_s",
    "median_s",
    "mb_per_s",
    "peak_rss_mib",
    "note",
}


def _run_bench(base: Path) -> dict[str, Any]:
    scratch = base / "tmp"
    scratch.mkdir()
    out = base / "figures.json"
    env = {**os.environ, "TMPDIR": str(scratch)}
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--tiny", "--quiet", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,  # a guard against a hang, not a speed limit: a loaded machine is slow
    )
    assert result.returncode == 0, result.stderr
    assert "section" in result.stdout
    assert "Targets:" in result.stdout
    assert list(scratch.iterdir()) == [], "the benchmark left files behind"
    data: dict[str, Any] = json.loads(out.read_text())
    data["_stdout"] = result.stdout
    return data


def _figure(data: dict[str, Any], section: str, name: str, size: int | None = None) -> dict[str, Any]:
    for figure in data["figures"]:
        if figure["section"] == section and figure["name"] == name and size in (None, figure["size_bytes"]):
            return figure  # type: ignore[no-any-return]
    raise AssertionError(f"no figure {section}/{name}/{size}")


def _check_header_and_machine(bench_run: dict[str, Any]) -> None:
    assert bench_run["schema"] == "ota-action-bench/1"
    assert bench_run["tiny"] is True
    machine = bench_run["machine"]
    assert machine["python"] == platform.python_version()
    for name in ("cryptography", "intelhex", "zigpy", "pydantic", "structlog"):
        assert machine["libraries"][name] == version(name)
    assert machine["aes_backend_default"] in ("libcrypto", "cryptography")
    assert machine["cpu_count"] >= 1
    assert bench_run["settings"]["repeats"] == 2
    assert bench_run["settings"]["aes_sizes"] == [4096, 16384]


def _check_every_figure_is_consistent(bench_run: dict[str, Any]) -> None:
    assert bench_run["figures"]
    for figure in bench_run["figures"]:
        assert figure.keys() >= FIGURE_KEYS
        assert figure["status"] in ("ok", "unavailable"), figure
        if figure["status"] == "unavailable":
            assert figure["note"]
            assert figure["runs_s"] == []
            assert figure["min_s"] is None
            continue
        runs = figure["runs_s"]
        assert figure["runs"] == len(runs) >= 1
        assert all(t > 0 for t in runs)
        assert figure["min_s"] == pytest.approx(min(runs), abs=1e-6)
        assert figure["min_s"] <= figure["median_s"] <= max(runs) + 1e-6
        if figure["mb_per_s"] is not None:
            assert figure["mb_per_s"] == pytest.approx(figure["size_bytes"] / figure["min_s"] / 1e6, rel=1e-3)
        if figure["peak_rss_mib"] is not None:
            assert 0 < figure["peak_rss_mib"] < 4096


def _check_aes_mmo_digests_agree(bench_run: dict[str, Any]) -> None:
    for size in (4096, 16384):
        reference = _figure(bench_run, "aes_mmo", "reference", size)
        assert reference["status"] == "ok"
        assert reference["digest_ok"] is True
        for backend in ("ours-libcrypto", "ours-cryptography"):
            ours = _figure(bench_run, "aes_mmo", backend, size)
            if ours["status"] == "unavailable":
                assert backend == "ours-libcrypto"
                continue
            assert ours["digest"] == reference["digest"]
            assert ours["digest_ok"] is True
        zigpy = _figure(bench_run, "aes_mmo", "zigpy", size)
        assert zigpy["status"] == "ok"
        # Short-form padding is right below 8192 bytes and wrong from there on.
        assert zigpy["digest_ok"] is (size < 8192)


def _check_zigpy_is_recorded_wrong_from_8192(bench_run: dict[str, Any]) -> None:
    check = bench_run["zigpy_correctness"]
    assert check["ours_8192"] == SPEC_SEQ_8192
    assert check["ours_correct"] is True
    assert check["zigpy_8192"] == SHORT_FORM_SEQ_8192
    assert check["zigpy_correct_below_8192"] is True
    assert check["zigpy_wrong_from_8192"] is True


def _check_ratios_follow_from_the_figures(bench_run: dict[str, Any]) -> None:
    ratios = bench_run["aes_mmo_ratios"]
    assert {(r["vs"], r["size_bytes"]) for r in ratios} >= {
        ("zigpy", 4096),
        ("reference", 4096),
        ("zigpy", 16384),
        ("reference", 16384),
    }
    for r in ratios:
        ours = _figure(bench_run, "aes_mmo", r["ours"], r["size_bytes"])
        peer = _figure(bench_run, "aes_mmo", r["vs"], r["size_bytes"])
        assert r["ratio_min"] == pytest.approx(peer["min_s"] / ours["min_s"], rel=0.02, abs=0.01)


def _check_process_sections(bench_run: dict[str, Any]) -> None:
    assert _figure(bench_run, "startup", "python -c pass")["status"] == "ok"
    version_figure = _figure(bench_run, "startup", "ota-action --version")
    assert version_figure["status"] == "ok"
    assert isinstance(version_figure["over_python_ms_min"], float)
    # zbota exists in every build; the benchmark checked the integrity code it wrote.
    assert _figure(bench_run, "zbota", "ota-action zbota --integrity", 16384)["status"] == "ok"
    hexmerge = _figure(bench_run, "combine", "intelhex hexmerge.py")
    assert hexmerge["status"] == "ok"
    assert hexmerge["output_matches_inputs"] is True
    for name in ("ota-action combine", "srec_cat"):
        figure = _figure(bench_run, "combine", name)
        if figure["status"] == "ok":
            assert figure["output_matches_inputs"] is True
    sign = _figure(bench_run, "xbee_fs", "ECDSA P-256/SHA-256 sign (in-process)")
    assert sign["status"] == "ok"
    assert 70 <= sign["signature_bytes"] <= 72
    # gbl: both builders' signatures were checked with pygbl (Commander is a dev dependency).
    assert _figure(bench_run, "gbl", "ota-action gbl --sign")["status"] == "ok"
    assert _figure(bench_run, "gbl", "commander gbl3 create --sign")["status"] == "ok"
    xbee = _figure(bench_run, "xbee_fs", "ota-action xbee-fs")
    if xbee["status"] == "ok":
        # The share is a ratio of two timings: its size depends on the machine's load, so
        # only its consistency with the two figures is checked, never a bound on it.
        assert xbee["signing_share"] > 0
        assert math.isclose(xbee["signing_share"], sign["min_s"] / xbee["min_s"], rel_tol=1e-4)
        assert sign["share_of_xbee_fs"] == xbee["signing_share"]
    # One run signs the same image through each key source; each output was verified.
    for source in ("in-memory key", "sign-command (openssl)", "PKCS#11 (SoftHSM2)"):
        assert _figure(bench_run, "signing", f"xbee-fs, {source}", 16384)["status"] == "ok", source


def _check_targets_are_listed_and_judged_only_at_their_size(bench_run: dict[str, Any]) -> None:
    targets = bench_run["targets"]
    assert len(targets) == 7
    for target in targets:
        assert {"target", "wanted", "value", "unit", "met"} <= target.keys()
    # A tiny run has no 1 MiB figures, so those targets are "not measured", never passed or failed.
    assert [t["met"] for t in targets[:3]] == [None, None, None]
    assert isinstance(targets[3]["met"], bool)
    # The combine targets are stated for the 64K+1M+4K set, which a tiny run does not use.
    assert [t["met"] for t in targets[4:6]] == [None, None]
    assert targets[6]["met"] is None  # gbl vs Commander is stated for 1 MiB
    assert isinstance(bench_run["combine_ratios"], list)


def test_tiny_run_writes_well_formed_json(tmp_path: Path) -> None:
    """One run of ``python -m bench --tiny`` (one, not one per xdist worker) and every check on it."""
    bench_run = _run_bench(tmp_path)
    _check_header_and_machine(bench_run)
    _check_every_figure_is_consistent(bench_run)
    _check_aes_mmo_digests_agree(bench_run)
    _check_zigpy_is_recorded_wrong_from_8192(bench_run)
    _check_ratios_follow_from_the_figures(bench_run)
    _check_process_sections(bench_run)
    _check_targets_are_listed_and_judged_only_at_their_size(bench_run)


def test_unknown_command_is_unavailable_not_a_crash() -> None:
    script = "import sys; sys.stderr.write(\"ota-action: error: unknown command 'combine'\\n\"); sys.exit(2)"
    figure = measure.measure_process(measure.Figure("combine", "x"), [sys.executable, "-c", script], 2)
    assert figure.status == measure.UNAVAILABLE
    assert figure.runs_s == []
    failing = measure.measure_process(
        measure.Figure("combine", "y"), [sys.executable, "-c", "raise SystemExit('boom')"], 2
    )
    assert failing.status == measure.FAILED
    assert failing.note == "exit 1: boom"


def test_hex_writer_and_reader_round_trip() -> None:
    # 40 bytes from 0x1FFF8 cross a 64 KiB boundary inside a record: the writer must split it.
    part = HexPart("p", 0x1FFF8, bytes(range(40)), start=0x12345)
    text = intel_hex(part.data, part.base, start=part.start)
    assert ":0400000500012345" in text
    assert ":020000040002F8" in text
    segments, start = read_intel_hex(text)
    assert segments == [(0x1FFF8, bytes(range(40)))]
    assert start == 0x12345
    assert merged_matches(text, [part]) is None
    other = HexPart("p", 0x1FFF8, bytes(39) + b"\x01", start=0x12345)
    problem = merged_matches(text, [other])
    assert problem is not None
    assert "differs" in problem


def test_peak_rss_of_a_small_tool_is_its_own() -> None:
    # The benchmark process itself holds far more than 20 MiB; a child's figure must not include it.
    run = measure.run_process(["true"])
    assert run.returncode == 0
    if measure.rss_method().startswith("GNU time"):
        assert run.peak_rss_mib < 20
    assert not math.isnan(run.peak_rss_mib)


def test_combine_ratios_and_targets_once_combine_exists() -> None:
    # combine is not in every build yet; the ratio and target logic must already be right.
    inputs = {"inputs": report.FULL_COMBINE_SET}
    figures = [
        measure.Figure(
            "combine", "ota-action combine", runs_s=[0.25, 0.2], peak_rss_mib=[40.0], extra=inputs
        ),
        measure.Figure(
            "combine", "intelhex hexmerge.py", runs_s=[0.8, 0.9], peak_rss_mib=[160.0], extra=inputs
        ),
        measure.Figure("combine", "srec_cat", runs_s=[0.1], peak_rss_mib=[8.0], extra=inputs),
    ]
    assert report.process_ratios(figures) == [
        {"command": "combine", "vs": "intelhex hexmerge.py", "time_ratio_min": 4.0, "rss_ratio": 4.0},
        {"command": "combine", "vs": "srec_cat", "time_ratio_min": 0.5, "rss_ratio": 0.2},
    ]
    speed, memory = report.targets(figures, [], "libcrypto")[4:6]
    assert (speed["value"], speed["met"]) == (4.0, True)
    assert (memory["value"], memory["met"]) == (4.0, True)
    figures[0].extra["inputs"] = "4 KiB+16 KiB+1 KiB"
    assert [t["met"] for t in report.targets(figures, [], "libcrypto")[4:6]] == [None, None]


def test_ratios_read_as_people_say_them() -> None:
    from bench.report import ratio_words

    assert ratio_words(4.1) == "4.1× faster"
    assert ratio_words(0.24) == "0.24× (slower)"
    assert ratio_words(1.0) == "1.0× faster"
    assert ratio_words(3.0, "less peak RSS", "more peak RSS") == "3.0× less peak RSS"
    assert ratio_words(0.5, "less peak RSS", "more peak RSS") == "0.50× (more peak RSS)"
    assert ratio_words(None) == "-"
