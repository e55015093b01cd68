"""Turn an exception raised inside a revision into the one line a user needs."""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from amigrate._util import mask_url_password
from amigrate.errors import MigrationFailedError
from amigrate.script.loader import imports_from_alembic

if TYPE_CHECKING:
    from amigrate.runtime.steps import MigrationStep

STATEMENT_LIMIT = 120


def migration_failure(
    exc: BaseException, step: MigrationStep, path: str, *, partly_committed: bool = False
) -> MigrationFailedError:
    """A ``MigrationFailedError`` naming the revision, the script line, statement and cause.

    ``partly_committed``: an ``autocommit_block()`` ran before the failure; what ran before
    and inside it stays committed, and the message must not claim otherwise.
    """
    direction = "upgrade" if step.is_upgrade else "downgrade"
    statement = _statement_of(exc)
    detail = _driver_message(exc)
    message = f"{direction} of revision {step.revision.revision} failed: {detail}"
    if statement:
        message += f" [SQL: {shorten(statement)}]"
    return MigrationFailedError(
        mask_url_password(message),
        revision=step.revision.revision,
        direction=direction,
        statement=statement,
        location=script_line(exc, path),
        hint=_what_remains(partly_committed, path),
    )


def _what_remains(partly_committed: bool, path: str) -> str:
    if partly_committed:
        hint = (
            "its changes were rolled back, except those made up to the end of its last "
            "autocommit_block(), which stay committed: check the database before retrying"
        )
    else:
        hint = "its changes were rolled back"
    if path and imports_from_alembic(path):
        hint += "; it imports op from alembic: write 'from amigrate import op'"
    return hint


def shorten(statement: str, limit: int = STATEMENT_LIMIT) -> str:
    flat = " ".join(statement.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def script_line(exc: BaseException, path: str) -> str:
    """``path:line`` of the deepest frame in the revision script (the failing ``op`` call)."""
    if not path:
        return "<unknown script>"
    wanted = str(Path(path).resolve())
    line: int | None = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename and str(Path(frame.filename).resolve()) == wanted:
            line = frame.lineno
    return f"{path}:{line}" if line else path


def _statement_of(exc: BaseException) -> str | None:
    statement = getattr(exc, "statement", None)
    return str(statement) if statement else None


def _driver_message(exc: BaseException) -> str:
    original = getattr(exc, "orig", None)
    source = original if original is not None else exc
    text = str(source).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(source).__name__}: {first}" if first else type(source).__name__
