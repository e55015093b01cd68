"""The op tree as Alembic-shaped diff tuples (``compare_metadata``) and as lines (``check``).

A note for the reviewer (a rename hint) is no difference: `notes` gives those texts apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeGuard

from amigrate.autogenerate import ops as autogen_ops
from amigrate.operations import ops

if TYPE_CHECKING:
    from collections.abc import Iterator

Diff = tuple[Any, ...] | list[tuple[Any, ...]]


def leaf_ops(container: ops.OpContainer) -> Iterator[ops.MigrateOperation]:
    """Every operation in ``container``, table groups flattened, in order."""
    for op in container.ops:
        if isinstance(op, ops.OpContainer):
            yield from leaf_ops(op)
        else:
            yield op


def as_diffs(container: ops.OpContainer) -> list[Diff]:
    """``("add_table", Table)``, ``("remove_column", schema, table, Column)``, ... per op.

    A column alteration is a list of ``modify_*`` tuples, one per changed attribute, as
    Alembic's ``compare_metadata`` gives them.
    """
    return [
        diff
        for op in leaf_ops(container)
        if not isinstance(op, autogen_ops.TodoOp)  # notes; Alembic has none
        for diff in _diffs_of(op)
    ]


def _differences(container: ops.OpContainer) -> Iterator[ops.MigrateOperation]:
    """The leaf ops that stand for a difference: not the `notes` for the reviewer."""
    return (op for op in leaf_ops(container) if not _is_note(op))


def notes(container: ops.OpContainer) -> list[str]:
    """The texts of the notes autogenerate leaves for the reviewer (a possible rename)."""
    return [op.text for op in leaf_ops(container) if _is_note(op)]


def _is_note(op: ops.MigrateOperation) -> TypeGuard[autogen_ops.TodoOp]:
    """Whether ``op`` is a hint beside the ops that make the change (a rename hint beside a
    column's drop and add carries the call to use instead).

    A TODO without such code stands alone for a difference autogenerate cannot write (enum
    values removed or reordered): `describe` keeps it, so ``check`` still reports it.
    """
    return isinstance(op, autogen_ops.TodoOp) and op.suggestion is not None


def _diffs_of(op: ops.MigrateOperation) -> list[Diff]:
    if isinstance(op, ops.AlterColumnOp):
        return [_alter_diffs(op)]
    if isinstance(op, ops.CreateTableOp):
        return [("add_table", op.to_table())]
    if isinstance(op, ops.DropTableOp):
        return [("remove_table", (op.reverse_of or op).to_table())]
    if isinstance(op, ops.AddColumnOp):
        return [("add_column", op.schema, op.table_name, op.column)]
    if isinstance(op, ops.DropColumnOp):
        return [("remove_column", op.schema, op.table_name, op.column)]
    if isinstance(op, ops.CreateIndexOp):
        return [("add_index", op.to_index())]
    if isinstance(op, ops.DropIndexOp):
        return [("remove_index", (op.reverse_of or op).to_index())]
    if isinstance(op, ops.CreateForeignKeyOp):
        return [("add_fk", op.to_constraint())]
    if isinstance(op, ops.AddConstraintOp):
        return [("add_constraint", op.to_constraint())]
    if isinstance(op, ops.DropConstraintOp):
        kind = "remove_fk" if op.type_ == "foreignkey" else "remove_constraint"
        return [(kind, op.to_constraint())]
    if isinstance(op, ops.CreateTableCommentOp):
        return [
            ("add_table_comment", _table(op.table_name, op.schema, op.comment), op.existing_comment)
        ]
    if isinstance(op, ops.DropTableCommentOp):
        return [("remove_table_comment", _table(op.table_name, op.schema, None))]
    return [_other_diff(op)]


def _alter_diffs(op: ops.AlterColumnOp) -> list[tuple[Any, ...]]:
    where = (op.schema, op.table_name, op.column_name)
    existing = {
        "existing_type": op.existing_type,
        "existing_server_default": op.existing_server_default,
        "existing_nullable": op.existing_nullable,
        "existing_comment": op.existing_comment,
    }
    changes: list[tuple[Any, ...]] = []
    if op.modify_nullable is not None:
        changes.append(
            ("modify_nullable", *where, existing, op.existing_nullable, op.modify_nullable)
        )
    if op.modify_type is not None:
        changes.append(("modify_type", *where, existing, op.existing_type, op.modify_type))
    if op.modify_server_default is not False:
        old = op.existing_server_default
        changes.append(("modify_default", *where, existing, old, op.modify_server_default))
    if op.modify_comment is not False:
        changes.append(("modify_comment", *where, existing, op.existing_comment, op.modify_comment))
    return changes


def _other_diff(op: ops.MigrateOperation) -> tuple[Any, ...]:
    if isinstance(op, autogen_ops.CreateEnumTypeOp):
        return ("add_enum", op.schema, op.name, op.values)
    if isinstance(op, autogen_ops.DropEnumTypeOp):
        return ("remove_enum", op.schema, op.name, op.values)
    if isinstance(op, autogen_ops.AddEnumValueOp):
        return ("add_enum_value", op.schema, op.name, op.value)
    if isinstance(op, autogen_ops.ExecuteReversibleSQLOp):
        return ("execute", op.sql)
    return (type(op).__name__, op)


def _table(name: str, schema: str | None, comment: str | None) -> Any:
    from sqlalchemy import MetaData, Table

    return Table(name, MetaData(), schema=schema, comment=comment)


def describe(container: ops.OpContainer) -> list[str]:
    """One line per difference, for ``check`` and for logs (`notes` are not differences)."""
    return [line for op in _differences(container) for line in _lines(op)]


def _qualified(table: str | None, schema: str | None, name: str | None = None) -> str:
    parts = [p for p in (schema, table, name) if p]
    return ".".join(parts)


def _lines(op: ops.MigrateOperation) -> list[str]:
    if isinstance(op, ops.CreateTableOp):
        return [f"add table {_qualified(op.table_name, op.schema)}"]
    if isinstance(op, ops.DropTableOp):
        return [f"remove table {_qualified(op.table_name, op.schema)}"]
    if isinstance(op, ops.AddColumnOp):
        return [f"add column {_qualified(op.table_name, op.schema, op.column.name)}"]
    if isinstance(op, ops.DropColumnOp):
        return [f"remove column {_qualified(op.table_name, op.schema, op.column_name)}"]
    if isinstance(op, ops.AlterColumnOp):
        name = _qualified(op.table_name, op.schema, op.column_name)
        return [
            f"{kind.replace('_', ' ')} of column {name}: {_shown(kind, old)} -> {_shown(kind, new)}"
            for kind, *_, old, new in _alter_diffs(op)
        ]
    if isinstance(op, ops.CreateIndexOp):
        return [f"add index {op.index_name} on {_qualified(op.table_name, op.schema)}"]
    if isinstance(op, ops.DropIndexOp):
        return [f"remove index {op.index_name} on {_qualified(op.table_name, op.schema)}"]
    if isinstance(op, ops.AddConstraintOp):
        table, schema = op.target
        kind = op.constraint_type or "constraint"
        name = getattr(op, "constraint_name", None) or "(unnamed)"
        return [f"add {_KIND[kind]} {name} on {_qualified(table, schema)}"]
    if isinstance(op, ops.DropConstraintOp):
        kind = _KIND.get(op.type_ or "", "constraint")
        name = op.constraint_name or "(unnamed)"
        return [f"remove {kind} {name} on {_qualified(op.table_name, op.schema)}"]
    if isinstance(op, ops.CreateTableCommentOp):
        return [f"set comment of table {_qualified(op.table_name, op.schema)}: {op.comment!r}"]
    if isinstance(op, ops.DropTableCommentOp):
        return [f"remove comment of table {_qualified(op.table_name, op.schema)}"]
    return [_other_line(op)]


def _shown(kind: str, value: Any) -> str:
    """A changed attribute as a reader wants it: a server default as its SQL text."""
    return default_sql(value) if kind == "modify_default" else repr(value)


def default_sql(default: Any) -> str:
    """A server default as SQL text (``'member'``, ``now()``, ``false``); None as None.

    A string is the value it stands for, so it shows as its SQL literal; ``text()`` and
    reflected defaults show their own text.
    """
    from sqlalchemy.schema import Computed, DefaultClause, FetchedValue, Identity
    from sqlalchemy.sql.elements import ClauseElement, TextClause

    if isinstance(default, DefaultClause):
        default = default.arg
    if default is None:
        return "None"
    if isinstance(default, str):
        return "'" + default.replace("'", "''") + "'"
    if isinstance(default, TextClause):
        return default.text
    if isinstance(default, Computed):
        return f"GENERATED ALWAYS AS ({default_sql(default.sqltext)})"
    if isinstance(default, Identity):
        return "GENERATED AS IDENTITY"
    if isinstance(default, ClauseElement):
        return str(default.compile(compile_kwargs={"literal_binds": True}))
    if isinstance(default, FetchedValue):
        return "FetchedValue()"
    return repr(default)


_KIND = {
    "foreignkey": "foreign key",
    "unique": "unique constraint",
    "check": "check constraint",
    "primary": "primary key",
    "exclude": "exclude constraint",
    "constraint": "constraint",
}


def _other_line(op: ops.MigrateOperation) -> str:
    if isinstance(op, autogen_ops.CreateEnumTypeOp):
        return f"add enum type {_qualified(op.name, op.schema)} {op.values!r}"
    if isinstance(op, autogen_ops.DropEnumTypeOp):
        return f"remove enum type {_qualified(op.name, op.schema)}"
    if isinstance(op, autogen_ops.AddEnumValueOp):
        return f"add value {op.value!r} to enum type {_qualified(op.name, op.schema)}"
    if isinstance(op, autogen_ops.TodoOp):
        return f"review: {op.text}"
    if isinstance(op, autogen_ops.ExecuteReversibleSQLOp):
        return op.description or op.sql
    return type(op).__name__
