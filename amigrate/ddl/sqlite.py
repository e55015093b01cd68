"""SQLite: transactional DDL under amigrate's control, and what ALTER TABLE cannot do.

SQLite runs DDL inside transactions, but the ``sqlite3`` driver (and ``aiosqlite`` on top
of it) decides on its own when to BEGIN and never does so before DDL. `use_explicit_begin`
takes that decision away from the driver, so a failing revision's DDL rolls back with it.

``ALTER TABLE`` renames tables and columns and adds and drops columns; every other change
(a column's type, nullability, default; any constraint) needs batch mode, and the
operation says so before anything runs. ``ADD COLUMN`` accepts column constraints only:
a new column's foreign key and CHECK constraints are written inline; a UNIQUE constraint
needs batch mode.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import (
    CheckConstraint,
    ForeignKeyConstraint,
    PrimaryKeyConstraint,
    UniqueConstraint,
)

from amigrate.ddl.elements import ColumnName, alter_table, foreign_key_target, should_create
from amigrate.ddl.impl import DefaultImpl

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.engine.interfaces import DBAPIConnection
    from sqlalchemy.pool import ConnectionPoolEntry
    from sqlalchemy.schema import Column, Constraint
    from sqlalchemy.sql.compiler import DDLCompiler

    from amigrate.ddl.impl import ColumnChanges

_BATCH_HINT = "use batch_alter_table, which recreates the table"


class SQLiteImpl(DefaultImpl):
    """SQLite, with DDL run inside transactions (unlike Alembic's SQLite support)."""

    dialect_name = "sqlite"
    transactional_ddl = True

    @classmethod
    def enable_transactional_ddl(cls, target: Engine | Connection) -> None:
        use_explicit_begin(target)

    def column_constraints(
        self, column: Column[Any], constraints: Sequence[Constraint]
    ) -> tuple[list[Constraint], list[Constraint]]:
        """Foreign keys and CHECKs go inline; anything else cannot be added here."""
        inline_kinds = (ForeignKeyConstraint, CheckConstraint)
        inline: list[Constraint] = [c for c in constraints if isinstance(c, inline_kinds)]
        separate: list[Constraint] = [c for c in constraints if not isinstance(c, inline_kinds)]
        return inline, separate

    def check_add_column(
        self,
        table_name: str,
        column: Column[Any],
        *,
        if_not_exists: bool,
        separate: Sequence[Constraint],
    ) -> None:
        if if_not_exists:
            raise self.unsupported(
                "add a column with IF NOT EXISTS", hint="SQLite has no such syntax"
            )
        if separate:
            raise self.unsupported(
                f"add a UNIQUE constraint with column {column.name!r} to an existing table",
                hint=f"an index (index=True, unique=True) does the same job; or {_BATCH_HINT}",
            )
        for fk in column.foreign_keys:
            if foreign_key_target(fk)[0] != column.table.schema:
                raise self.unsupported(
                    f"reference a table in another schema from column {column.name!r}",
                    hint="a SQLite foreign key points at a table of the same database",
                )

    def check_alter_column(self, table_name: str, column_name: str, changes: ColumnChanges) -> None:
        """SQLite renames a column in place; every other change needs a new table."""
        super().check_alter_column(table_name, column_name, changes)
        what = [
            name
            for name, changed in (
                ("nullable", changes.nullable is not None),
                ("server_default", changes.server_default is not False),
                ("type_", changes.type_ is not None),
                ("comment", changes.comment is not False),
            )
            if changed
        ]
        if what:
            raise self.unsupported(
                f"alter column {column_name!r} of table {table_name!r} in place "
                f"({', '.join(what)})",
                hint=_BATCH_HINT,
            )

    def add_constraint(self, constraint: Constraint) -> None:
        if should_create(constraint, self.dialect):
            raise self.unsupported(
                f"add a {_kind(constraint)} to an existing table", hint=_BATCH_HINT
            )

    def drop_constraint(self, constraint: Constraint, *, if_exists: bool = False) -> None:
        raise self.unsupported(
            f"drop a {_kind(constraint)} from an existing table", hint=_BATCH_HINT
        )

    def drop_column(
        self,
        table_name: str,
        column_name: str,
        schema: str | None = None,
        *,
        if_exists: bool = False,
    ) -> None:
        if if_exists:
            raise self.unsupported("drop a column with IF EXISTS", hint="SQLite has no such syntax")
        super().drop_column(table_name, column_name, schema)


def _kind(constraint: Constraint) -> str:
    kinds = {
        PrimaryKeyConstraint: "PRIMARY KEY constraint",
        ForeignKeyConstraint: "FOREIGN KEY constraint",
        UniqueConstraint: "UNIQUE constraint",
        CheckConstraint: "CHECK constraint",
    }
    return kinds.get(type(constraint), "constraint")


@compiles(ColumnName, "sqlite")
def _rename_column(element: ColumnName, compiler: DDLCompiler, **kw: Any) -> str:
    quote = compiler.preparer.quote
    alter = alter_table(compiler, element.table_name, element.schema)
    return f"{alter} RENAME COLUMN {quote(element.column_name)} TO {quote(element.new_name)}"


def use_explicit_begin(target: Engine | Connection, statement: str = "BEGIN") -> None:
    """Make SQLAlchemy emit ``statement`` at each transaction start instead of the driver.

    ``target`` is an ``Engine`` (for an ``AsyncEngine``, its ``sync_engine``) whose new
    connections are set up this way, or a ``Connection`` not yet in a transaction.
    ``statement`` may be ``BEGIN IMMEDIATE`` to take the write lock up front.
    """

    def begin(connection: Connection) -> None:
        connection.exec_driver_sql(statement)

    if isinstance(target, Connection):
        if target.in_transaction():
            raise ValueError("the connection is already in a transaction")
        _driver_autocommit(target.connection.dbapi_connection)
    else:

        def connect(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
            _driver_autocommit(dbapi_connection)

        event.listen(target, "connect", connect)
    event.listen(target, "begin", begin)


def begin_immediate(connection: Connection, busy_timeout_ms: int) -> None:
    """``BEGIN IMMEDIATE`` at once or not at all; later statements wait ``busy_timeout_ms``.

    The write lock is tried without waiting (the caller polls, so cancelling and its own
    deadline work), then the busy timeout goes back up for the step's statements (a COMMIT
    waits for readers). Three statements, sent as one script: through aiosqlite each
    statement SQLAlchemy runs costs a trip to the driver's thread (three or four on an
    engine that is not amigrate's, `aiosqlite_trips`), the script one. SQLAlchemy's events
    and logging do not see the script. When it fails before the
    lock is taken, it runs again statement by statement, so the error is SQLAlchemy's
    (``database is locked``), the busy timeout is ``busy_timeout_ms`` and nothing has begun.
    A driver that cannot say whether it is in a transaction gets the statements one by one.
    """
    statements = ("PRAGMA busy_timeout = 0", "BEGIN IMMEDIATE")
    waiting = f"PRAGMA busy_timeout = {busy_timeout_ms}"
    driver: Any = connection.connection.driver_connection
    # the driver's executescript first commits an open transaction: none may be open
    if getattr(driver, "executescript", None) is not None and not driver_in_transaction(connection):
        try:
            result = driver.executescript(";\n".join((*statements, waiting)))
            if inspect.isawaitable(result):  # aiosqlite
                from sqlalchemy.util import await_only

                await_only(result)
            return
        except Exception:
            if driver_in_transaction(connection):  # only the last PRAGMA failed: caller rolls back
                raise
    try:
        for statement in statements:
            connection.exec_driver_sql(statement)
    finally:
        connection.exec_driver_sql(waiting)


def driver_in_transaction(connection: Connection) -> bool:
    """Whether SQLite itself holds a transaction open on ``connection`` (SQLAlchemy may count
    one that the driver has not begun); True (play safe) when the driver cannot say."""
    return bool(getattr(connection.connection.driver_connection, "in_transaction", True))


def _driver_autocommit(dbapi_connection: DBAPIConnection | None) -> None:
    """Stop the driver from issuing BEGIN/COMMIT behind SQLAlchemy's back."""
    cast("Any", dbapi_connection).isolation_level = None


Impl = SQLiteImpl

__all__ = [
    "Impl",
    "SQLiteImpl",
    "begin_immediate",
    "driver_in_transaction",
    "use_explicit_begin",
]
