"""Server defaults (opt-in): the model's default against the reflected SQL text.

Both sides become SQL text and are normalised per dialect (casts, quoting, parentheses,
``now()`` and ``CURRENT_TIMESTAMP``). A sequence default the database made for a serial
column, and defaults of generated or identity columns, are not compared.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from amigrate.autogenerate.dialects import rules_for

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect

    from amigrate.autogenerate.api import AutogenContext
    from amigrate.autogenerate.compare.tables import ReflectedColumn

_TRUE = {"true", "'t'", "'true'", "1", "'1'"}
_FALSE = {"false", "'f'", "'false'", "0", "'0'"}


def model_default(column: sa.Column[Any]) -> Any:
    """What the model says the server default is: text, an expression, or None."""
    default = column.server_default
    if isinstance(default, sa.DefaultClause):
        return default.arg
    return None


def model_default_sql(column: sa.Column[Any], dialect: Dialect) -> str | None:
    """The model's server default as the SQL the DDL would write, or None."""
    arg = model_default(column)
    if arg is None:
        return None
    if isinstance(arg, str):
        return "'" + arg.replace("'", "''") + "'"
    return str(arg.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def model_default_for_hook(column: sa.Column[Any], dialect: Dialect) -> str | None:
    """The model's server default as ``compare_server_default`` hooks get it (Alembic's
    ``rendered_metadata_default``): a string default as it is, unquoted; ``text()`` as its
    text; another expression as compiled SQL; None for no default."""
    arg = model_default(column)
    if arg is None or isinstance(arg, str):
        return arg
    return str(arg.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def server_default_changed(
    ctx: AutogenContext, reflected: ReflectedColumn, model_column: sa.Column[Any]
) -> bool:
    """Whether the column's server default changed (``compare_server_default`` permitting)."""
    option = ctx.opts.compare_server_default
    if option is False or not _comparable(reflected.data, model_column):
        return False
    rules = rules_for(ctx.dialect_name)
    reflected_sql: str | None = reflected.data.get("default")
    model_sql = model_default_sql(model_column, ctx.dialect)
    if (
        model_sql is None
        and reflected_sql is not None
        and rules.is_generated_default(reflected_sql)
    ):
        return False
    if model_sql is None and reflected_sql is None:
        return False  # nothing to compare: the hook is not asked either
    if callable(option):
        answer = option(
            ctx.migration_context,
            reflected.column,
            model_column,
            reflected_sql,
            model_column.server_default,
            model_default_for_hook(model_column, ctx.dialect),
        )
        if answer is not None:
            return bool(answer)
    if model_sql is None or reflected_sql is None:
        return model_sql is not reflected_sql
    boolean = isinstance(model_column.type, sa.Boolean)
    return _canonical(rules.normalize_default(model_sql), boolean) != _canonical(
        rules.normalize_default(reflected_sql), boolean
    )


def _comparable(reflected: dict[str, Any], column: sa.Column[Any]) -> bool:
    if reflected.get("computed") or reflected.get("identity"):
        return False
    if column.computed is not None or column.identity is not None:
        return False
    return column.server_default is None or isinstance(column.server_default, sa.DefaultClause)


def _canonical(text: str, boolean: bool) -> str:
    if boolean and text in _TRUE:
        return "true"
    if boolean and text in _FALSE:
        return "false"
    return text


__all__ = [
    "model_default",
    "model_default_for_hook",
    "model_default_sql",
    "server_default_changed",
]
