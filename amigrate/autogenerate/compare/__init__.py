"""Compare a SchemaReflection with the models, into an UpgradeOps tree.

The order of the tree: enum values to add (each in its autocommit block, which commits
what ran before it), enum types to create, foreign keys to drop, tables to drop (reverse
dependency order; their index names are free again), then one ``ModifyTableOps`` per table
on both sides (columns added and removed, columns altered, indexes and unique constraints,
checks, the table comment), tables to create (dependency order; what they refer to now
exists), foreign keys to create, then enum types to drop. (SQLite: see ``_sqlite_order``.)
A foreign key depends on the key it refers to, in whatever table: it goes first and comes
last. Within a table, drops of indexes and constraints come first and creations last, so an
index on a column (even in an expression) is gone before the column is dropped, and a new
column exists before its index is made.

SQLite checks no foreign key at DDL time, and its batch mode recreates whole tables: there
a table keeps its foreign keys in its own group, and only the order of the groups is
adjusted to what batch mode needs (see ``_sqlite_order``).
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
    refers_to,
    table_from_reflection,
)
from amigrate.autogenerate.ops import AddEnumValueOp
from amigrate.ddl.elements import foreign_key_target
from amigrate.operations.ops import (
    AddColumnOp,
    AddConstraintOp,
    CreateForeignKeyOp,
    CreateIndexOp,
    CreateTableOp,
    DropColumnOp,
    DropConstraintOp,
    DropIndexOp,
    DropTableOp,
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
    # ADD VALUE runs in an autocommit block, which commits what ran before it: first
    before.sort(key=lambda op: not isinstance(op, AddEnumValueOp))
    added = _added_tables(ctx, reflection, models)
    removed = _removed_tables(ctx, reflection, models)
    modified = _modified_tables(ctx, reflection, models)
    if ctx.dialect_name == "sqlite":
        changed = _sqlite_order(reflection, models, removed, modified)
        # a batch reflects the tables its new foreign keys refer to: those must exist first;
        # otherwise new tables go last (one may refer to a key a changed table gains)
        if any(_refers_to_new_table(group, added) for group in modified):
            return UpgradeOps([*before, *added, *changed, *after])
        return UpgradeOps([*before, *changed, *added, *after])
    # foreign keys apart: dropped before anything they refer to goes, made after everything
    # they refer to exists; a new table may refer to a key its referent gains in `modified`
    fk_drops, modified, fk_creates = _foreign_keys_apart(modified)
    return UpgradeOps([*before, *fk_drops, *removed, *modified, *added, *fk_creates, *after])


def _sqlite_order(
    reflection: SchemaReflection,
    models: list[Table],
    removed: list[MigrateOperation],
    modified: list[ModifyTableOps],
) -> list[MigrateOperation]:
    """Removed and modified tables, in an order SQLite's batch mode can run.

    No foreign key is checked at DDL time, but a batch reflects the tables its table refers
    to (dropped tables still referred to go after the batches), and refuses to drop a
    column another table's foreign key refers to (the batch dropping that key goes first).
    """
    modified.sort(key=lambda group: not _loses_foreign_key(group, reflection))
    kept = [reflection.tables[k] for k in map(reflection.key, models) if k in reflection.tables]
    if any(_referred_to(drop, kept) for drop in removed):
        return [*modified, *removed]
    return [*removed, *modified]


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
) -> list[ModifyTableOps]:
    changed: list[ModifyTableOps] = []
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


def _foreign_keys_apart(
    modified: list[ModifyTableOps],
) -> tuple[list[ModifyTableOps], list[ModifyTableOps], list[ModifyTableOps]]:
    """(foreign key drops, the rest, foreign key creations), one group per table each.

    A foreign key depends on the key or unique constraint it refers to, in any table: it
    goes before anything else is dropped, and comes after everything else is created.
    """
    drops: list[ModifyTableOps] = []
    rest: list[ModifyTableOps] = []
    creates: list[ModifyTableOps] = []
    for table_ops in modified:
        parts: tuple[list[MigrateOperation], ...] = ([], [], [])
        for op in table_ops.ops:
            parts[_foreign_key_phase(op)].append(op)
        for ops, into in zip(parts, (drops, rest, creates), strict=True):
            if ops:
                into.append(
                    ModifyTableOps(ops, table_name=table_ops.table_name, schema=table_ops.schema)
                )
    return drops, rest, creates


def _referred_to(drop: MigrateOperation, kept: list[ReflectedTable]) -> bool:
    assert isinstance(drop, DropTableOp)
    return any(refers_to(table, (drop.schema, drop.table_name)) for table in kept)


def _refers_to_new_table(group: ModifyTableOps, added: list[MigrateOperation]) -> bool:
    """Whether a table's group gives it a foreign key to one of the ``added`` tables."""
    new = {(op.schema, op.table_name) for op in added if isinstance(op, CreateTableOp)}
    targets: set[tuple[str | None, str]] = set()
    for op in group.ops:
        if isinstance(op, CreateForeignKeyOp):
            targets.add((op.referent_schema, op.referent_table))
        elif isinstance(op, AddColumnOp):
            targets.update(foreign_key_target(fk)[:2] for fk in op.column.foreign_keys)
    return bool(targets & new)


def _loses_foreign_key(group: ModifyTableOps, reflection: SchemaReflection) -> bool:
    """Whether a table's group drops one of its foreign keys (or a column that has one)."""
    schema = None if group.schema == reflection.default_schema else group.schema
    reflected = reflection.tables.get((schema, group.table_name))
    dropped = {op.column_name for op in group.ops if isinstance(op, DropColumnOp)}
    foreign_keys = reflected.foreign_keys if reflected is not None else []
    return any(_foreign_key_phase(op) == 0 for op in group.ops) or any(
        dropped.intersection(fk["constrained_columns"]) for fk in foreign_keys
    )


def _foreign_key_phase(op: MigrateOperation) -> int:
    """0: drop a foreign key; 1: anything else; 2: create a foreign key."""
    if isinstance(op, DropConstraintOp) and (
        op.type_ == "foreignkey" or isinstance(op.reverse_of, CreateForeignKeyOp)
    ):
        return 0
    return 2 if isinstance(op, CreateForeignKeyOp) else 1


def _phase(op: MigrateOperation) -> int:
    """0: drop an index or constraint; 1: columns, comments, notes; 2: create one."""
    if isinstance(op, DropIndexOp | DropConstraintOp):
        return 0
    if isinstance(op, CreateIndexOp | AddConstraintOp):
        return 2
    return 1


__all__ = ["TABLE_COMPARATORS", "TableComparator", "compare_schema"]
