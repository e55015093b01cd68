"""DefaultImpl: operation calls in, statements out, for one dialect.

An implementation knows which statements an operation takes on its dialect (a new
column's constraints, indexes and comment, a table's indexes and comments) and nothing
about where they go: its sink runs them on a connection or writes them into a script.
Dialects subclass it (``ddl/postgresql.py``, ``ddl/sqlite.py``, ``ddl/mysql.py``);
`impl_for` picks one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import sqlalchemy.schema as sa_schema
from sqlalchemy import String, insert, text
from sqlalchemy.schema import (
    AddConstraint,
    CheckConstraint,
    Column,
    Computed,
    CreateIndex,
    CreateTable,
    DropColumnComment,
    DropConstraint,
    DropIndex,
    DropTable,
    DropTableComment,
    ForeignKeyConstraint,
    Identity,
    MetaData,
    PrimaryKeyConstraint,
    SetColumnComment,
    SetTableComment,
    Table,
    UniqueConstraint,
)
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.types import NullType

from amigrate._util import fields_repr
from amigrate.ddl.elements import (
    AddColumn,
    ColumnDefault,
    ColumnName,
    ColumnNullable,
    ColumnType,
    DropColumn,
    InlineLiteral,
    RenameTable,
    should_create,
)
from amigrate.errors import UnsupportedOperationError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Dialect, Engine, Result
    from sqlalchemy.schema import Constraint, Index
    from sqlalchemy.sql.base import Executable
    from sqlalchemy.sql.expression import TableClause
    from sqlalchemy.types import TypeEngine

    from amigrate.ddl.sink import Sink

_CONSTRAINT_ORDER = {ForeignKeyConstraint: 0, UniqueConstraint: 1, CheckConstraint: 2}


class DefaultImpl:
    """Emits the DDL of each operation for a dialect through a sink.

    ``memo`` is what SQLAlchemy's DDL runners keep so a named type shared by several
    tables (a PostgreSQL ENUM) is created once per run rather than once per table.
    """

    dialect_name: ClassVar[str] = "default"
    transactional_ddl: bool = False
    """Whether the dialect runs DDL inside transactions; ``configure()`` may override it."""

    def __init__(self, dialect: Dialect, sink: Sink) -> None:
        self.dialect = dialect
        self.sink = sink
        self.memo: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.dialect.name} sink={self.sink!r}>"

    @property
    def as_sql(self) -> bool:
        """True when statements become script text (offline mode)."""
        return self.sink.as_sql

    @property
    def connection(self) -> Connection | None:
        """The live connection, or None in offline mode."""
        connection = getattr(self.sink, "connection", None)
        return connection if not self.as_sql else None

    @classmethod
    def enable_transactional_ddl(cls, target: Engine | Connection) -> None:
        """Set ``target`` up so DDL runs inside the transactions SQLAlchemy begins.

        Nothing to do where the driver already does that; see ``SQLiteImpl``.
        """

    # -- statements ---------------------------------------------------------------------------

    def execute(
        self,
        sql: Executable | str,
        execution_options: Mapping[str, Any] | None = None,
    ) -> Result[Any] | None:
        """Run (or write) ``sql``; a string is read as ``text()``, so ``:name`` binds."""
        statement = text(sql) if isinstance(sql, str) else sql
        return self.sink.execute(statement, execution_options=execution_options)

    def _exec(self, statement: Executable) -> None:
        self.sink.execute(statement)

    def emit_begin(self) -> None:
        """Write ``BEGIN`` into a script; online, the runtime's transaction does this."""
        if self.as_sql:
            self.sink.execute("BEGIN")

    def emit_commit(self) -> None:
        """Write ``COMMIT`` into a script; online, the runtime's transaction does this."""
        if self.as_sql:
            self.sink.execute("COMMIT")

    # -- tables -------------------------------------------------------------------------------

    def create_table(self, table: Table, *, if_not_exists: bool = False) -> None:
        """CREATE TABLE, the named types it needs, its indexes, then its comments."""
        events: dict[str, Any] = {
            "checkfirst": False,
            "_ddl_runner": self,
            "_is_metadata_operation": False,
        }
        table.dispatch.before_create(table, self.sink.ddl_bind, **events)
        self._exec(CreateTable(table, if_not_exists=if_not_exists))
        table.dispatch.after_create(table, self.sink.ddl_bind, **events)
        for index in _sorted_indexes(table.indexes):
            self._exec(CreateIndex(index, if_not_exists=if_not_exists))
        self._table_comments(table)

    def drop_table(self, table: Table, *, if_exists: bool = False) -> None:
        """DROP TABLE; named types it used stay (they may be shared)."""
        self._exec(DropTable(table, if_exists=if_exists))

    def rename_table(
        self, old_table_name: str, new_table_name: str, schema: str | None = None
    ) -> None:
        """ALTER TABLE old RENAME TO new (the table keeps its schema)."""
        self._exec(RenameTable(old_table_name, new_table_name, schema))

    # -- columns ------------------------------------------------------------------------------

    def add_column(
        self,
        table_name: str,
        column: Column[Any],
        schema: str | None = None,
        *,
        if_not_exists: bool = False,
    ) -> None:
        """ADD COLUMN, then the column's constraints, indexes and comment.

        ``column`` may be attached to a throwaway table holding just this column (that is
        how ``unique=True``, ``index=True`` and foreign keys become constraints and indexes);
        an unattached column gets such a table here. Foreign key targets must resolve:
        ``operations/schemaobj.py`` adds stub tables for them.
        """
        table = _owning_table(table_name, column, schema)
        inline, separate = self.column_constraints(
            column, _new_column_constraints(table, column, self.dialect)
        )
        self.check_add_column(table_name, column, if_not_exists=if_not_exists, separate=separate)
        self._exec(
            AddColumn(table_name, column, schema, if_not_exists=if_not_exists, constraints=inline)
        )
        for constraint in separate:
            self._exec(AddConstraint(constraint))
        for index in _sorted_indexes(table.indexes):
            self._exec(CreateIndex(index))
        if column.comment and self._separate_comments:
            self._exec(SetColumnComment(column))

    def column_constraints(
        self, column: Column[Any], constraints: Sequence[Constraint]
    ) -> tuple[list[Constraint], list[Constraint]]:
        """Split a new column's constraints into (written inline, added with ALTER)."""
        return [], list(constraints)

    def check_add_column(
        self,
        table_name: str,
        column: Column[Any],
        *,
        if_not_exists: bool,
        separate: Sequence[Constraint],
    ) -> None:
        """Raise, before anything runs, if the dialect cannot add this column."""

    def drop_column(
        self,
        table_name: str,
        column_name: str,
        schema: str | None = None,
        *,
        if_exists: bool = False,
    ) -> None:
        """ALTER TABLE t DROP COLUMN c."""
        self._exec(DropColumn(table_name, column_name, schema, if_exists=if_exists))

    def alter_column(
        self,
        table_name: str,
        column_name: str,
        schema: str | None = None,
        *,
        changes: ColumnChanges,
    ) -> None:
        """ALTER COLUMN, one statement per change; the rename comes last.

        The dialect checks the whole change first (`check_alter_column`), so nothing runs
        when one part of it cannot be done.
        """
        self.check_alter_column(table_name, column_name, changes)
        for statement in self.alter_column_statements(table_name, column_name, schema, changes):
            self._exec(statement)

    def check_alter_column(self, table_name: str, column_name: str, changes: ColumnChanges) -> None:
        """Raise, before anything runs, if the dialect cannot make ``changes``."""
        for default in (changes.server_default, changes.existing_server_default):
            if isinstance(default, Computed | Identity):
                raise self.unsupported(
                    f"change the generated expression or identity of column {column_name!r}",
                    hint="drop the column and add it again, or use op.execute()",
                )
        if changes.using is not None and changes.type_ is None:
            raise self.unsupported(
                "apply postgresql_using without a new type", hint="pass type_= as well"
            )

    def alter_column_statements(
        self, table_name: str, column_name: str, schema: str | None, changes: ColumnChanges
    ) -> list[Executable]:
        """The statements of ``changes``: nullability, default, type, comment, then the name."""
        found: list[Executable] = []
        if changes.nullable is not None:
            found.append(ColumnNullable(table_name, column_name, changes.nullable, schema))
        if changes.server_default is not False:
            found.append(ColumnDefault(table_name, column_name, changes.server_default, schema))
        if changes.type_ is not None:
            found.append(
                ColumnType(table_name, column_name, changes.type_, schema, using=changes.using)
            )
        if changes.comment is not False and self.dialect.supports_comments:
            found.append(_column_comment(table_name, column_name, schema, changes))
        if changes.new_column_name is not None:
            found.append(ColumnName(table_name, column_name, changes.new_column_name, schema))
        return found

    # -- constraints --------------------------------------------------------------------------

    def add_constraint(self, constraint: Constraint) -> None:
        """ALTER TABLE ... ADD CONSTRAINT; a type's own CHECK only where the type needs one."""
        if should_create(constraint, self.dialect):
            self._exec(AddConstraint(constraint))

    def drop_constraint(self, constraint: Constraint, *, if_exists: bool = False) -> None:
        """ALTER TABLE ... DROP CONSTRAINT (spelled per constraint kind where the dialect must)."""
        self._exec(DropConstraint(constraint, if_exists=if_exists))

    # -- comments -----------------------------------------------------------------------------

    def create_table_comment(self, table: Table) -> None:
        """Set the table's comment (``COMMENT ON TABLE``, or the dialect's spelling)."""
        self._check_comments("comment on a table")
        self._exec(SetTableComment(table))

    def drop_table_comment(self, table: Table) -> None:
        """Remove the table's comment."""
        self._check_comments("comment on a table")
        self._exec(DropTableComment(table))

    def _check_comments(self, what: str) -> None:
        if not self.dialect.supports_comments:
            raise self.unsupported(f"store a {what}", hint="the database keeps no comments")

    # -- indexes ------------------------------------------------------------------------------

    def create_index(self, index: Index, *, if_not_exists: bool = False) -> None:
        """CREATE [UNIQUE] INDEX, with the dialect options the Index carries."""
        self._exec(CreateIndex(index, if_not_exists=if_not_exists))

    def drop_index(self, index: Index, *, if_exists: bool = False) -> None:
        """DROP INDEX (schema-qualified where the dialect wants it)."""
        self._exec(DropIndex(index, if_exists=if_exists))

    # -- data ---------------------------------------------------------------------------------

    def bulk_insert(
        self,
        table: Table | TableClause,
        rows: Sequence[Mapping[str, Any]],
        multiinsert: bool = True,
    ) -> None:
        """INSERT ``rows``: one executemany online; one INSERT per row, values inline, offline.

        A value may be a SQL expression (``op.inline_literal(...)``, ``sa.func.now()``);
        rows holding one are inserted one by one, since executemany binds plain values only.
        """
        rows = _checked_rows(rows)
        if self.as_sql:
            for row in rows:
                values = {key: _literal(table, key, value) for key, value in row.items()}
                self._exec(insert(table).inline().values(values))
        elif multiinsert and rows and not _has_expressions(rows):
            self.sink.execute(insert(table).inline(), [dict(row) for row in rows])
        else:
            for row in rows:
                self._exec(insert(table).inline().values(dict(row)))

    # -- version table ------------------------------------------------------------------------

    def version_table(self, name: str = "alembic_version", schema: str | None = None) -> Table:
        """Alembic's version table: ``version_num VARCHAR(32) NOT NULL``, PK ``<name>_pkc``.

        Keeping the shape means a database migrated by Alembic carries on under amigrate.
        """
        return Table(
            name,
            MetaData(),
            Column("version_num", String(32), nullable=False),
            PrimaryKeyConstraint("version_num", name=f"{name}_pkc"),
            schema=schema,
        )

    # -- helpers ------------------------------------------------------------------------------

    @property
    def _separate_comments(self) -> bool:
        return bool(self.dialect.supports_comments and not self.dialect.inline_comments)

    def _table_comments(self, table: Table) -> None:
        if not self._separate_comments:
            return
        if table.comment:
            self._exec(SetTableComment(table))
        for column in table.columns:
            if column.comment:
                self._exec(SetColumnComment(column))
        set_constraint_comment = getattr(sa_schema, "SetConstraintComment", None)
        if set_constraint_comment is None or not getattr(
            self.dialect, "supports_constraint_comments", False
        ):
            return
        for constraint in _sorted_constraints(table.constraints):
            # COMMENT ON CONSTRAINT needs a name; Alembic drops these comments altogether.
            if getattr(constraint, "comment", None) and isinstance(constraint.name, str):
                self._exec(set_constraint_comment(constraint))

    def unsupported(self, what: str, hint: str | None = None) -> UnsupportedOperationError:
        """The error for an operation this dialect cannot do (raised before anything runs)."""
        return UnsupportedOperationError(f"{self.dialect.name} cannot {what}", hint=hint)


@dataclass(repr=False, frozen=True)
class ColumnChanges:
    """What ``alter_column`` changes; ``False`` (or ``None``) means "leave as it is".

    ``server_default=None`` drops the default and ``comment=None`` the comment, as in
    Alembic. The ``existing_*`` values describe the column as it is; dialects that restate
    the whole column (MySQL) need them.
    """

    __repr__ = fields_repr

    nullable: bool | None = None
    server_default: Any = False
    type_: TypeEngine[Any] | None = None
    comment: str | Literal[False] | None = False
    new_column_name: str | None = None
    existing_type: TypeEngine[Any] | None = None
    existing_server_default: Any = False
    existing_nullable: bool | None = None
    existing_comment: str | None = None
    using: str | None = None

    def is_empty(self) -> bool:
        """Whether nothing would change."""
        return (
            self.nullable is None
            and self.server_default is False
            and self.type_ is None
            and self.comment is False
            and self.new_column_name is None
        )


def _column_comment(
    table_name: str, column_name: str, schema: str | None, changes: ColumnChanges
) -> Executable:
    type_ = changes.existing_type if changes.existing_type is not None else NullType()
    column: Column[Any] = Column(column_name, type_, comment=changes.comment or None)
    Table(table_name, MetaData(), column, schema=schema)
    if changes.comment is None:
        return DropColumnComment(column)
    return SetColumnComment(column)


def _owning_table(table_name: str, column: Column[Any], schema: str | None) -> Table:
    table: Table | None = getattr(column, "table", None)
    if table is None:
        table = Table(table_name, MetaData(), column, schema=schema)
    return table


def _new_column_constraints(
    table: Table, column: Column[Any], dialect: Dialect
) -> list[Constraint]:
    """The table's constraints that come with ``column`` (not its primary key)."""
    lone = len(table.columns) == 1

    def belongs(constraint: Constraint) -> bool:
        columns = getattr(constraint, "columns", None)
        return lone or (columns is not None and bool(columns.contains_column(column)))

    found = [
        constraint
        for constraint in table.constraints
        if not isinstance(constraint, PrimaryKeyConstraint)
        and belongs(constraint)
        and should_create(constraint, dialect)
    ]
    return _sorted_constraints(found)


def _sorted_constraints(constraints: Any) -> list[Constraint]:
    def key(constraint: Constraint) -> tuple[int, str]:
        return _CONSTRAINT_ORDER.get(type(constraint), 3), str(constraint.name or "")

    return sorted(constraints, key=key)


def _sorted_indexes(indexes: Any) -> list[Index]:
    """By name: ``Table.indexes`` is a set, and scripts should not change between runs."""
    return sorted(indexes, key=lambda index: str(index.name or ""))


def _checked_rows(rows: Any) -> list[Mapping[str, Any]]:
    if isinstance(rows, str | bytes | Mapping) or not isinstance(rows, Sequence):
        raise TypeError(f"bulk_insert expects a list of dictionaries, got {type(rows).__name__}")
    for row in rows:
        if not isinstance(row, Mapping):
            raise TypeError(f"bulk_insert expects a list of dictionaries, found {row!r}")
    return list(rows)


def _has_expressions(rows: Sequence[Mapping[str, Any]]) -> bool:
    return any(isinstance(value, ClauseElement) for row in rows for value in row.values())


def _literal(table: Table | TableClause, key: str, value: Any) -> Any:
    if isinstance(value, ClauseElement):
        return value
    if key not in table.c:
        raise ValueError(f"bulk_insert: table {table.name!r} has no column {key!r}")
    return InlineLiteral(value, type_=table.c[key].type)


__all__ = ["ColumnChanges", "DefaultImpl"]
