"""Text that came from a file or a user, made safe to print, log or put in Markdown.

Three dangers, three functions:

* :func:`printable` - a string from a file (an OTA header string, a file name, a finding)
  may hold newlines, ANSI escapes or bidi overrides.  Printed raw in a workflow, a line
  starting ``::`` is executed by the GitHub runner (``::set-output``, ``::add-mask``,
  ``::stop-commands``) and escapes repaint the log.  Every control character is shown as
  a Python-style escape (``\\n``, ``\\x1b``, ``\\u202e``), so the value stays on its line.
* :func:`md_text` - the same for the Markdown step summary, plus HTML escaping:
  ``<img src=...>`` in a header string must render as text, not fetch a URL.
* :func:`shown` - any value a message repeats back to the user.  A key pasted into the
  wrong option (a PEM as ``-o``, a hex scalar as ``--key-file``) must never be echoed
  into a CI log; such values are replaced by a fixed marker.

The core (``zigbee/``, ``hexfile.py``, ``xbee.py``) stays pure: escaping happens at the
edges, where text is printed.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping

REDACTED = "<redacted: looks like key material>"

# C0 controls, DEL, C1 controls, bidi embeddings/overrides/isolates, marks, line/paragraph
# separators and the BOM: nothing here is needed to read a value, all can disguise one.
# Lone surrogates too: a file name that is not UTF-8 reaches Python as surrogate escapes
# (b"caf\xe9" is "caf\udce9"), which no stream can encode; they are shown as the bytes.
# Patterns are compiled on first use (re's own cache): most runs print no secret-like
# text and no control character, so they never compile these (issue 25, start-up).
_UNSAFE = "[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

_PEM = r"(?i)-----\s*(BEGIN|END)\b|PRIVATE KEY|Proc-Type:|LS0tLS1CRUdJT"
# Runs of the standard base64 alphabet (key bodies, one-line keys).  "_", "-" and "." end a
# run, so ordinary file names (test_foo-bar.ota) never qualify.
_PEM_BEGIN = r"(?i)-----\s*BEGIN\b"
_PEM_END = r"(?i)-----\s*END\b"
_BASE64_RUN = r"[A-Za-z0-9+/=]{40,}"
_HEX_RUN = r"(?<![0-9A-Fa-f])(?:0[xX])?[0-9A-Fa-f]{32,}(?![0-9A-Fa-f])"
_GITHUB_CREDENTIAL = r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"
_HEX_WORD = r"(?:0[xX])?[0-9A-Fa-f]{32,}"
_BASE64_WORD = r"[A-Za-z0-9+/]{40,}={0,2}"
_NAME = r"[A-Za-z_][A-Za-z0-9_]{0,127}"


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """``text`` on one line with every control character escaped; never starts with ``::``.

    For plain-text output and log lines.  Backslashes are kept as they are (Windows paths
    stay readable); an escape sequence can therefore be spelled literally by a file, but
    it is then just text, which is the point.
    """
    plain = str(text)
    # isprintable() is False for every character _UNSAFE names (Cc, Cf, Cs, Zl, Zp), so
    # the regex (and its compiling) is for a line that holds one.
    escaped = plain if plain.isprintable() else re.sub(_UNSAFE, _escape_char, plain)
    if escaped.startswith("::"):
        escaped = "\\x3a" + escaped[1:]
    return escaped


def md_text(text: object) -> str:
    """One Markdown table cell or inline text: escaped like :func:`printable`, HTML-escaped
    (``<img>`` shows as text), and pipes, brackets and backticks backslash-escaped so a
    value cannot end a table cell, open a link or a code span.  (GFM splits cells on every
    ``\\|``, so backslashes need no escaping; ``_`` and ``*`` only change emphasis.)"""
    # html.escape(..., quote=False), whose module would cost every command ~1 ms for
    # html.entities: quotes only matter inside attributes.
    escaped = printable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char in ("|", "[", "]", "`"):
        escaped = escaped.replace(char, "\\" + char)
    return escaped


def looks_like_secret(text: object) -> bool:
    """True for text that is probably key material or a token.

    PEM armour (or its ``PRIVATE KEY`` label, or the base64 of ``-----BEGIN``), 32 or more
    hex digits in a row (a P-256 scalar is 64), a GitHub token, or a long run of base64
    that mixes upper case, lower case and digits (a one-line key, a PEM body line).  False
    positives only hide a value from a message; false negatives would publish a key, so
    the test errs on the safe side.
    """
    value = str(text)
    if re.search(_PEM, value) or re.search(_GITHUB_CREDENTIAL, value):
        return True
    if any(len(set(run.lower())) >= 6 for run in re.findall(_HEX_RUN, value)):  # not "aaaa..."
        return True
    for run in re.findall(_BASE64_RUN, value):
        # Both cases, and a digit unless the run is long (a 64-character base64 line has
        # no digit once in 50,000 lines; a 60-character word without a separator, never).
        mixed = (
            any(c.isupper() for c in run)
            and any(c.islower() for c in run)
            and (len(run) >= 60 or any(c.isdigit() for c in run))
        )
        varied = mixed and len(set(run)) >= 12
        if varied and _base64_like(run):
            return True
    return False


def _base64_like(run: str) -> bool:
    """A varied run of the base64 alphabet that is key material rather than a path.

    Without a ``/``, with a ``+`` or ``=`` padding, it is base64.  With a ``/`` (a path of
    CamelCase folders, ``/home/runner/work/ZigbeeFirmware2024/...``, is one run) the mix
    decides: base64 changes between upper case, lower case and digits at about 65% of its
    characters (never below 32% in 47,000 random 64-character lines), folder names only
    at word starts (19-26% for real workspace paths).
    """
    if "/" not in run or "+" in run or run.endswith("="):
        return True
    return _class_changes(run) >= (0.30 if len(run) >= 60 else 0.40)


def cannot_be_path(text: object) -> bool:
    """True for a value that is no path a user means: it holds PEM armour (``-----BEGIN``,
    ``PRIVATE KEY``, the base64 of the armour), or it spans lines and looks like key
    material (a key body pasted without its armour).  Such a value is refused whatever
    exists on disk; a file name that merely holds a newline is still a file name."""
    value = str(text)
    if re.search(_PEM, value):
        return True
    return ("\n" in value or "\r" in value) and looks_like_secret(value)


def is_key_token(text: object) -> bool:
    """True when the whole value (blanks around it aside) is one token of key material: a
    hex scalar (32 digits or more, ``0x`` allowed), a base64 key line or a GitHub token.

    A path that holds a key-like part (``build/da39a3ee...0709.ota``) is not one token;
    deciding whether such a value may be used is the file edge's job (it names a file or
    not), this only says whether it could be a key pasted whole.
    """
    value = str(text).strip()
    if re.fullmatch(_GITHUB_CREDENTIAL, value):
        return True
    if re.fullmatch(_HEX_WORD, value):
        return len(set(value.lower().removeprefix("0x"))) >= 6
    return re.fullmatch(_BASE64_WORD, value) is not None and looks_like_secret(value)


def _class_changes(run: str) -> float:
    """How often consecutive characters (``/`` left out) change class: upper, lower, digit."""

    def kind(char: str) -> int:
        return 0 if char.isupper() else 1 if char.islower() else 2

    kinds = [kind(c) for c in run if c != "/"]
    return sum(a != b for a, b in itertools.pairwise(kinds)) / max(1, len(kinds) - 1)


def shown(value: object, *, secret: bool = False) -> str:
    """How a message repeats a user's value: its ``repr`` with control characters escaped,
    or :data:`REDACTED` for a field that stands for a secret or a value that looks like one."""
    if secret or looks_like_secret(value):
        return REDACTED
    return printable(repr(str(value)))


def is_name(text: str) -> bool:
    """True for an environment-variable name (``[A-Za-z_][A-Za-z0-9_]*``, at most 128 long)."""
    return re.fullmatch(_NAME, text) is not None


def variable_source(name: str, option: str, environ: Mapping[str, str]) -> str:
    """How a message names the variable an option (``--passphrase-env``) points at.

    The name is repeated only when it is one: a valid name that is set, or an upper-case
    one (the convention).  ``--passphrase-env Hunter2Secret`` - a passphrase typed where its
    variable's name belongs - is never repeated into a log.
    """
    if is_name(name) and not looks_like_secret(name) and (name in environ or name.upper() == name):
        return f"environment variable {name}"
    return f"the environment variable named by {option}"


def redact_lines(text: str) -> str:
    """Every line of ``text`` that looks like key material replaced by :data:`REDACTED`,
    the rest made printable (for tracebacks shown with ``OTA_DEBUG=1``)."""
    lines = []
    in_pem = False  # every line between PEM armour lines is key material, however short
    for line in text.splitlines():
        indent = line[: len(line) - len(line.lstrip())]
        if re.search(_PEM_BEGIN, line):
            in_pem = True
        secret = in_pem or looks_like_secret(line)
        if re.search(_PEM_END, line):
            in_pem = False
        lines.append(indent + REDACTED if secret else printable(line))
    return "\n".join(lines) + "\n"


def debug_traceback(exc: BaseException) -> str:
    """The traceback of an internal error, without locals, with secret-like lines redacted."""
    import traceback  # only for OTA_DEBUG: not a cost of every start-up

    return redact_lines("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
