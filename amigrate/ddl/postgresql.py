"""PostgreSQL: transactional DDL; everything else is SQLAlchemy's PostgreSQL DDL as is.

Named types (ENUM) used by a new table are created with it, once per run, through
SQLAlchemy's own DDL events; ``add_column`` does not create them (as with Alembic), so
existing scripts that create the type themselves keep working.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from amigrate.ddl.elements import ColumnType
from amigrate.ddl.impl import DefaultImpl

if TYPE_CHECKING:
    from sqlalchemy.sql.base import Executable

    from amigrate.ddl.impl import ColumnChanges


class PostgresqlImpl(DefaultImpl):
    """PostgreSQL."""

    dialect_name = "postgresql"
    transactional_ddl = True

    def alter_column_statements(
        self, table_name: str, column_name: str, schema: str | None, changes: ColumnChanges
    ) -> list[Executable]:
        """The type change goes first, so a new default is checked against the new type."""
        found = super().alter_column_statements(table_name, column_name, schema, changes)
        retype = [s for s in found if isinstance(s, ColumnType)]
        return retype + [s for s in found if not isinstance(s, ColumnType)]


Impl = PostgresqlImpl

__all__ = ["Impl", "PostgresqlImpl"]
