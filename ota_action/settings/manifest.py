"""``build FLEET.toml``: the settings of the command and the shape of the fleet manifest (issue 21).

The manifest's keys are the contract (issue 21): ``[defaults]``, ``[[image]]`` (``board``,
``payload``, ``variants``, and ``matter``: a Matter image of the same payload, its keys
``matter`` options checked by :class:`~ota_action.settings.matter.MatterSettings`, with
``[defaults.matter]`` under them) and ``[[index]]`` (``name``, ``format``, ``images``).  Every
other key of ``[defaults]``, an image or a variant is an option of ``zbota`` or ``index``
under its settings field name (``string``, ``min_hwv``, ``model_id``, ``url_base``...),
plus the manifest's own spellings :data:`ALIASES` (``manufacturer_code`` is ``mfg_id``).
Those values are not checked here: each image's merged keys are validated by
:class:`~ota_action.settings.zigbee.ZbotaSettings` and
:class:`~ota_action.settings.fleet.IndexSettings` themselves, so the manifest and the CLI
share one copy of every rule.  This module only checks the manifest's structure.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ota_action.settings import Cli, option
from ota_action.settings.signing import SigningSettings

# manifest key -> zbota settings field (key_uri: the CLI's --key-uri, gbl's word for it)
ALIASES = {"manufacturer_code": "mfg_id", "key_uri": "signing_key_uri"}
# The placeholders a file-name template may use (str.format), beside every key's value.
NAME_DEFAULT = "{board}/{manufacturer_code:04x}-{image_type:04x}-{file_version:08x}-{board}{suffix}.zigbee"
MATTER_NAME_DEFAULT = "{board}/{vendor_id:04x}-{product_id:04x}-{version:08x}-{board}.ota"

_BOARD = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")


def _board(value: Any) -> Any:
    if not isinstance(value, str) or not _BOARD.fullmatch(value):
        raise ValueError("must be a name of letters, digits, '.', '_', '+' or '-' (at most 128)")
    return value


class _Open(BaseModel):
    """A table whose other keys are zbota/index options, checked later by their own models."""

    model_config = ConfigDict(extra="allow", frozen=True)

    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class VariantSpec(_Open):
    """Another file of the same board: ``suffix`` on its name, some keys changed."""

    suffix: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._+-]+$")
    index: str | None = None  # the variant's name in [[index]] selections (default: the suffix's)

    @property
    def name(self) -> str:
        return self.index or self.suffix.strip("-_.+")


class ImageSpec(_Open):
    board: Annotated[str, BeforeValidator(_board)]
    payload: str = Field(min_length=1)
    variants: list[VariantSpec] = []
    # A Matter OTA image of the same payload beside the Zigbee files: ``matter`` options
    # under their settings names (checked by MatterSettings itself), plus ``name``.
    matter: dict[str, Any] | None = None


class IndexSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._+-][A-Za-z0-9._+/-]*$")
    format: Literal["z2m", "zigpy", "dcl"] = "z2m"  # dcl: the Matter images' ledger documents
    images: str | list[str] = "variant == ''"


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    defaults: _Open = _Open()
    image: list[ImageSpec] = Field(min_length=1, max_length=10_000)
    index: list[IndexSpec] = []


class BuildSettings(SigningSettings):
    """Build every image of a fleet manifest (FLEET.toml) and its indexes, in one process.
    The key-source options (OTA_SIGNING_KEY, --key-env, --key-file, --key-uri,
    --sign-command...) are the fleet's default for the GBL images that sign (gbl and sign
    true in the manifest) and name no key source of their own."""

    manifest: Path = option("the fleet manifest (TOML)", cli=Cli(positional=True, metavar="FLEET.toml"))
    outdir: Path | None = option(
        "folder the images and indexes are written to; default: dist beside the manifest",
        None,
        Cli(("-o",), metavar="DIR"),
    )
    workers: int | None = option("images built at a time; default: the machine's cores", None, ge=1, le=256)


__all__ = [
    "ALIASES",
    "MATTER_NAME_DEFAULT",
    "NAME_DEFAULT",
    "BuildSettings",
    "ImageSpec",
    "IndexSpec",
    "Manifest",
    "VariantSpec",
]
