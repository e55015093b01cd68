"""Which function carries out an operation: op type (+ dialect) → implementation.

An implementation is ``fn(operations, op)``; it builds the schema objects the op needs and
calls the dialect implementation (``operations.impl``). Plugins add their own with
``@Operations.implementation_for(MyOp)``, optionally for one dialect only, and may
replace the built-in ones the same way. Lookup walks the op class's MRO, preferring a
dialect-specific function at each step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from amigrate.errors import AmigrateError
from amigrate.operations import schemaobj
from amigrate.operations.ops import (
    AddColumnOp,
    AddConstraintOp,
    AlterColumnOp,
    BulkInsertOp,
    CreateExcludeConstraintOp,
    CreateIndexOp,
    CreateTableCommentOp,
    CreateTableOp,
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
    from sqlalchemy.schema import Table

    from amigrate.operations.base import Operations

Implementation = Callable[["Operations", Any], Any]
_F = TypeVar("_F", bound=Implementation)

_registry: dict[tuple[type[MigrateOperation], str | None], Implementation] = {}


def register(op_type: type[MigrateOperation], dialect: str | None = None) -> Callable[[_F], _F]:
    """Decorator: ``fn`` carries out ``op_type`` (on ``dialect`` only, if given)."""

    def decorate(fn: _F) -> _F:
        _registry[(op_type, dialect)] = fn
        return fn

    return decorate


def lookup(op_type: type[MigrateOperation], dialect: str | None = None) -> Implementation:
    """The function for ``op_type`` on ``dialect``; ``NotImplementedError`` if none."""
    for cls in op_type.__mro__:
        for key in ((cls, dialect), (cls, None)):
            found = _registry.get(key)
            if found is not None:
                return found
    raise NotImplementedError(
        f"no implementation for {op_type.__name__}"
        + (f" on {dialect}" if dialect else "")
        + "; register one with @Operations.implementation_for"
    )


# -- the core operations ----------------------------------------------------------------------


@register(CreateTableOp)
def create_table(operations: Operations, op: CreateTableOp) -> Table:
    table = op.to_table(operations.schema_metadata())
    operations.impl.create_table(table, if_not_exists=bool(op.if_not_exists))
    return table


@register(DropTableOp)
def drop_table(operations: Operations, op: DropTableOp) -> None:
    table = op.to_table(operations.schema_metadata())
    operations.impl.drop_table(table, if_exists=bool(op.if_exists))


@register(RenameTableOp)
def rename_table(operations: Operations, op: RenameTableOp) -> None:
    operations.impl.rename_table(op.old_table_name, op.new_table_name, op.schema)


@register(AddColumnOp)
def add_column(operations: Operations, op: AddColumnOp) -> None:
    table = schemaobj.table(
        op.table_name, op.column, schema=op.schema, metadata=operations.schema_metadata()
    )
    column = table.columns[0]  # op.column, or its copy when it belonged to another table
    operations.impl.add_column(
        op.table_name, column, op.schema, if_not_exists=bool(op.if_not_exists)
    )


@register(DropColumnOp)
def drop_column(operations: Operations, op: DropColumnOp) -> None:
    operations.impl.drop_column(
        op.table_name, op.column_name, op.schema, if_exists=bool(op.if_exists)
    )


@register(AlterColumnOp)
def alter_column(operations: Operations, op: AlterColumnOp) -> None:
    operations.impl.alter_column(op.table_name, op.column_name, op.schema, changes=op.changes())


@register(AddConstraintOp)
def add_constraint(operations: Operations, op: AddConstraintOp) -> None:
    operations.impl.add_constraint(op.to_constraint(operations.schema_metadata()))


@register(CreateExcludeConstraintOp)
def exclude_elsewhere(operations: Operations, op: CreateExcludeConstraintOp) -> None:
    raise operations.impl.unsupported(
        "create an EXCLUDE constraint", hint="EXCLUDE constraints are PostgreSQL's"
    )


@register(CreateExcludeConstraintOp, "postgresql")
def exclude(operations: Operations, op: CreateExcludeConstraintOp) -> None:
    operations.impl.add_constraint(op.to_constraint(operations.schema_metadata()))


@register(DropConstraintOp)
def drop_constraint(operations: Operations, op: DropConstraintOp) -> None:
    constraint = op.to_constraint(operations.schema_metadata())
    if constraint.name is None:
        raise AmigrateError(
            f"cannot drop an unnamed constraint of table {op.table_name!r}",
            hint="give the constraint a name, or set a naming convention on the target metadata",
        )
    operations.impl.drop_constraint(constraint, if_exists=bool(op.if_exists))


@register(CreateTableCommentOp)
def create_table_comment(operations: Operations, op: CreateTableCommentOp) -> None:
    table = schemaobj.table(
        op.table_name, schema=op.schema, comment=op.comment, metadata=operations.schema_metadata()
    )
    operations.impl.create_table_comment(table)


@register(DropTableCommentOp)
def drop_table_comment(operations: Operations, op: DropTableCommentOp) -> None:
    table = schemaobj.table(op.table_name, schema=op.schema, metadata=operations.schema_metadata())
    operations.impl.drop_table_comment(table)


@register(CreateIndexOp)
def create_index(operations: Operations, op: CreateIndexOp) -> None:
    index = op.to_index(operations.schema_metadata())
    operations.impl.create_index(index, if_not_exists=bool(op.if_not_exists))


@register(DropIndexOp)
def drop_index(operations: Operations, op: DropIndexOp) -> None:
    index = op.to_index(operations.schema_metadata())
    operations.impl.drop_index(index, if_exists=bool(op.if_exists))


@register(DropIndexOp, "mysql")
@register(DropIndexOp, "mariadb")
def drop_index_of_table(operations: Operations, op: DropIndexOp) -> None:
    if op.table_name is None:
        raise operations.impl.unsupported(
            f"drop index {op.index_name!r} without its table", hint="pass table_name="
        )
    drop_index(operations, op)


@register(ExecuteSQLOp)
def execute(operations: Operations, op: ExecuteSQLOp) -> None:
    operations.impl.execute(op.sqltext, op.execution_options)


@register(BulkInsertOp)
def bulk_insert(operations: Operations, op: BulkInsertOp) -> None:
    operations.impl.bulk_insert(op.table, op.rows, multiinsert=op.multiinsert)


__all__ = ["Implementation", "lookup", "register"]
