"""Columns of a table present on both sides: added, removed, altered, regenerated.

Every op carries what its reverse needs: a dropped column is described from the
reflection, an alteration holds all ``existing_*`` values. A generated column whose
expression changed is dropped and added again (its values need no copying); an identity
change on PostgreSQL is SQL with known inverse SQL. A column removed and another added with
the same type in one table may be a rename: a TODO note says so, with the code to use.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from amigrate.autogenerate.compare.comments import column_comment_changed
from amigrate.autogenerate.compare.defaults import model_default, server_default_changed
from amigrate.autogenerate.compare.tables import ReflectedColumn
from amigrate.autogenerate.compare.types import normalized_type_text, type_changed
from amigrate.autogenerate.dialects import rules_for
from amigrate.autogenerate.ops import AlterColumnUsingOp, ExecuteReversibleSQLOp, TodoOp
from amigrate.autogenerate.render.literals import string
from amigrate.operations.ops import AddColumnOp, AlterColumnOp, DropColumnOp

if TYPE_CHECKING:
    from amigrate.autogenerate.api import AutogenContext
    from amigrate.autogenerate.reflect import ReflectedTable
    from amigrate.operations.ops import MigrateOperation, ModifyTableOps

_IDENTITY_OPTIONS = ("start", "increment", "minvalue", "maxvalue", "cycle", "cache")


def compare_columns(
    ctx: AutogenContext, table_ops: ModifyTableOps, reflected: ReflectedTable, model: sa.Table
) -> None:
    """Append the column ops of one table: adds and drops first, then alterations."""
    pk = set(reflected.primary_key.get("constrained_columns") or [])
    in_db = {
        d["name"]: ReflectedColumn(d, ctx.dialect, primary_key=d["name"] in pk)
        for d in reflected.columns
    }
    in_model = {c.name: c for c in model.columns}
    hooked = ctx.opts.include_object is not None
    added = [
        c
        for name, c in in_model.items()
        if name not in in_db and ctx.include_object(c, name, "column", False, None)
    ]
    removed = [
        db.column
        for name, db in in_db.items()
        if name not in in_model
        and (not hooked or ctx.include_object(db.column, name, "column", True, None))
    ]
    for column in added:
        table_ops.ops.append(AddColumnOp(model.name, _detached(column), schema=model.schema))
    for column in removed:
        table_ops.ops.append(
            DropColumnOp(model.name, column.name, schema=model.schema, column=column)
        )
    table_ops.ops.extend(_rename_hints(ctx, model, removed, added))
    alterations: list[MigrateOperation] = []
    for name, column in in_model.items():
        db = in_db.get(name)
        if db is None:
            continue
        if hooked and not ctx.include_object(column, name, "column", False, db.column):
            continue
        if _regenerated(ctx, db.data, column):
            table_ops.ops.append(
                DropColumnOp(model.name, name, schema=model.schema, column=db.column)
            )
            table_ops.ops.append(AddColumnOp(model.name, _detached(column), schema=model.schema))
            continue
        alterations.extend(_identity_ops(ctx, db.data, column, model))
        alterations.extend(_alteration(ctx, db, column, model, primary=name in pk))
    table_ops.ops.extend(alterations)


def _detached(column: sa.Column[Any]) -> sa.Column[Any]:
    """A copy of a model column for ``add_column``; its index and unique come as own ops."""
    copy = column._copy()
    copy.index = None
    copy.unique = None
    return copy


def _alteration(
    ctx: AutogenContext,
    reflected: ReflectedColumn,
    column: sa.Column[Any],
    model: sa.Table,
    *,
    primary: bool,
) -> list[MigrateOperation]:
    found = reflected.data
    existing_nullable = bool(found.get("nullable", True))
    nullable = column.nullable != existing_nullable and not (primary and column.primary_key)
    nullable = nullable and column.identity is None and not found.get("identity")
    type_ = type_changed(ctx, reflected, column)
    default = server_default_changed(ctx, reflected, column)
    comment = column_comment_changed(ctx, found, column)
    if not (nullable or type_ or default or comment):
        return []
    existing_default = found.get("default")
    alter = AlterColumnOp(
        model.name,
        column.name,
        schema=model.schema,
        existing_type=reflected.column.type if type_ else column.type,
        existing_server_default=None
        if existing_default is None
        else sa.literal_column(existing_default),
        existing_nullable=existing_nullable,
        existing_comment=found.get("comment"),
        modify_nullable=bool(column.nullable) if nullable else None,
        modify_server_default=_default_clause(column) if default else False,
        modify_type=column.type if type_ else None,
        modify_comment=column.comment if comment else False,
    )
    if type_ and ctx.dialect_name == "postgresql":
        return _through_text(ctx, alter, column)
    return [alter]


def _through_text(
    ctx: AutogenContext, alter: AlterColumnOp, column: sa.Column[Any]
) -> list[MigrateOperation]:
    """A type change to or from an enum type on PostgreSQL: ``USING column::text::type``.

    PostgreSQL casts neither the values nor the server default by itself: the default is
    dropped before the change and the model's is set after it.
    """
    old, new = alter.existing_type, alter.modify_type
    assert old is not None and new is not None
    if _plain_enum(old) is None and _plain_enum(new) is None:
        return [alter]
    as_text = f"{_quote(ctx, column.name)}::text"
    fields = {f.name: getattr(alter, f.name) for f in dataclasses.fields(AlterColumnOp)}
    fields.update(
        existing_server_default=None,
        modify_server_default=False,
        kw={"postgresql_using": _cast(ctx, as_text, new)},
    )
    ops: list[MigrateOperation] = [
        AlterColumnUsingOp(**fields, reverse_using=_cast(ctx, as_text, old))
    ]
    default = alter.existing_server_default
    changed = alter.modify_server_default
    wanted = changed if changed is not False else _default_clause(column)
    if default is not None:
        ops.insert(0, _set_default(alter, old, alter.existing_nullable, default, None))
    if wanted is not None:
        nullable = alter.existing_nullable
        nullable = nullable if alter.modify_nullable is None else alter.modify_nullable
        ops.append(_set_default(alter, new, nullable, None, wanted))
    return ops


def _set_default(
    alter: AlterColumnOp,
    type_: sa.types.TypeEngine[Any],
    nullable: bool | None,
    existing: Any,
    wanted: Any,
) -> AlterColumnOp:
    return AlterColumnOp(
        alter.table_name,
        alter.column_name,
        schema=alter.schema,
        existing_type=type_,
        existing_server_default=existing,
        existing_nullable=nullable,
        modify_server_default=wanted,
    )


def _plain_enum(type_: sa.types.TypeEngine[Any]) -> sa.Enum | None:
    """The native enum type ``type_`` is (not one an ARRAY holds)."""
    if isinstance(type_, sa.TypeDecorator):
        type_ = type_.impl_instance
    return type_ if isinstance(type_, sa.Enum) and type_.native_enum else None


def _cast(ctx: AutogenContext, as_text: str, type_: sa.types.TypeEngine[Any]) -> str:
    """``as_text`` cast to ``type_``, or left as text for a string type."""
    enum = _plain_enum(type_)
    if enum is None and isinstance(type_, sa.String):
        return as_text  # PostgreSQL casts text to a string type by itself
    return f"{as_text}::{(enum or type_).compile(dialect=ctx.dialect)}"


def _default_clause(column: sa.Column[Any]) -> sa.DefaultClause | None:
    """The model's server default as a clause of its own (the model's stays with it)."""
    arg = model_default(column)
    return None if arg is None else sa.DefaultClause(arg)


def _regenerated(ctx: AutogenContext, found: dict[str, Any], column: sa.Column[Any]) -> bool:
    """Whether a generated column's expression (or storage) changed, or it became one."""
    reflected = found.get("computed")
    computed = column.computed
    if not reflected and computed is None:
        return False
    if not reflected or computed is None:
        return True
    rules = rules_for(ctx.dialect_name)
    model_sql = str(
        computed.sqltext.compile(dialect=ctx.dialect, compile_kwargs={"literal_binds": True})
    )
    if rules.normalize_expression(model_sql) != rules.normalize_expression(reflected["sqltext"]):
        return True
    persisted = reflected.get("persisted")
    return (
        computed.persisted is not None
        and persisted is not None
        and (bool(computed.persisted) != bool(persisted))
    )


def _identity_ops(
    ctx: AutogenContext, found: dict[str, Any], column: sa.Column[Any], model: sa.Table
) -> list[MigrateOperation]:
    """PostgreSQL identity added, removed or changed, as SQL with its inverse."""
    reflected: dict[str, Any] | None = found.get("identity")
    identity = column.identity
    if ctx.dialect_name != "postgresql" or (reflected is None and identity is None):
        return []
    prefix = f"ALTER TABLE {_table_sql(ctx, model)} ALTER COLUMN {_quote(ctx, column.name)}"
    if reflected is None:
        assert identity is not None
        wanted = _identity_values(identity)
        return [
            ExecuteReversibleSQLOp(
                f"{prefix} ADD {_generated(wanted)}",
                f"{prefix} DROP IDENTITY",
                f"add identity to {model.name}.{column.name}",
            )
        ]
    if identity is None:
        return [
            ExecuteReversibleSQLOp(
                f"{prefix} DROP IDENTITY",
                f"{prefix} ADD {_generated(reflected)}",
                f"drop identity of {model.name}.{column.name}",
            )
        ]
    wanted = _identity_values(identity)
    changed = {
        key: value
        for key, value in wanted.items()
        if value is not None and value != reflected.get(key)
    }
    if not changed:
        return []
    before = {key: reflected.get(key) for key in changed}
    return [
        ExecuteReversibleSQLOp(
            f"{prefix} {_identity_set(changed)}",
            f"{prefix} {_identity_set(before)}",
            f"change identity of {model.name}.{column.name}",
        )
    ]


def _identity_values(identity: sa.Identity) -> dict[str, Any]:
    values = {key: getattr(identity, key, None) for key in _IDENTITY_OPTIONS}
    values["always"] = bool(identity.always)
    return values


def _generated(values: dict[str, Any]) -> str:
    kind = "ALWAYS" if values.get("always") else "BY DEFAULT"
    options = _identity_options(values)
    return f"GENERATED {kind} AS IDENTITY" + (f" ({options})" if options else "")


def _identity_options(values: dict[str, Any]) -> str:
    words = {
        "start": "START WITH",
        "increment": "INCREMENT BY",
        "minvalue": "MINVALUE",
        "maxvalue": "MAXVALUE",
        "cache": "CACHE",
    }
    parts = [f"{words[k]} {int(values[k])}" for k in words if values.get(k) is not None]
    if values.get("cycle") is not None:
        parts.append("CYCLE" if values["cycle"] else "NO CYCLE")
    return " ".join(parts)


def _identity_set(values: dict[str, Any]) -> str:
    parts = []
    if "always" in values:
        parts.append("SET GENERATED " + ("ALWAYS" if values["always"] else "BY DEFAULT"))
    words = {
        "start": "SET START WITH",
        "increment": "SET INCREMENT BY",
        "minvalue": "SET MINVALUE",
        "maxvalue": "SET MAXVALUE",
        "cache": "SET CACHE",
    }
    parts += [f"{words[k]} {int(values[k])}" for k in words if values.get(k) is not None]
    if values.get("cycle") is not None:
        parts.append("SET CYCLE" if values["cycle"] else "SET NO CYCLE")
    return " ".join(parts)


def _table_sql(ctx: AutogenContext, model: sa.Table) -> str:
    preparer = ctx.dialect.identifier_preparer
    name = preparer.quote(model.name)
    return f"{preparer.quote_schema(model.schema)}.{name}" if model.schema else name


def _quote(ctx: AutogenContext, name: str) -> str:
    return str(ctx.dialect.identifier_preparer.quote(name))


def _rename_hints(
    ctx: AutogenContext,
    model: sa.Table,
    removed: list[sa.Column[Any]],
    added: list[sa.Column[Any]],
) -> list[TodoOp]:
    """A note per removed column that an added column of the same type may have renamed."""
    hints = []
    candidates = list(added)
    for old in removed:
        old_type = normalized_type_text(old.type, ctx.dialect)
        for new in candidates:
            if old_type is not None and normalized_type_text(new.type, ctx.dialect) == old_type:
                candidates.remove(new)
                hints.append(
                    _rename_hint(model, old.name, new.name, bool(ctx.opts.render_as_batch))
                )
                break
    return hints


def _rename_hint(model: sa.Table, old: str, new: str, batch: bool) -> TodoOp:
    """The note, with the call to use instead (as written inside the table's batch block)."""
    table = model.name

    def suggestion(before: str, after: str) -> str:
        if batch:
            return f"batch_op.alter_column({string(before)}, new_column_name={string(after)})"
        schema = f", schema={string(model.schema)}" if model.schema else ""
        return (
            f"op.alter_column({string(table)}, {string(before)}, "
            f"new_column_name={string(after)}{schema})"
        )

    def text(gone: str, came: str) -> str:
        return (
            f"column {table}.{gone} was removed and {table}.{came} added with the same type; "
            "if it was renamed, keep its data: use this instead of the drop and add"
        )

    return TodoOp(
        text(old, new),
        suggestion(old, new),
        reverse_text=text(new, old),
        reverse_suggestion=suggestion(new, old),
    )


__all__ = ["compare_columns"]
