"""Settings of ``combine``: which Intel HEX files to merge, and the overlap and start-address rules."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator
from pydantic_settings import NoDecode

from ota_action.formats.firmware.intelhex import StartAddress, parse_start_address
from ota_action.settings import Cli, CommandSettings, lines_of, option
from ota_action.values import parse_int

OVERLAP_CHOICES = ("error", "keep-first", "keep-last")


def _overlap(value: Any) -> Any:
    if value is None:
        return None
    text = str(value).strip().lower()
    if text not in OVERLAP_CHOICES:
        raise ValueError("must be error, keep-first or keep-last")
    return text


def _start(value: Any) -> Any:
    if value is None or isinstance(value, StartAddress):
        return value
    text = str(value).strip()
    if text.lower() in ("first", "last", "none"):
        return text.lower()
    return parse_start_address(text)


def _record_length(value: Any) -> Any:
    number = parse_int(value, bits=32)
    if not 1 <= number <= 255:
        raise ValueError("must be between 1 and 255 data bytes")
    return number


class CombineSettings(CommandSettings):
    """Merge Intel HEX files (bootloader, application, configuration...) into one .hex file."""

    files: Annotated[list[Path], NoDecode, BeforeValidator(lines_of)] = option(
        "Intel HEX (.hex) files to merge, in order (at least 2)",
        cli=Cli(positional=True, metavar="FILE"),
    )
    outfile: Path = option(
        "output .hex file (its directory is created; written atomically)", cli=Cli(("-o",))
    )
    on_overlap: Annotated[Literal["error", "keep-first", "keep-last"], BeforeValidator(_overlap)] = option(
        "when files hold different bytes at one address: error, keep-first or keep-last "
        "(identical bytes are never a conflict)",
        "error",
    )
    start_address: Annotated[
        Literal["first", "last", "none"] | StartAddress | None, BeforeValidator(_start)
    ] = option(
        "start address record to write: first, last, none, 0xADDR (type 05) or CS:IP (type 03); "
        "default: the inputs' own, when they agree",
        None,
    )
    record_length: Annotated[int, BeforeValidator(_record_length)] = option(
        "data bytes per output record, 1-255", 16
    )
