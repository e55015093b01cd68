"""What the constraint comparators share: names, matching model items with reflected ones, ops.

Indexes, unique constraints, foreign keys and checks are all matched the same way
(`match`): by name where the model names the object, else by what it covers; a changed
object becomes a drop and a create (`diff`, `emit`). SQL text (expressions, WHERE clauses,
check conditions) is compared normalised (`normalise_sql`), because the database gives back
its own spelling.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.sql.elements import conv

from amigrate._util import fields_repr
from amigrate.operations.ops import (
    AddColumnOp,
    DropColumnOp,
    MigrateOperation,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Iterable

    from sqlalchemy.schema import SchemaItem

    from amigrate.autogenerate.api import AutogenContext
    from amigrate.autogenerate.reflect import ReflectedTable
    from amigrate.operations.ops import ModifyTableOps

_M = TypeVar("_M")
_D = TypeVar("_D")


def object_name(obj: Any) -> str | None:
    """The object's name as given or made by a naming convention; None when unnamed.

    The name stays a ``conv`` where it is one, so rendering writes ``op.f(...)``.
    """
    name = getattr(obj, "name", None)
    return name if isinstance(name, str) else None


def database_name(ctx: AutogenContext, name: str | None, index: bool = False) -> str | None:
    """The name the database has for a model name: a naming convention's too-long name is
    shortened by SQLAlchemy (a hash suffix) when the DDL is written."""
    if not isinstance(name, conv):
        return name
    dialect = ctx.dialect
    limit = (
        dialect.max_index_name_length if index else dialect.max_constraint_name_length
    ) or dialect.max_identifier_length
    if len(name) <= limit:
        return str(name)
    return name[0 : limit - 8] + "_" + hashlib.md5(name.encode()).hexdigest()[-4:]


def model_item(
    ctx: AutogenContext, obj: _M, signature: Hashable, *, index: bool = False
) -> Item[_M]:
    """A model object's `Item`, looked up by the name the database will have for it."""
    name = object_name(obj)
    return Item(name, signature, obj, database_name(ctx, name, index))


def parent_names(reflected: ReflectedTable) -> dict[str, Any]:
    """The ``parent_names`` the ``include_name`` hook gets for a table's objects."""
    qualified = f"{reflected.schema}.{reflected.name}" if reflected.schema else reflected.name
    return {
        "schema_name": reflected.schema,
        "table_name": reflected.name,
        "schema_qualified_table_name": qualified,
    }


@dataclass(repr=False, frozen=True)
class ColumnChanges:
    """Columns the table's earlier ops add or drop, and what comes or goes with them.

    An ``add_column`` creates what its column object carries: ``index=True``,
    ``unique=True``, foreign keys, column-level checks; those are not emitted again (the
    columns comparator adds bare copies, so usually nothing is carried). Database objects
    covering a dropped column are dropped explicitly just before the column (`drop_early`),
    so the downgrade puts them back after re-adding it.
    """

    __repr__ = fields_repr

    dropped: frozenset[str]
    carried: tuple[Any, ...]

    @classmethod
    def of(cls, table_ops: ModifyTableOps) -> ColumnChanges:
        carried = tuple(op.column for op in table_ops.ops if isinstance(op, AddColumnOp))
        dropped = {op.column_name for op in table_ops.ops if isinstance(op, DropColumnOp)}
        return cls(frozenset(dropped), carried)

    def drops_any(self, names: Iterable[str | None]) -> bool:
        return any(name in self.dropped for name in names)

    def carries(self, obj: Any) -> bool:
        """Whether an ``add_column`` of this table already creates ``obj``."""
        if isinstance(obj, sa.ForeignKeyConstraint):
            return any(c.name in obj.column_keys and c.foreign_keys for c in self.carried)
        if isinstance(obj, sa.CheckConstraint):
            return any(
                object_name(k) == object_name(obj) for c in self.carried for k in c.constraints
            )
        if not getattr(obj, "_column_flag", False):
            return False
        flag = "index" if isinstance(obj, sa.Index) else "unique"
        names = {getattr(c, "name", None) for c in getattr(obj, "expressions", obj.columns)}
        return any(c.name in names and getattr(c, flag) for c in self.carried)


def drop_early(
    ctx: AutogenContext,
    table_ops: ModifyTableOps,
    type_: str,
    doomed: list[Item[Any]],
    reflected_op: Callable[[Item[Any]], MigrateOperation],
) -> None:
    """Drop database objects covering a dropped column just before the column goes, so the
    downgrade brings them back after the column.

    An unnamed one (SQLite reflects foreign keys without names) is dropped only in batch
    mode, which finds it by its columns; elsewhere it cannot be named.
    """
    drops: list[MigrateOperation] = []
    for d in doomed:
        if d.name is None and not ctx.opts.render_as_batch:
            continue
        add_db = reflected_op(d)
        if ctx.include_object(_schema_item(ctx, add_db), d.name, type_, True, None):
            drops.append(add_db.reverse())
    if drops:
        at = next(i for i, op in enumerate(table_ops.ops) if isinstance(op, DropColumnOp))
        table_ops.ops[at:at] = drops


@dataclass(repr=False)
class Item(Generic[_M]):
    """One index/constraint on one side: its name, what it is (``signature``), the object."""

    __repr__ = fields_repr

    name: str | None
    signature: Hashable
    obj: _M
    key: str | None = None
    """The name to look for in the database, when it differs (a truncated long name)."""

    @property
    def lookup(self) -> str | None:
        return self.key if self.key is not None else self.name


def match(
    model: list[Item[_M]], database: list[Item[_D]]
) -> tuple[list[tuple[Item[_M], Item[_D]]], list[Item[_M]], list[Item[_D]]]:
    """Pair model and database objects: (pairs, model only, database only).

    A named model object pairs with the database object of that name (even when they
    differ: the caller turns that into drop + create); the rest pair by signature, where
    one side is unnamed (SQLite reflects unnamed constraints; PostgreSQL names them itself).
    """
    by_name = {item.name: item for item in database if item.name is not None}
    pairs: list[tuple[Item[_M], Item[_D]]] = []
    left_model: list[Item[_M]] = []
    taken: set[int] = set()
    for item in model:
        found = by_name.get(str(item.lookup)) if item.lookup is not None else None
        if found is not None and id(found) not in taken:
            pairs.append((item, found))
            taken.add(id(found))
        else:
            left_model.append(item)
    left_db = [item for item in database if id(item) not in taken]
    model_only: list[Item[_M]] = []
    for item in left_model:
        found = next(
            (
                d
                for d in left_db
                if d.signature == item.signature and (item.name is None or d.name is None)
            ),
            None,
        )
        if found is None:
            model_only.append(item)
        else:
            pairs.append((item, found))
            left_db.remove(found)
    return pairs, model_only, left_db


def emit(
    ctx: AutogenContext,
    table_ops: ModifyTableOps,
    type_: str,
    matched: tuple[list[tuple[Item[Any], Item[Any]]], list[Item[Any]], list[Item[Any]]],
    create: Callable[[Item[Any]], MigrateOperation],
    reflected_op: Callable[[Item[Any]], MigrateOperation],
) -> None:
    """Append the drops, then the creates, that `diff` finds."""
    drops, creates = diff(ctx, type_, matched, create, reflected_op)
    table_ops.ops.extend(drops + creates)


def diff(
    ctx: AutogenContext,
    type_: str,
    matched: tuple[list[tuple[Item[Any], Item[Any]]], list[Item[Any]], list[Item[Any]]],
    create: Callable[[Item[Any]], MigrateOperation],
    reflected_op: Callable[[Item[Any]], MigrateOperation],
) -> tuple[list[MigrateOperation], list[MigrateOperation]]:
    """(drops, creates) for what differs, as ``include_object`` allows.

    ``create`` makes the op adding a model object; ``reflected_op`` the op adding a
    database object, whose ``reverse()`` is the drop (so the drop can be undone).
    """
    pairs, model_only, db_only = matched
    drops: list[MigrateOperation] = []
    creates: list[MigrateOperation] = []
    for m, d in pairs:
        if m.signature == d.signature:
            continue
        add_db = reflected_op(d)
        if ctx.include_object(m.obj, m.name, type_, False, _schema_item(ctx, add_db)):
            drops.append(add_db.reverse())
            creates.append(create(m))
    for d in db_only:
        add_db = reflected_op(d)
        if ctx.include_object(_schema_item(ctx, add_db), d.name, type_, True, None):
            drops.append(add_db.reverse())
    for m in model_only:
        if ctx.include_object(m.obj, m.name, type_, False, None):
            creates.append(create(m))
    return drops, creates


def _schema_item(ctx: AutogenContext, op: MigrateOperation) -> SchemaItem | None:
    """The SQLAlchemy object an op adds, for the ``include_object`` hook (only if set)."""
    if ctx.opts.include_object is None:
        return None
    to_object = getattr(op, "to_index", None) or op.to_constraint  # type: ignore[attr-defined]
    result: SchemaItem = to_object()
    return result


def unnamed_constraint_name(
    ctx: AutogenContext, table: str, columns: Iterable[str], label: str
) -> str | None:
    """On PostgreSQL, the name an unnamed constraint will get (so its drop can name it)."""
    if ctx.dialect_name != "postgresql":
        return None
    from amigrate.autogenerate.dialects.postgresql import default_constraint_name

    return default_constraint_name(table, tuple(columns), label)


def compile_sql(ctx: AutogenContext, element: Any) -> str:
    """SQL text of an expression (or the text itself), as this dialect writes it."""
    if isinstance(element, str):
        return element
    if isinstance(element, sa.Column):
        return str(element.name)
    compiled = str(
        element.compile(
            dialect=ctx.dialect, compile_kwargs={"literal_binds": True, "include_table": False}
        )
    )
    if getattr(ctx.dialect.identifier_preparer, "_double_percents", False):
        compiled = compiled.replace("%%", "%")  # the driver's escape, not the SQL's text
    return compiled


_CAST = re.compile(
    r"::\s*(?:character varying|double precision|timestamp with(?:out)? time zone|[\w.\"]+)"
    r"(?:\(\d+(?:,\s*\d+)?\))?(?:\[\])?"
)
_NOISE = re.compile(r"[\s()\"`\[\]]")


def normalise_sql(text: str | None) -> str:
    """SQL text reduced for comparison: no casts, parentheses, quotes, spaces or case."""
    if text is None:
        return ""
    return _NOISE.sub("", _CAST.sub("", str(text).lower()))


# -- indexes and unique constraints -----------------------------------------------------------


__all__ = [
    "ColumnChanges",
    "Item",
    "compile_sql",
    "database_name",
    "diff",
    "drop_early",
    "emit",
    "match",
    "model_item",
    "normalise_sql",
    "object_name",
    "parent_names",
    "unnamed_constraint_name",
]
