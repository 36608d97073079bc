"""The pre-commit hook that is more than one ``ota-action`` call: ``index --check`` on each index.

pre-commit (and prek) append every matching file to a hook's entry.  ``verify`` takes
any number of files, so its hook is ``ota-action verify`` itself; ``index --check``
checks one index (``--merge INDEX``), so ``python -m ota_action.doors.hooks index-check
A.json B.json`` runs ``ota-action index --check --merge A.json``, then ``B.json``, in this
one process (one start-up for all of them), and exits with the worst status.

Arguments that start with ``-`` are options given to every run (a hook's ``args:``,
e.g. ``--format=zigpy``: a value joined by ``=``, since the files follow); the others are
the index files.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ota_action.doors.cli import main
from ota_action.errors import EXIT_OK, EXIT_USAGE

HOOKS = ("index-check",)


def index_check(args: Sequence[str]) -> int:
    options = [a for a in args if a.startswith("-")]
    indexes = [a for a in args if not a.startswith("-")]
    worst = EXIT_OK
    for index in indexes:
        code = main(["index", "--check", *options, "--merge", index])
        if code > EXIT_USAGE:  # interrupted, or a bug: stop here, as a shell loop would
            return code
        worst = max(worst, code)
    return worst


def run(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in HOOKS:
        sys.stderr.write(f"usage: python -m ota_action.doors.hooks {'|'.join(HOOKS)} [OPTION ...] FILE ...\n")
        return EXIT_USAGE
    return index_check(args[1:])


if __name__ == "__main__":
    sys.exit(run())
