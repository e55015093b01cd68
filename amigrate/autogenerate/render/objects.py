"""Schema objects as source: columns, server defaults, constraints, indexes, SQL expressions.

Columns render without their ``primary_key``/``unique``/``index``/``ForeignKey`` flags:
those become table-level constraints and ``create_index`` calls (create_table) or their
own operations (add_column), as autogenerate emits them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from amigrate.autogenerate.render.code import Call, Expr, Seq
from amigrate.autogenerate.render.literals import literal, name, string, text_call
from amigrate.autogenerate.render.types import (
    constructor_arguments,
    render_item_hook,
    render_type,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy.engine import Dialect
    from sqlalchemy.schema import Column, Constraint, Index

    from amigrate.autogenerate.api import AutogenContext


# -- SQL --------------------------------------------------------------------------------------


def compile_sql(element: Any, ctx: AutogenContext) -> str:
    """``element`` as SQL text of the context's dialect, values inlined, no table prefixes."""
    compiled = element.compile(
        dialect=_unescaped_dialect(ctx.dialect),
        compile_kwargs={"literal_binds": True, "include_table": False},
    )
    return str(compiled)


_unescaped: dict[str, Dialect] = {}


def _unescaped_dialect(dialect: Dialect) -> Dialect:
    """A dialect that writes ``%`` as is (``text()`` doubles it again where the driver needs)."""
    cls: Any = type(dialect)
    found = _unescaped.get(cls.__qualname__)
    if found is None or type(found) is not cls:
        try:
            found = cls(paramstyle="named")
        except Exception:  # a third-party dialect that takes no paramstyle: use it as is
            return dialect
        _unescaped[cls.__qualname__] = found
    return found


def sql_expression(element: Any, ctx: AutogenContext) -> Expr:
    """A SQL expression as ``sa.text("...")``; a ``TextClause`` keeps its own text."""
    from sqlalchemy.sql.elements import TextClause

    if isinstance(element, TextClause):
        return text_call(element.text, ctx, escape=False)
    if isinstance(element, str):
        return text_call(element, ctx)
    return text_call(compile_sql(element, ctx), ctx)


def option_value(value: Any, ctx: AutogenContext) -> Expr:
    """A dialect option's value: SQL expressions as ``sa.text``, columns by name, literals."""
    from sqlalchemy.schema import Column
    from sqlalchemy.sql.elements import ClauseElement

    if isinstance(value, Column):
        return string(value.name)
    if isinstance(value, ClauseElement):
        return sql_expression(value, ctx)
    if isinstance(value, list | tuple):
        brackets = "()" if isinstance(value, tuple) else "[]"
        return Seq([option_value(item, ctx) for item in value], brackets)
    return literal(value, ctx)


def options(values: Mapping[str, Any], ctx: AutogenContext) -> list[tuple[str, Expr]]:
    """Dialect keywords (``postgresql_where=...``), sorted by name."""
    return [(key, option_value(values[key], ctx)) for key in sorted(values)]


# -- columns ----------------------------------------------------------------------------------


def server_default(default: Any, ctx: AutogenContext) -> Expr:
    """A server default: a string as the literal value, SQL (``sa.text``, reflected text,
    expressions) as ``sa.text(...)``; the same meaning ``server_default=`` gives them."""
    from sqlalchemy.schema import Computed, DefaultClause, FetchedValue, Identity

    hooked = render_item_hook("server_default", default, ctx)
    if hooked is not None:
        return hooked
    if default is None:
        return "None"
    if isinstance(default, Computed):
        return computed(default, ctx)
    if isinstance(default, Identity):
        return identity(default, ctx)
    if isinstance(default, DefaultClause):
        default = default.arg
    if isinstance(default, str):
        return string(default)
    if isinstance(default, FetchedValue):
        return Call(ctx.opts.sqlalchemy_module_prefix + "FetchedValue")
    return sql_expression(default, ctx)


def computed(value: Any, ctx: AutogenContext) -> Call:
    """``sa.Computed("a + b", persisted=...)``."""
    call = Call(ctx.opts.sqlalchemy_module_prefix + "Computed", [_sql_string(value.sqltext, ctx)])
    if value.persisted is not None:
        call.kwargs.append(("persisted", repr(value.persisted)))
    return call


def identity(value: Any, ctx: AutogenContext) -> Call:
    """``sa.Identity(start=..., ...)`` with the options that differ from the defaults."""
    _, keywords = constructor_arguments(value)
    call = Call(ctx.opts.sqlalchemy_module_prefix + "Identity")
    call.kwargs = [(key, literal(v, ctx)) for key, v in keywords]
    call.kwargs += options(value.dialect_kwargs, ctx)
    return call


def column(col: Column[Any], ctx: AutogenContext) -> Expr:
    """``sa.Column("name", type, [Computed/Identity], nullable=..., ...)``."""
    from sqlalchemy.schema import Computed, Identity

    hooked = render_item_hook("column", col, ctx)
    if hooked is not None:
        return hooked
    call = Call(ctx.opts.sqlalchemy_module_prefix + "Column", [string(col.name)])
    call.args.append(render_type(col.type, ctx))
    default = col.server_default
    if isinstance(default, Computed | Identity):
        call.args.append(server_default(default, ctx))
    if col.autoincrement != "auto":
        call.kwargs.append(("autoincrement", repr(bool(col.autoincrement))))
    if default is not None and not isinstance(default, Computed | Identity):
        call.kwargs.append(("server_default", server_default(default, ctx)))
    call.kwargs.append(("nullable", repr(bool(col.nullable))))
    if col.comment is not None:
        call.kwargs.append(("comment", string(col.comment)))
    call.kwargs += options(col.dialect_kwargs, ctx)
    return call


# -- constraints and indexes ------------------------------------------------------------------


_KIND_ORDER = ("primary_key", "foreign_key", "unique", "check")


def constraint_kind(item: Constraint) -> str | None:
    """The ``render_item`` name of a constraint's kind; None for kinds not rendered here."""
    from sqlalchemy.schema import (
        CheckConstraint,
        ForeignKeyConstraint,
        PrimaryKeyConstraint,
        UniqueConstraint,
    )

    kinds = (
        (PrimaryKeyConstraint, "primary_key"),
        (ForeignKeyConstraint, "foreign_key"),
        (UniqueConstraint, "unique"),
        (CheckConstraint, "check"),
    )
    for cls, kind in kinds:
        if isinstance(item, cls):
            return kind
    return None


def constraint_sort_key(item: Constraint) -> tuple[int, str, str]:
    """A stable order: primary key, foreign keys, uniques, checks; then by name."""
    kind = constraint_kind(item) or "check"
    columns = ",".join(getattr(item, "column_keys", None) or _column_names(item))
    return _KIND_ORDER.index(kind), str(item.name or ""), columns


def constraint(item: Constraint, ctx: AutogenContext, op_prefix: str = "op.") -> Expr | None:
    """``sa.PrimaryKeyConstraint(...)`` etc.; None for a kind this renderer does not know."""
    kind = constraint_kind(item)
    if kind is None:
        return None
    hooked = render_item_hook(kind, item, ctx)
    if hooked is not None:
        return hooked
    prefix = ctx.opts.sqlalchemy_module_prefix
    if kind == "foreign_key":
        call = _foreign_key(item, ctx)
    elif kind == "check":
        sqltext = getattr(item, "sqltext", None)
        call = Call(prefix + "CheckConstraint", [_sql_string(sqltext, ctx)])
    else:
        cls = "PrimaryKeyConstraint" if kind == "primary_key" else "UniqueConstraint"
        call = Call(prefix + cls, [string(c) for c in _column_names(item)])
    if name(item.name) != "None":
        call.kwargs.append(("name", name(item.name, op_prefix)))
    for key in ("deferrable", "initially"):
        value = getattr(item, key, None)
        if value is not None:
            call.kwargs.append((key, literal(value, ctx)))
    call.kwargs += options(item.dialect_kwargs, ctx)
    return call


def _foreign_key(item: Any, ctx: AutogenContext) -> Call:
    local = Seq([string(key) for key in item.column_keys])
    remote = Seq([string(element.target_fullname) for element in item.elements])
    call = Call(ctx.opts.sqlalchemy_module_prefix + "ForeignKeyConstraint", [local, remote])
    for key in ("onupdate", "ondelete", "match"):
        value = getattr(item, key, None)
        if value is not None:
            call.kwargs.append((key, string(value)))
    return call


def _column_names(item: Any) -> list[str]:
    columns = list(getattr(item, "columns", ()))
    if columns:
        return [c.name for c in columns]
    return [c if isinstance(c, str) else c.name for c in getattr(item, "_pending_colargs", ())]


def _sql_string(sqltext: Any, ctx: AutogenContext) -> str:
    """SQL for a constructor that reads a string as ``text()`` (CheckConstraint, Computed)."""
    from sqlalchemy.sql.elements import TextClause

    from amigrate.autogenerate.render.literals import text_source

    if isinstance(sqltext, TextClause):
        return string(sqltext.text)
    if isinstance(sqltext, str):
        return string(sqltext)
    return string(text_source(compile_sql(sqltext, ctx)))


def index_element(element: Any, ctx: AutogenContext) -> Expr:
    """An index column: its name, or an expression as ``sa.text(...)``."""
    from sqlalchemy.schema import Column

    if isinstance(element, str):
        return string(element)
    if isinstance(element, Column):
        return string(element.name)
    return sql_expression(element, ctx)


def index_call(index: Index, ctx: AutogenContext, *, table_name: str, schema: str | None) -> Expr:
    """``op.create_index("ix", "t", [...], unique=..., ...)`` for an ``Index`` of a new table."""
    hooked = render_item_hook("index", index, ctx)
    if hooked is not None:
        return hooked
    elements = Seq([index_element(e, ctx) for e in index.expressions])
    call = Call("op.create_index", [name(index.name), string(table_name), elements])
    call.kwargs.append(("unique", repr(bool(index.unique))))
    if schema is not None:
        call.kwargs.append(("schema", string(schema)))
    call.kwargs += options(index.dialect_kwargs, ctx)
    return call


__all__ = [
    "column",
    "compile_sql",
    "computed",
    "constraint",
    "constraint_sort_key",
    "identity",
    "index_call",
    "index_element",
    "option_value",
    "options",
    "server_default",
    "sql_expression",
]
