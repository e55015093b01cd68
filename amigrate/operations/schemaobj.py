"""Throwaway SQLAlchemy schema objects for operations.

An operation names a table by its name; to emit DDL, SQLAlchemy wants ``Table``,
``Column`` and ``Index`` objects. These builders make them in a fresh ``MetaData`` each
time, add stub tables for foreign-key targets (so ``REFERENCES other (id)`` compiles
without the real ``other``), and copy objects that already belong to another table
(a column taken from a model, or an operation applied a second time).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias, cast

from sqlalchemy import exc as sa_exc
from sqlalchemy.schema import (
    CheckConstraint,
    Column,
    Constraint,
    ForeignKeyConstraint,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
)
from sqlalchemy.types import NullType

from amigrate.ddl.elements import foreign_key_target

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from sqlalchemy.schema import SchemaItem
    from sqlalchemy.sql.elements import ClauseElement
    from sqlalchemy.types import TypeEngine

IndexElement: TypeAlias = "str | ClauseElement"
"""A column name, or an expression such as ``sa.text("lower(name)")`` or ``col.desc()``."""


def metadata(naming_convention: Mapping[str, Any] | None = None) -> MetaData:
    """A fresh ``MetaData``, with the target metadata's naming convention when there is one."""
    if naming_convention is None:
        return MetaData()
    return MetaData(naming_convention=dict(naming_convention))


def table(
    name: str,
    *items: SchemaItem,
    schema: str | None = None,
    metadata: MetaData | None = None,
    **kw: Any,
) -> Table:
    """A ``Table`` holding ``items`` (columns, constraints, indexes), FK targets stubbed."""
    owner = metadata if metadata is not None else MetaData()
    given = {id(item) for item in items}
    new = Table(name, owner, *[_unattached(item, given) for item in items], schema=schema, **kw)
    _stub_foreign_key_targets(new)
    return new


def column(name: str, type_: TypeEngine[Any] | None = None, **kw: Any) -> Column[Any]:
    """A ``Column``; without a type, one that renders nowhere (``NullType``)."""
    return Column(name, type_ if type_ is not None else NullType(), **kw)


def index(
    name: str | None,
    table_name: str | None,
    columns: Sequence[IndexElement],
    *,
    schema: str | None = None,
    unique: bool = False,
    metadata: MetaData | None = None,
    **kw: Any,
) -> Index:
    """An ``Index`` on a stub table with a column for each name it mentions.

    Names count in ``columns`` and in covering-column options (``postgresql_include``).
    """
    included = [v for key, value in kw.items() if key.endswith("_include") for v in value]
    names = dict.fromkeys(e for e in [*columns, *included] if isinstance(e, str))
    new = table(
        table_name or "_unnamed",
        *[column(name) for name in names],
        Index(name, *cast("list[Any]", columns), unique=unique, **kw),
        schema=schema,
        metadata=metadata,
    )
    (only,) = new.indexes
    return only


def primary_key(
    name: str | None,
    table_name: str,
    columns: Sequence[str],
    *,
    schema: str | None = None,
    metadata: MetaData | None = None,
    **kw: Any,
) -> PrimaryKeyConstraint:
    """A ``PRIMARY KEY`` constraint on a stub table holding ``columns``."""
    constraint = PrimaryKeyConstraint(*columns, name=name, **kw)
    _on_stub(table_name, columns, constraint, schema, metadata)
    return constraint


def unique(
    name: str | None,
    table_name: str,
    columns: Sequence[str],
    *,
    schema: str | None = None,
    metadata: MetaData | None = None,
    **kw: Any,
) -> UniqueConstraint:
    """A ``UNIQUE`` constraint on a stub table holding ``columns``."""
    constraint = UniqueConstraint(*columns, name=name, **kw)
    _on_stub(table_name, columns, constraint, schema, metadata)
    return constraint


def check(
    name: str | None,
    table_name: str,
    condition: str | ClauseElement,
    *,
    schema: str | None = None,
    metadata: MetaData | None = None,
    **kw: Any,
) -> CheckConstraint:
    """A ``CHECK`` constraint; ``condition`` is SQL text or an expression."""
    constraint = CheckConstraint(cast("Any", condition), name=name, **kw)
    _on_stub(table_name, (), constraint, schema, metadata)
    return constraint


def exclude(
    name: str | None,
    table_name: str,
    elements: Sequence[Any],
    *,
    schema: str | None = None,
    metadata: MetaData | None = None,
    **kw: Any,
) -> Constraint:
    """A PostgreSQL ``EXCLUDE`` constraint; ``elements`` are ``(column or expression, op)``."""
    from sqlalchemy.dialects.postgresql import ExcludeConstraint

    names = [e[0] for e in elements if isinstance(e[0], str)]
    constraint = ExcludeConstraint(*elements, name=name, **kw)
    _on_stub(table_name, names, constraint, schema, metadata)
    return constraint


def foreign_key(
    name: str | None,
    source_table: str,
    referent_table: str,
    local_cols: Sequence[str],
    remote_cols: Sequence[str],
    *,
    source_schema: str | None = None,
    referent_schema: str | None = None,
    metadata: MetaData | None = None,
    **kw: Any,
) -> ForeignKeyConstraint:
    """A ``FOREIGN KEY`` constraint between two stub tables (one, when it refers to itself)."""
    owner = metadata if metadata is not None else MetaData()
    referent = Table(
        referent_table, owner, *[column(c) for c in remote_cols], schema=referent_schema
    )
    if (source_table, source_schema) == (referent_table, referent_schema):
        source = referent
        for name_ in local_cols:
            if name_ not in source.c:
                source.append_column(column(name_))
    else:
        source = Table(source_table, owner, *[column(c) for c in local_cols], schema=source_schema)
    constraint = ForeignKeyConstraint(
        list(local_cols), [referent.c[c] for c in remote_cols], name=name, **kw
    )
    source.append_constraint(constraint)
    return constraint


CONSTRAINT_TYPES = ("foreignkey", "primary", "unique", "check")
"""The ``type_`` values of ``drop_constraint``, as Alembic spells them."""


def generic_constraint(
    name: str | None,
    table_name: str,
    type_: str | None,
    *,
    schema: str | None = None,
    metadata: MetaData | None = None,
) -> Constraint:
    """A constraint known by name and kind only, enough to drop it."""
    kinds: dict[str | None, Callable[[], Constraint]] = {
        "foreignkey": lambda: ForeignKeyConstraint([], [], name=name),
        "primary": lambda: PrimaryKeyConstraint(name=name),
        "unique": lambda: UniqueConstraint(name=name),
        "check": lambda: CheckConstraint("", name=name),
        None: lambda: Constraint(name=name),
    }
    if type_ not in kinds:
        raise ValueError(
            f"drop_constraint: type_ {type_!r} is not one of {', '.join(CONSTRAINT_TYPES)}"
        )
    constraint = kinds[type_]()
    _on_stub(table_name, (), constraint, schema, metadata)
    return constraint


def _on_stub(
    table_name: str,
    columns: Iterable[str],
    constraint: Constraint,
    schema: str | None,
    metadata: MetaData | None,
) -> Table:
    owner = metadata if metadata is not None else MetaData()
    stub = Table(table_name, owner, *[column(c) for c in dict.fromkeys(columns)], schema=schema)
    stub.append_constraint(constraint)
    return stub


def _unattached(item: SchemaItem, given: set[int]) -> SchemaItem:
    """``item`` itself, or a copy when it already belongs to a table."""
    if isinstance(item, Column):
        return _copy_column(item, given) if getattr(item, "table", None) is not None else item
    if isinstance(item, Constraint):
        return item._copy() if getattr(item, "parent", None) is not None else item
    if isinstance(item, Index) and item.table is not None:
        return Index(
            item.name,
            *cast("list[Any]", _index_elements(item.expressions)),
            unique=item.unique,
            info=dict(item.info),
            **item.dialect_kwargs,
        )
    return item


def _copy_column(original: Column[Any], given: set[int]) -> Column[Any]:
    """A copy of an attached column, with its own foreign keys.

    ``Column._copy`` leaves out foreign keys that belong to a constraint, as all do once the
    column is in a table; those declared on the column (not in a ``ForeignKeyConstraint``
    among the items, which is copied on its own) come along here.
    """
    copy = original._copy()
    for fk in original.foreign_keys:
        if fk.constraint is None or id(fk.constraint) not in given:
            copy.append_foreign_key(fk._copy())
    return copy


def _index_elements(expressions: Iterable[Any]) -> list[IndexElement]:
    return [e.name if isinstance(e, Column) else e for e in expressions]


def _stub_foreign_key_targets(new: Table) -> None:
    """Give every unresolvable foreign key a stub target table/column in ``new.metadata``.

    A reference to ``new`` itself gets its missing column too: ``add_column`` builds a
    table holding the new column only, which may point at the table's primary key.
    """
    stubs: set[Table] = set()
    for fk in sorted(new.foreign_keys, key=lambda fk: fk.target_fullname):
        try:
            fk.column  # noqa: B018 - resolves the target, or says it is missing
            continue
        except (sa_exc.NoReferencedTableError, sa_exc.NoReferencedColumnError):
            pass
        schema, table_name, column_name = foreign_key_target(fk)
        key = f"{schema}.{table_name}" if schema else table_name
        target = new.metadata.tables.get(key)
        if target is None:
            stubs.add(Table(table_name, new.metadata, column(column_name), schema=schema))
        elif (target in stubs or target is new) and column_name not in target.c:
            target.append_column(column(column_name))


__all__ = [
    "CONSTRAINT_TYPES",
    "IndexElement",
    "check",
    "column",
    "exclude",
    "foreign_key",
    "generic_constraint",
    "index",
    "metadata",
    "primary_key",
    "table",
    "unique",
]
