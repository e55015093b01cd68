"""Comparator: a table's named CHECK constraints, when env.py opts in.

Opt-in (``compare_check_constraints=True``) because the database keeps a check's text in
its own spelling and the comparison is by normalised text: PostgreSQL reads
``x IN ('a', 'b')`` back as ``x = ANY (ARRAY['a'::text, 'b'::text])``. Unnamed checks
are left alone (there is nothing to pair them by), and so are the checks SQLAlchemy
makes for ``Boolean``/``Enum(create_constraint=True)``, which follow their column's type.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from amigrate.autogenerate.compare.matching import (
    ColumnChanges,
    Item,
    compile_sql,
    drop_early,
    emit,
    match,
    model_item,
    normalise_sql,
    object_name,
    parent_names,
)
from amigrate.operations.ops import CreateCheckConstraintOp

if TYPE_CHECKING:
    from sqlalchemy.schema import Table

    from amigrate.autogenerate.api import AutogenContext
    from amigrate.autogenerate.reflect import ReflectedTable
    from amigrate.operations.ops import ModifyTableOps

_ANY_ARRAY = re.compile(r"=\s*any\s*\(\s*\(?\s*array\s*\[(.*?)\]\s*\)?\s*\)", re.IGNORECASE)

_PG_OPERATORS = [
    ("!~~*", " NOT ILIKE "),
    ("~~*", " ILIKE "),
    ("!~~", " NOT LIKE "),
    ("~~", " LIKE "),
]
"""How PostgreSQL writes LIKE back, longest first."""


def compare_checks(
    ctx: AutogenContext, table_ops: ModifyTableOps, reflected: ReflectedTable, model: Table
) -> None:
    """Named CHECK constraints added, removed or changed on one table (if opted in)."""
    if not ctx.opts.compare_check_constraints:
        return
    declared = [*model.constraints, *(c for column in model.columns for c in column.constraints)]
    checks = [c for c in declared if isinstance(c, sa.CheckConstraint)]
    own = [c for c in checks if not getattr(c, "_type_bound", False)]
    changes = ColumnChanges.of(table_ops)
    models = [
        model_item(ctx, c, check_text(compile_sql(ctx, c.sqltext)))
        for c in own
        if object_name(c) is not None and not changes.carries(c)
    ]
    database = _database_checks(ctx, reflected, checks, {item.lookup for item in models})

    def op(item: Item[Any], condition: str) -> CreateCheckConstraintOp:
        return CreateCheckConstraintOp(item.name, reflected.name, condition, reflected.schema)

    def reflected_op(d: Item[Any]) -> CreateCheckConstraintOp:
        return op(d, str(d.obj["sqltext"]))

    doomed = [d for d in database if _mentions(d.obj["sqltext"], changes.dropped)]
    kept = [d for d in database if all(d is not gone for gone in doomed)]

    def create(m: Item[Any]) -> CreateCheckConstraintOp:
        return op(m, compile_sql(ctx, m.obj.sqltext))

    emit(ctx, table_ops, "check_constraint", match(models, kept), create, reflected_op)
    drop_early(ctx, table_ops, "check_constraint", doomed, reflected_op)


def _database_checks(
    ctx: AutogenContext,
    reflected: ReflectedTable,
    checks: list[sa.CheckConstraint],
    modelled: set[str | None],
) -> list[Item[dict[str, Any]]]:
    """The database's named checks, less those that are the model's unnamed or type-bound
    ones (the database named them; they are not removals)."""
    ignored_names = {object_name(c) for c in checks if getattr(c, "_type_bound", False)}
    ignored_texts = {
        check_text(compile_sql(ctx, c.sqltext))
        for c in checks
        if object_name(c) is None or getattr(c, "_type_bound", False)
    }
    names = parent_names(reflected)
    return [
        Item(ck["name"], check_text(ck["sqltext"]), ck)
        for ck in reflected.check_constraints
        if ck.get("name")
        and ctx.include_name(ck["name"], "check_constraint", names)
        and (
            ck["name"] in modelled
            or (
                ck["name"] not in ignored_names
                and check_text(ck["sqltext"]) not in ignored_texts
                and not _named_by_database(ctx, reflected.name, ck["name"])
            )
        )
    ]


def _mentions(sql: str, columns: frozenset[str]) -> bool:
    """Whether a check's text names one of ``columns`` (dropping one drops the check)."""
    words = set(re.findall(r"\w+", str(sql).lower()))
    return any(column.lower() in words for column in columns)


def _named_by_database(ctx: AutogenContext, table: str, name: str) -> bool:
    """Whether PostgreSQL made up the name (``person_age_check``): the model's check was unnamed."""
    if ctx.dialect_name != "postgresql":
        return False
    return re.fullmatch(rf"{re.escape(table)}_(\w+_)?check\d*", name) is not None


def check_text(sql: str) -> str:
    """A check's condition reduced for comparison (see `normalise_sql`)."""
    text = _ANY_ARRAY.sub(lambda m: f" IN ({m.group(1)})", str(sql)).replace("!=", "<>")
    for operator, words in _PG_OPERATORS:
        text = text.replace(operator, words)
    return normalise_sql(text)


__all__ = ["check_text", "compare_checks"]
