"""Comments on tables and columns, where the database keeps them (not SQLite)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from amigrate.operations.ops import CreateTableCommentOp, DropTableCommentOp

if TYPE_CHECKING:
    import sqlalchemy as sa

    from amigrate.autogenerate.api import AutogenContext
    from amigrate.autogenerate.reflect import ReflectedTable
    from amigrate.operations.ops import ModifyTableOps


def column_comment_changed(
    ctx: AutogenContext, reflected: dict[str, Any], model: sa.Column[Any]
) -> bool:
    """Whether the column's comment changed; never on a database without comments."""
    if not ctx.dialect.supports_comments:
        return False
    return (reflected.get("comment") or None) != (model.comment or None)


def compare_table_comment(
    ctx: AutogenContext, table_ops: ModifyTableOps, reflected: ReflectedTable, model: sa.Table
) -> None:
    """A changed, added or removed table comment, reversible to the reflected one."""
    if not ctx.dialect.supports_comments:
        return
    existing = reflected.comment or None
    wanted = model.comment or None
    if existing == wanted:
        return
    if wanted is None:
        table_ops.ops.append(
            DropTableCommentOp(model.name, schema=model.schema, existing_comment=existing)
        )
        return
    table_ops.ops.append(
        CreateTableCommentOp(model.name, wanted, schema=model.schema, existing_comment=existing)
    )


__all__ = ["column_comment_changed", "compare_table_comment"]
