"""The text-safety rules on their own: escaping, secret detection, traceback redaction."""

from __future__ import annotations

import base64
import random

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ota_action.safe_text import REDACTED, looks_like_secret, md_text, printable, redact_lines, shown


def _pem_lines(seed: int, fmt: serialization.PrivateFormat) -> list[str]:
    scalar = random.Random(seed).randrange(1, 2**255)
    key = ec.derive_private_key(scalar, ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()
    return pem.splitlines()


@pytest.mark.parametrize(
    "fmt", [serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL]
)
def test_every_pem_body_line_of_two_hundred_keys_is_redacted_in_a_traceback(
    fmt: serialization.PrivateFormat,
) -> None:
    for seed in range(200):
        lines = _pem_lines(seed, fmt)
        trace = (
            "Traceback (most recent call last):\nRuntimeError: bug holding " + "\n".join(lines) + "\nend\n"
        )
        out = redact_lines(trace)
        for line in lines:
            assert line not in out, (seed, line)
        assert out.splitlines()[0] == "Traceback (most recent call last):"
        assert out.splitlines()[-1] == "end"


def test_full_length_base64_lines_look_like_secrets_whatever_they_hold() -> None:
    r = random.Random(7)
    for _ in range(5000):
        line = base64.b64encode(r.randbytes(48)).decode()  # 64 characters, a PEM body line
        assert looks_like_secret(line), line


@pytest.mark.parametrize(
    "text",
    [
        "firmware/build/app.ota",
        "Firmware/ReleaseCandidates/Version2/ZigbeeRouterImage",
        "home/runner/work/MyProject/MyProject/FirmwareBuilds",
        "OTA_SIGNING_KEY",
        "0x1234",
    ],
)
def test_ordinary_names_are_shown(text: str) -> None:
    assert not looks_like_secret(text)
    assert shown(text) == repr(text)


def test_values_that_look_like_keys_are_never_shown() -> None:
    lines = _pem_lines(1, serialization.PrivateFormat.PKCS8)
    assert shown("\n".join(lines)) == REDACTED
    assert shown("ab" * 32 + "cdef0123") == REDACTED  # a hex scalar
    assert shown("ghp_" + "A1b2C3d4" * 5) == REDACTED  # a GitHub token


def test_printable_and_markdown_escape_what_a_file_may_hold() -> None:
    assert printable("v1\n::set-output name=ok::1\x1b[31m") == "v1\\n::set-output name=ok::1\\x1b[31m"
    assert printable("::warning::x") == "\\x3a:warning::x"
    assert printable("abc\u202edef") == "abc\\u202edef"
    assert md_text('<img src="x"> | [a](b) `c`') == '&lt;img src="x"&gt; \\| \\[a\\](b) \\`c\\`'
