"""Operations: the ``op`` that revision scripts call.

Every method is written out, typed, with Alembic's name and arguments: it builds an
operation (``operations/ops.py``) and hands it to `Operations.invoke`, which finds the
implementation registered for its type and dialect (``operations/toimpl.py``). Plugins add
methods with `Operations.register_operation` and implementations with
`Operations.implementation_for`.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy.sql.elements import conv

from amigrate.ddl.elements import InlineLiteral
from amigrate.errors import AmigrateError
from amigrate.operations import schemaobj, toimpl
from amigrate.operations.ops import (
    AddColumnOp,
    BulkInsertOp,
    CreateIndexOp,
    CreateTableOp,
    DropColumnOp,
    DropIndexOp,
    DropTableOp,
    ExecuteSQLOp,
    MigrateOperation,
    RenameTableOp,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from sqlalchemy.engine import Connection
    from sqlalchemy.schema import Column, MetaData, SchemaItem, Table
    from sqlalchemy.sql.base import Executable
    from sqlalchemy.sql.expression import TableClause
    from sqlalchemy.types import TypeEngine

    from amigrate.ddl.impl import DefaultImpl
    from amigrate.operations.schemaobj import IndexElement

_Op = TypeVar("_Op", bound=type[MigrateOperation])
_F = TypeVar("_F", bound=toimpl.Implementation)


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


_BUILTIN_NAMES = frozenset(name for name in vars(Operations) if not name.startswith("__"))

__all__ = ["Operations"]
