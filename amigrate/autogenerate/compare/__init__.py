"""Compare a SchemaReflection with the models, into an UpgradeOps tree.

The order of the tree: enum types to create, tables to create (dependency order), tables to
drop (reverse dependency order), then one ``ModifyTableOps`` per table on both sides
(columns added and removed, columns altered, indexes and unique constraints, foreign keys,
checks, the table comment), then enum types to drop. The per-table comparators of indexes,
foreign keys, checks and enums live in their own modules and are looked up by name, so a
comparator not written yet is simply skipped.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from amigrate.autogenerate.compare.columns import compare_columns
from amigrate.autogenerate.compare.comments import compare_table_comment
from amigrate.autogenerate.compare.tables import (
    create_table_op,
    drop_order,
    drop_table_op,
    table_from_reflection,
)
from amigrate.operations.ops import ModifyTableOps, UpgradeOps

if TYPE_CHECKING:
    from sqlalchemy.schema import Table

    from amigrate.autogenerate.api import AutogenContext
    from amigrate.autogenerate.reflect import ReflectedTable, SchemaReflection
    from amigrate.operations.ops import MigrateOperation

TableComparator = Callable[["AutogenContext", ModifyTableOps, "ReflectedTable", "Table"], None]

TABLE_COMPARATORS: list[tuple[str, str]] = [
    ("indexes", "compare_indexes"),
    ("foreign_keys", "compare_foreign_keys"),
    ("checks", "compare_checks"),
]
"""(module in this package, function): run in this order for each table on both sides."""


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
    compare_enums = _comparator("enums", "compare_enums")
    if compare_enums is not None:
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
    comparators = [
        found for module, name in TABLE_COMPARATORS if (found := _comparator(module, name))
    ]
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
        compare_columns(ctx, table_ops, reflected, model)
        for comparator in comparators:
            comparator(ctx, table_ops, reflected, model)
        compare_table_comment(ctx, table_ops, reflected, model)
        if not table_ops.is_empty():
            changed.append(table_ops)
    return changed


def _comparator(module: str, name: str) -> Any:
    """``compare.<module>.<name>``, or None while that comparator is not written."""
    try:
        found = importlib.import_module(f"{__name__}.{module}")
    except ImportError:
        return None
    return getattr(found, name, None)


__all__ = ["TABLE_COMPARATORS", "TableComparator", "compare_schema"]
