"""A command's settings written back as its command line: the inverse of the CLI's parser.

The CLI builds its options from a settings model (:func:`~ota_action.settings.flag_of`
names each field's option), so the arguments that set given fields are spelt from that
same model here, never by hand: a renamed option renames what ``extract`` prints.
Values are text exactly as a user would type them; ``--option=value`` keeps a value that
starts with ``-`` from being read as an option.  The values are validated by the model
first, so an argument list that would not parse is a bug caught here, not at the user's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ota_action.settings import CommandSettings, cli_of, flag_of

Value = str | bool | Sequence[str]


def argv(
    model: type[CommandSettings], values: Mapping[str, Value], *, required: Mapping[str, Any]
) -> list[str]:
    """The options that set ``values`` (in their order) on the command of ``model``.

    ``required`` fills the model's other required fields for validation only (``outfile``
    of a command line printed without ``-o``); they are not in the result.  A flag given
    ``False`` is left out, a list becomes one option per item.
    """
    model.model_validate({**required, **values})  # ValidationError: a bug in the caller
    out: list[str] = []
    for field, value in values.items():
        info = model.model_fields[field]
        if cli_of(info).positional or cli_of(info).hidden:
            raise ValueError(f"{field} is not an option of the command line")
        flag = flag_of(field, info)
        if isinstance(value, bool):
            out += [flag] if value else []
        elif isinstance(value, str):
            out.append(f"{flag}={value}")
        else:
            out += [f"{flag}={item}" for item in value]
    return out
