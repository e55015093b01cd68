"""Comparator: a table's indexes and unique constraints, model against database.

Both kinds are matched the same way (`match`): by name where the model names the object,
else by what it covers; a changed object becomes a drop and a create. Expressions and
partial-index conditions are compared as normalised SQL text, because the database gives
back its own spelling (``lower((name)::text)`` for ``lower(name)``).

The small helpers at the top are shared with ``foreign_keys.py`` and ``checks.py``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.sql.elements import ClauseElement, conv

from amigrate.operations.ops import (
    AddColumnOp,
    CreateIndexOp,
    CreateUniqueConstraintOp,
    DropColumnOp,
    MigrateOperation,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Iterable

    from sqlalchemy.schema import Index, SchemaItem, Table

    from amigrate.autogenerate.api import AutogenContext
    from amigrate.autogenerate.reflect import ReflectedTable
    from amigrate.operations.ops import ModifyTableOps
    from amigrate.operations.schemaobj import IndexElement

_M = TypeVar("_M")
_D = TypeVar("_D")

# -- shared helpers ---------------------------------------------------------------------------


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


@dataclass(frozen=True)
class ColumnChanges:
    """Columns the table's earlier ops add or drop, and what comes or goes with them.

    An ``add_column`` creates what its column object carries: ``index=True``,
    ``unique=True``, foreign keys, column-level checks; those are not emitted again (the
    columns comparator adds bare copies, so usually nothing is carried). Database objects
    covering a dropped column are dropped explicitly just before the column (`drop_early`),
    so the downgrade puts them back after re-adding it.
    """

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
    """Drop database objects covering a dropped column just before the column goes.

    Unnamed ones (SQLite) cannot be dropped by name; SQLite's batch mode loses them with
    the column.
    """
    drops: list[MigrateOperation] = []
    for d in doomed:
        if d.name is None:
            continue
        add_db = reflected_op(d)
        if ctx.include_object(_schema_item(ctx, add_db), d.name, type_, True, None):
            drops.append(add_db.reverse())
    if drops:
        at = next(i for i, op in enumerate(table_ops.ops) if isinstance(op, DropColumnOp))
        table_ops.ops[at:at] = drops


@dataclass
class Item(Generic[_M]):
    """One index/constraint on one side: its name, what it is (``signature``), the object."""

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


def compare_indexes(
    ctx: AutogenContext, table_ops: ModifyTableOps, reflected: ReflectedTable, model: Table
) -> None:
    """Indexes and unique constraints added, removed or changed on one table."""
    changes = ColumnChanges.of(table_ops)
    names = parent_names(reflected)
    db_indexes = [
        Item(ix["name"], _db_index_signature(ctx, ix), ix)
        for ix in [*reflected.indexes, *_sqlite_unreflected_indexes(ctx, reflected)]
        if not ix.get("duplicates_constraint") and ctx.include_name(ix["name"], "index", names)
    ]
    db_uniques = [
        Item(uq["name"], tuple(uq["column_names"]), uq)
        for uq in reflected.unique_constraints
        if ctx.include_name(uq["name"], "unique_constraint", names)
    ]
    model_indexes = [
        model_item(ctx, ix, _model_index_signature(ctx, ix), index=True)
        for ix in model.indexes
        if not changes.carries(ix)
    ]
    model_uniques = [
        model_item(ctx, c, tuple(col.name for col in c.columns))
        for c in model.constraints
        if isinstance(c, sa.UniqueConstraint) and not changes.carries(c)
    ]

    def unique_op(item: Item[Any], kw: dict[str, Any]) -> CreateUniqueConstraintOp:
        columns = cast("tuple[str, ...]", item.signature)
        return CreateUniqueConstraintOp(
            item.name, reflected.name, columns, schema=reflected.schema, kw=kw
        )

    def index_op(item: Item[Any]) -> CreateIndexOp:
        return _db_index_op(item.obj, reflected)

    drops: list[MigrateOperation] = []
    creates: list[MigrateOperation] = []
    for type_, model_items, db_items, create, reflected_op in (
        (
            "unique_constraint",
            model_uniques,
            db_uniques,
            lambda m: unique_op(m, _constraint_kw(m.obj)),
            lambda d: unique_op(d, {}),
        ),
        (
            "index",
            model_indexes,
            db_indexes,
            lambda m: _model_index_op(ctx, m.obj, reflected.schema),
            index_op,
        ),
    ):
        doomed = [d for d in db_items if changes.drops_any(d.obj.get("column_names") or ())]
        kept = [d for d in db_items if all(d is not gone for gone in doomed)]
        found = diff(ctx, type_, match(model_items, kept), create, reflected_op)
        drops.extend(found[0])
        creates.extend(found[1])
        drop_early(ctx, table_ops, type_, doomed, reflected_op)
    # all drops first: a unique index and a unique constraint may trade a name
    table_ops.ops.extend(drops + creates)


def _constraint_kw(constraint: sa.Constraint) -> dict[str, Any]:
    kw: dict[str, Any] = dict(constraint.dialect_kwargs)
    for key in ("deferrable", "initially"):
        if getattr(constraint, key, None) is not None:
            kw[key] = getattr(constraint, key)
    return kw


# -- signatures: what makes two indexes the same ----------------------------------------------

_SORT_SUFFIX = re.compile(r"\s+(asc|desc)?(\s*nulls\s+(first|last))?\s*$", re.IGNORECASE)


def _model_index_signature(ctx: AutogenContext, index: Index) -> Hashable:
    elements = [compile_sql(ctx, e) for e in index.expressions]
    where = index.dialect_kwargs.get(f"{ctx.dialect_name}_where")
    return _signature(
        ctx,
        bool(index.unique),
        elements,
        compile_sql(ctx, where) if where is not None else None,
        index.dialect_kwargs,
    )


def _db_index_signature(ctx: AutogenContext, reflected: dict[str, Any]) -> Hashable:
    options = reflected.get("dialect_options", {})
    where = options.get(f"{ctx.dialect_name}_where")
    return _signature(
        ctx,
        bool(reflected.get("unique")),
        _db_elements(reflected),
        str(where) if where is not None else None,
        options,
    )


def _signature(
    ctx: AutogenContext,
    unique: bool,
    elements: list[str],
    where: str | None,
    options: Any,
) -> Hashable:
    if ctx.dialect_name == "sqlite":  # SQLite's reflection does not report ASC/DESC
        elements = [_SORT_SUFFIX.sub("", e) for e in elements]
    prefix = ctx.dialect_name
    include = tuple(options.get(f"{prefix}_include") or ())
    using = str(options.get(f"{prefix}_using") or "btree").lower()
    return (
        unique,
        tuple(normalise_sql(e) for e in elements),
        normalise_sql(where),
        tuple(str(getattr(c, "name", c)) for c in include),
        using if prefix == "postgresql" else "",
    )


def _db_elements(reflected: dict[str, Any]) -> list[str]:
    """The reflected index's elements as SQL text, with their ASC/DESC/NULLS words."""
    names = reflected.get("expressions") or reflected.get("column_names") or []
    sorting = reflected.get("column_sorting") or {}
    words = {key: " ".join(w.replace("_", " ") for w in value) for key, value in sorting.items()}
    return [f"{name} {words[name]}" if name in words else str(name) for name in names]


# -- ops ----------------------------------------------------------------------------------------


def _model_index_op(ctx: AutogenContext, index: Index, schema: str | None) -> CreateIndexOp:
    """``create_index`` for a model index; expressions become SQL text for this dialect."""
    columns: list[IndexElement] = [
        e.name if isinstance(e, sa.Column) else sa.text(compile_sql(ctx, e))
        for e in index.expressions
    ]
    kw = {
        key: sa.text(compile_sql(ctx, value)) if isinstance(value, ClauseElement) else value
        for key, value in index.dialect_kwargs.items()
    }
    table = index.table
    return CreateIndexOp(
        object_name(index),
        table.name if table is not None else "",
        tuple(columns),
        schema=schema,
        unique=bool(index.unique),
        kw=kw,
    )


def _db_index_op(reflected: dict[str, Any], table: ReflectedTable) -> CreateIndexOp:
    """``create_index`` that makes the reflected index again (the reverse of its drop)."""
    columns: list[IndexElement] = []
    plain = set(reflected.get("column_names") or ())
    for name, text in zip(
        reflected.get("expressions") or reflected.get("column_names") or [],
        _db_elements(reflected),
        strict=True,
    ):
        columns.append(name if text == name and name in plain else sa.text(text))
    kw: dict[str, Any] = {}
    for key, value in (reflected.get("dialect_options") or {}).items():
        if key.endswith("_where") and value is not None:
            kw[key] = sa.text(_strip_outer_parens(str(value)))
        elif key.endswith("_include") and value:
            kw[key] = list(value)
        elif key.endswith("_using") and value:
            kw[key] = value
    return CreateIndexOp(
        reflected["name"],
        table.name,
        tuple(columns),
        schema=table.schema,
        unique=bool(reflected.get("unique")),
        kw=kw,
    )


def _strip_outer_parens(text: str) -> str:
    """``(a > 1)`` → ``a > 1``, leaving ``(a) > (1)`` alone."""
    text = text.strip()
    while text.startswith("(") and text.endswith(")"):
        inner, depth = text[1:-1], 0
        for char in inner:
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth < 0:
                return text
        text = inner.strip()
    return text


# -- SQLite: expression indexes SQLAlchemy does not reflect -------------------------------------


def _sqlite_unreflected_indexes(
    ctx: AutogenContext, reflected: ReflectedTable
) -> list[dict[str, Any]]:
    """SQLite indexes on expressions, which SQLAlchemy skips, parsed from their SQL text.

    Without them, every expression index would be created again on each run.
    """
    if ctx.dialect_name != "sqlite":
        return []
    known = {ix["name"] for ix in reflected.indexes}
    found = []
    for name, sql in reflected.index_sql.items():
        if name in known:
            continue
        parsed = _parse_create_index(sql)
        if parsed is not None:
            elements, where = parsed
            found.append(
                {
                    "name": name,
                    "unique": sql.lstrip().upper().startswith("CREATE UNIQUE"),
                    "column_names": [None] * len(elements),
                    "expressions": elements,
                    "dialect_options": {"sqlite_where": where} if where else {},
                }
            )
    return found


def _parse_create_index(sql: str) -> tuple[list[str], str | None] | None:
    """(elements, WHERE text) of a ``CREATE INDEX ... ON t (a, lower(b)) WHERE ...``."""
    on = re.search(r"\bON\b", sql, re.IGNORECASE)
    start = sql.find("(", on.end()) if on else -1
    if start < 0:
        return None
    depth, parts, current = 0, [], ""
    for end in range(start + 1, len(sql)):
        char = sql[end]
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                parts.append(current.strip())
                rest = sql[end + 1 :].strip()
                where = re.match(r"WHERE\b(.*)$", rest, re.IGNORECASE | re.DOTALL)
                return parts, where.group(1).strip() if where else None
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        current += char
    return None


__all__ = [
    "ColumnChanges",
    "Item",
    "compare_indexes",
    "compile_sql",
    "diff",
    "drop_early",
    "emit",
    "match",
    "model_item",
    "normalise_sql",
    "object_name",
    "parent_names",
]
