"""DDL elements SQLAlchemy does not have, and how each dialect spells them.

``ALTER TABLE ... ADD COLUMN`` / ``DROP COLUMN`` / ``RENAME TO`` are ordinary
``ExecutableDDLElement``s, so they run on a ``Connection`` and compile to script text
alike. Table names are quoted by the dialect's identifier preparer, the same way SQLAlchemy
quotes them in ``CREATE TABLE``, schema included. The rules here are dialect-neutral;
a dialect whose spelling differs registers its own with ``@compiles(Element, "<dialect>")``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Column, Integer
from sqlalchemy import table as table_clause
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CheckConstraint, Constraint, CreateColumn, ForeignKeyConstraint
from sqlalchemy.sql.ddl import ExecutableDDLElement
from sqlalchemy.sql.elements import BindParameter

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.engine import Dialect
    from sqlalchemy.schema import ForeignKey
    from sqlalchemy.sql.compiler import DDLCompiler, SQLCompiler
    from sqlalchemy.types import TypeEngine


class AlterTable(ExecutableDDLElement):
    """``ALTER TABLE <schema.table> ...``: the part every table alteration shares."""

    def __init__(self, table_name: str, schema: str | None = None) -> None:
        self.table_name = table_name
        self.schema = schema


class AddColumn(AlterTable):
    """``ALTER TABLE t ADD COLUMN [IF NOT EXISTS] <column spec> [<inline constraints>]``.

    ``constraints`` are table-level constraints the implementation chose to spell inline,
    as column constraints (SQLite cannot add them to an existing table any other way).
    """

    def __init__(
        self,
        table_name: str,
        column: Column[Any],
        schema: str | None = None,
        *,
        if_not_exists: bool = False,
        constraints: Sequence[Constraint] = (),
    ) -> None:
        super().__init__(table_name, schema)
        self.column = column
        self.if_not_exists = if_not_exists
        self.constraints = tuple(constraints)


class DropColumn(AlterTable):
    """``ALTER TABLE t DROP COLUMN [IF EXISTS] c``."""

    def __init__(
        self,
        table_name: str,
        column_name: str,
        schema: str | None = None,
        *,
        if_exists: bool = False,
    ) -> None:
        super().__init__(table_name, schema)
        self.column_name = column_name
        self.if_exists = if_exists


class RenameTable(AlterTable):
    """``ALTER TABLE s.old RENAME TO new``: the table stays in its schema."""

    def __init__(self, old_table_name: str, new_table_name: str, schema: str | None = None) -> None:
        super().__init__(old_table_name, schema)
        self.new_table_name = new_table_name


class AlterColumn(AlterTable):
    """``ALTER TABLE t ALTER COLUMN c ...``: one change to one existing column."""

    def __init__(self, table_name: str, column_name: str, schema: str | None = None) -> None:
        super().__init__(table_name, schema)
        self.column_name = column_name


class ColumnNullable(AlterColumn):
    """``ALTER COLUMN c DROP NOT NULL`` / ``SET NOT NULL``."""

    def __init__(
        self, table_name: str, column_name: str, nullable: bool, schema: str | None = None
    ) -> None:
        super().__init__(table_name, column_name, schema)
        self.nullable = nullable


class ColumnDefault(AlterColumn):
    """``ALTER COLUMN c SET DEFAULT <default>``, or ``DROP DEFAULT`` when it is None."""

    def __init__(
        self, table_name: str, column_name: str, default: Any, schema: str | None = None
    ) -> None:
        super().__init__(table_name, column_name, schema)
        self.default = default


class ColumnType(AlterColumn):
    """``ALTER COLUMN c TYPE <type> [USING <expression>]``."""

    def __init__(
        self,
        table_name: str,
        column_name: str,
        type_: TypeEngine[Any],
        schema: str | None = None,
        *,
        using: str | None = None,
    ) -> None:
        super().__init__(table_name, column_name, schema)
        self.type_ = type_
        self.using = using


class ColumnName(AlterColumn):
    """``ALTER TABLE t RENAME [COLUMN] c TO new``."""

    def __init__(
        self, table_name: str, column_name: str, new_name: str, schema: str | None = None
    ) -> None:
        super().__init__(table_name, column_name, schema)
        self.new_name = new_name


class InlineLiteral(BindParameter[Any]):
    """A value that is always written into the SQL text, online and offline alike.

    Not cacheable: SQLAlchemy's statement cache keys leave bound values out, so a cached
    compilation would repeat the first value written into the SQL.
    """

    inherit_cache = False

    def __init__(self, value: Any, type_: TypeEngine[Any] | type[TypeEngine[Any]] | None = None):
        super().__init__(None, value, type_=type_, unique=True)


def alter_table(compiler: DDLCompiler, table_name: str, schema: str | None) -> str:
    """``ALTER TABLE <name>`` with the name quoted as SQLAlchemy quotes table names."""
    return f"ALTER TABLE {compiler.preparer.format_table(table_clause(table_name, schema=schema))}"


def server_default_sql(compiler: DDLCompiler, default: Any) -> str:
    """A server default (string, ``text()``, expression) as it reads after ``DEFAULT``."""
    spec = compiler.get_column_default_string(Column("x", Integer, server_default=default))
    if spec is None:
        raise ValueError(f"{default!r} is not a server default")
    return str(spec)


def alter_column(compiler: DDLCompiler, element: AlterColumn) -> str:
    """``ALTER TABLE t ALTER COLUMN c``."""
    table = alter_table(compiler, element.table_name, element.schema)
    return f"{table} ALTER COLUMN {compiler.preparer.quote(element.column_name)}"


def inline_constraint(compiler: DDLCompiler, constraint: Constraint) -> str:
    """``constraint`` spelled as a column constraint (``REFERENCES ...``, ``CHECK (...)``)."""
    if isinstance(constraint, CheckConstraint):
        return str(compiler.process(constraint))
    if isinstance(constraint, ForeignKeyConstraint):
        return _inline_references(compiler, constraint)
    raise NotImplementedError(f"{type(constraint).__name__} cannot be written inline")


def _inline_references(compiler: DDLCompiler, constraint: ForeignKeyConstraint) -> str:
    if len(constraint.elements) != 1:
        raise NotImplementedError(
            "a composite foreign key cannot be written as a column constraint"
        )
    remote_column = constraint.elements[0].column
    preparer = compiler.preparer
    remote_table = cast("Any", compiler).define_constraint_remote_table(
        constraint, remote_column.table, preparer
    )
    return (
        compiler.define_constraint_preamble(constraint)
        + f"REFERENCES {remote_table} ({preparer.quote(remote_column.name)})"
        + compiler.define_constraint_match(constraint)
        + compiler.define_constraint_cascades(constraint)
        + compiler.define_constraint_deferrability(constraint)
    )


def foreign_key_target(fk: ForeignKey) -> tuple[str | None, str, str]:
    """(schema, table, column) a foreign key points at, without resolving it.

    A target given as a table name only points at the column named like the local one.
    """
    schema, table_name, column_name = fk._column_tokens
    return schema, table_name, column_name or fk.parent.key


def should_create(constraint: Constraint, dialect: Dialect) -> bool:
    """Whether SQLAlchemy would emit ``constraint`` on ``dialect``.

    A type-bound CHECK (``Boolean``/``Enum`` with ``create_constraint``) exists only where
    the type is not native; SQLAlchemy keeps that rule on the constraint itself.
    """
    compiler = dialect.ddl_compiler(dialect, cast("Any", None))
    return bool(constraint._should_create_for_compiler(compiler))


@compiles(AddColumn)
def _add_column(element: AddColumn, compiler: DDLCompiler, **kw: Any) -> str:
    spec = compiler.process(CreateColumn(element.column), **kw)
    inline = "".join(" " + inline_constraint(compiler, c) for c in element.constraints)
    exists = "IF NOT EXISTS " if element.if_not_exists else ""
    alter = alter_table(compiler, element.table_name, element.schema)
    return f"{alter} ADD COLUMN {exists}{spec}{inline}"


@compiles(DropColumn)
def _drop_column(element: DropColumn, compiler: DDLCompiler, **kw: Any) -> str:
    exists = "IF EXISTS " if element.if_exists else ""
    name = compiler.preparer.quote(element.column_name)
    return f"{alter_table(compiler, element.table_name, element.schema)} DROP COLUMN {exists}{name}"


@compiles(RenameTable)
def _rename_table(element: RenameTable, compiler: DDLCompiler, **kw: Any) -> str:
    new_name = compiler.preparer.quote(element.new_table_name)
    return f"{alter_table(compiler, element.table_name, element.schema)} RENAME TO {new_name}"


@compiles(ColumnNullable)
def _column_nullable(element: ColumnNullable, compiler: DDLCompiler, **kw: Any) -> str:
    change = "DROP NOT NULL" if element.nullable else "SET NOT NULL"
    return f"{alter_column(compiler, element)} {change}"


@compiles(ColumnDefault)
def _column_default(element: ColumnDefault, compiler: DDLCompiler, **kw: Any) -> str:
    if element.default is None:
        return f"{alter_column(compiler, element)} DROP DEFAULT"
    default = server_default_sql(compiler, element.default)
    return f"{alter_column(compiler, element)} SET DEFAULT {default}"


@compiles(ColumnType)
def _column_type(element: ColumnType, compiler: DDLCompiler, **kw: Any) -> str:
    type_sql = compiler.dialect.type_compiler_instance.process(element.type_)
    using = f" USING {element.using}" if element.using else ""
    return f"{alter_column(compiler, element)} TYPE {type_sql}{using}"


@compiles(ColumnName)
def _column_name(element: ColumnName, compiler: DDLCompiler, **kw: Any) -> str:
    quote = compiler.preparer.quote
    alter = alter_table(compiler, element.table_name, element.schema)
    return f"{alter} RENAME {quote(element.column_name)} TO {quote(element.new_name)}"


@compiles(InlineLiteral)
def _inline_literal(element: InlineLiteral, compiler: SQLCompiler, **kw: Any) -> str:
    return str(cast("Any", compiler).render_literal_bindparam(element, **kw))


__all__ = [
    "AddColumn",
    "AlterColumn",
    "AlterTable",
    "ColumnDefault",
    "ColumnName",
    "ColumnNullable",
    "ColumnType",
    "DropColumn",
    "InlineLiteral",
    "RenameTable",
    "alter_column",
    "alter_table",
    "foreign_key_target",
    "inline_constraint",
    "server_default_sql",
    "should_create",
]
