"""Tables: whole tables added or removed, as ops that recreate them exactly.

An added table's ``CreateTableOp`` holds the model's columns, constraints and indexes (the
ones the columns do not make themselves); a removed table's ``DropTableOp`` reverses into a
``CreateTableOp`` built from the reflection, so the downgrade recreates what was dropped.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa

from amigrate.operations.ops import CreateTableOp, DropTableOp

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect
    from sqlalchemy.schema import SchemaItem

    from amigrate.autogenerate.reflect import ReflectedTable

_FK_OPTIONS = ("onupdate", "ondelete", "deferrable", "initially", "match")


def create_table_op(table: sa.Table) -> CreateTableOp:
    """The op creating ``table`` as the model has it."""
    key = table.primary_key
    if _made_by_columns(key, table):
        items: list[SchemaItem] = list(table.columns)
    else:
        # the key's own order or name: the columns' flags would say otherwise
        items = [_without_key_flag(c) for c in table.columns]
        items.append(
            sa.PrimaryKeyConstraint(
                *[c.name for c in key.columns],
                name=cast("str | None", key.name),
                **key.dialect_kwargs,
            )
        )
    items.extend(
        c
        for c in table.constraints
        if not isinstance(c, sa.PrimaryKeyConstraint) and not _made_by_columns(c, table)
    )
    items.extend(i for i in table.indexes if not getattr(i, "_column_flag", False))
    kw: dict[str, Any] = dict(table.kwargs)
    if table.comment is not None:
        kw["comment"] = table.comment
    if table.info:
        kw["info"] = dict(table.info)
    if table._prefixes:
        kw["prefixes"] = list(table._prefixes)
    return CreateTableOp(table.name, tuple(items), schema=table.schema, kw=kw)


def _without_key_flag(column: sa.Column[Any]) -> sa.Column[Any]:
    copy = column._copy()
    copy.primary_key = False
    return copy


def _made_by_columns(constraint: sa.Constraint, table: sa.Table) -> bool:
    """Whether copying the columns brings ``constraint`` back by itself."""
    if getattr(constraint, "_column_flag", False) or getattr(constraint, "_type_bound", False):
        return True
    if isinstance(constraint, sa.PrimaryKeyConstraint):
        flagged = [c.name for c in table.columns if c.primary_key]
        named = constraint.name is not None or bool(constraint.dialect_kwargs)
        return not named and [c.name for c in constraint.columns] == flagged
    return False


def drop_table_op(reflected: ReflectedTable, dialect: Dialect) -> DropTableOp:
    """The op dropping a reflected table, reversible into its recreation."""
    create = create_table_op_from_reflection(reflected, dialect)
    return DropTableOp(reflected.name, schema=reflected.schema, reverse_of=create)


def create_table_op_from_reflection(reflected: ReflectedTable, dialect: Dialect) -> CreateTableOp:
    """A ``CreateTableOp`` recreating a table from its reflection dicts."""
    pk_columns = list(reflected.primary_key.get("constrained_columns") or [])
    items: list[SchemaItem] = [
        column_from_reflection(d, dialect, primary_key=d["name"] in pk_columns)
        for d in reflected.columns
    ]
    if pk_columns:
        items.append(sa.PrimaryKeyConstraint(*pk_columns, name=reflected.primary_key.get("name")))
    items.extend(_foreign_key(fk) for fk in reflected.foreign_keys)
    items.extend(
        sa.UniqueConstraint(*u["column_names"], name=u.get("name"))
        for u in reflected.unique_constraints
    )
    items.extend(
        sa.CheckConstraint(sa.text(c["sqltext"]), name=c.get("name"))
        for c in reflected.check_constraints
    )
    items.extend(_index(ix) for ix in reflected.indexes if not ix.get("duplicates_constraint"))
    kw: dict[str, Any] = {}
    if reflected.comment is not None:
        kw["comment"] = reflected.comment
    return CreateTableOp(reflected.name, tuple(items), schema=reflected.schema, kw=kw)


def table_from_reflection(reflected: ReflectedTable, dialect: Dialect) -> sa.Table:
    """A ``Table`` of the reflection, for the ``include_object`` hook."""
    return create_table_op_from_reflection(reflected, dialect).to_table()


class ReflectedColumn:
    """One column as reflected: SQLAlchemy's dict, and a ``Column`` of it when one is needed.

    Most columns match their model, and building a ``Column`` costs more than comparing
    the dict; it is built for ops and hooks only.
    """

    def __init__(self, data: dict[str, Any], dialect: Dialect, *, primary_key: bool) -> None:
        self.data = data
        self._dialect = dialect
        self._primary_key = primary_key

    @functools.cached_property
    def column(self) -> sa.Column[Any]:
        return column_from_reflection(self.data, self._dialect, primary_key=self._primary_key)


def column_from_reflection(
    reflected: dict[str, Any], dialect: Dialect, *, primary_key: bool = False
) -> sa.Column[Any]:
    """A ``Column`` as the database has it: type, nullability, default, comment, generation."""
    from amigrate.autogenerate.dialects import rules_for

    args: list[Any] = []
    computed = reflected.get("computed")
    identity = reflected.get("identity")
    default = reflected.get("default")
    if computed:
        args.append(sa.Computed(sa.text(computed["sqltext"]), persisted=computed.get("persisted")))
    elif identity:
        args.append(sa.Identity(**{k: v for k, v in identity.items() if k != "on_null"}))
    elif default is not None and not rules_for(dialect.name).is_generated_default(default):
        args.append(sa.DefaultClause(sa.literal_column(default)))  # exact: no ":x" binds
    autoincrement = reflected.get("autoincrement", "auto")
    type_ = reflected["type"]
    if getattr(type_, "create_type", False):
        # enum types are created and dropped by their own ops (compare/enums.py)
        type_.create_type = False
    return sa.Column(
        reflected["name"],
        type_,
        *args,
        primary_key=primary_key,
        nullable=reflected.get("nullable", True),
        autoincrement=autoincrement if isinstance(autoincrement, bool) else "auto",
        comment=reflected.get("comment"),
    )


def _foreign_key(fk: dict[str, Any]) -> sa.ForeignKeyConstraint:
    prefix = f"{fk['referred_schema']}." if fk.get("referred_schema") else ""
    target = f"{prefix}{fk['referred_table']}"
    options = {k: v for k, v in (fk.get("options") or {}).items() if k in _FK_OPTIONS}
    return sa.ForeignKeyConstraint(
        fk["constrained_columns"],
        [f"{target}.{c}" for c in fk["referred_columns"]],
        name=fk.get("name"),
        **options,
    )


def _index(reflected: dict[str, Any]) -> sa.Index:
    expressions = reflected.get("expressions") or reflected["column_names"]
    elements: list[Any] = [
        name if name in reflected["column_names"] else sa.text(name) for name in expressions
    ]
    options = dict(reflected.get("dialect_options") or {})
    return sa.Index(reflected["name"], *elements, unique=reflected.get("unique", False), **options)


def drop_order(tables: list[ReflectedTable]) -> list[ReflectedTable]:
    """``tables`` with every table before the tables it refers to (drop order)."""
    keys = {(t.schema, t.name): t for t in tables}
    done: set[tuple[str | None, str]] = set()
    order: list[ReflectedTable] = []

    def visit(key: tuple[str | None, str], path: set[tuple[str | None, str]]) -> None:
        if key in done or key in path:
            return
        path.add(key)
        for other in tables:
            if key != (other.schema, other.name) and refers_to(other, key):
                visit((other.schema, other.name), path)
        done.add(key)
        order.append(keys[key])

    for key in sorted(keys, key=lambda k: (k[0] or "", k[1])):
        visit(key, set())
    return order


def refers_to(table: ReflectedTable, key: tuple[str | None, str]) -> bool:
    """Whether a foreign key of ``table`` refers to the table of ``key`` (schema, name)."""
    schema, name = key
    return any(
        fk["referred_table"] == name and fk.get("referred_schema") in (schema, table.schema)
        for fk in table.foreign_keys
    )


__all__ = [
    "ReflectedColumn",
    "column_from_reflection",
    "create_table_op",
    "create_table_op_from_reflection",
    "drop_order",
    "drop_table_op",
    "refers_to",
    "table_from_reflection",
]
