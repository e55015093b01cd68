"""PostgreSQL: transactional DDL; everything else is SQLAlchemy's PostgreSQL DDL as is.

Named types (ENUM) used by a new table are created with it, once per run, through
SQLAlchemy's own DDL events; ``add_column`` does not create them (as with Alembic), so
existing scripts that create the type themselves keep working.
"""

from __future__ import annotations

from amigrate.ddl.impl import DefaultImpl


class PostgresqlImpl(DefaultImpl):
    """PostgreSQL."""

    dialect_name = "postgresql"
    transactional_ddl = True


Impl = PostgresqlImpl

__all__ = ["Impl", "PostgresqlImpl"]
