"""Comparator: PostgreSQL enum types, once per schema, model against database.

A type the models use and the database lacks is created before the table ops (tables and
columns using it are then rendered with ``create_type=False``); a type nothing uses any
more is dropped after them. "Nothing" means nothing in the database once the migration
has run: a column of a table the comparison leaves alone (excluded, another schema, a
view) keeps the type. New values are added where the model puts them; PostgreSQL cannot
remove or reorder values, so those changes become a note for the reviewer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from amigrate.autogenerate.ops import AddEnumValueOp, CreateEnumTypeOp, DropEnumTypeOp, TodoOp
from amigrate.operations import schemaobj

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.schema import Table
    from sqlalchemy.types import TypeEngine

    from amigrate.autogenerate.api import AutogenContext
    from amigrate.autogenerate.reflect import SchemaReflection
    from amigrate.operations.ops import MigrateOperation

# relkind is a "char": as text, for asyncpg returns that type as bytes
_USERS = sa.text(
    """
    SELECT t.typname, cn.nspname, c.relname, c.relkind::text, a.attname
    FROM pg_catalog.pg_type t
    JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
    JOIN pg_catalog.pg_attribute a ON a.atttypid IN (t.oid, t.typarray)
    JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
    JOIN pg_catalog.pg_namespace cn ON cn.oid = c.relnamespace
    WHERE t.typtype = 'e' AND tn.nspname = :schema AND NOT a.attisdropped
      AND c.relkind <> 'i'
    """
)


def compare_enums(
    ctx: AutogenContext, schema: str | None, reflection: SchemaReflection, models: list[Table]
) -> tuple[list[MigrateOperation], list[MigrateOperation]]:
    """(ops before the table ops, ops after them) for the enum types of ``schema``."""
    if ctx.dialect_name != "postgresql":
        return [], []
    # a table of another schema may use this schema's types (an Enum without a schema
    # lives in the default one, whatever its table's schema)
    wanted = _model_enums(ctx, schema, [*models, *ctx.sorted_tables()])
    existing = {e["name"]: tuple(e["labels"]) for e in reflection.enums.get(schema, [])}
    before: list[MigrateOperation] = []
    for name, labels in wanted.items():
        if name not in existing:
            before.append(CreateEnumTypeOp(name, labels, schema=schema))
        else:
            before.extend(_value_changes(name, existing[name], labels, schema))
    unused = [name for name in existing if name not in wanted]
    after: list[MigrateOperation] = []
    if unused:
        users = _database_users(ctx, schema)
        for name in unused:
            if all(_goes_away(ctx, reflection, models, user) for user in users.get(name, [])):
                after.append(DropEnumTypeOp(name, existing[name], schema=schema))
    return before, after


# -- what the models use ------------------------------------------------------------------------


def _model_enums(
    ctx: AutogenContext, schema: str | None, tables: Iterable[Table]
) -> dict[str, tuple[str, ...]]:
    """Native enum types (name → labels) of ``schema`` used by the tables' columns."""
    found: dict[str, tuple[str, ...]] = {}
    for table in tables:
        for column in table.columns:
            enum = native_enum(column.type)
            if enum is not None and _schema(ctx, enum.schema) == schema and enum.name:
                found.setdefault(str(enum.name), tuple(enum.enums))
    return found


def native_enum(type_: TypeEngine[Any]) -> sa.Enum | None:
    """The PostgreSQL enum type a column type is or holds (in an ARRAY, a TypeDecorator)."""
    if isinstance(type_, sa.TypeDecorator):
        type_ = type_.impl_instance
    if isinstance(type_, sa.ARRAY):
        type_ = type_.item_type
        if isinstance(type_, sa.TypeDecorator):
            type_ = type_.impl_instance
    if isinstance(type_, sa.Enum) and type_.native_enum:
        return type_
    return None


def _schema(ctx: AutogenContext, schema: str | None) -> str | None:
    return None if schema == ctx.dialect.default_schema_name else schema


# -- what the database uses ---------------------------------------------------------------------

_User = tuple[str | None, str, str, str]
"""(schema, relation, relkind, column) of a database column of an enum type."""


def _database_users(ctx: AutogenContext, schema: str | None) -> dict[str, list[_User]]:
    if ctx.connection is None:
        return {}
    nspname = schema if schema is not None else ctx.dialect.default_schema_name
    users: dict[str, list[_User]] = {}
    for typname, table_schema, relname, relkind, attname in ctx.connection.execute(
        _USERS, {"schema": nspname}
    ):
        users.setdefault(typname, []).append(
            (_schema(ctx, table_schema), relname, relkind, attname)
        )
    return users


def _goes_away(
    ctx: AutogenContext, reflection: SchemaReflection, models: list[Table], user: _User
) -> bool:
    """Whether the migration drops or retypes this column (so it stops using the type)."""
    schema, relname, relkind, column = user
    if relkind not in ("r", "p"):  # views, composite types, ...: left alone
        return False
    if (schema, relname) not in reflection.tables:  # not compared: left alone
        return False
    model = next(
        (t for t in [*models, *ctx.sorted_tables()] if (t.schema, t.name) == (schema, relname)),
        None,
    )
    if model is None:  # the table is dropped, unless the user's hook keeps it
        stub = schemaobj.table(relname, schema=schema)
        return ctx.include_object(stub, relname, "table", True, None)
    if column in model.columns:  # retyped to a type the models define
        return True
    stub_column = schemaobj.column(column)
    return ctx.include_object(stub_column, column, "column", True, None)


# -- values -------------------------------------------------------------------------------------


def _value_changes(
    name: str, have: tuple[str, ...], want: tuple[str, ...], schema: str | None
) -> list[MigrateOperation]:
    """One ``ADD VALUE`` per new value in place, or a note when values go or move."""
    if have == want:
        return []
    if [v for v in want if v in have] != list(have):
        return [_by_hand(name, have, want, schema)]
    ops: list[MigrateOperation] = []
    current = list(have)
    for position, value in enumerate(want):
        if value in current:
            continue
        if position == 0:
            ops.append(AddEnumValueOp(name, value, schema=schema, before=current[0]))
            current.insert(0, value)
        else:
            previous = want[position - 1]
            at_end = previous == current[-1]
            ops.append(AddEnumValueOp(name, value, schema, after=None if at_end else previous))
            current.insert(current.index(previous) + 1, value)
    return ops


def _by_hand(name: str, have: tuple[str, ...], want: tuple[str, ...], schema: str | None) -> TodoOp:
    qualified = f"{schema}.{name}" if schema else name
    gone = [v for v in have if v not in want]
    what = f"removes {gone}" if gone else "reorders its values"
    text = (
        f"enum type {qualified}: the models' values {list(want)} differ from the database's "
        f"{list(have)} ({what}); PostgreSQL cannot remove or reorder enum values. Create a new "
        "type with the wanted values, convert each column using it "
        "(ALTER COLUMN ... TYPE new_type USING column::text::new_type), then drop the old type "
        "and rename the new one."
    )
    reverse = (
        f"enum type {qualified}: restore the values {list(have)} (now {list(want)}) the same "
        "way: new type, convert the columns, drop and rename."
    )
    return TodoOp(text, reverse_text=reverse)


__all__ = ["compare_enums", "native_enum"]
