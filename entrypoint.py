"""The container's entry point: the GitHub Action without arguments, the CLI with them.

``docker run IMAGE`` (and GitHub, which passes no arguments) runs the Action from
``INPUT_*`` / ``OTA_*`` variables; ``docker run IMAGE zbota --outfile ...`` is exactly
``ota-action zbota --outfile ...``.  The image runs this file with an absolute
interpreter path and ``python -I`` so a workflow's ``PATH``/``PYTHONPATH`` cannot leak in.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str]) -> int:
    if argv:
        from ota_action.doors.cli import main as cli_main

        return cli_main(list(argv))
    from ota_action.doors.action.run import main as action_main

    return action_main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
