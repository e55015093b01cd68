"""MySQL and MariaDB: DDL for SQL scripts (``--sql``); no transactional DDL.

MySQL cannot change one property of a column on its own (except its default): ``MODIFY``
and ``CHANGE`` restate the whole column, so ``alter_column`` needs ``existing_type`` and
takes nullability, default and comment from the ``existing_*`` values it is given.
Dropping a constraint needs its kind (``type_=``), and dropping an index its table: each
has its own ``DROP`` spelling. A table renamed within a schema stays in that schema.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import table as table_clause
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import Constraint
from sqlalchemy.types import DateTime, String

from amigrate.ddl.elements import (
    AlterColumn,
    ColumnDefault,
    RenameTable,
    alter_table,
    server_default_sql,
)
from amigrate.ddl.impl import DefaultImpl

if TYPE_CHECKING:
    from sqlalchemy.sql.base import Executable
    from sqlalchemy.sql.compiler import DDLCompiler
    from sqlalchemy.types import TypeEngine

    from amigrate.ddl.impl import ColumnChanges


class RestateColumn(AlterColumn):
    """``ALTER TABLE t MODIFY c <spec>`` or, with a new name, ``CHANGE c new <spec>``."""

    def __init__(
        self,
        table_name: str,
        column_name: str,
        schema: str | None,
        *,
        new_name: str | None,
        type_: TypeEngine[Any],
        nullable: bool,
        default: Any,
        comment: str | None,
    ) -> None:
        super().__init__(table_name, column_name, schema)
        self.new_name = new_name
        self.type_ = type_
        self.nullable = nullable
        self.default = default
        self.comment = comment


class MySQLImpl(DefaultImpl):
    """MySQL (offline); MariaDB differs only in how a CHECK constraint is dropped."""

    dialect_name = "mysql"
    transactional_ddl = False

    def check_alter_column(self, table_name: str, column_name: str, changes: ColumnChanges) -> None:
        super().check_alter_column(table_name, column_name, changes)
        restates = not changes.is_empty() and _spelling(changes) != "default"
        if restates and _type(changes) is None:
            raise self.unsupported(
                f"alter column {column_name!r} of table {table_name!r} without its type",
                hint="MODIFY/CHANGE restate the whole column: pass existing_type=",
            )

    def alter_column_statements(
        self, table_name: str, column_name: str, schema: str | None, changes: ColumnChanges
    ) -> list[Executable]:
        """One statement: CHANGE or MODIFY the column, or just SET/DROP its default."""
        if changes.is_empty():
            return []
        if _spelling(changes) == "default":
            return [ColumnDefault(table_name, column_name, changes.server_default, schema)]
        type_ = _type(changes)
        assert type_ is not None  # check_alter_column made sure
        new_name = (
            changes.new_column_name or column_name if _spelling(changes) == "change" else None
        )
        return [
            RestateColumn(
                table_name,
                column_name,
                schema,
                new_name=new_name,
                type_=type_,
                nullable=_nullable(changes),
                default=_pick(changes.server_default, False, changes.existing_server_default, None),
                comment=_pick(changes.comment, False, changes.existing_comment, None),
            )
        ]

    def drop_constraint(self, constraint: Constraint, *, if_exists: bool = False) -> None:
        if type(constraint) is Constraint:
            raise self.unsupported(
                f"drop constraint {constraint.name!r} without knowing its kind",
                hint="pass type_='foreignkey', 'primary', 'unique' or 'check'",
            )
        super().drop_constraint(constraint, if_exists=if_exists)


class MariaDBImpl(MySQLImpl):
    """MariaDB (offline)."""

    dialect_name = "mariadb"


def _type(changes: ColumnChanges) -> TypeEngine[Any] | None:
    return changes.type_ if changes.type_ is not None else changes.existing_type


def _spelling(changes: ColumnChanges) -> str:
    """``change`` (CHANGE c new ...), ``modify`` (MODIFY c ...) or ``default`` (ALTER COLUMN).

    A DATETIME column's default goes through CHANGE too: MySQL accepts a function default
    such as ``CURRENT_TIMESTAMP`` there, not in ``ALTER COLUMN ... SET DEFAULT``.
    """
    type_ = _type(changes)
    datetime_default = (
        type_ is not None
        and type_._type_affinity is DateTime
        and changes.server_default is not None
    )
    if changes.new_column_name is not None or datetime_default:
        return "change"
    if changes.nullable is not None or changes.type_ is not None or changes.comment is not False:
        return "modify"
    return "default"


def _nullable(changes: ColumnChanges) -> bool:
    if changes.nullable is not None:
        return changes.nullable
    return changes.existing_nullable if changes.existing_nullable is not None else True


def _pick(value: Any, unchanged: Any, existing: Any, fallback: Any) -> Any:
    if value is not unchanged:
        return value
    return existing if existing is not None and existing is not False else fallback


@compiles(RenameTable, "mysql")
@compiles(RenameTable, "mariadb")
def _rename_table(element: RenameTable, compiler: DDLCompiler, **kw: Any) -> str:
    """MySQL moves a table renamed to an unqualified name into the current database."""
    new_name = compiler.preparer.format_table(
        table_clause(element.new_table_name, schema=element.schema)
    )
    return f"{alter_table(compiler, element.table_name, element.schema)} RENAME TO {new_name}"


@compiles(RestateColumn, "mysql")
@compiles(RestateColumn, "mariadb")
def _restate_column(element: RestateColumn, compiler: DDLCompiler, **kw: Any) -> str:
    quote = compiler.preparer.quote
    alter = alter_table(compiler, element.table_name, element.schema)
    if element.new_name is None:
        head = f"{alter} MODIFY {quote(element.column_name)}"
    else:
        head = f"{alter} CHANGE {quote(element.column_name)} {quote(element.new_name)}"
    spec = compiler.dialect.type_compiler_instance.process(element.type_)
    spec += " NULL" if element.nullable else " NOT NULL"
    if element.default is not None:
        spec += f" DEFAULT {server_default_sql(compiler, element.default)}"
    if element.comment is not None:
        literal = compiler.sql_compiler.render_literal_value(element.comment, String())
        spec += f" COMMENT {literal}"
    return f"{head} {spec}"


Impl = MySQLImpl

__all__ = ["Impl", "MariaDBImpl", "MySQLImpl", "RestateColumn"]
