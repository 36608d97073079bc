"""``python -m ota_action``: the same front door as the ``ota-action`` console script."""

import sys

from ota_action.doors.cli import main

if __name__ == "__main__":
    sys.exit(main())
