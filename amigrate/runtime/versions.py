"""The version table: Alembic's ``alembic_version``, one row per head the database is at.

Reads and writes go through SQLAlchemy Core with bound parameters, so every ``UPDATE`` hits
the compiled-statement cache (Alembic embeds ids as literal text and pays for it on each
step); offline, the same statements are rendered with literal values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.engine import CursorResult

from amigrate.errors import MigrationFailedError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy import Executable, Table
    from sqlalchemy.engine import Connection

    from amigrate.ddl.impl import DefaultImpl
    from amigrate.runtime.steps import VersionChange


class VersionTable:
    """The version table of one database (name and schema configurable)."""

    def __init__(self, impl: DefaultImpl, name: str, schema: str | None) -> None:
        self.impl = impl
        self.table: Table = impl.version_table(name, schema)
        self.display_name = f"{schema}.{name}" if schema else name
        self._seen = False

    def exists(self, connection: Connection) -> bool:
        from sqlalchemy import inspect

        found = inspect(connection).has_table(self.table.name, schema=self.table.schema)
        self._seen = self._seen or found
        return found

    def read(self, connection: Connection) -> tuple[str, ...]:
        """The rows, sorted; () when the table does not exist yet.

        Once seen, the table is not looked for again: a locked run re-reads the rows before
        every revision, and each look-up is a round trip.
        """
        if not self._seen and not self.exists(connection):
            return ()
        from sqlalchemy import select

        rows = connection.execute(select(self.table.c.version_num)).scalars()
        return tuple(sorted(str(row) for row in rows))

    def create(self) -> None:
        from sqlalchemy.schema import CreateTable

        self.impl.execute(CreateTable(self.table))

    def drop(self) -> None:
        from sqlalchemy.schema import DropTable

        self.impl.execute(DropTable(self.table))

    def apply(self, changes: Iterable[VersionChange]) -> None:
        """Write ``changes``; online, each UPDATE/DELETE must touch exactly one row."""
        column = self.table.c.version_num
        for change in changes:
            statement: Executable
            if change.kind == "insert":
                statement = self.table.insert().values(version_num=change.new)
            elif change.kind == "update":
                statement = (
                    self.table.update().where(column == change.old).values(version_num=change.new)
                )
            else:
                statement = self.table.delete().where(column == change.old)
            result = self.impl.execute(statement)
            if (
                change.kind != "insert"
                and isinstance(result, CursorResult)
                and result.rowcount != 1
            ):
                raise MigrationFailedError(
                    f"the version table {self.display_name} has no row {change.old!r} to "
                    f"{change.kind}; another process may be migrating this database",
                    hint="run 'amigrate current' and 'amigrate stamp' to repair it",
                )
