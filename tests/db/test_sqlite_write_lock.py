"""SQLite's write lock, taken in one call to the driver, through aiosqlite and sqlite3 alike."""

from __future__ import annotations

import contextlib
import sqlite3
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from _envfactory import sync_connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from amigrate.ddl.sqlite import begin_immediate

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

pytestmark = pytest.mark.anyio


async def on_sqlite(path: Path, driver: str, work: Callable[[sa.Connection], Any]) -> Any:
    """``work(connection)`` on a connection to ``path`` through ``driver``, as amigrate runs."""
    if driver == "aiosqlite":
        engine = create_async_engine(f"sqlite+aiosqlite:///{path}", poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(work)
        finally:
            await engine.dispose()
    with sync_connection(f"sqlite:///{path}") as connection:
        return work(connection)


@contextlib.contextmanager
def other_writer(path: Path) -> Iterator[None]:
    """Another connection holds the write lock of ``path`` while the block runs."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        yield
        connection.execute("ROLLBACK")
    finally:
        connection.close()


def can_write(path: Path) -> bool:
    """Whether another connection could take the write lock right now."""
    connection = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    finally:
        connection.close()
    return True


def busy_timeout(connection: sa.Connection) -> int:
    return int(connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one())


@pytest.fixture(params=["aiosqlite", "sqlite3"])
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_takes_the_lock_and_later_statements_wait(tmp_path: Path, driver: str) -> None:
    path = tmp_path / "app.sqlite"

    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    def work(connection: sa.Connection) -> tuple[bool, int, bool]:
        connection.connection.dbapi_connection.isolation_level = None  # type: ignore[union-attr]
        sa.event.listen(connection, "before_cursor_execute", record)
        begin_immediate(connection, 4321)
        sa.event.remove(connection, "before_cursor_execute", record)
        held = not can_write(path)
        waits = busy_timeout(connection)
        connection.exec_driver_sql("CREATE TABLE t (id INTEGER)")
        connection.exec_driver_sql("ROLLBACK")
        return held, waits, connection.connection.driver_connection.in_transaction  # type: ignore[union-attr]

    held, waits, still_open = await on_sqlite(path, driver, work)
    assert seen == [], "the lock went statement by statement, not as one script"
    assert held, "another connection could still write"
    assert waits == 4321
    assert not still_open
    assert can_write(path)
    with sync_connection(f"sqlite:///{path}") as check:
        assert not sa.inspect(check).has_table("t"), "the DDL ran outside the transaction"


async def test_a_locked_database_fails_at_once_in_sqlalchemys_words(
    tmp_path: Path, driver: str
) -> None:
    path = tmp_path / "app.sqlite"

    def work(connection: sa.Connection) -> tuple[str, int, bool]:
        connection.connection.dbapi_connection.isolation_level = None  # type: ignore[union-attr]
        with pytest.raises(sa.exc.OperationalError) as raised:
            begin_immediate(connection, 60_000)  # no waiting: this would hang for a minute
        in_transaction = connection.connection.driver_connection.in_transaction  # type: ignore[union-attr]
        return str(raised.value), busy_timeout(connection), in_transaction

    with sync_connection(f"sqlite:///{path}") as setup:
        setup.exec_driver_sql("CREATE TABLE seed (id INTEGER)")
        setup.commit()
    with other_writer(path):
        message, waits, in_transaction = await on_sqlite(path, driver, work)
    assert "database is locked" in message
    assert "BEGIN IMMEDIATE" in message  # SQLAlchemy names the statement
    assert waits == 60_000
    assert not in_transaction
