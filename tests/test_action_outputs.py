"""Every Action output stays under GitHub's limit (1 MiB for all outputs of a job), and
what is cut is said: the lists keep their totals, the document says ``truncated``."""

from __future__ import annotations

import json
from pathlib import Path

from ota_action.edges import github
from ota_action.formats.zigbee.elements import SubElement
from ota_action.formats.zigbee.header import OtaHeader
from ota_action.formats.zigbee.image import build_image
from tests.test_action import FakeRunner

MIB = 1024 * 1024


def _framed_size(outputs: dict[str, str]) -> int:
    return sum(len(github.format_output(k, v).encode()) for k, v in outputs.items())


def test_small_outputs_are_untouched() -> None:
    outputs = {"sha256": "ab" * 32, "summary-json": json.dumps({"command": "x", "results": [1, 2, 3]})}
    assert github.bound_outputs(outputs) == outputs


def test_a_huge_summary_is_cut_with_totals() -> None:
    rows = [{"file": f"fw/{i:06d}.ota", "verdict": "valid", "problem": None} for i in range(40000)]
    doc = {"schema_version": 1, "command": "index", "ok": True, "results": rows, "errors": ["e"] * 3}
    outputs = {"index-file": "index.json", "summary-json": json.dumps(doc)}
    assert len(outputs["summary-json"]) > 2 * MIB
    bounded = github.bound_outputs(outputs)
    assert _framed_size(bounded) <= github.OUTPUTS_LIMIT
    assert bounded["index-file"] == "index.json"
    cut = json.loads(bounded["summary-json"])
    assert cut["truncated"] is True
    assert cut["results_total"] == 40000
    assert 1000 < len(cut["results"]) < 40000
    assert cut["results"] == rows[: len(cut["results"])]  # a prefix, in order
    assert cut["errors"] == ["e"] * 3  # small lists are kept whole


def test_an_existing_total_is_kept() -> None:
    elements = [{"tag": i} for i in range(200000)]
    doc = {"command": "inspect", "sub_elements": elements, "sub_elements_total": 250000}
    cut = json.loads(github.bound_json(json.dumps(doc), 64 * 1024))
    assert cut["sub_elements_total"] == 250000
    assert len(json.dumps(cut)) <= 64 * 1024


def test_one_huge_string_and_one_huge_output() -> None:
    doc = {"schema_version": 1, "command": "x", "ok": True, "message": "m" * (3 * MIB)}
    outputs = {"other": "o" * (2 * MIB), "summary-json": json.dumps(doc)}
    bounded = github.bound_outputs(outputs)
    assert _framed_size(bounded) <= github.OUTPUTS_LIMIT
    assert "other" not in bounded
    cut = json.loads(bounded["summary-json"])
    assert cut["outputs_left_out"] == ["other"]
    assert cut["truncated"] is True
    assert cut["message"].startswith("mmm")
    assert len(cut["message"]) < 300


def test_index_of_many_files_through_the_action(tmp_path: Path) -> None:
    fake = FakeRunner(tmp_path)
    folder = fake.workspace / "fw"
    folder.mkdir()
    for i in range(4000):
        header = OtaHeader.create(manufacturer_code=0x1234, image_type=i, file_version=1, header_string=b"fw")
        (folder / f"device-firmware-{i:05d}.ota").write_bytes(build_image(header, [SubElement(0, b"x")]))
    run = fake.run({"command": "index", "files": "fw", "outfile": "index.json"})
    assert run.code == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert len(run.outputs_text.encode()) <= github.OUTPUTS_LIMIT
    summary = json.loads(run.outputs["summary-json"])
    assert summary["command"] == "index"
    assert summary["entries_total"] == 4000  # cut by the index itself or by bound_outputs: totals kept
    assert 100 < len(summary["entries"]) < 4000
    index = json.loads((fake.workspace / "index.json").read_text())
    assert len(index) == 4000  # the index itself is whole; only the output was cut
