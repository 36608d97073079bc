"""Terminal colour for the human summary: only where it is rendered.

Colour goes to a terminal and to GitHub's log viewer (``GITHUB_ACTIONS=true``, which
renders ANSI codes); a file or a pipe gets plain text.  ``NO_COLOR`` (any non-empty
value, https://no-color.org) switches it off and wins over ``FORCE_COLOR`` (any
non-empty value, https://force-color.org), which switches it on.  Pure functions: the
caller passes the environment it means.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TextIO

RESET = "\033[0m"
BOLD = "\033[1m"
RED = "\033[31m"
GREEN = "\033[32m"
YELLOW = "\033[33m"


def use_colour(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Whether text written to ``stream`` should carry ANSI colour."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR") or env.get("GITHUB_ACTIONS") == "true":
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty is not None and isatty())


_HEADING = re.compile(r"[A-Z][A-Za-z0-9 -]*:$")


def _paint_line(line: str) -> str:
    if line.startswith("Result: "):
        colour = RED if line.startswith("Result: invalid") else GREEN
        return f"{BOLD}{colour}{line}{RESET}"
    if line.startswith("error: "):
        return f"{RED}{line}{RESET}"
    if line.startswith("warning: "):
        return f"{YELLOW}{line}{RESET}"
    if _HEADING.fullmatch(line):
        return f"{BOLD}{line}{RESET}"
    return line


def paint_text(text: str, enabled: bool) -> str:
    """The summary with its verdict, headings, warnings and errors coloured (or unchanged)."""
    if not enabled:
        return text
    return "".join(
        _paint_line(line[:-1]) + "\n" if line.endswith("\n") else _paint_line(line)
        for line in text.splitlines(keepends=True)
    )
