"""One trip to aiosqlite's thread per statement.

aiosqlite runs ``sqlite3`` in a thread of its own, and every call into it is a trip there and
back (about 0.1 ms: two thread wake-ups). SQLAlchemy's aiosqlite adapter makes three or four
trips a statement: make a cursor, execute, fetch the rows when there are any, close the
cursor. A revision's statements (the write lock with the version re-read, its DDL, the
version row, COMMIT) cost twelve. On the engines amigrate makes, each statement is one trip
instead: the cursor is made, executed, read and closed by one function in the driver's
thread, and what SQLAlchemy asks of the cursor afterwards (``description``, ``rowcount``,
``lastrowid``, the rows) is kept here. A revision then costs five.

Everything above the cursor is unchanged: statements are compiled, logged (``echo``), and
their errors translated and wrapped as before; they run on the driver's own ``sqlite3``
connection, in its thread, in order with every other call. `install` hooks the engines
amigrate makes itself, never an application's engine. It relies on the layout of
SQLAlchemy's aiosqlite adapter (2.1) and of aiosqlite (0.20 and later); where either
differs it installs nothing, and statements take their usual trips.
"""

from __future__ import annotations

import functools
from collections import deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import ConnectionPoolEntry

# what one trip brings back: description, rows, rowcount, lastrowid
_Outcome = tuple[Any, "Sequence[Any]", int, "int | None"]


def install(engine: Engine) -> None:
    """Give ``engine``'s aiosqlite connections cursors that take one trip a statement."""
    if engine.dialect.driver != "aiosqlite" or _connection_class() is None:
        return
    from sqlalchemy import event

    event.listen(engine, "connect", _adapt)


def _adapt(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    one_trip = _connection_class()
    if one_trip is not None and type(dbapi_connection) is one_trip.__base__:
        dbapi_connection.__class__ = one_trip  # same slots: only the cursor class differs


@functools.cache
def _connection_class() -> type | None:
    """SQLAlchemy's aiosqlite adapter connection with one-trip cursors (None: unknown layout)."""
    return _make_classes() if _layout_known() else None


def _layout_known() -> bool:
    """Whether the adapter and aiosqlite have what the one-trip cursor relies on."""
    import aiosqlite
    from sqlalchemy.dialects.sqlite import aiosqlite as adapter

    connection = adapter.AsyncAdapt_aiosqlite_connection
    cursor = adapter.AsyncAdapt_aiosqlite_cursor
    needed = {
        connection: ("_cursor_cls", "_connection", "_execute_mutex", "_handle_exception"),
        cursor: ("_adapt_connection", "_connection", "_cursor", "_rows", "_soft_closed_memoized"),
        aiosqlite.Connection: ("_execute", "_conn"),
    }
    known = all(hasattr(kind, name) for kind, names in needed.items() for name in names)
    return known and connection.__slots__ == ()  # a subclass must keep the instance layout


def _make_classes() -> type:
    from sqlalchemy.dialects.sqlite import aiosqlite as adapter
    from sqlalchemy.util import EMPTY_DICT, await_only

    class OneTripCursor(adapter.AsyncAdapt_aiosqlite_cursor):
        """A cursor whose statements each take one trip; no trip to make or close it."""

        __slots__ = ("_arraysize", "_outcome")

        def __init__(self, adapt_connection: Any) -> None:
            self._adapt_connection = adapt_connection
            self._connection = adapt_connection._connection
            self._cursor = None  # type: ignore[assignment]  # made and closed in the trip
            self._soft_closed_memoized = EMPTY_DICT
            self._rows = deque()
            self._outcome: _Outcome = (None, (), -1, None)
            self._arraysize = 1

        @property
        def description(self) -> Any:
            return self._outcome[0]

        @property
        def rowcount(self) -> int:
            return self._outcome[2]

        @property
        def lastrowid(self) -> Any:
            return self._outcome[3]

        @property
        def arraysize(self) -> int:
            return self._arraysize

        @arraysize.setter
        def arraysize(self, value: int) -> None:
            self._arraysize = value

        def execute(self, operation: Any, parameters: Any = None) -> None:
            self._run(operation, parameters, many=False)

        def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
            self._run(operation, seq_of_parameters, many=True)

        def setinputsizes(self, *inputsizes: Any) -> None:
            pass

        def close(self) -> None:
            self._rows.clear()

        async def _async_soft_close(self) -> None:
            pass  # the driver's cursor closed at the end of its trip

        def _run(self, operation: Any, parameters: Any, *, many: bool) -> None:
            adapt = self._adapt_connection
            driver = self._connection

            async def trip() -> _Outcome:
                async with adapt._execute_mutex:
                    outcome: _Outcome = await driver._execute(
                        _in_driver_thread, driver, operation, parameters, many
                    )
                    return outcome

            try:
                outcome = await_only(trip())
            except Exception as error:
                adapt._handle_exception(error)
            self._outcome = outcome
            self._rows = deque(outcome[1])

    class OneTripConnection(adapter.AsyncAdapt_aiosqlite_connection):
        __slots__ = ()
        _cursor_cls = OneTripCursor

    return OneTripConnection


def _in_driver_thread(driver: Any, operation: Any, parameters: Any, many: bool) -> _Outcome:
    """In the driver's thread: the statement on a cursor of its own, read and closed."""
    cursor = driver._conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else ()
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()
