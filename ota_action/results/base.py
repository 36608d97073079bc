"""The base of every command's result, and the Markdown pieces results share."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from ota_action.errors import EXIT_INVALID, EXIT_OK
from ota_action.formats.zigbee.findings import Finding, Level
from ota_action.records import record
from ota_action.safe_text import md_text, printable

SCHEMA_VERSION = 1  # of every JSON object a result prints; raised when a key changes meaning
TEXT_WIDTH = 100  # text summaries fit this many columns (pictures included)


def hex_text(value: int | None, digits: int) -> str:
    """The one hex style of every view: ``0x`` and upper-case digits at the field's width
    (``0x115F``, ``0x01FF``, ``0x0000F000``); ``-`` for a field the file does not have."""
    return "-" if value is None else f"0x{value:0{digits}X}"


def dotted(value: int) -> str:
    """A 32-bit file version as its four bytes, most significant first (``1.2.3.0``)."""
    return ".".join(str(value >> shift & 0xFF) for shift in (24, 16, 8, 0))


def file_version_text(value: int) -> str:
    """``0x01020300 (1.2.3.0)``: the spec's hex and the dotted form people release under."""
    return f"{hex_text(value, 8)} ({dotted(value)})"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


# GitHub's renderer (cmark-gfm's autolink extension) turns bare ``http://``, ``https://``,
# ``ftp://``, ``www.`` and e-mail addresses (also ``mailto:``/``xmpp:``) into links.  A
# character reference stops the first two (the extension looks for the literal ``:`` or
# ``.``), an empty HTML comment after ``@`` the third; both render as nothing visible.
_SCHEME = re.compile(r"://")
_WWW = re.compile(r"(?i)(www)\.")
NO_LINK_AT = "@<!-- -->"


def md_escape(value: object) -> str:
    """One table cell or line of Markdown from user text: control characters escaped,
    HTML escaped (``<img>`` shows as text), no pipes, brackets or backticks that could end
    a cell, open a link or a code span (:func:`ota_action.safe_text.md_text`), and no
    bare URL or address that GitHub would turn into a link (checked with cmark-gfm)."""
    escaped = _WWW.sub(r"\1&#46;", _SCHEME.sub("&#58;//", md_text(value)))
    return escaped.replace("@", NO_LINK_AT)


def md_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """A GitHub Markdown table, every cell escaped."""
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]
    return out


def relative_to(path: Path, workspace: Path) -> str | None:
    """``path`` relative to the workspace (posix form), or None when it lies outside."""
    try:
        return path.resolve().relative_to(workspace).as_posix()
    except ValueError:
        return None


def _json(value: object, **options: Any) -> str:
    """``json.dumps``, imported on first use: only ``--json`` and the Action print JSON, and
    the module would cost every text run ~1 ms of start-up (issue 25)."""
    import json

    return json.dumps(value, **options)


def sha_markdown(sha256: str) -> list[str]:
    return ["", f"**SHA-256:** `{sha256}`"]


def finding_json(finding: Finding) -> dict[str, str]:
    return {"level": finding.level.value, "code": finding.code, "message": finding.message}


_FINDING_PREFIXES = ("note: ", "warning: ", "error: ")


def _wrapped(line: str) -> str:
    """A finding line folded at :data:`TEXT_WIDTH` on spaces (a long path stays whole)."""
    if len(line) <= TEXT_WIDTH or not line.startswith(_FINDING_PREFIXES):
        return line
    import textwrap  # for a long finding line only: not a cost of every start-up

    return textwrap.fill(
        line, width=TEXT_WIDTH, subsequent_indent="    ", break_long_words=False, break_on_hyphens=False
    )


def verdict_data(data: dict[str, object], ok: bool, signature: str | None = None) -> dict[str, object]:
    """What ``verify`` adds to the keys of a description: the ``--public-key`` verdict
    (when one was asked for) and ``valid``; every verify result of every format uses it."""
    if signature is not None:
        data["signature"] = signature
    data["valid"] = ok
    return data


@record(kw_only=True)
class Result:
    """What a command did, in every view a door may want.

    A subclass sets ``command``, adds its fields, and implements :meth:`data` (its JSON
    keys), :meth:`lines` (its text) and :meth:`markdown_body`; it may extend
    :meth:`output_values` (Action outputs) and :meth:`written` (files it created).  The
    views below add the parts every command shares, so the doors only choose one.
    """

    command: ClassVar[str]
    # The verdict's word when all is well ("valid", "written"...); "invalid" otherwise.
    verdict_word: ClassVar[str] = "valid"
    # True for a command that describes a file and never fails it (inspect): with warnings
    # its verdict word is "read", not "valid"; verify's subclasses set it back to False.
    describes_only: ClassVar[bool] = False
    findings: tuple[Finding, ...] = ()

    # -- what a subclass provides ---------------------------------------------------------
    def data(self) -> dict[str, object]:
        """The command's own JSON keys (between ``ok`` and the findings)."""
        raise NotImplementedError

    def lines(self) -> list[str]:
        """The command's own lines of the human summary."""
        raise NotImplementedError

    def markdown_body(self) -> list[str]:
        """The command's own part of the step summary (between the heading and the findings)."""
        raise NotImplementedError

    def output_values(self, workspace: Path) -> dict[str, str]:
        """Action outputs other than ``summary-json``; paths relative to ``workspace``."""
        return {}

    def verdict_facts(self) -> list[str]:
        """What the verdict line says after the word, e.g. ``["3 sub-elements"]``."""
        return []

    def written(self) -> tuple[Path, ...]:
        """Files this run created (the Action gives them to the workspace's owner)."""
        return ()

    # -- shared ---------------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        return not any(f.level is Level.ERROR for f in self.findings)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else EXIT_INVALID

    @property
    def warnings(self) -> list[str]:
        return [f.message for f in self.findings if f.level is Level.WARNING]

    @property
    def errors(self) -> list[str]:
        return [f.message for f in self.findings if f.level is Level.ERROR]

    def to_json(self) -> dict[str, Any]:
        """What ``--json`` prints and ``summary-json`` carries.

        ``findings`` holds each warning and error with its stable ``code``; ``warnings``
        and ``errors`` keep the plain message lists earlier versions printed.
        """
        return {
            "schema_version": SCHEMA_VERSION,
            "command": self.command,
            "ok": self.ok,
            **self.data(),
            "warnings": self.warnings,
            "errors": self.errors,
            "findings": [finding_json(f) for f in self.findings],
        }

    def json_text(self) -> str:
        """What ``--json`` prints: :meth:`to_json` indented (a batch prints JSON Lines)."""
        return _json(self.to_json(), indent=2) + "\n"

    def json_chunks(self) -> Iterator[str]:
        """:meth:`json_text` in pieces a door writes as they come (a batch: one file a line)."""
        yield self.json_text()

    def text_chunks(self) -> Iterator[str]:
        """:meth:`text` in pieces a door writes as they come (a batch: one file a line)."""
        yield self.text()

    def word(self) -> str:
        """The verdict's first word: :attr:`verdict_word`, ``read`` for a description with
        warnings (:attr:`describes_only`), or ``invalid`` after an error."""
        if self.describes_only and self.ok and any(f.level is Level.WARNING for f in self.findings):
            return "read"
        return self.verdict_word if self.ok else "invalid"

    def verdict(self) -> str:
        """The one line a summary ends with, and all ``--quiet`` prints:
        ``Result: valid (3 sub-elements, integrity code matches)``."""
        facts = self.verdict_facts() if self.ok else []
        if self.errors:
            facts.append(plural(len(self.errors), "error"))
        if self.warnings:
            facts.append(plural(len(self.warnings), "warning"))
        return f"Result: {self.word()}" + (f" ({', '.join(facts)})" if facts else "")

    def text(self) -> str:
        """The human summary: the command's own lines, warnings, errors, then the verdict.

        Each entry is escaped whole (a header string holding "\\n::set-output", ANSI
        escapes, a line starting with "::" all stay text), then a finding longer than
        :data:`TEXT_WIDTH` columns is wrapped, its continuation lines indented.
        """
        lines = self.lines()
        lines += [f"warning: {w}" for w in self.warnings]
        lines += [f"error: {e}" for e in self.errors]
        lines.append(self.verdict())
        return "\n".join(_wrapped(printable(line)) for line in lines) + "\n"

    def markdown(self) -> str:
        """The Actions step summary."""
        status = "✅" if self.ok else "❌"
        lines = [f"### {status} ota-action {self.command}", "", *self.markdown_body()]
        lines += [f"- ⚠️ {md_escape(w)}" for w in self.warnings]
        lines += [f"- ❌ {md_escape(e)}" for e in self.errors]
        return "\n".join(lines) + "\n"

    def outputs(self, workspace: Path) -> dict[str, str]:
        """The Action's step outputs, ``summary-json`` last."""
        return {
            **self.output_values(workspace),
            "summary-json": _json(self.to_json(), separators=(",", ":")),
        }
