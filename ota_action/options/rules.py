"""Field rules that need no pydantic: the settings models use these very functions as
their validators, and the light loader runs them for the read-only commands.

A rule takes the value as given (text from argv or ``OTA_*``, a list from a repeated
option) and returns it normalised, or raises ValueError with the message shown after
the option's name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ota_action.safe_text import cannot_be_path


def _lines(text: str) -> list[str]:
    # Imported here: a list from the command line needs no values module (nor the input
    # types it creates), only text from one variable does (verify's start-up).
    from ota_action.values import split_lines

    return split_lines(text)


def image_path(value: Any) -> Any:
    """A PEM pasted among the paths is refused here, by item, so the message never shows it
    (any other spelling is a path: the file edge decides when it is opened)."""
    if isinstance(value, str) and cannot_be_path(value):
        raise ValueError(
            "looks like key material, not a file name; never put a key on the command line "
            "(use an environment variable or a key file)"
        )
    return value


def image_paths(value: Any) -> Any:
    """One path or several (a list, or one a line: Action input, ``OTA_IMAGE``); at least one."""
    items = _lines(value) if isinstance(value, str) else value
    if isinstance(items, str | Path):
        items = [items]
    if isinstance(items, list | tuple) and not items:
        raise ValueError("needs at least one file, folder or glob")
    return items


def lines(value: Any) -> Any:
    """Newline-separated text (an Action input, ``OTA_PUBLIC_KEY``) becomes one item a line;
    a list (a repeated option) is kept."""
    return _lines(value) if isinstance(value, str) else value


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def env_name(value: Any) -> Any:
    """The NAME of an environment variable (``--key-env``, ``--encrypt-key-env``): a value
    pasted there by mistake is refused, and never shown (these fields are secret-adjacent)."""
    if isinstance(value, str) and not _ENV_NAME.fullmatch(value.strip()):
        raise ValueError("must be the NAME of an environment variable (letters, digits, _), not its value")
    return value.strip() if isinstance(value, str) else value


def address(value: Any) -> Any:
    """A 32-bit flash address (``--address 0x08006000``), decimal or 0x-hex."""
    if value is None or isinstance(value, int):
        return value
    from ota_action.values import parse_int

    return parse_int(value, bits=32)


def compression(value: Any) -> Any:
    """``--compress``: a :class:`~ota_action.formats.gbl.build.Compression`, any case.

    The enum lives with the GBL builder, which imports ``pygbl`` (~40 ms): it is imported
    here only when a value is given, and then the run builds a compressed GBL anyway."""
    if value is None:
        return None
    from ota_action.formats.gbl.build import Compression

    if isinstance(value, Compression):
        return value
    try:
        return Compression(str(value).strip().lower())
    except ValueError:
        raise ValueError("must be " + " or ".join(c.value for c in Compression)) from None


# gbl's options and their defaults: without --gbl, zbota refuses them and build drops
# the fleet defaults' ones (the settings model and the light loader's values alike).
GBL_OPTION_DEFAULTS: dict[str, object] = {
    "sign": False,
    "address": None,
    "app_version": 0,
    "compress": None,
    "encrypt_key_env": None,
}


def gbl_options_given(settings: object) -> list[str]:
    """The GBL options ``settings`` set to other than their defaults."""
    return [name for name, default in GBL_OPTION_DEFAULTS.items() if getattr(settings, name) != default]
