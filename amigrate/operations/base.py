"""Operations: the ``op`` that revision scripts call.

Every method is written out, typed, with Alembic's name and arguments: it builds an
operation (``operations/ops.py``) and hands it to `Operations.invoke`, which finds the
implementation registered for its type and dialect (``operations/toimpl.py``). Plugins add
methods with `Operations.register_operation` and implementations with
`Operations.implementation_for`.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from sqlalchemy.sql.elements import conv
from sqlalchemy.types import to_instance

from amigrate.ddl.elements import InlineLiteral
from amigrate.errors import AmigrateError
from amigrate.operations import schemaobj, toimpl
from amigrate.operations.ops import (
    AddColumnOp,
    AlterColumnOp,
    BulkInsertOp,
    CreateCheckConstraintOp,
    CreateExcludeConstraintOp,
    CreateForeignKeyOp,
    CreateIndexOp,
    CreatePrimaryKeyOp,
    CreateTableCommentOp,
    CreateTableOp,
    CreateUniqueConstraintOp,
    DropColumnOp,
    DropConstraintOp,
    DropIndexOp,
    DropTableCommentOp,
    DropTableOp,
    ExecuteSQLOp,
    MigrateOperation,
    RenameTableOp,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping, Sequence

    from sqlalchemy.engine import Connection
    from sqlalchemy.schema import Column, MetaData, SchemaItem, Table
    from sqlalchemy.sql.base import Executable
    from sqlalchemy.sql.elements import ClauseElement
    from sqlalchemy.sql.expression import TableClause
    from sqlalchemy.types import TypeEngine

    from amigrate.ddl.impl import DefaultImpl
    from amigrate.operations.schemaobj import IndexElement

_Op = TypeVar("_Op", bound=type[MigrateOperation])
_F = TypeVar("_F", bound=toimpl.Implementation)
_T = TypeVar("_T")


class Operations:
    """The migration operations, bound to one dialect implementation and its sink.

    ``context`` is the runtime's migration context (`get_context`); ``bind`` the live
    connection (`get_bind`), taken from the implementation when not given.
    ``naming_convention`` (the target metadata's) names what the operations leave unnamed.
    """

    def __init__(
        self,
        impl: DefaultImpl,
        *,
        context: object | None = None,
        bind: Connection | None = None,
        naming_convention: Mapping[str, Any] | None = None,
    ) -> None:
        self.impl = impl
        self._context = context
        self._bind = bind if bind is not None else impl.connection
        self._naming_convention = naming_convention

    def __repr__(self) -> str:
        return f"<Operations {self.impl!r}>"

    # -- plugins ------------------------------------------------------------------------------

    @classmethod
    def implementation_for(
        cls, op_cls: type[MigrateOperation], dialect: str | None = None
    ) -> Callable[[_F], _F]:
        """Decorator: ``fn(operations, op)`` carries out ``op_cls`` (on ``dialect`` only)."""
        return toimpl.register(op_cls, dialect)

    @classmethod
    def register_operation(cls, name: str, sourcename: str | None = None) -> Callable[[_Op], _Op]:
        """Class decorator: ``op.<name>(...)`` calls ``OpClass.<sourcename or name>(op, ...)``.

        The op class provides that classmethod; it builds the op and returns
        ``operations.invoke(op)``. Built-in methods cannot be replaced this way.
        """

        def decorate(op_cls: _Op) -> _Op:
            if name in _BUILTIN_NAMES:
                raise ValueError(f"Operations.{name} is built in and cannot be re-registered")
            source = getattr(op_cls, sourcename or name)

            @functools.wraps(source)
            def method(self: Operations, *args: Any, **kw: Any) -> Any:
                return source(self, *args, **kw)

            setattr(cls, name, method)
            return op_cls

        return decorate

    def invoke(self, operation: MigrateOperation) -> Any:
        """Carry out ``operation`` with the implementation registered for it."""
        implementation = toimpl.lookup(type(operation), self.impl.dialect.name)
        return implementation(self, operation)

    # -- context ------------------------------------------------------------------------------

    def get_bind(self) -> Connection:
        """The connection migrations run on; there is none in offline (``--sql``) mode."""
        if self._bind is None:
            raise AmigrateError(
                "op.get_bind() has no connection to return in offline (--sql) mode",
                hint="check context.is_offline_mode(), or emit the SQL with op.execute()",
            )
        return self._bind

    def get_context(self) -> Any:
        """The migration context this run belongs to."""
        if self._context is None:
            raise AmigrateError("these operations are not part of a migration run")
        return self._context

    @property
    def migration_context(self) -> Any:
        """Alembic's name for `get_context`."""
        return self.get_context()

    def schema_metadata(self) -> MetaData:
        """A fresh ``MetaData`` for an operation's throwaway schema objects."""
        return schemaobj.metadata(self._naming_convention)

    def f(self, name: str) -> conv:
        """Mark ``name`` final: a naming convention will not rewrite it."""
        return conv(name)

    def inline_literal(
        self, value: Any, type_: TypeEngine[Any] | type[TypeEngine[Any]] | None = None
    ) -> InlineLiteral:
        """A value written into the SQL itself, so a statement reads the same offline."""
        return InlineLiteral(value, type_)

    # -- tables -------------------------------------------------------------------------------

    def create_table(
        self,
        table_name: str,
        *columns: SchemaItem,
        schema: str | None = None,
        if_not_exists: bool | None = None,
        **kw: Any,
    ) -> Table:
        """CREATE TABLE with ``columns`` (and constraints, indexes); returns the ``Table``.

        Other keywords (``comment``, ``prefixes``, ``postgresql_...``) go to ``Table``.
        """
        op = CreateTableOp(table_name, columns, schema=schema, if_not_exists=if_not_exists, kw=kw)
        return cast("Table", self.invoke(op))

    def drop_table(
        self,
        table_name: str,
        *,
        schema: str | None = None,
        if_exists: bool | None = None,
        **kw: Any,
    ) -> None:
        """DROP TABLE."""
        self.invoke(DropTableOp(table_name, schema=schema, if_exists=if_exists, kw=kw))

    def rename_table(
        self, old_table_name: str, new_table_name: str, *, schema: str | None = None
    ) -> None:
        """ALTER TABLE ... RENAME TO ... (within ``schema``)."""
        self.invoke(RenameTableOp(old_table_name, new_table_name, schema=schema))

    # -- columns ------------------------------------------------------------------------------

    def add_column(
        self,
        table_name: str,
        column: Column[Any],
        *,
        schema: str | None = None,
        if_not_exists: bool | None = None,
    ) -> None:
        """ADD COLUMN, with the column's foreign key, unique flag, index and comment."""
        self.invoke(AddColumnOp(table_name, column, schema=schema, if_not_exists=if_not_exists))

    def drop_column(
        self,
        table_name: str,
        column_name: str,
        *,
        schema: str | None = None,
        if_exists: bool | None = None,
        **kw: Any,
    ) -> None:
        """DROP COLUMN. Other keywords are dialect options, kept on the op."""
        op = DropColumnOp(table_name, column_name, schema=schema, if_exists=if_exists, kw=kw)
        self.invoke(op)

    def alter_column(
        self,
        table_name: str,
        column_name: str,
        *,
        nullable: bool | None = None,
        comment: str | Literal[False] | None = False,
        server_default: Any = False,
        new_column_name: str | None = None,
        type_: TypeEngine[Any] | type[TypeEngine[Any]] | None = None,
        existing_type: TypeEngine[Any] | type[TypeEngine[Any]] | None = None,
        existing_server_default: Any = False,
        existing_nullable: bool | None = None,
        existing_comment: str | None = None,
        schema: str | None = None,
        **kw: Any,
    ) -> None:
        """ALTER COLUMN: nullability, default, type, comment and name, as given.

        ``server_default=None`` drops the default, ``comment=None`` the comment; leaving
        them out (``False``) changes nothing. ``existing_*`` describe the column as it is:
        MySQL needs them, and ``reverse()`` uses them. ``postgresql_using`` is the
        ``USING`` expression of a PostgreSQL type change.
        """
        op = AlterColumnOp(
            table_name,
            column_name,
            schema=schema,
            existing_type=_type_instance(existing_type),
            existing_server_default=existing_server_default,
            existing_nullable=existing_nullable,
            existing_comment=existing_comment,
            modify_nullable=nullable,
            modify_server_default=server_default,
            modify_name=new_column_name,
            modify_type=_type_instance(type_),
            modify_comment=comment,
            kw=kw,
        )
        self.invoke(op)

    # -- constraints --------------------------------------------------------------------------

    def create_primary_key(
        self,
        constraint_name: str | None,
        table_name: str,
        columns: Sequence[str],
        *,
        schema: str | None = None,
    ) -> None:
        """ALTER TABLE ... ADD CONSTRAINT ... PRIMARY KEY."""
        self.invoke(CreatePrimaryKeyOp(constraint_name, table_name, tuple(columns), schema))

    def create_unique_constraint(
        self,
        constraint_name: str | None,
        table_name: str,
        columns: Sequence[str],
        *,
        schema: str | None = None,
        **kw: Any,
    ) -> None:
        """ALTER TABLE ... ADD CONSTRAINT ... UNIQUE (``deferrable``, ``initially``, ...)."""
        op = CreateUniqueConstraintOp(constraint_name, table_name, tuple(columns), schema, kw)
        self.invoke(op)

    def create_check_constraint(
        self,
        constraint_name: str | None,
        table_name: str,
        condition: str | ClauseElement,
        *,
        schema: str | None = None,
        **kw: Any,
    ) -> None:
        """ALTER TABLE ... ADD CONSTRAINT ... CHECK (``condition``: SQL text or expression)."""
        self.invoke(CreateCheckConstraintOp(constraint_name, table_name, condition, schema, kw))

    def create_exclude_constraint(
        self, constraint_name: str | None, table_name: str, *elements: Any, **kw: Any
    ) -> None:
        """PostgreSQL EXCLUDE: elements are ``(column or expression, operator)`` pairs.

        Keywords: ``schema``, ``using``, ``where``, ``deferrable``, ``initially``.
        """
        schema = kw.pop("schema", None)
        self.invoke(CreateExcludeConstraintOp(constraint_name, table_name, elements, schema, kw))

    def create_foreign_key(
        self,
        constraint_name: str | None,
        source_table: str,
        referent_table: str,
        local_cols: Sequence[str],
        remote_cols: Sequence[str],
        *,
        onupdate: str | None = None,
        ondelete: str | None = None,
        deferrable: bool | None = None,
        initially: str | None = None,
        match: str | None = None,
        source_schema: str | None = None,
        referent_schema: str | None = None,
        **dialect_kw: Any,
    ) -> None:
        """ALTER TABLE source ADD CONSTRAINT ... FOREIGN KEY ... REFERENCES referent."""
        options = {
            "onupdate": onupdate,
            "ondelete": ondelete,
            "deferrable": deferrable,
            "initially": initially,
            "match": match,
        }
        kw = {key: value for key, value in options.items() if value is not None}
        op = CreateForeignKeyOp(
            constraint_name,
            source_table,
            referent_table,
            tuple(local_cols),
            tuple(remote_cols),
            source_schema=source_schema,
            referent_schema=referent_schema,
            kw={**kw, **dialect_kw},
        )
        self.invoke(op)

    def drop_constraint(
        self,
        constraint_name: str,
        table_name: str,
        type_: str | None = None,
        *,
        schema: str | None = None,
        if_exists: bool | None = None,
    ) -> None:
        """ALTER TABLE ... DROP CONSTRAINT; ``type_``: foreignkey, primary, unique, check."""
        op = DropConstraintOp(
            constraint_name, table_name, type_=type_, schema=schema, if_exists=if_exists
        )
        self.invoke(op)

    # -- comments -----------------------------------------------------------------------------

    def create_table_comment(
        self,
        table_name: str,
        comment: str | None,
        *,
        existing_comment: str | None = None,
        schema: str | None = None,
    ) -> None:
        """Set the table's comment (``existing_comment`` makes it reversible)."""
        op = CreateTableCommentOp(
            table_name, comment, schema=schema, existing_comment=existing_comment
        )
        self.invoke(op)

    def drop_table_comment(
        self,
        table_name: str,
        *,
        existing_comment: str | None = None,
        schema: str | None = None,
    ) -> None:
        """Remove the table's comment (``existing_comment`` makes it reversible)."""
        self.invoke(
            DropTableCommentOp(table_name, schema=schema, existing_comment=existing_comment)
        )

    # -- indexes ------------------------------------------------------------------------------

    def create_index(
        self,
        index_name: str | None,
        table_name: str,
        columns: Sequence[IndexElement] | str,
        *,
        schema: str | None = None,
        unique: bool = False,
        if_not_exists: bool | None = None,
        **kw: Any,
    ) -> None:
        """CREATE INDEX on column names or expressions (``sa.text("lower(name)")``).

        Other keywords are dialect options of ``Index`` (``postgresql_where``, ...).
        """
        elements = (columns,) if isinstance(columns, str) else tuple(columns)
        op = CreateIndexOp(
            index_name,
            table_name,
            elements,
            schema=schema,
            unique=unique,
            if_not_exists=if_not_exists,
            kw=kw,
        )
        self.invoke(op)

    def drop_index(
        self,
        index_name: str,
        table_name: str | None = None,
        *,
        schema: str | None = None,
        if_exists: bool | None = None,
        **kw: Any,
    ) -> None:
        """DROP INDEX."""
        op = DropIndexOp(index_name, table_name, schema=schema, if_exists=if_exists, kw=kw)
        self.invoke(op)

    # -- SQL and data -------------------------------------------------------------------------

    def execute(
        self,
        sqltext: Executable | str,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> None:
        """Run a statement: a string (read as ``text()``) or any SQLAlchemy construct."""
        self.invoke(ExecuteSQLOp(sqltext, execution_options=execution_options))

    def bulk_insert(
        self,
        table: Table | TableClause,
        rows: Sequence[Mapping[str, Any]],
        *,
        multiinsert: bool = True,
    ) -> None:
        """INSERT ``rows`` (dictionaries) into ``table`` (a ``Table`` or ``sa.table()``)."""
        self.invoke(BulkInsertOp(table, rows, multiinsert=multiinsert))

    def run_async(self, async_function: Callable[..., Awaitable[_T]], *args: Any, **kw: Any) -> _T:
        """Await ``async_function(connection, *args, **kw)`` on this run's connection.

        ``connection`` is the ``AsyncConnection`` of the migration's own connection (same
        transaction). Needs an async driver (asyncpg, aiosqlite, ...) and a live database.
        """
        connection = self._bind
        if self.impl.as_sql or connection is None or not hasattr(connection, "dialect"):
            raise AmigrateError(
                "op.run_async() needs a live database; there is none in offline (--sql) mode",
                hint="check context.is_offline_mode() and skip the call offline",
            )
        if not connection.dialect.is_async:
            raise AmigrateError(
                f"op.run_async() needs an async driver; this run uses "
                f"{connection.dialect.name}+{connection.dialect.driver}",
                hint="use an async URL (postgresql+asyncpg://, sqlite+aiosqlite://)",
            )
        from sqlalchemy.ext.asyncio import AsyncConnection
        from sqlalchemy.util import await_only

        proxy = AsyncConnection._retrieve_proxy_for_target(connection)
        if proxy is None:  # pragma: no cover - regenerate=True always gives one
            raise AmigrateError("op.run_async() found no async connection for this run")
        return await_only(async_function(proxy, *args, **kw))

    # -- batch mode -----------------------------------------------------------------------------

    def batch_alter_table(
        self,
        table_name: str,
        schema: str | None = None,
        recreate: Literal["auto", "always", "never"] = "auto",
        partial_reordering: list[tuple[str, ...]] | None = None,
        copy_from: Table | None = None,
        table_args: tuple[Any, ...] = (),
        table_kwargs: Mapping[str, Any] | None = None,
        reflect_args: tuple[Any, ...] = (),
        reflect_kwargs: Mapping[str, Any] | None = None,
        naming_convention: Mapping[str, Any] | None = None,
    ) -> Any:
        """Alter a table in batch: on SQLite by recreating it (see ``operations/batch.py``).

        Use it as a context manager: ``with op.batch_alter_table("t") as batch_op: ...``.
        """
        from amigrate.operations import batch

        return batch.batch_alter_table(
            self,
            table_name,
            schema=schema,
            recreate=recreate,
            partial_reordering=partial_reordering,
            copy_from=copy_from,
            table_args=table_args,
            table_kwargs=table_kwargs,
            reflect_args=reflect_args,
            reflect_kwargs=reflect_kwargs,
            naming_convention=naming_convention,
        )


def _type_instance(
    type_: TypeEngine[Any] | type[TypeEngine[Any]] | None,
) -> TypeEngine[Any] | None:
    return None if type_ is None else to_instance(type_)


_BUILTIN_NAMES = frozenset(name for name in vars(Operations) if not name.startswith("__"))

__all__ = ["Operations"]
