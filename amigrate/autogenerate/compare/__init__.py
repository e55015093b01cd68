"""Compare a SchemaReflection with the models, into an UpgradeOps tree.

The order of the tree: enum types to create, tables to create (dependency order), tables to
drop (reverse dependency order), then one ``ModifyTableOps`` per table on both sides
(columns added and removed, columns altered, indexes and unique constraints, foreign keys,
checks, the table comment), then enum types to drop. Within a table, drops of indexes and
constraints come first and creations last, so an index on a column (even in an expression)
is gone before the column is dropped, and a new column exists before its index is made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from amigrate.autogenerate.compare.checks import compare_checks
from amigrate.autogenerate.compare.columns import compare_columns
from amigrate.autogenerate.compare.comments import compare_table_comment
from amigrate.autogenerate.compare.enums import compare_enums
from amigrate.autogenerate.compare.foreign_keys import compare_foreign_keys
from amigrate.autogenerate.compare.indexes import compare_indexes
from amigrate.autogenerate.compare.tables import (
    create_table_op,
    drop_order,
    drop_table_op,
    table_from_reflection,
)
from amigrate.operations.ops import (
    AddConstraintOp,
    CreateIndexOp,
    DropConstraintOp,
    DropIndexOp,
    ModifyTableOps,
    UpgradeOps,
)

if TYPE_CHECKING:
    from sqlalchemy.schema import Table

    from amigrate.autogenerate.api import AutogenContext
    from amigrate.autogenerate.reflect import ReflectedTable, SchemaReflection
    from amigrate.operations.ops import MigrateOperation

TableComparator = Callable[["AutogenContext", ModifyTableOps, "ReflectedTable", "Table"], None]

TABLE_COMPARATORS: list[TableComparator] = [
    compare_columns,
    compare_indexes,
    compare_foreign_keys,
    compare_checks,
    compare_table_comment,
]
"""Run in this order for each table on both sides."""


def compare_schema(ctx: AutogenContext, reflection: SchemaReflection) -> UpgradeOps:
    """The ops that turn the reflected database into what the models describe."""
    version = (ctx.opts.version_table_schema, ctx.opts.version_table)
    models = [
        t
        for t in ctx.sorted_tables()
        if (t.schema, t.name) != version and reflection.key(t) != version
    ]
    before: list[MigrateOperation] = []
    after: list[MigrateOperation] = []
    for schema in _schemas(reflection, models):
        in_schema = [t for t in models if reflection.key(t)[0] == schema]
        first, last = compare_enums(ctx, schema, reflection, in_schema)
        before.extend(first)
        after.extend(last)
    ops: list[MigrateOperation] = [*before]
    ops.extend(_added_tables(ctx, reflection, models))
    ops.extend(_removed_tables(ctx, reflection, models))
    ops.extend(_modified_tables(ctx, reflection, models))
    ops.extend(after)
    return UpgradeOps(ops)


def _schemas(reflection: SchemaReflection, models: list[Table]) -> list[str | None]:
    found = set(reflection.table_names) | {reflection.key(t)[0] for t in models}
    return sorted(found, key=lambda s: (s is not None, s or ""))


def _added_tables(
    ctx: AutogenContext, reflection: SchemaReflection, models: list[Table]
) -> list[MigrateOperation]:
    return [
        create_table_op(table)
        for table in models
        if reflection.key(table) not in reflection.tables
        and table.name not in reflection.table_names.get(reflection.key(table)[0], set())
        and ctx.include_object(table, table.name, "table", False, None)
    ]


def _removed_tables(
    ctx: AutogenContext, reflection: SchemaReflection, models: list[Table]
) -> list[MigrateOperation]:
    known = {reflection.key(t) for t in models}
    gone = [table for key, table in reflection.tables.items() if key not in known]
    return [
        drop_table_op(table, ctx.dialect)
        for table in drop_order(gone)
        if ctx.opts.include_object is None
        or ctx.include_object(
            table_from_reflection(table, ctx.dialect), table.name, "table", True, None
        )
    ]


def _modified_tables(
    ctx: AutogenContext, reflection: SchemaReflection, models: list[Table]
) -> list[MigrateOperation]:
    changed: list[MigrateOperation] = []
    for model in models:
        reflected = reflection.tables.get(reflection.key(model))
        if reflected is None:
            continue
        if ctx.opts.include_object is not None:
            compare_to = table_from_reflection(reflected, ctx.dialect)
            if not ctx.include_object(model, model.name, "table", False, compare_to):
                continue
        table_ops = ModifyTableOps(table_name=model.name, schema=model.schema)
        for comparator in TABLE_COMPARATORS:
            comparator(ctx, table_ops, reflected, model)
        table_ops.ops.sort(key=_phase)  # stable: each phase keeps the comparators' order
        if not table_ops.is_empty():
            changed.append(table_ops)
    return changed


def _phase(op: MigrateOperation) -> int:
    """0: drop an index or constraint; 1: columns, comments, notes; 2: create one."""
    if isinstance(op, DropIndexOp | DropConstraintOp):
        return 0
    if isinstance(op, CreateIndexOp | AddConstraintOp):
        return 2
    return 1


__all__ = ["TABLE_COMPARATORS", "TableComparator", "compare_schema"]
