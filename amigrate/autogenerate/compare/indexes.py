"""Comparator: a table's indexes and unique constraints, model against database.

Both kinds are matched the same way (`match`): by name where the model names the object,
else by what it covers; a changed object becomes a drop and a create. Expressions and
partial-index conditions are compared as normalised SQL text, because the database gives
back its own spelling (``lower((name)::text)`` for ``lower(name)``).

The matching itself is ``matching.py``'s, shared with foreign keys and checks.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy.sql.elements import ClauseElement

from amigrate.autogenerate.compare.matching import (
    ColumnChanges,
    Item,
    compile_sql,
    diff,
    drop_early,
    match,
    model_item,
    normalise_sql,
    object_name,
    parent_names,
    unnamed_constraint_name,
)
from amigrate.operations.ops import (
    CreateIndexOp,
    CreateUniqueConstraintOp,
    MigrateOperation,
)

if TYPE_CHECKING:
    from collections.abc import Hashable

    from sqlalchemy.schema import Index, Table

    from amigrate.autogenerate.api import AutogenContext
    from amigrate.autogenerate.reflect import ReflectedTable
    from amigrate.operations.ops import ModifyTableOps
    from amigrate.operations.schemaobj import IndexElement


def compare_indexes(
    ctx: AutogenContext, table_ops: ModifyTableOps, reflected: ReflectedTable, model: Table
) -> None:
    """Indexes and unique constraints added, removed or changed on one table."""
    changes = ColumnChanges.of(table_ops)
    names = parent_names(reflected)
    db_indexes = [
        Item(ix["name"], _db_index_signature(ctx, ix), ix)
        for ix in [*reflected.indexes, *_sqlite_unreflected_indexes(ctx, reflected)]
        if not ix.get("duplicates_constraint") and ctx.include_name(ix["name"], "index", names)
    ]
    db_uniques = [
        Item(uq["name"], tuple(uq["column_names"]), uq)
        for uq in reflected.unique_constraints
        if ctx.include_name(uq["name"], "unique_constraint", names)
    ]
    model_indexes = [
        model_item(ctx, ix, _model_index_signature(ctx, ix), index=True)
        for ix in model.indexes
        if not changes.carries(ix)
    ]
    model_uniques = [
        model_item(ctx, c, tuple(col.name for col in c.columns))
        for c in model.constraints
        if isinstance(c, sa.UniqueConstraint) and not changes.carries(c)
    ]

    def unique_op(item: Item[Any], kw: dict[str, Any]) -> CreateUniqueConstraintOp:
        columns = cast("tuple[str, ...]", item.signature)
        name = item.name or unnamed_constraint_name(ctx, reflected.name, columns, "key")
        return CreateUniqueConstraintOp(
            name, reflected.name, columns, schema=reflected.schema, kw=kw
        )

    def index_op(item: Item[Any]) -> CreateIndexOp:
        return _db_index_op(item.obj, reflected)

    drops: list[MigrateOperation] = []
    creates: list[MigrateOperation] = []
    for type_, model_items, db_items, create, reflected_op in (
        (
            "unique_constraint",
            model_uniques,
            db_uniques,
            lambda m: unique_op(m, _constraint_kw(m.obj)),
            lambda d: unique_op(d, {}),
        ),
        (
            "index",
            model_indexes,
            db_indexes,
            lambda m: _model_index_op(ctx, m.obj, reflected.schema),
            index_op,
        ),
    ):
        doomed = [d for d in db_items if changes.drops_any(d.obj.get("column_names") or ())]
        kept = [d for d in db_items if all(d is not gone for gone in doomed)]
        found = diff(ctx, type_, match(model_items, kept), create, reflected_op)
        drops.extend(found[0])
        creates.extend(found[1])
        drop_early(ctx, table_ops, type_, doomed, reflected_op)
    # all drops first: a unique index and a unique constraint may trade a name
    table_ops.ops.extend(drops + creates)


def _constraint_kw(constraint: sa.Constraint) -> dict[str, Any]:
    kw: dict[str, Any] = dict(constraint.dialect_kwargs)
    for key in ("deferrable", "initially"):
        if getattr(constraint, key, None) is not None:
            kw[key] = getattr(constraint, key)
    return kw


# -- signatures: what makes two indexes the same ----------------------------------------------

_SORT_SUFFIX = re.compile(r"\s+(asc|desc)?(\s*nulls\s+(first|last))?\s*$", re.IGNORECASE)


def _model_index_signature(ctx: AutogenContext, index: Index) -> Hashable:
    elements = [compile_sql(ctx, e) for e in index.expressions]
    where = index.dialect_kwargs.get(f"{ctx.dialect_name}_where")
    return _signature(
        ctx,
        bool(index.unique),
        elements,
        compile_sql(ctx, where) if where is not None else None,
        index.dialect_kwargs,
    )


def _db_index_signature(ctx: AutogenContext, reflected: dict[str, Any]) -> Hashable:
    options = reflected.get("dialect_options", {})
    where = options.get(f"{ctx.dialect_name}_where")
    return _signature(
        ctx,
        bool(reflected.get("unique")),
        _db_elements(reflected),
        str(where) if where is not None else None,
        options,
    )


def _signature(
    ctx: AutogenContext,
    unique: bool,
    elements: list[str],
    where: str | None,
    options: Any,
) -> Hashable:
    if ctx.dialect_name == "sqlite":  # SQLite's reflection does not report ASC/DESC
        elements = [_SORT_SUFFIX.sub("", e) for e in elements]
    prefix = ctx.dialect_name
    include = tuple(options.get(f"{prefix}_include") or ())
    using = str(options.get(f"{prefix}_using") or "btree").lower()
    return (
        unique,
        tuple(normalise_sql(e) for e in elements),
        normalise_sql(where),
        tuple(str(getattr(c, "name", c)) for c in include),
        using if prefix == "postgresql" else "",
    )


def _db_elements(reflected: dict[str, Any]) -> list[str]:
    """The reflected index's elements as SQL text, with their ASC/DESC/NULLS words."""
    names = reflected.get("expressions") or reflected.get("column_names") or []
    sorting = reflected.get("column_sorting") or {}
    words = {key: " ".join(w.replace("_", " ") for w in value) for key, value in sorting.items()}
    return [f"{name} {words[name]}" if name in words else str(name) for name in names]


# -- ops ----------------------------------------------------------------------------------------


def _model_index_op(ctx: AutogenContext, index: Index, schema: str | None) -> CreateIndexOp:
    """``create_index`` for a model index; expressions become SQL text for this dialect."""
    columns: list[IndexElement] = [
        e.name if isinstance(e, sa.Column) else sa.text(compile_sql(ctx, e))
        for e in index.expressions
    ]
    kw = {
        key: sa.text(compile_sql(ctx, value)) if isinstance(value, ClauseElement) else value
        for key, value in index.dialect_kwargs.items()
    }
    table = index.table
    return CreateIndexOp(
        object_name(index),
        table.name if table is not None else "",
        tuple(columns),
        schema=schema,
        unique=bool(index.unique),
        kw=kw,
    )


def _db_index_op(reflected: dict[str, Any], table: ReflectedTable) -> CreateIndexOp:
    """``create_index`` that makes the reflected index again (the reverse of its drop)."""
    columns: list[IndexElement] = []
    plain = set(reflected.get("column_names") or ())
    for name, text in zip(
        reflected.get("expressions") or reflected.get("column_names") or [],
        _db_elements(reflected),
        strict=True,
    ):
        columns.append(name if text == name and name in plain else sa.text(text))
    kw: dict[str, Any] = {}
    for key, value in (reflected.get("dialect_options") or {}).items():
        if key.endswith("_where") and value is not None:
            kw[key] = sa.text(_strip_outer_parens(str(value)))
        elif key.endswith("_include") and value:
            kw[key] = list(value)
        elif key.endswith("_using") and value:
            kw[key] = value
    return CreateIndexOp(
        reflected["name"],
        table.name,
        tuple(columns),
        schema=table.schema,
        unique=bool(reflected.get("unique")),
        kw=kw,
    )


def _strip_outer_parens(text: str) -> str:
    """``(a > 1)`` → ``a > 1``, leaving ``(a) > (1)`` alone."""
    text = text.strip()
    while text.startswith("(") and text.endswith(")"):
        inner, depth = text[1:-1], 0
        for char in inner:
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth < 0:
                return text
        text = inner.strip()
    return text


# -- SQLite: expression indexes SQLAlchemy does not reflect -------------------------------------


def _sqlite_unreflected_indexes(
    ctx: AutogenContext, reflected: ReflectedTable
) -> list[dict[str, Any]]:
    """SQLite indexes on expressions, which SQLAlchemy skips, parsed from their SQL text.

    Without them, every expression index would be created again on each run.
    """
    if ctx.dialect_name != "sqlite":
        return []
    known = {ix["name"] for ix in reflected.indexes}
    found = []
    for name, sql in reflected.index_sql.items():
        if name in known:
            continue
        parsed = _parse_create_index(sql)
        if parsed is not None:
            elements, where = parsed
            found.append(
                {
                    "name": name,
                    "unique": sql.lstrip().upper().startswith("CREATE UNIQUE"),
                    "column_names": [None] * len(elements),
                    "expressions": elements,
                    "dialect_options": {"sqlite_where": where} if where else {},
                }
            )
    return found


def _parse_create_index(sql: str) -> tuple[list[str], str | None] | None:
    """(elements, WHERE text) of a ``CREATE INDEX ... ON t (a, lower(b)) WHERE ...``."""
    on = re.search(r"\bON\b", sql, re.IGNORECASE)
    start = sql.find("(", on.end()) if on else -1
    if start < 0:
        return None
    depth, parts, current = 0, [], ""
    for end in range(start + 1, len(sql)):
        char = sql[end]
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                parts.append(current.strip())
                rest = sql[end + 1 :].strip()
                where = re.match(r"WHERE\b(.*)$", rest, re.IGNORECASE | re.DOTALL)
                return parts, where.group(1).strip() if where else None
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        current += char
    return None


__all__ = ["compare_indexes"]
