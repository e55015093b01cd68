"""Exceptions to what the user reads: one line on stderr and an exit code."""

from __future__ import annotations

import sys

from amigrate._util import mask_url_password

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def report(error: BaseException, *, show_traceback: bool) -> int:
    """Print ``error`` for a user and return the exit code it deserves."""
    from amigrate.errors import AmigrateError

    if isinstance(error, KeyboardInterrupt):
        print("amigrate: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    if show_traceback:
        import traceback

        text = "".join(traceback.format_exception(error))
        print(mask_url_password(text), file=sys.stderr, end="")
    if isinstance(error, AmigrateError):
        message = str(error)
    else:
        message = f"unexpected {type(error).__name__}: {error}"
        if not show_traceback:
            message += " (run with --traceback for details)"
    first, *rest = mask_url_password(message).splitlines() or [""]
    print(f"amigrate: error: {first}", file=sys.stderr)
    for line in rest:  # MultiDatabaseError: one line per database
        print(f"  {line}", file=sys.stderr)
    return EXIT_ERROR
