"""Commands printed for a person to paste into a POSIX shell, and how Markdown shows them.

Every word is quoted with :func:`shlex.join`, so a header string such as
``x -t 0xF000:/etc/passwd`` or ``a$(id>../pwn);b`` stays one literal argument: pasting
the line runs that command and nothing else.  The directory to run it in is given as a
``cd`` when its name prints as itself; a name holding control or bidirectional
characters cannot be shown safely on one line, so the line then says "in the directory"
instead.  In Markdown the line goes into a fenced code block, fenced with more backticks
than any run inside it: nothing in it is rendered, linked or able to end the block.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from pathlib import Path

from ota_action.safe_text import printable


def _word(path: Path) -> str:
    text = str(path)
    if text.startswith("-"):
        text = "./" + text  # never read as an option of cd
    return shlex.quote(text)


def command_line(program: Sequence[str], args: Sequence[str], *, directory: Path | None = None) -> str:
    """``cd DIR && PROGRAM ARGS`` (or just ``PROGRAM ARGS``), every word shell-quoted."""
    line = shlex.join([*program, *args])
    if directory is None or printable(str(directory)) != str(directory):
        return line
    return f"cd {_word(directory)} && {line}"


def runs_in_place(directory: Path) -> bool:
    """True when :func:`command_line` can ``cd`` into ``directory`` itself."""
    return printable(str(directory)) == str(directory)


def code_block(text: str, language: str = "sh") -> list[str]:
    """``text`` as a fenced Markdown code block whose fence no backtick run inside can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{language}", printable(text), fence]
