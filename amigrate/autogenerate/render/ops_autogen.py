"""Renderers for autogenerate's own ops: PostgreSQL enum types, notes, reversible SQL.

They become plain ``op.execute(...)`` calls and comments, so a revision file runs without
amigrate-specific operations, online and offline (``--sql``) alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from amigrate.autogenerate.ops import (
    AddEnumValueOp,
    CreateEnumTypeOp,
    DropEnumTypeOp,
    ExecuteReversibleSQLOp,
    TodoOp,
)
from amigrate.autogenerate.render.code import Call, Expr, format_expr
from amigrate.autogenerate.render.literals import comment_lines, string, text_source
from amigrate.autogenerate.render.registry import Target, renderer

if TYPE_CHECKING:
    from amigrate.autogenerate.api import AutogenContext


def _enum(name: str, values: tuple[str, ...], schema: str | None, ctx: AutogenContext) -> Call:
    ctx.imports.add("from sqlalchemy.dialects import postgresql")
    call = Call("postgresql.ENUM", [string(v) for v in values], [("name", string(name))])
    if schema is not None:
        call.kwargs.append(("schema", string(schema)))
    return call


@renderer(CreateEnumTypeOp)
def create_enum_type(op: CreateEnumTypeOp, t: Target) -> list[Expr]:
    """``op.execute(postgresql.CreateEnumType(postgresql.ENUM(...)))``: exact, needs no bind."""
    ddl = Call("postgresql.CreateEnumType", [_enum(op.name, op.values, op.schema, t.ctx)])
    return [Call("op.execute", [ddl])]


@renderer(DropEnumTypeOp)
def drop_enum_type(op: DropEnumTypeOp, t: Target) -> list[Expr]:
    ddl = Call("postgresql.DropEnumType", [_enum(op.name, op.values, op.schema, t.ctx)])
    return [Call("op.execute", [ddl])]


@renderer(AddEnumValueOp)
def add_enum_value(op: AddEnumValueOp, t: Target) -> list[Expr]:
    """``ALTER TYPE ... ADD VALUE IF NOT EXISTS`` in an autocommit block (it cannot run in a
    transaction on PostgreSQL before 12, nor be used in the transaction that adds it).

    ``IF NOT EXISTS``: the downgrade cannot remove the value, so upgrading again after a
    downgrade must not fail on it."""
    from sqlalchemy.dialects import postgresql

    preparer = postgresql.dialect().identifier_preparer  # type: ignore[no-untyped-call]
    type_name = preparer.quote(op.name)
    if op.schema is not None:
        type_name = f"{preparer.quote_schema(op.schema)}.{type_name}"
    sql = f"ALTER TYPE {type_name} ADD VALUE IF NOT EXISTS {_sql_string(op.value)}"
    if op.before is not None:
        sql += f" BEFORE {_sql_string(op.before)}"
    elif op.after is not None:
        sql += f" AFTER {_sql_string(op.after)}"
    statement = format_expr(Call("op.execute", [string(text_source(sql))]), indent=4)
    return ["with op.get_context().autocommit_block():\n    " + statement]


def _sql_string(value: str) -> str:
    """A PostgreSQL string literal (standard-conforming: only quotes are doubled)."""
    return "'" + value.replace("'", "''") + "'"


@renderer(TodoOp)
@renderer(TodoOp, batch=True)
def todo(op: TodoOp, t: Target) -> list[Expr]:
    """``# TODO: ...`` lines, then the suggestion as commented-out code."""
    lines = comment_lines(op.text, first="# TODO: ", rest="#       ")
    if op.suggestion:
        lines += comment_lines_verbatim(op.suggestion)
    return ["\n".join(lines)]


def comment_lines_verbatim(code: str) -> list[str]:
    """Code as commented lines, unwrapped (non-printable characters escaped)."""
    return [
        ("# " + "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)).rstrip()
        for line in code.splitlines()
    ]


@renderer(ExecuteReversibleSQLOp)
@renderer(ExecuteReversibleSQLOp, batch=True)
def execute_reversible_sql(op: ExecuteReversibleSQLOp, t: Target) -> list[Expr]:
    """``op.execute("...")`` running the SQL exactly (``:name`` is not a parameter here)."""
    statements: list[Expr] = []
    if op.description:
        statements.append("\n".join(comment_lines(op.description)))
    statements.append(Call(t.op + "execute", [string(text_source(op.sql))]))
    return statements


__all__ = ["comment_lines_verbatim"]
