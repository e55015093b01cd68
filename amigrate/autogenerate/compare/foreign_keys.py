"""Comparator: a table's foreign keys, model against database.

A foreign key is what it links — local columns, referred schema, table and columns — and
what it does on delete and update; a change in any of these is a drop and a create.
SQLite reflects foreign keys without names, so they pair by that signature alone.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa

from amigrate.autogenerate.compare.matching import (
    ColumnChanges,
    Item,
    drop_early,
    emit,
    match,
    model_item,
    parent_names,
    unnamed_constraint_name,
)
from amigrate.ddl.elements import foreign_key_target
from amigrate.operations.ops import CreateForeignKeyOp

if TYPE_CHECKING:
    from collections.abc import Hashable

    from sqlalchemy.schema import Table

    from amigrate.autogenerate.api import AutogenContext
    from amigrate.autogenerate.reflect import ReflectedTable
    from amigrate.operations.ops import ModifyTableOps

_DEFAULT_ACTIONS = {"postgresql": {"NO ACTION"}, "sqlite": {"NO ACTION"}}
"""Actions that mean "no action given", per dialect (MySQL: RESTRICT is the default too)."""
_DEFAULT_ACTIONS_OTHER = {"NO ACTION", "RESTRICT"}


def compare_foreign_keys(
    ctx: AutogenContext, table_ops: ModifyTableOps, reflected: ReflectedTable, model: Table
) -> None:
    """Foreign keys added, removed or changed on one table."""
    changes = ColumnChanges.of(table_ops)
    names = parent_names(reflected)
    database = [
        Item(fk["name"], _db_signature(ctx, reflected, fk), fk)
        for fk in reflected.foreign_keys
        if ctx.include_name(fk["name"], "foreign_key_constraint", names)
    ]
    doomed = [d for d in database if changes.drops_any(d.obj["constrained_columns"])]
    kept = [d for d in database if all(d is not gone for gone in doomed)]
    models = [
        model_item(ctx, fk, _model_signature(ctx, fk))
        for fk in model.foreign_key_constraints
        if not changes.carries(fk)
    ]

    def reflected_op(d: Item[Any]) -> CreateForeignKeyOp:
        return _op(d, reflected, _db_kw(d.obj))

    def create(m: Item[Any]) -> CreateForeignKeyOp:
        added = _op(m, reflected, _model_kw(m.obj))
        if added.constraint_name is not None:
            return added
        name = unnamed_constraint_name(ctx, reflected.name, added.local_cols, "fkey")
        return dataclasses.replace(added, constraint_name=name)

    type_ = "foreign_key_constraint"
    emit(ctx, table_ops, type_, match(models, kept), create, reflected_op)
    drop_early(ctx, table_ops, type_, doomed, reflected_op)


def _model_signature(ctx: AutogenContext, fk: sa.ForeignKeyConstraint) -> Hashable:
    targets = [_target(element) for element in fk.elements]
    schema, table = targets[0][:2] if targets else (None, "")
    options = {
        "ondelete": fk.ondelete,
        "onupdate": fk.onupdate,
        "deferrable": fk.deferrable,
        "initially": fk.initially,
    }
    return _signature(
        ctx, tuple(fk.column_keys), schema, table, tuple(t[2] for t in targets), options
    )


def _target(element: sa.ForeignKey) -> tuple[str | None, str, str]:
    """(schema, table, column) the key points at: resolved when the target is in the models."""
    try:
        column = element.column
    except (sa.exc.NoReferencedTableError, sa.exc.NoReferencedColumnError):
        schema, table, name = foreign_key_target(element)
        metadata = element.parent.table.metadata if element.parent is not None else None
        return schema or (metadata.schema if metadata is not None else None), table, name
    return column.table.schema, column.table.name, column.name


def _db_signature(ctx: AutogenContext, table: ReflectedTable, fk: dict[str, Any]) -> Hashable:
    return _signature(
        ctx,
        tuple(fk["constrained_columns"]),
        fk.get("referred_schema"),
        fk["referred_table"],
        tuple(fk["referred_columns"]),
        fk.get("options") or {},
    )


def _signature(
    ctx: AutogenContext,
    local: tuple[str, ...],
    schema: str | None,
    table: str,
    remote: tuple[str, ...],
    options: dict[str, Any],
) -> Hashable:
    default_schema = ctx.dialect.default_schema_name
    if schema == default_schema:
        schema = None
    defaults = _DEFAULT_ACTIONS.get(ctx.dialect_name, _DEFAULT_ACTIONS_OTHER)
    actions = tuple(_action(options.get(key), defaults) for key in ("ondelete", "onupdate"))
    deferral: tuple[Any, ...] = ()
    if ctx.dialect_name == "postgresql":  # only PostgreSQL reflects these
        initially = str(options.get("initially") or "IMMEDIATE").upper()
        deferral = (bool(options.get("deferrable")), initially)
    return local, schema, table, remote, actions, deferral


def _action(value: Any, defaults: set[str]) -> str | None:
    text = str(value).upper() if value is not None else None
    return None if text is None or text in defaults else text


def _model_kw(fk: sa.ForeignKeyConstraint) -> dict[str, Any]:
    options = {
        "ondelete": fk.ondelete,
        "onupdate": fk.onupdate,
        "deferrable": fk.deferrable,
        "initially": fk.initially,
        "match": fk.match,
        **fk.dialect_kwargs,
    }
    return {key: value for key, value in options.items() if value is not None}


def _db_kw(fk: dict[str, Any]) -> dict[str, Any]:
    options = fk.get("options") or {}
    return {key: value for key, value in options.items() if value is not None}


def _op(item: Item[Any], table: ReflectedTable, kw: dict[str, Any]) -> CreateForeignKeyOp:
    local, schema, referent, remote = cast("tuple[Any, ...]", item.signature)[:4]
    return CreateForeignKeyOp(
        item.name,
        table.name,
        referent,
        local,
        remote,
        source_schema=table.schema,
        referent_schema=schema,
        kw=kw,
    )


__all__ = ["compare_foreign_keys"]
