"""Batch mode: ``with op.batch_alter_table("t") as batch_op:`` records, then applies on exit.

Inside the block, `BatchOperations` records each change instead of running it. On exit:

- where the dialect can do every change with ALTER statements (any dialect but SQLite;
  on SQLite: plain ``add_column``, indexes, ``execute``), the changes are replayed through
  the ordinary `Operations` methods, in order;
- otherwise (SQLite, ``recreate="auto"`` when a change needs it, or ``"always"``) the table
  is recreated: see ``batch_recreate.py``. Recorded ``execute`` statements then run after
  the new table is in place.

``recreate="never"`` refuses, before anything runs, a change SQLite cannot do with ALTER.
An exception inside the block applies nothing.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from amigrate._util import fields_repr
from amigrate.errors import UnsupportedOperationError
from amigrate.operations.batch_ops import (
    AddColumn,
    AlterColumn,
    BatchOp,
    CreateCheckConstraint,
    CreateForeignKey,
    CreateIndex,
    CreatePrimaryKey,
    CreateUniqueConstraint,
    DropColumn,
    DropConstraint,
    DropIndex,
    Execute,
    TableComment,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from sqlalchemy.engine import Connection
    from sqlalchemy.schema import Column, SchemaItem, Table
    from sqlalchemy.sql.base import Executable
    from sqlalchemy.sql.elements import conv

    from amigrate.ddl.elements import InlineLiteral
    from amigrate.operations.base import Operations
    from amigrate.operations.schemaobj import IndexElement

_RECREATE_CHOICES = ("auto", "always", "never")
_UNSET: Any = False  # Alembic's "not given" for comment= and server_default= (None drops)


# -- the recorder -----------------------------------------------------------------------------


class BatchOperations:
    """``batch_op``: the table operations of `Operations`, without the table name, recorded."""

    def __init__(self, operations: Operations, table_name: str, schema: str | None) -> None:
        self.operations = operations
        self.table_name = table_name
        self.schema = schema
        self.batch: list[BatchOp] = []

    def __repr__(self) -> str:
        return f"<BatchOperations {self.table_name!r} ({len(self.batch)} recorded)>"

    @property
    def impl(self) -> Any:
        return self.operations.impl

    def get_bind(self) -> Connection:
        """The connection the migration runs on (none offline)."""
        return self.operations.get_bind()

    def get_context(self) -> Any:
        """The migration context this run belongs to."""
        return self.operations.get_context()

    def f(self, name: str) -> conv:
        """Mark ``name`` final: a naming convention will not rewrite it (``batch_op.f``)."""
        return self.operations.f(name)

    def inline_literal(self, value: Any, type_: Any = None) -> InlineLiteral:
        """A value written into the SQL itself, so a statement reads the same offline."""
        return self.operations.inline_literal(value, type_)

    def add_column(
        self,
        column: Column[Any],
        *,
        insert_before: str | None = None,
        insert_after: str | None = None,
        if_not_exists: bool | None = None,
    ) -> None:
        """Add ``column``; on a recreate, before or after the named column (default: last)."""
        self.batch.append(AddColumn(column, insert_before, insert_after, if_not_exists))

    def drop_column(self, column_name: str, **kw: Any) -> None:
        """Drop the column (on a recreate, with the constraints and indexes that use it)."""
        self.batch.append(DropColumn(column_name, kw))

    def alter_column(
        self,
        column_name: str,
        *,
        nullable: bool | None = None,
        comment: str | None = _UNSET,
        server_default: Any = _UNSET,
        new_column_name: str | None = None,
        type_: Any = None,
        autoincrement: bool | None = None,
        insert_before: str | None = None,
        insert_after: str | None = None,
        existing_type: Any = None,
        existing_server_default: Any = _UNSET,
        existing_nullable: bool | None = None,
        existing_comment: str | None = None,
        existing_autoincrement: bool | None = None,
        **kw: Any,
    ) -> None:
        """Change the column; arguments left out stay as they are (None drops a default)."""
        given = {
            "nullable": nullable,
            "new_column_name": new_column_name,
            "type_": type_,
            "autoincrement": autoincrement,
            "insert_before": insert_before,
            "insert_after": insert_after,
        }
        changes = {k: v for k, v in given.items() if v is not None}
        if comment is not _UNSET:
            changes["comment"] = comment
        if server_default is not _UNSET:
            changes["server_default"] = server_default
        existing = {
            k: v
            for k, v in {
                "existing_type": existing_type,
                "existing_nullable": existing_nullable,
                "existing_comment": existing_comment,
                "existing_autoincrement": existing_autoincrement,
                **kw,
            }.items()
            if v is not None
        }
        if existing_server_default is not _UNSET:
            existing["existing_server_default"] = existing_server_default
        self.batch.append(AlterColumn(column_name, changes, existing))

    def create_index(
        self,
        index_name: str | None,
        columns: Sequence[IndexElement] | str,
        *,
        unique: bool = False,
        **kw: Any,
    ) -> None:
        """CREATE INDEX on this table."""
        elements = [columns] if isinstance(columns, str) else list(columns)
        self.batch.append(CreateIndex(index_name, elements, unique, kw))

    def drop_index(self, index_name: str, **kw: Any) -> None:
        """DROP INDEX of this table."""
        self.batch.append(DropIndex(index_name, kw))

    def create_unique_constraint(
        self, constraint_name: str | None, columns: Sequence[str], **kw: Any
    ) -> None:
        """Add a UNIQUE constraint."""
        self.batch.append(CreateUniqueConstraint(constraint_name, list(columns), kw))

    def create_foreign_key(
        self,
        constraint_name: str | None,
        referent_table: str,
        local_cols: Sequence[str],
        remote_cols: Sequence[str],
        *,
        referent_schema: str | None = None,
        onupdate: str | None = None,
        ondelete: str | None = None,
        deferrable: bool | None = None,
        initially: str | None = None,
        match: str | None = None,
        **dialect_kw: Any,
    ) -> None:
        """Add a FOREIGN KEY from ``local_cols`` to ``referent_table``'s ``remote_cols``."""
        options = {
            "onupdate": onupdate,
            "ondelete": ondelete,
            "deferrable": deferrable,
            "initially": initially,
            "match": match,
            **dialect_kw,
        }
        kw = {k: v for k, v in options.items() if v is not None}
        fk = CreateForeignKey(
            constraint_name,
            referent_table,
            list(local_cols),
            list(remote_cols),
            referent_schema,
            kw,
        )
        self.batch.append(fk)

    def create_check_constraint(
        self, constraint_name: str | None, condition: Any, **kw: Any
    ) -> None:
        """Add a CHECK constraint (a string or a SQL expression)."""
        self.batch.append(CreateCheckConstraint(constraint_name, condition, kw))

    def drop_constraint(
        self,
        constraint_name: str | None,
        type_: str | None = None,
        *,
        if_exists: bool | None = None,
        columns: Sequence[str] | None = None,
    ) -> None:
        """Drop a constraint (``type_``: "foreignkey", "unique", "check", "primary").

        An unnamed one (SQLite reflects foreign keys without names) is found by ``type_``
        and its ``columns`` (a foreign key's local columns).
        """
        found_by = tuple(columns) if columns is not None else None
        self.batch.append(DropConstraint(constraint_name, type_, if_exists, found_by))

    def create_primary_key(self, constraint_name: str | None, columns: Sequence[str]) -> None:
        """Make ``columns`` the primary key (replacing any other)."""
        self.batch.append(CreatePrimaryKey(constraint_name, list(columns)))

    def create_table_comment(self, comment: str, *, existing_comment: str | None = None) -> None:
        """Set the table's comment."""
        self.batch.append(TableComment(comment, existing_comment))

    def drop_table_comment(self, *, existing_comment: str | None = None) -> None:
        """Remove the table's comment."""
        self.batch.append(TableComment(None, existing_comment))

    def execute(
        self, sqltext: Executable | str, *, execution_options: Mapping[str, Any] | None = None
    ) -> None:
        """Run a statement with the batch (after the new table is in place, on a recreate)."""
        self.batch.append(Execute(sqltext, execution_options))


# -- applying ---------------------------------------------------------------------------------


@dataclass(repr=False)
class BatchOptions:
    """What ``batch_alter_table`` was asked for, besides the table's name."""

    __repr__ = fields_repr

    recreate: str = "auto"
    partial_reordering: Sequence[Sequence[str]] | None = None
    copy_from: Table | None = None
    table_args: Sequence[SchemaItem] = ()
    table_kwargs: Mapping[str, Any] | None = None
    reflect_args: Sequence[SchemaItem] = ()
    reflect_kwargs: Mapping[str, Any] | None = None
    naming_convention: Mapping[str, Any] | None = None


@contextlib.contextmanager
def batch_alter_table(
    operations: Operations,
    table_name: str,
    *,
    schema: str | None = None,
    recreate: str = "auto",
    partial_reordering: Sequence[Sequence[str]] | None = None,
    copy_from: Table | None = None,
    table_args: Sequence[SchemaItem] = (),
    table_kwargs: Mapping[str, Any] | None = None,
    reflect_args: Sequence[SchemaItem] = (),
    reflect_kwargs: Mapping[str, Any] | None = None,
    naming_convention: Mapping[str, Any] | None = None,
) -> Iterator[BatchOperations]:
    """Record the block's changes to ``table_name`` and apply them together on exit."""
    if recreate not in _RECREATE_CHOICES:
        raise ValueError(
            f"recreate must be one of {', '.join(_RECREATE_CHOICES)}; got {recreate!r}"
        )
    options = BatchOptions(
        recreate,
        [tuple(group) for group in partial_reordering or ()],
        copy_from,
        tuple(table_args),
        table_kwargs,
        tuple(reflect_args),
        reflect_kwargs,
        naming_convention,
    )
    batch_op = BatchOperations(operations, table_name, schema)
    yield batch_op
    flush(batch_op, options)


def flush(batch_op: BatchOperations, options: BatchOptions) -> None:
    """Apply what ``batch_op`` recorded: replayed as ALTERs, or by recreating the table."""
    operations = batch_op.operations
    if not batch_op.batch and options.recreate != "always" and not options.partial_reordering:
        return
    if not _recreates(batch_op, options):
        for recorded in batch_op.batch:
            recorded.check_available(operations)  # before anything runs
        for recorded in batch_op.batch:
            recorded.replay(operations, batch_op.table_name, batch_op.schema)
        return
    from amigrate.operations.batch_recreate import recreate_table

    recreate_table(batch_op, options)


def _recreates(batch_op: BatchOperations, options: BatchOptions) -> bool:
    """Whether to recreate the table; raises when that is needed but not allowed."""
    dialect = batch_op.operations.impl.dialect.name
    if dialect != "sqlite":
        if options.recreate == "always" or options.partial_reordering:
            what = "recreate=" + repr(options.recreate) if options.recreate == "always" else ""
            raise UnsupportedOperationError(
                f"batch_alter_table({batch_op.table_name!r}, "
                f"{what or 'partial_reordering=...'}) recreates tables on SQLite only",
                hint=f"on {dialect} the batch runs as ALTER statements; use recreate='auto'",
            )
        return False
    needs = [op.method for op in batch_op.batch if not op.sqlite_plain()]
    if options.partial_reordering:
        needs.append("partial_reordering")
    if options.recreate == "never" and needs:
        raise UnsupportedOperationError(
            f"batch_alter_table({batch_op.table_name!r}, recreate='never'): SQLite's "
            f"ALTER TABLE cannot do {', '.join(dict.fromkeys(needs))}",
            hint="let batch mode recreate the table (recreate='auto')",
        )
    return options.recreate == "always" or bool(needs)


__all__ = ["BatchOperations", "BatchOptions", "batch_alter_table", "flush"]
