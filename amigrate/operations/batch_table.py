"""The table a batch is building: columns, keys, checks and indexes as editable data.

Batch mode on SQLite cannot alter a table in place, so it describes the table as it will be
(`TableState`), applies the recorded operations to that description, and builds a new
``Table`` from it. Constraints and indexes refer to columns by name, so a rename is one
substitution; SQL text that names columns (CHECK conditions, generated-column expressions,
partial-index conditions, indexes replayed from their original SQL) is rewritten with
``batch_sql.rename_identifiers``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import text
from sqlalchemy.schema import (
    CheckConstraint,
    Column,
    Computed,
    DefaultClause,
    ForeignKeyConstraint,
    Index,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
)
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.sqltypes import to_instance

from amigrate._util import fields_repr
from amigrate.ddl.elements import foreign_key_target
from amigrate.errors import AmigrateError
from amigrate.operations import schemaobj
from amigrate.operations.batch_sql import identifiers, rename_identifiers, sql_text

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from sqlalchemy.engine import Dialect
    from sqlalchemy.schema import MetaData, SchemaItem

_FK_OPTIONS = ("onupdate", "ondelete", "deferrable", "initially", "match")


@dataclass(repr=False)
class ColumnState:
    """One column of the new table; ``source`` is its name in the old table (None if new)."""

    __repr__ = fields_repr

    column: Column[Any]
    source: str | None
    retyped: bool = False


_CONSTRAINT_KINDS = {"primary": "primary_key", "foreignkey": "foreign_key", "unique": "unique"}


@dataclass(repr=False)
class ConstraintState:
    """A primary key, unique, foreign key or check constraint, columns by name."""

    __repr__ = fields_repr

    kind: str  # "primary_key" | "unique" | "foreign_key" | "check"
    name: str | None
    columns: list[str] = field(default_factory=list)
    sqltext: str | None = None
    referent: tuple[str | None, str, list[str]] | None = None  # (schema, table, columns)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(repr=False)
class IndexState:
    """An index: column names or expressions; ``raw_sql`` when replayed as it was written."""

    __repr__ = fields_repr

    name: str | None
    elements: list[str | ClauseElement]
    unique: bool = False
    kw: dict[str, Any] = field(default_factory=dict)
    raw_sql: str | None = None


@dataclass(repr=False)
class TableState:
    """The new table as the batch's operations leave it."""

    __repr__ = fields_repr

    name: str
    schema: str | None
    dialect: Dialect
    columns: list[ColumnState] = field(default_factory=list)
    constraints: list[ConstraintState] = field(default_factory=list)
    indexes: list[IndexState] = field(default_factory=list)
    comment: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    extra_sql: list[str] = field(default_factory=list)  # triggers, replayed after the swap
    renames: dict[str, str] = field(default_factory=dict)  # old (lower) -> new, for SQL text
    naming_convention: Mapping[str, Any] | None = None  # names new unnamed constraints

    # -- reading an existing table -----------------------------------------------------------

    @classmethod
    def from_table(cls, table: Table, dialect: Dialect) -> TableState:
        state = cls(table.name, table.schema, dialect, comment=table.comment)
        state.kwargs = dict(table.dialect_kwargs)
        for column in table.columns:
            state.columns.append(ColumnState(copy_column(column, dialect), column.name))
        if table.primary_key.columns:
            names = [c.name for c in table.primary_key.columns]
            state.constraints.append(
                ConstraintState("primary_key", _name(table.primary_key), names)
            )
        for constraint in sorted(table.constraints, key=_constraint_order):
            found = _constraint_state(constraint, dialect)
            if found is not None:
                state.constraints.append(found)
        for index in sorted(table.indexes, key=lambda ix: str(ix.name or "")):
            elements: list[str | ClauseElement] = [
                e.name if isinstance(e, Column) else e for e in index.expressions
            ]
            state.indexes.append(
                IndexState(_name(index), elements, bool(index.unique), dict(index.dialect_kwargs))
            )
        return state

    # -- looking things up -------------------------------------------------------------------

    def column(self, name: str) -> ColumnState:
        for state in self.columns:
            if state.column.name == name:
                return state
        known = ", ".join(c.column.name for c in self.columns)
        raise AmigrateError(
            f"table {self.name!r} has no column {name!r}", hint=f"its columns are: {known}"
        )

    def has_column(self, name: str) -> bool:
        return any(c.column.name == name for c in self.columns)

    def has_constraint(self, name: str | None) -> bool:
        return any(c.name == name for c in self.constraints)

    def has_index(self, name: str | None) -> bool:
        return name is not None and any(ix.name == name for ix in self.indexes)

    def _current_name(self, name: str) -> str:
        """``name``, or what the batch renamed it to."""
        if all(c.column.name != name for c in self.columns):
            name = self.renames.get(name.lower(), name)
        return self.column(name).column.name

    def _position(self, name: str) -> int:
        return self.columns.index(self.column(name))

    # -- columns -----------------------------------------------------------------------------

    def add_column(
        self, column: Column[Any], insert_before: str | None, insert_after: str | None
    ) -> None:
        if any(c.column.name == column.name for c in self.columns):
            raise AmigrateError(f"table {self.name!r} already has a column {column.name!r}")
        state = ColumnState(copy_column(column, self.dialect), None)
        self._place(state, insert_before, insert_after, default=len(self.columns))
        self._column_extras(column)

    def move_column(self, name: str, insert_before: str | None, insert_after: str | None) -> None:
        state = self.column(name)
        self.columns.remove(state)
        self._place(state, insert_before, insert_after, default=len(self.columns))

    def _place(
        self, state: ColumnState, before: str | None, after: str | None, *, default: int
    ) -> None:
        position = default
        if before is not None:
            position = self._position(before)
        elif after is not None:
            position = self._position(after) + 1
        self.columns.insert(position, state)

    def _column_extras(self, column: Column[Any]) -> None:
        """What ``Column(..., primary_key=, unique=, index=, ForeignKey())`` asks for."""
        name = column.name
        if column.primary_key:  # joins the primary key, as in a table definition
            current = next((c for c in self.constraints if c.kind == "primary_key"), None)
            columns = [*current.columns, name] if current else [name]
            self.set_primary_key(current.name if current else None, columns)
        if column.index:  # with unique=True too: SQLAlchemy makes that a unique index
            ix_name = f"ix_{self.name}_{name}"
            self.indexes.append(IndexState(ix_name, [name], bool(column.unique)))
        elif column.unique:
            self.add_constraint(ConstraintState("unique", None, [name]))
        for fk in column.foreign_keys:
            schema, table_name, target = foreign_key_target(fk)
            options = {key: getattr(fk, key) for key in _FK_OPTIONS if getattr(fk, key)}
            referent = (schema, table_name, [target])
            self.add_constraint(
                ConstraintState(
                    "foreign_key", _name(fk.constraint or fk), [name], None, referent, options
                )
            )
        for constraint in column.constraints:
            if isinstance(constraint, CheckConstraint) and not constraint._type_bound:
                text_ = sql_text(constraint.sqltext, self.dialect)
                self.add_constraint(ConstraintState("check", _name(constraint), sqltext=text_))

    def drop_column(self, name: str) -> None:
        """Drop the column, and what depends on it, as PostgreSQL's DROP COLUMN does."""
        state = self.column(name)
        lowered = name.lower()
        for other in self.columns:
            computed = other.column.computed
            expression = "" if computed is None else sql_text(computed.sqltext, self.dialect)
            if other is not state and lowered in identifiers(expression):
                raise AmigrateError(
                    f"cannot drop column {name!r} of table {self.name!r}: "
                    f"generated column {other.column.name!r} is computed from it",
                    hint="drop or redefine the generated column in the same batch, first",
                )
        self.columns.remove(state)
        self.constraints = [
            c
            for c in self.constraints
            if name not in c.columns
            and (c.sqltext is None or lowered not in identifiers(c.sqltext))
        ]
        self.indexes = [ix for ix in self.indexes if lowered not in _index_identifiers(ix)]

    def alter_column(self, name: str, changes: Mapping[str, Any]) -> None:
        state = self.column(name)
        column = state.column
        if "type_" in changes:
            column.type = to_instance(changes["type_"])
            state.retyped = state.source is not None
        if "nullable" in changes:
            column.nullable = bool(changes["nullable"])
        if "server_default" in changes:
            column.server_default = _server_default(changes["server_default"])
        if "comment" in changes:
            column.comment = changes["comment"]
        if "autoincrement" in changes:
            column.autoincrement = changes["autoincrement"]
        new_name = changes.get("new_column_name")
        if new_name is not None and new_name != name:
            self.rename_column(state, name, new_name)
        if changes.get("insert_before") or changes.get("insert_after"):
            self.move_column(column.name, changes.get("insert_before"), changes.get("insert_after"))

    def rename_column(self, state: ColumnState, old: str, new: str) -> None:
        if any(c.column.name == new for c in self.columns):
            raise AmigrateError(f"table {self.name!r} already has a column {new!r}")
        state.column.name = state.column.key = new
        renames = {old.lower(): new}
        self.renames.update(renames)
        for constraint in self.constraints:
            constraint.columns = [new if c == old else c for c in constraint.columns]
            if constraint.sqltext is not None:
                constraint.sqltext = rename_identifiers(constraint.sqltext, renames, self.dialect)
            referent = constraint.referent
            if referent is not None and (referent[0], referent[1]) == (self.schema, self.name):
                referent[2][:] = [new if c == old else c for c in referent[2]]
        for other in self.columns:
            computed = other.column.computed
            if computed is not None:
                sqltext = sql_text(computed.sqltext, self.dialect)
                rewritten = rename_identifiers(sqltext, renames, self.dialect)
                other.column = copy_column(other.column, self.dialect, computed_sql=rewritten)
        for index in self.indexes:
            index.elements = [new if e == old else e for e in index.elements]
            if index.raw_sql is not None:
                index.raw_sql = rename_identifiers(index.raw_sql, renames, self.dialect)
            for key, value in index.kw.items():
                if key.endswith("_where") and value is not None:
                    where = sql_text(value, self.dialect)
                    index.kw[key] = text(rename_identifiers(where, renames, self.dialect))
        self.extra_sql = [rename_identifiers(s, renames, self.dialect) for s in self.extra_sql]

    # -- constraints and indexes -------------------------------------------------------------

    def set_primary_key(self, name: str | None, columns: Sequence[str]) -> None:
        for column in columns:
            self.column(column).column.nullable = False
        self.constraints = [c for c in self.constraints if c.kind != "primary_key"]
        primary_key = ConstraintState("primary_key", name, list(columns))
        if name is None:
            primary_key.name = self.conventional_name(primary_key)
        self.constraints.insert(0, primary_key)

    def add_constraint(self, constraint: ConstraintState) -> None:
        for column in constraint.columns:
            self.column(column)
        if constraint.name is None:
            constraint.name = self.conventional_name(constraint)
        self.constraints.append(constraint)

    def conventional_name(self, constraint: ConstraintState) -> str | None:
        """The name the naming convention gives a new unnamed constraint, if any."""
        if not self.naming_convention:
            return None
        metadata = schemaobj.metadata(self.naming_convention)
        built = _build_constraint(constraint)
        columns = [Column(c.column.name, to_instance(c.column.type)) for c in self.columns]
        schemaobj.table(self.name, *columns, built, schema=self.schema, metadata=metadata)
        return _name(built)

    def drop_constraint(self, name: str | None, type_: str | None) -> None:
        kind = _CONSTRAINT_KINDS.get(type_ or "", type_)
        for constraint in self.constraints:
            if constraint.name == name and (kind is None or constraint.kind == kind):
                self.constraints.remove(constraint)
                return
        named = sorted(str(c.name) for c in self.constraints if c.name)
        raise AmigrateError(
            f"table {self.name!r} has no constraint {name!r}"
            + (f" of type {type_!r}" if type_ else ""),
            hint=(f"its named constraints are: {', '.join(named)}; " if named else "")
            + "unnamed constraints get names from batch_alter_table(naming_convention=...)",
        )

    def drop_unnamed_constraint(self, type_: str | None, columns: Sequence[str]) -> None:
        """Drop the unnamed constraint of ``type_`` on exactly ``columns``."""
        kind = _CONSTRAINT_KINDS.get(type_ or "", type_)
        for constraint in self.constraints:
            same_kind = kind is None or constraint.kind == kind
            if constraint.name is None and same_kind and constraint.columns == list(columns):
                self.constraints.remove(constraint)
                return
        raise AmigrateError(
            f"table {self.name!r} has no unnamed {type_ or 'constraint'} on ({', '.join(columns)})"
        )

    def add_index(self, index: IndexState) -> None:
        for element in index.elements:
            if isinstance(element, str):
                self.column(element)
        self.indexes.append(index)

    def drop_index(self, name: str) -> None:
        for index in self.indexes:
            if index.name == name:
                self.indexes.remove(index)
                return
        raise AmigrateError(f"table {self.name!r} has no index {name!r}")

    # -- column order ------------------------------------------------------------------------

    def reorder(self, partial_reordering: Iterable[Sequence[str]]) -> None:
        """Honour each tuple's order; otherwise keep columns where they are (stable sort)."""
        position = {c.column.name: i for i, c in enumerate(self.columns)}
        before: dict[str, set[str]] = {name: set() for name in position}
        for group in partial_reordering:
            names = [self._current_name(name) for name in group]
            for first, second in itertools.pairwise(names):
                before[second].add(first)
        ordered: list[str] = []
        while len(ordered) < len(position):
            ready = [n for n in position if n not in ordered and before[n] <= set(ordered)]
            if not ready:
                raise AmigrateError(
                    f"partial_reordering for table {self.name!r} contradicts itself"
                )
            ordered.append(min(ready, key=position.__getitem__))
        self.columns.sort(key=lambda c: ordered.index(c.column.name))

    # -- building ----------------------------------------------------------------------------

    def build(
        self,
        name: str,
        metadata: MetaData,
        *,
        with_indexes: bool,
        table_args: Sequence[SchemaItem] = (),
        table_kwargs: Mapping[str, Any] | None = None,
    ) -> Table:
        """A ``Table`` called ``name`` (the temporary or the final name) with this shape."""
        items: list[SchemaItem] = [copy_column(c.column, self.dialect) for c in self.columns]
        items += [_build_constraint(c) for c in self.constraints]
        if with_indexes:
            items += [_build_index(ix) for ix in self.indexes if ix.raw_sql is None]
        kwargs = {**self.kwargs, **(table_kwargs or {})}
        if self.comment is not None:
            kwargs.setdefault("comment", self.comment)
        return schemaobj.table(
            name, *items, *table_args, schema=self.schema, metadata=metadata, **kwargs
        )

    def copied_columns(self) -> list[ColumnState]:
        """Columns whose values come from the old table (never generated ones)."""
        return [c for c in self.columns if c.source is not None and c.column.computed is None]


def copy_column(
    column: Column[Any], dialect: Dialect, *, computed_sql: str | None = None
) -> Column[Any]:
    """A fresh, unattached column with ``column``'s definition; keys and indexes left out.

    Those live in the table's constraint and index lists, by column name. ``computed_sql``
    replaces a generated column's expression.
    """
    args: list[Any] = []
    server_default = None
    if column.computed is not None:
        sqltext = computed_sql or sql_text(column.computed.sqltext, dialect)
        args.append(Computed(text(sqltext), persisted=column.computed.persisted))
    elif column.identity is not None:
        args.append(column.identity._copy())
    elif column.server_default is not None:
        server_default = cast("Any", column.server_default)._copy()
    type_ = to_instance(column.type)
    copy_type = getattr(type_, "copy", None)
    return Column(
        column.name,
        copy_type() if copy_type is not None else type_,
        *args,
        nullable=column.nullable,
        server_default=server_default,
        comment=column.comment,
        autoincrement=column.autoincrement,
        quote=getattr(column.name, "quote", None),
        info=dict(column.info),
    )


def _name(item: Any) -> str | None:
    name = getattr(item, "name", None)
    return None if name is None or type(name).__name__ == "_NoneName" else str(name)


def _constraint_order(constraint: Any) -> tuple[int, str]:
    kinds = (UniqueConstraint, ForeignKeyConstraint, CheckConstraint)
    kind = next((i for i, k in enumerate(kinds) if isinstance(constraint, k)), len(kinds))
    return kind, str(_name(constraint) or "")


def _constraint_state(constraint: Any, dialect: Dialect) -> ConstraintState | None:
    name = _name(constraint)
    options = {}
    for key in ("deferrable", "initially"):
        if getattr(constraint, key, None) is not None:
            options[key] = getattr(constraint, key)
    if isinstance(constraint, UniqueConstraint):
        return ConstraintState(
            "unique", name, [c.name for c in constraint.columns], options=options
        )
    if isinstance(constraint, ForeignKeyConstraint):
        targets = [foreign_key_target(fk) for fk in constraint.elements]
        schema, table_name = targets[0][0], targets[0][1]
        for key in ("onupdate", "ondelete", "match"):
            if getattr(constraint, key, None):
                options[key] = getattr(constraint, key)
        local = [fk.parent.name for fk in constraint.elements]
        referent = (schema, table_name, [t[2] for t in targets])
        return ConstraintState("foreign_key", name, local, None, referent, options)
    if isinstance(constraint, CheckConstraint) and not constraint._type_bound:
        return ConstraintState("check", name, sqltext=sql_text(constraint.sqltext, dialect))
    return None


def _index_identifiers(index: IndexState) -> set[str]:
    found: set[str] = set()
    if index.raw_sql is not None:
        # what follows the table name: "CREATE INDEX ix ON t (a, lower(b)) WHERE c"
        _, _, columns_part = index.raw_sql.partition("(")
        return identifiers(columns_part)
    for element in index.elements:
        found |= {element.lower()} if isinstance(element, str) else identifiers(str(element))
    return found


def _server_default(value: Any) -> Any:
    if value is None or isinstance(value, DefaultClause):
        return value
    if isinstance(value, str | ClauseElement):
        return DefaultClause(value)
    raise TypeError(f"server_default must be a string, a SQL expression or None, got {value!r}")


def _build_constraint(state: ConstraintState) -> SchemaItem:
    if state.kind == "primary_key":
        return PrimaryKeyConstraint(*state.columns, name=state.name)
    if state.kind == "unique":
        return UniqueConstraint(*state.columns, name=state.name, **state.options)
    if state.kind == "foreign_key":
        assert state.referent is not None
        schema, table_name, columns = state.referent
        prefix = f"{schema}.{table_name}" if schema else table_name
        refcolumns = [f"{prefix}.{column}" for column in columns]
        return ForeignKeyConstraint(state.columns, refcolumns, name=state.name, **state.options)
    return CheckConstraint(text(state.sqltext or ""), name=state.name)


def _build_index(state: IndexState) -> Index:
    return Index(state.name, *cast("list[Any]", state.elements), unique=state.unique, **state.kw)


__all__ = [
    "ColumnState",
    "ConstraintState",
    "IndexState",
    "TableState",
    "copy_column",
]
