"""One round trip for statements that return no rows, on asyncpg.

SQLAlchemy's asyncpg driver prepares every statement before it runs it: two round trips
(parse and describe, then bind and execute). DDL also invalidates the prepared statements,
so the version row's ``UPDATE`` was prepared again after each revision's DDL: a one-statement
revision cost six round trips. DDL and amigrate's own version-row writes carry no parameters
and return no rows, so asyncpg's simple query protocol runs each in one, inside the same
transaction SQLAlchemy keeps. When that transaction is not yet begun, its ``BEGIN`` goes in
the same round trip as the statement (``BEGIN; CREATE TABLE ...``), which the server runs as
a transaction block that stays open; the version row's write, the transaction's last
statement, takes its ``COMMIT`` along the same way, the server checking that it touched its
one row (`one_row_or_error`). A revision of one statement then costs two round trips instead
of four. Everything above the driver is
unchanged: the statement is compiled, logged (``echo``) and its errors translated and wrapped
as before.

`install` hooks the engines amigrate makes itself (``do_execute``, SQLAlchemy's own place for
a dialect's execution), never an application's engine. It relies on the layout of
SQLAlchemy's asyncpg adapter (2.1); on a SQLAlchemy whose adapter differs it installs
nothing, and every statement is prepared as before.
"""

from __future__ import annotations

import weakref
from collections import deque
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Dialect, Engine
    from sqlalchemy.engine.interfaces import DBAPICursor, ExecutionContext

#: Execution option: this statement has no parameters and returns no rows.
RETURNS_NO_ROWS: Final = "amigrate_returns_no_rows"
#: Execution option (with `RETURNS_NO_ROWS`): the transaction commits right after this
#: statement; its ``COMMIT`` goes in the same round trip when amigrate began the transaction.
COMMITS: Final = "amigrate_commits"

_hooked: weakref.WeakSet[Dialect] = weakref.WeakSet()


def install(engine: Engine) -> None:
    """Run ``engine``'s DDL and no-row statements in one round trip (asyncpg only)."""
    if engine.dialect.driver != "asyncpg" or not _adapter_layout_known():
        return
    from sqlalchemy import event

    event.listen(engine, "do_execute", _do_execute)
    event.listen(engine, "do_execute_no_params", _do_execute_no_params)
    _hooked.add(engine.dialect)


def installed(connection: Connection) -> bool:
    """Whether statements marked `RETURNS_NO_ROWS` on ``connection`` take one round trip."""
    return connection.dialect in _hooked


def _adapter_layout_known() -> bool:
    """Whether SQLAlchemy's asyncpg adapter has the attributes `_run_simple` relies on."""
    from sqlalchemy.dialects.postgresql import asyncpg

    connection = asyncpg.AsyncAdapt_asyncpg_connection
    cursor = asyncpg.AsyncAdapt_asyncpg_cursor
    needed = {
        connection: (
            "_transaction",
            "_execute_mutex",
            "_handle_exception",
            "isolation_level",
            "readonly",
            "deferrable",
        ),
        cursor: ("_adapt_connection", "_rows", "_description", "_rowcount"),
    }
    known = all(hasattr(kind, name) for kind, names in needed.items() for name in names)
    return known and not hasattr(connection, "_started")  # SQLAlchemy 2.0's other layout


def _do_execute(
    cursor: DBAPICursor, statement: str, parameters: Any, context: ExecutionContext
) -> bool:
    if parameters or not _returns_no_rows(context):
        return False
    _run_simple(cursor, statement, commits=bool(context.execution_options.get(COMMITS)))
    return True


def _do_execute_no_params(cursor: DBAPICursor, statement: str, context: ExecutionContext) -> bool:
    return _do_execute(cursor, statement, None, context)


def _returns_no_rows(context: ExecutionContext) -> bool:
    return bool(getattr(context, "isddl", False) or context.execution_options.get(RETURNS_NO_ROWS))


def _run_simple(cursor: Any, statement: str, *, commits: bool = False) -> None:
    """``statement`` through asyncpg's simple query protocol, as the adapter's cursor would.

    The adapter's transaction is begun if it is not yet (what its own execute does), in the
    same round trip; with ``commits``, a transaction begun here is committed in that round
    trip too, and the adapter's later ``commit()`` has nothing left to send. Driver errors
    are translated by the adapter, and the cursor ends as after a statement with no result
    rows, its row count read from the command tag (``UPDATE 1``).
    """
    from sqlalchemy.util import await_only

    adapter = cursor._adapt_connection

    async def run() -> str:
        async with adapter._execute_mutex:
            script = statement
            if adapter._transaction is None and adapter.isolation_level != "autocommit":
                script = f"{_begin(adapter)};\n{statement}"  # one round trip, not two
                adapter._transaction = _BegunWithStatement(adapter._connection)
            # only a transaction begun here: asyncpg tracks the ones it began itself
            ends = commits and isinstance(adapter._transaction, _BegunWithStatement)
            if ends:
                script = f"{script};\nCOMMIT"
            try:
                tag = str(await adapter._connection.execute(script))
            except Exception as error:
                adapter._handle_exception(error)
                raise  # not reached: the adapter raises the translated error
            if ends:
                adapter._transaction = _COMMITTED
            return tag

    tag = await_only(run())
    cursor._description = None
    cursor._rows = deque()
    cursor._rowcount = _row_count(tag)


def _begin(adapter: Any) -> str:
    """The ``BEGIN`` the adapter's own transaction would send (asyncpg's wording)."""
    words = ["BEGIN"]
    if adapter.isolation_level:
        words.append(f"ISOLATION LEVEL {adapter.isolation_level.replace('_', ' ').upper()}")
    if adapter.readonly:
        words.append("READ ONLY")
    if adapter.deferrable:
        words.append("DEFERRABLE")
    return " ".join(words)


class _BegunWithStatement:
    """The adapter's transaction when its ``BEGIN`` went out with the first statement.

    The adapter only ever awaits ``commit()`` or ``rollback()`` on it, then drops it. A
    statement that fails leaves the transaction open (aborted) on the server, and the
    rollback that follows ends it, as with a transaction begun on its own.
    """

    __slots__ = ("_connection",)

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    async def commit(self) -> None:
        await self._connection.execute("COMMIT")

    async def rollback(self) -> None:
        await self._connection.execute("ROLLBACK")


class _Committed:
    """The adapter's transaction once its ``COMMIT`` went out with its last statement."""

    async def commit(self) -> None:
        pass

    async def rollback(self) -> None:
        pass  # committed already: nothing is left to undo


_COMMITTED: Final = _Committed()


def one_row_or_error(statement: str) -> str:
    """``statement`` (an ``UPDATE`` or ``DELETE`` of a version row) made to fail when it
    touches no row.

    Its row count cannot be checked before a ``COMMIT`` sent with it, so the server checks:
    ``1 / count(*)`` over the touched rows raises "division by zero" (`is_no_row_error`)
    when there are none, and the ``COMMIT`` after it is not run.
    """
    return f"WITH touched AS ({statement} RETURNING 1) SELECT 1 / count(*) FROM touched"


def is_no_row_error(error: BaseException) -> bool:
    """Whether ``error`` is the failure of a `one_row_or_error` statement that touched none."""
    return getattr(getattr(error, "orig", None), "sqlstate", None) == "22012"


def _row_count(tag: str) -> int:
    """The rows a command tag reports (``UPDATE 1``, ``INSERT 0 1``); -1 for other commands."""
    words = tag.split()
    if len(words) >= 2 and words[0] in ("INSERT", "UPDATE", "DELETE") and words[-1].isdigit():
        return int(words[-1])
    return -1
