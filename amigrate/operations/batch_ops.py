"""What ``batch_op`` records: one small class per change, applied or replayed on exit.

Each recorded change can be applied to a `TableState` (when SQLite recreates the table) or
replayed through the ordinary `Operations` method of the same name (everywhere else).
``sqlite_plain()`` says whether SQLite's ALTER TABLE can make the change without a recreate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from amigrate._util import fields_repr
from amigrate.errors import UnsupportedOperationError
from amigrate.operations.batch_sql import sql_text
from amigrate.operations.batch_table import ConstraintState, IndexState

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from sqlalchemy.schema import Column
    from sqlalchemy.sql.base import Executable

    from amigrate.operations.base import Operations
    from amigrate.operations.batch_table import TableState
    from amigrate.operations.schemaobj import IndexElement


# -- recorded operations ----------------------------------------------------------------------


class BatchOp:
    """A recorded change: applied to a `TableState`, or replayed through `Operations`."""

    __repr__ = fields_repr  # the subclasses are dataclasses that make no repr of their own
    method: ClassVar[str]
    plain_on_sqlite: ClassVar[bool] = False  # doable on SQLite without recreating the table

    def apply(self, state: TableState) -> None:
        raise NotImplementedError

    def replay(self, operations: Operations, table_name: str, schema: str | None) -> None:
        raise NotImplementedError

    def sqlite_plain(self) -> bool:
        return self.plain_on_sqlite

    def check_available(self, operations: Operations) -> None:
        """Raise, before anything runs, if `replay` would find no method to call."""
        self.operation_method(operations)

    def operation_method(self, operations: Operations) -> Any:
        """The bound ``Operations`` method that replays this change."""
        found = getattr(operations, self.method, None)
        if found is None:
            raise UnsupportedOperationError(
                f"batch_op.{self.method}() cannot run as ALTER: "
                f"Operations.{self.method} is not available in this amigrate version"
            )
        return found


@dataclass(repr=False)
class AddColumn(BatchOp):
    method: ClassVar[str] = "add_column"
    column: Column[Any]
    insert_before: str | None = None
    insert_after: str | None = None
    if_not_exists: bool | None = None

    def sqlite_plain(self) -> bool:
        column = self.column
        return not (
            self.if_not_exists  # SQLite's ADD COLUMN has no IF NOT EXISTS
            or self.insert_before
            or self.insert_after
            or column.primary_key
            or column.unique
            or (not column.nullable and column.server_default is None)
            or (column.computed is not None and column.computed.persisted)
            or not _constant_default(column.server_default)
        )

    def apply(self, state: TableState) -> None:
        if self.if_not_exists and state.has_column(self.column.name):
            return
        state.add_column(self.column, self.insert_before, self.insert_after)

    def replay(self, operations: Operations, table_name: str, schema: str | None) -> None:
        extra = {"if_not_exists": True} if self.if_not_exists else {}
        self.operation_method(operations)(table_name, self.column, schema=schema, **extra)


@dataclass(repr=False)
class DropColumn(BatchOp):
    method: ClassVar[str] = "drop_column"
    column_name: str
    kw: dict[str, Any] = field(default_factory=dict)

    def apply(self, state: TableState) -> None:
        if self.kw.get("if_exists") and not state.has_column(self.column_name):
            return
        state.drop_column(self.column_name)

    def replay(self, operations: Operations, table_name: str, schema: str | None) -> None:
        self.operation_method(operations)(table_name, self.column_name, schema=schema, **self.kw)


@dataclass(repr=False)
class AlterColumn(BatchOp):
    method: ClassVar[str] = "alter_column"
    column_name: str
    changes: dict[str, Any]  # only what was given, with Alembic's names
    existing: dict[str, Any] = field(default_factory=dict)

    def apply(self, state: TableState) -> None:
        state.alter_column(self.column_name, self.changes)

    def replay(self, operations: Operations, table_name: str, schema: str | None) -> None:
        changes = {
            k: v for k, v in self.changes.items() if k not in ("insert_before", "insert_after")
        }
        self.operation_method(operations)(
            table_name, self.column_name, schema=schema, **changes, **self.existing
        )


@dataclass(repr=False)
class CreateIndex(BatchOp):
    method: ClassVar[str] = "create_index"
    plain_on_sqlite: ClassVar[bool] = True
    index_name: str | None
    columns: Sequence[IndexElement]
    unique: bool = False
    kw: dict[str, Any] = field(default_factory=dict)

    def apply(self, state: TableState) -> None:
        kw = {k: v for k, v in self.kw.items() if k != "if_not_exists"}
        if self.kw.get("if_not_exists") and state.has_index(self.index_name):
            return
        state.add_index(IndexState(self.index_name, list(self.columns), self.unique, kw))

    def replay(self, operations: Operations, table_name: str, schema: str | None) -> None:
        self.operation_method(operations)(
            self.index_name, table_name, self.columns, schema=schema, unique=self.unique, **self.kw
        )


@dataclass(repr=False)
class DropIndex(BatchOp):
    method: ClassVar[str] = "drop_index"
    plain_on_sqlite: ClassVar[bool] = True
    index_name: str
    kw: dict[str, Any] = field(default_factory=dict)

    def apply(self, state: TableState) -> None:
        if self.kw.get("if_exists") and not state.has_index(self.index_name):
            return
        state.drop_index(self.index_name)

    def replay(self, operations: Operations, table_name: str, schema: str | None) -> None:
        self.operation_method(operations)(self.index_name, table_name, schema=schema, **self.kw)


@dataclass(repr=False)
class CreateUniqueConstraint(BatchOp):
    method: ClassVar[str] = "create_unique_constraint"
    constraint_name: str | None
    columns: Sequence[str]
    kw: dict[str, Any] = field(default_factory=dict)

    def apply(self, state: TableState) -> None:
        options = {k: v for k, v in self.kw.items() if k in ("deferrable", "initially")}
        state.add_constraint(
            ConstraintState("unique", self.constraint_name, list(self.columns), options=options)
        )

    def replay(self, operations: Operations, table_name: str, schema: str | None) -> None:
        self.operation_method(operations)(
            self.constraint_name, table_name, self.columns, schema=schema, **self.kw
        )


@dataclass(repr=False)
class CreateForeignKey(BatchOp):
    method: ClassVar[str] = "create_foreign_key"
    constraint_name: str | None
    referent_table: str
    local_cols: Sequence[str]
    remote_cols: Sequence[str]
    referent_schema: str | None = None
    kw: dict[str, Any] = field(default_factory=dict)  # onupdate, ondelete, deferrable, ...

    def apply(self, state: TableState) -> None:
        referent = (self.referent_schema, self.referent_table, list(self.remote_cols))
        options = {k: v for k, v in self.kw.items() if v is not None}
        state.add_constraint(
            ConstraintState(
                "foreign_key", self.constraint_name, list(self.local_cols), None, referent, options
            )
        )

    def replay(self, operations: Operations, table_name: str, schema: str | None) -> None:
        self.operation_method(operations)(
            self.constraint_name,
            table_name,
            self.referent_table,
            self.local_cols,
            self.remote_cols,
            source_schema=schema,
            referent_schema=self.referent_schema,
            **self.kw,
        )


@dataclass(repr=False)
class CreateCheckConstraint(BatchOp):
    method: ClassVar[str] = "create_check_constraint"
    constraint_name: str | None
    condition: Any
    kw: dict[str, Any] = field(default_factory=dict)

    def apply(self, state: TableState) -> None:
        sqltext = sql_text(self.condition, state.dialect)
        state.add_constraint(ConstraintState("check", self.constraint_name, sqltext=sqltext))

    def replay(self, operations: Operations, table_name: str, schema: str | None) -> None:
        self.operation_method(operations)(
            self.constraint_name, table_name, self.condition, schema=schema, **self.kw
        )


@dataclass(repr=False)
class DropConstraint(BatchOp):
    method: ClassVar[str] = "drop_constraint"
    constraint_name: str | None
    type_: str | None = None
    if_exists: bool | None = None
    columns: tuple[str, ...] | None = None  # finds an unnamed constraint

    def apply(self, state: TableState) -> None:
        if self.constraint_name is None and self.columns is not None:
            state.drop_unnamed_constraint(self.type_, self.columns)
            return
        if self.if_exists and not state.has_constraint(self.constraint_name):
            return
        state.drop_constraint(self.constraint_name, self.type_)

    def replay(self, operations: Operations, table_name: str, schema: str | None) -> None:
        extra = {"if_exists": True} if self.if_exists else {}
        self.operation_method(operations)(
            self.constraint_name, table_name, type_=self.type_, schema=schema, **extra
        )


@dataclass(repr=False)
class CreatePrimaryKey(BatchOp):
    method: ClassVar[str] = "create_primary_key"
    constraint_name: str | None
    columns: Sequence[str]

    def apply(self, state: TableState) -> None:
        state.set_primary_key(self.constraint_name, self.columns)

    def replay(self, operations: Operations, table_name: str, schema: str | None) -> None:
        self.operation_method(operations)(
            self.constraint_name, table_name, self.columns, schema=schema
        )


@dataclass(repr=False)
class TableComment(BatchOp):
    """``create_table_comment`` (``comment`` set) or ``drop_table_comment`` (None)."""

    method: ClassVar[str] = "create_table_comment"
    plain_on_sqlite: ClassVar[bool] = True  # SQLite keeps no comments: nothing to do there
    comment: str | None
    existing_comment: str | None = None

    def apply(self, state: TableState) -> None:
        state.comment = self.comment

    def check_available(self, operations: Operations) -> None:
        if operations.impl.dialect.supports_comments:
            self._comment_method(operations)

    def replay(self, operations: Operations, table_name: str, schema: str | None) -> None:
        if not operations.impl.dialect.supports_comments:
            return
        method = self._comment_method(operations)
        if self.comment is None:
            method(table_name, existing_comment=self.existing_comment, schema=schema)
        else:
            method(table_name, self.comment, existing_comment=self.existing_comment, schema=schema)

    def _comment_method(self, operations: Operations) -> Any:
        name = "create_table_comment" if self.comment is not None else "drop_table_comment"
        found = getattr(operations, name, None)
        if found is None:
            raise UnsupportedOperationError(
                f"batch_op.{name}() cannot run: Operations.{name} is not available "
                "in this amigrate version"
            )
        return found


@dataclass(repr=False)
class Execute(BatchOp):
    method: ClassVar[str] = "execute"
    plain_on_sqlite: ClassVar[bool] = True
    sqltext: Executable | str
    execution_options: Mapping[str, Any] | None = None

    def apply(self, state: TableState) -> None:
        """Runs after the recreate (see ``batch_recreate.py``)."""

    def replay(self, operations: Operations, table_name: str, schema: str | None) -> None:
        operations.execute(self.sqltext, execution_options=self.execution_options)


def _constant_default(default: Any) -> bool:
    """Whether SQLite's ADD COLUMN accepts this server default (a constant, or none)."""
    arg = getattr(default, "arg", None)
    if default is None or isinstance(arg, str):
        return True
    text_ = getattr(arg, "text", None)
    if not isinstance(text_, str):
        return False
    stripped = text_.strip()
    return bool(stripped) and (stripped[0] in "'\"-+0123456789" or stripped.upper() == "NULL")


__all__ = [
    "AddColumn",
    "AlterColumn",
    "BatchOp",
    "CreateCheckConstraint",
    "CreateForeignKey",
    "CreateIndex",
    "CreatePrimaryKey",
    "CreateUniqueConstraint",
    "DropColumn",
    "DropConstraint",
    "DropIndex",
    "Execute",
    "TableComment",
]
