"""One renderer per operation: the ``op.<name>(...)`` call a user would write by hand.

Inside a batch block the same renderers write ``batch_op.<name>(...)`` without the table
name and schema (the block names them); operations batch mode has no method for are
registered for plain rendering only, and the caller writes them between blocks.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from amigrate.autogenerate.render import objects
from amigrate.autogenerate.render.code import Call, Expr, Seq
from amigrate.autogenerate.render.literals import literal, name, string
from amigrate.autogenerate.render.registry import Target, renderer
from amigrate.autogenerate.render.types import render_type
from amigrate.operations import ops

if TYPE_CHECKING:
    from sqlalchemy.schema import Constraint, MetaData, Table

    from amigrate.autogenerate.api import AutogenContext


def _call(t: Target, method: str, table: str, *args: Expr) -> Call:
    """``op.method("table", *args)``, or ``batch_op.method(*args)`` in a batch block."""
    head = [] if t.batch else [string(table)]
    return Call(t.op + method, [*head, *args])


def _add(call: Call, key: str, value: Any, t: Target, *, when: bool = True) -> None:
    if when:
        call.kwargs.append((key, literal(value, t.ctx)))


def _schema(call: Call, schema: str | None, t: Target, key: str = "schema") -> None:
    _add(call, key, schema, t, when=schema is not None and not t.batch)


# -- tables -----------------------------------------------------------------------------------


@renderer(ops.CreateTableOp)
def create_table(op: ops.CreateTableOp, t: Target) -> list[Expr]:
    """``op.create_table(...)`` with columns and constraints, then its ``create_index`` calls."""
    from sqlalchemy.exc import SAWarning

    ctx = t.ctx
    with warnings.catch_warnings():  # column flags next to the same explicit constraint
        warnings.simplefilter("ignore", SAWarning)
        table = op.to_table(_metadata_like(op, ctx))
    items: list[Expr] = [objects.column(col, ctx) for col in table.columns]
    found: list[Constraint] = [c for c in table.constraints if _worth_rendering(c)]
    for col in table.columns:
        found += [c for c in col.constraints if objects.constraint_kind(c) == "check"]
    for item in _unique(sorted(found, key=objects.constraint_sort_key)):
        rendered = objects.constraint(item, ctx)
        if rendered is not None:
            items.append(rendered)
    call = Call("op.create_table", [string(op.table_name), *items])
    call.kwargs += objects.options(op.kw, ctx)
    _add(call, "if_not_exists", op.if_not_exists, t, when=op.if_not_exists is not None)
    _schema(call, op.schema, t)
    statements: list[Expr] = [call]
    for index in sorted(table.indexes, key=_index_sort_key):
        statement = objects.index_call(index, ctx, table_name=op.table_name, schema=op.schema)
        if statement not in statements:  # a column's index=True next to the same Index
            statements.append(statement)
    return statements


def _index_sort_key(index: Any) -> tuple[str, list[str]]:
    return str(index.name or ""), [str(e) for e in index.expressions]


def _unique(constraints: list[Constraint]) -> list[Constraint]:
    """Without repeats: a column's ``unique=True`` next to the same explicit constraint."""
    seen: set[tuple[object, ...]] = set()
    kept = []
    for item in constraints:
        sqltext = getattr(item, "sqltext", None)
        key = (
            objects.constraint_sort_key(item),
            getattr(sqltext, "text", None) if sqltext is not None else None,
            tuple(getattr(item, "column_keys", None) or ()),
        )
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


def _metadata_like(op: ops.CreateTableOp, ctx: AutogenContext) -> MetaData | None:
    """A MetaData with the models' naming convention, so flag-made constraints get their names.

    The convention comes from the model table of that name, else from a table one of the
    op's items belongs to: the op may hold copies of the model's columns, which belong to
    no table (a named primary key makes the comparison copy them).
    """
    from sqlalchemy.schema import MetaData

    owner = _model_table(op, ctx)
    if owner is None:
        owner = _owner(op)
    if owner is None:
        return None
    convention: Any = dict(owner.metadata.naming_convention)
    return MetaData(naming_convention=convention)


def _model_table(op: ops.CreateTableOp, ctx: AutogenContext) -> Table | None:
    key = op.table_name if op.schema is None else f"{op.schema}.{op.table_name}"
    for metadata in ctx.metadata:
        found = metadata.tables.get(key)
        if found is not None:
            return found
    return None


def _owner(op: ops.CreateTableOp) -> Table | None:
    from sqlalchemy.schema import Column, Constraint, Table

    for item in op.columns:
        if isinstance(item, Column):
            owner = getattr(item, "table", None)
        elif isinstance(item, Constraint):
            owner = getattr(item, "parent", None)
        else:
            owner = None
        if isinstance(owner, Table):
            return owner
    return None


def _worth_rendering(item: Constraint) -> bool:
    """Not the empty primary key every ``Table`` has, nor the CHECK a Boolean or Enum type
    makes for itself (the rendered type makes it again)."""
    from sqlalchemy.schema import PrimaryKeyConstraint

    if getattr(item, "_type_bound", False):
        return False
    return not (isinstance(item, PrimaryKeyConstraint) and not item.columns)


@renderer(ops.DropTableOp)
def drop_table(op: ops.DropTableOp, t: Target) -> list[Expr]:
    call = Call("op.drop_table", [string(op.table_name)])
    _schema(call, op.schema, t)
    _add(call, "if_exists", op.if_exists, t, when=op.if_exists is not None)
    call.kwargs += objects.options(op.kw, t.ctx)
    return [call]


@renderer(ops.RenameTableOp)
def rename_table(op: ops.RenameTableOp, t: Target) -> list[Expr]:
    call = Call("op.rename_table", [string(op.old_table_name), string(op.new_table_name)])
    _schema(call, op.schema, t)
    return [call]


@renderer(ops.CreateTableCommentOp)
@renderer(ops.CreateTableCommentOp, batch=True)
def create_table_comment(op: ops.CreateTableCommentOp, t: Target) -> list[Expr]:
    call = _call(t, "create_table_comment", op.table_name, literal(op.comment, t.ctx))
    _add(call, "existing_comment", op.existing_comment, t, when=op.existing_comment is not None)
    _schema(call, op.schema, t)
    return [call]


@renderer(ops.DropTableCommentOp)
@renderer(ops.DropTableCommentOp, batch=True)
def drop_table_comment(op: ops.DropTableCommentOp, t: Target) -> list[Expr]:
    call = _call(t, "drop_table_comment", op.table_name)
    _add(call, "existing_comment", op.existing_comment, t, when=op.existing_comment is not None)
    _schema(call, op.schema, t)
    return [call]


# -- columns ----------------------------------------------------------------------------------


@renderer(ops.AddColumnOp)
@renderer(ops.AddColumnOp, batch=True)
def add_column(op: ops.AddColumnOp, t: Target) -> list[Expr]:
    call = _call(t, "add_column", op.table_name, objects.column(op.column, t.ctx))
    _schema(call, op.schema, t)
    _add(call, "if_not_exists", op.if_not_exists, t, when=op.if_not_exists is not None)
    return [call]


@renderer(ops.DropColumnOp)
@renderer(ops.DropColumnOp, batch=True)
def drop_column(op: ops.DropColumnOp, t: Target) -> list[Expr]:
    call = _call(t, "drop_column", op.table_name, string(op.column_name))
    _schema(call, op.schema, t)
    _add(call, "if_exists", op.if_exists, t, when=op.if_exists is not None and not t.batch)
    call.kwargs += objects.options(op.kw, t.ctx)
    return [call]


@renderer(ops.AlterColumnOp)
@renderer(ops.AlterColumnOp, batch=True)
def alter_column(op: ops.AlterColumnOp, t: Target) -> list[Expr]:
    """``op.alter_column(...)``: the change, and ``existing_*`` so it can be undone by hand
    (``existing_server_default`` only when there is one: None would only add noise)."""
    ctx = t.ctx
    call = _call(t, "alter_column", op.table_name, string(op.column_name))
    if op.existing_type is not None:
        call.kwargs.append(("existing_type", render_type(op.existing_type, ctx)))
    if op.modify_type is not None:
        call.kwargs.append(("type_", render_type(op.modify_type, ctx)))
    _add(call, "nullable", op.modify_nullable, t, when=op.modify_nullable is not None)
    _add(call, "existing_nullable", op.existing_nullable, t, when=op.existing_nullable is not None)
    if op.modify_server_default is not False:
        default = objects.server_default(op.modify_server_default, ctx)
        call.kwargs.append(("server_default", default))
    if op.existing_server_default is not False and op.existing_server_default is not None:
        default = objects.server_default(op.existing_server_default, ctx)
        call.kwargs.append(("existing_server_default", default))
    _add(call, "comment", op.modify_comment, t, when=op.modify_comment is not False)
    _add(call, "existing_comment", op.existing_comment, t, when=op.existing_comment is not None)
    _add(call, "new_column_name", op.modify_name, t, when=op.modify_name is not None)
    call.kwargs += objects.options(op.kw, ctx)
    _schema(call, op.schema, t)
    return [call]


# -- indexes ----------------------------------------------------------------------------------


@renderer(ops.CreateIndexOp)
@renderer(ops.CreateIndexOp, batch=True)
def create_index(op: ops.CreateIndexOp, t: Target) -> list[Expr]:
    elements = Seq([objects.index_element(e, t.ctx) for e in op.columns])
    call = Call(t.op + "create_index", [name(op.index_name, t.op)])
    call.args += [elements] if t.batch else [string(op.table_name), elements]
    _add(call, "unique", bool(op.unique), t)
    _schema(call, op.schema, t)
    _add(call, "if_not_exists", op.if_not_exists, t, when=_given(op.if_not_exists, t))
    call.kwargs += objects.options(op.kw, t.ctx)
    return [call]


@renderer(ops.DropIndexOp)
@renderer(ops.DropIndexOp, batch=True)
def drop_index(op: ops.DropIndexOp, t: Target) -> list[Expr]:
    call = Call(t.op + "drop_index", [name(op.index_name, t.op)])
    if not t.batch and op.table_name is not None:
        call.kwargs.append(("table_name", string(op.table_name)))
    _schema(call, op.schema, t)
    _add(call, "if_exists", op.if_exists, t, when=_given(op.if_exists, t))
    call.kwargs += objects.options(op.kw, t.ctx)
    return [call]


def _given(flag: bool | None, t: Target) -> bool:
    """Whether to write ``if_[not_]exists``: batch mode's index methods do not take it."""
    return flag is not None and not t.batch


# -- constraints ------------------------------------------------------------------------------


def _names(columns: tuple[str, ...]) -> Seq:
    return Seq([string(c) for c in columns])


def _deferral(call: Call, kw: Any, t: Target) -> None:
    """``deferrable``/``initially``/``match``/... and dialect options, in a stable order."""
    call.kwargs += objects.options(kw, t.ctx)


@renderer(ops.CreatePrimaryKeyOp)
@renderer(ops.CreatePrimaryKeyOp, batch=True)
def create_primary_key(op: ops.CreatePrimaryKeyOp, t: Target) -> list[Expr]:
    call = Call(t.op + "create_primary_key", [name(op.constraint_name, t.op)])
    call.args += [_names(op.columns)] if t.batch else [string(op.table_name), _names(op.columns)]
    _schema(call, op.schema, t)
    return [call]


@renderer(ops.CreateUniqueConstraintOp)
@renderer(ops.CreateUniqueConstraintOp, batch=True)
def create_unique_constraint(op: ops.CreateUniqueConstraintOp, t: Target) -> list[Expr]:
    call = Call(t.op + "create_unique_constraint", [name(op.constraint_name, t.op)])
    call.args += [_names(op.columns)] if t.batch else [string(op.table_name), _names(op.columns)]
    _schema(call, op.schema, t)
    _deferral(call, op.kw, t)
    return [call]


@renderer(ops.CreateCheckConstraintOp)
@renderer(ops.CreateCheckConstraintOp, batch=True)
def create_check_constraint(op: ops.CreateCheckConstraintOp, t: Target) -> list[Expr]:
    condition = (
        string(op.condition)
        if isinstance(op.condition, str)
        else objects.sql_expression(op.condition, t.ctx)
    )
    call = Call(t.op + "create_check_constraint", [name(op.constraint_name, t.op)])
    call.args += [condition] if t.batch else [string(op.table_name), condition]
    _schema(call, op.schema, t)
    _deferral(call, op.kw, t)
    return [call]


@renderer(ops.CreateForeignKeyOp)
@renderer(ops.CreateForeignKeyOp, batch=True)
def create_foreign_key(op: ops.CreateForeignKeyOp, t: Target) -> list[Expr]:
    call = Call(t.op + "create_foreign_key", [name(op.constraint_name, t.op)])
    if not t.batch:
        call.args.append(string(op.source_table))
    call.args += [string(op.referent_table), _names(op.local_cols), _names(op.remote_cols)]
    _schema(call, op.source_schema, t, "source_schema")
    _add(call, "referent_schema", op.referent_schema, t, when=op.referent_schema is not None)
    _deferral(call, op.kw, t)
    return [call]


@renderer(ops.CreateExcludeConstraintOp)
def create_exclude_constraint(op: ops.CreateExcludeConstraintOp, t: Target) -> list[Expr]:
    """``op.create_exclude_constraint("name", "t", ("col", "="), ..., using="gist")``."""
    call = Call("op.create_exclude_constraint", [name(op.constraint_name), string(op.table_name)])
    for element, operator in op.elements:
        call.args.append(Seq([objects.index_element(element, t.ctx), string(operator)], "()"))
    call.kwargs += objects.options(op.kw, t.ctx)
    _schema(call, op.schema, t)
    return [call]


@renderer(ops.DropConstraintOp)
@renderer(ops.DropConstraintOp, batch=True)
def drop_constraint(op: ops.DropConstraintOp, t: Target) -> list[Expr]:
    call = _call(t, "drop_constraint", op.table_name)
    call.args.insert(0, name(op.constraint_name, t.op))
    _add(call, "type_", op.type_, t, when=op.type_ is not None)
    _schema(call, op.schema, t)
    _add(call, "if_exists", op.if_exists, t, when=op.if_exists is not None)
    unnamed = op.constraint_name is None and op.reverse_of is not None
    if unnamed and t.batch:  # SQLite reflects foreign keys without names: find it by columns
        _add(call, "columns", list(_constraint_columns(op.reverse_of)), t)
    return [call]


def _constraint_columns(added: ops.AddConstraintOp | None) -> tuple[str, ...]:
    if isinstance(added, ops.CreateForeignKeyOp):
        return added.local_cols
    return tuple(getattr(added, "columns", ()))


# -- SQL and data -----------------------------------------------------------------------------


@renderer(ops.ExecuteSQLOp)
@renderer(ops.ExecuteSQLOp, batch=True)
def execute(op: ops.ExecuteSQLOp, t: Target) -> list[Expr]:
    """A string stays a string (``op.execute`` reads it as ``text()`` either way)."""
    sql = op.sqltext
    statement = string(sql) if isinstance(sql, str) else objects.sql_expression(sql, t.ctx)
    call = Call(t.op + "execute", [statement])
    if op.execution_options:
        call.kwargs.append(("execution_options", literal(dict(op.execution_options), t.ctx)))
    return [call]


@renderer(ops.BulkInsertOp)
def bulk_insert(op: ops.BulkInsertOp, t: Target) -> list[Expr]:
    """``op.bulk_insert(sa.table("t", sa.column("a", type), ...), [rows])``."""
    sa = t.ctx.opts.sqlalchemy_module_prefix
    table = op.table
    columns: list[Expr] = [
        Call(sa + "column", [string(c.name), render_type(c.type, t.ctx)]) for c in table.columns
    ]
    clause = Call(sa + "table", [string(table.name), *columns])
    schema = getattr(table, "schema", None)
    _schema(clause, schema, t)
    call = Call("op.bulk_insert", [clause, literal([dict(row) for row in op.rows], t.ctx)])
    _add(call, "multiinsert", op.multiinsert, t, when=not op.multiinsert)
    return [call]
