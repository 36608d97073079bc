"""Settings of ``combine``: which firmware files to merge, and the overlap and start-address rules."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator
from pydantic_settings import NoDecode

from ota_action.formats.firmware.image import StartAddress, parse_start_address
from ota_action.settings import Cli, CommandSettings, lines_of, option
from ota_action.values import FirmwareInput, parse_firmware_input, parse_int

OVERLAP_CHOICES = ("error", "keep-first", "keep-last")


def _inputs(value: Any) -> Any:
    """A list of ``FILE`` / ``FILE@ADDRESS``, or newline-separated text (Action inputs, ``OTA_FILES``)."""
    items = lines_of(value)
    if not isinstance(items, list | tuple):
        return items
    return [parse_firmware_input(v) if isinstance(v, str | Path) else v for v in items]


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
    """Merge firmware files (bootloader, application, configuration...) into one .hex or .s37 file."""

    files: Annotated[list[FirmwareInput], NoDecode, BeforeValidator(_inputs)] = option(
        "files to merge, in order (at least 2): Intel HEX, S-record (.s37, .s19, .s28, .srec, .mot), "
        "ELF (.elf, .axf, .out), or raw binary at its address (app.bin@0x08000000)",
        cli=Cli(positional=True, metavar="FILE"),
    )
    outfile: Path = option(
        "output file: .hex (Intel HEX) or an S-record name (.s37...), the kind of one of the inputs "
        "(its directory is created; written atomically)",
        cli=Cli(("-o",)),
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
        "data bytes per output record: 1-255 for .hex, 1-250 for .s37 (252 for .s28, 253 for .s19)", 16
    )
