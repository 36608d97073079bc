"""The rules tests/conftest.py enforces, checked on sample tests run by pytester.

* The corpus switch: corpus tests are deselected (not skipped) without OTA_TEST_CORPUS;
  with it they run; a listed folder that is missing, or a folder not listed, fails.
* Under CI=true a skipped test fails the session.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import ROOT

SAMPLE = """
import pytest

def test_plain():
    pass

def test_needs_a_tool():
    pytest.skip("tool not installed")

def test_real_files(corpus_dir):
    assert (corpus_dir("ota") / "a.ota").read_bytes() == b"x"

@pytest.mark.corpus
def test_marked():
    pass
"""


@pytest.fixture
def sample(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makeconftest((ROOT / "tests" / "conftest.py").read_text(encoding="utf-8"))
    pytester.makepyfile(test_sample=SAMPLE)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("OTA_TEST_CORPUS", raising=False)
    return pytester


def _corpus(tmp_path: Path, name: str = "ota") -> Path:
    folder = tmp_path / "corpus" / name
    folder.mkdir(parents=True)
    (folder / "a.ota").write_bytes(b"x")
    return folder


def test_without_the_corpus_its_tests_are_deselected_not_skipped(sample: pytest.Pytester) -> None:
    result = sample.runpytest_subprocess("-p", "no:xdist", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=1, deselected=2)
    assert result.ret == 0


def test_under_ci_a_skip_fails_the_session(sample: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    result = sample.runpytest_subprocess("-p", "no:xdist", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=1, deselected=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*skipped under CI=true (a failure)*", "*test_needs_a_tool*"])


def test_under_ci_without_skips_the_session_passes(
    sample: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    result = sample.runpytest_subprocess("-p", "no:xdist", "-k", "not needs_a_tool")
    assert result.ret == 0


def test_with_the_corpus_its_tests_run(
    sample: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    other = _corpus(tmp_path, "ota-vendor")
    monkeypatch.setenv("OTA_TEST_CORPUS", os.pathsep.join([str(_corpus(tmp_path)), str(other)]))
    result = sample.runpytest_subprocess("-p", "no:xdist")
    result.assert_outcomes(passed=3, skipped=1)


def test_a_missing_corpus_folder_fails_the_run(
    sample: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OTA_TEST_CORPUS", str(tmp_path / "nowhere" / "ota"))
    result = sample.runpytest_subprocess("-p", "no:xdist")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*OTA_TEST_CORPUS lists missing folder*nowhere*"])


def test_a_corpus_folder_not_listed_fails_the_test_that_needs_it(
    sample: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OTA_TEST_CORPUS", str(_corpus(tmp_path, "ota-vendor")))
    result = sample.runpytest_subprocess("-p", "no:xdist")
    result.assert_outcomes(passed=2, skipped=1, failed=1)
    result.stdout.fnmatch_lines(["*lists no folder named 'ota'*"])
