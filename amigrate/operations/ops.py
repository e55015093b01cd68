"""Operations as data: one frozen dataclass per operation, each knowing its inverse.

The op tree is the one contract between autogenerate (compare → ops → render) and
execution (ops → implementation → DDL). ``reverse()`` returns the operation that undoes
this one where that is determined by what the op holds; otherwise it raises
``NotImplementedError`` (a ``DropColumnOp`` knows its column only when made as a reverse).

Column alterations and table comments live in ``ops_alter.py``, constraints in
``ops_constraints.py``; this module re-exports them, so ``ops`` is the one place to import
operations from.

Ops compare by identity: they hold SQLAlchemy objects whose ``==`` builds SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from amigrate.operations import schemaobj
from amigrate.operations.ops_alter import AlterColumnOp, CreateTableCommentOp, DropTableCommentOp
from amigrate.operations.ops_base import MigrateOperation
from amigrate.operations.ops_constraints import (
    AddConstraintOp,
    CreateCheckConstraintOp,
    CreateExcludeConstraintOp,
    CreateForeignKeyOp,
    CreatePrimaryKeyOp,
    CreateUniqueConstraintOp,
    DropConstraintOp,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from sqlalchemy.schema import Column, Index, MetaData, SchemaItem, Table
    from sqlalchemy.sql.base import Executable
    from sqlalchemy.sql.expression import TableClause

    from amigrate.operations.schemaobj import IndexElement


# -- tables -----------------------------------------------------------------------------------


@dataclass(repr=False, frozen=True, eq=False)
class CreateTableOp(MigrateOperation):
    """``op.create_table``: columns, constraints and indexes as given."""

    table_name: str
    columns: tuple[SchemaItem, ...] = ()
    schema: str | None = None
    if_not_exists: bool | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)

    def to_table(self, metadata: MetaData | None = None) -> Table:
        return schemaobj.table(
            self.table_name, *self.columns, schema=self.schema, metadata=metadata, **self.kw
        )

    def reverse(self) -> DropTableOp:
        return DropTableOp(self.table_name, schema=self.schema, reverse_of=self)


@dataclass(repr=False, frozen=True, eq=False)
class DropTableOp(MigrateOperation):
    """``op.drop_table``; reversible when it knows the table it drops (``reverse_of``)."""

    table_name: str
    schema: str | None = None
    if_exists: bool | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)
    reverse_of: CreateTableOp | None = field(default=None, repr=False)

    def to_table(self, metadata: MetaData | None = None) -> Table:
        return schemaobj.table(self.table_name, schema=self.schema, metadata=metadata, **self.kw)

    def reverse(self) -> CreateTableOp:
        if self.reverse_of is None:
            raise NotImplementedError(
                f"dropping table {self.table_name!r} cannot be reversed: its columns are unknown"
            )
        return self.reverse_of


@dataclass(repr=False, frozen=True, eq=False)
class RenameTableOp(MigrateOperation):
    """``op.rename_table``: the table keeps its schema."""

    old_table_name: str
    new_table_name: str
    schema: str | None = None

    def reverse(self) -> RenameTableOp:
        return RenameTableOp(self.new_table_name, self.old_table_name, schema=self.schema)


# -- columns ----------------------------------------------------------------------------------


@dataclass(repr=False, frozen=True, eq=False)
class AddColumnOp(MigrateOperation):
    """``op.add_column``, with the column's constraints, index and comment."""

    table_name: str
    column: Column[Any]
    schema: str | None = None
    if_not_exists: bool | None = None

    def reverse(self) -> DropColumnOp:
        return DropColumnOp(
            self.table_name, self.column.name, schema=self.schema, column=self.column
        )


@dataclass(repr=False, frozen=True, eq=False)
class DropColumnOp(MigrateOperation):
    """``op.drop_column``; reversible when it holds the dropped ``column``."""

    table_name: str
    column_name: str
    schema: str | None = None
    if_exists: bool | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)
    column: Column[Any] | None = field(default=None, repr=False)

    def reverse(self) -> AddColumnOp:
        if self.column is None:
            raise NotImplementedError(
                f"dropping column {self.table_name}.{self.column_name} cannot be reversed: "
                "its definition is unknown"
            )
        return AddColumnOp(self.table_name, self.column, schema=self.schema)


# -- indexes ----------------------------------------------------------------------------------


@dataclass(repr=False, frozen=True, eq=False)
class CreateIndexOp(MigrateOperation):
    """``op.create_index``: columns are names or SQL expressions."""

    index_name: str | None
    table_name: str
    columns: tuple[IndexElement, ...]
    schema: str | None = None
    unique: bool = False
    if_not_exists: bool | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)

    def to_index(self, metadata: MetaData | None = None) -> Index:
        return schemaobj.index(
            self.index_name,
            self.table_name,
            self.columns,
            schema=self.schema,
            unique=self.unique,
            metadata=metadata,
            **self.kw,
        )

    def reverse(self) -> DropIndexOp:
        return DropIndexOp(
            self.index_name, self.table_name, schema=self.schema, kw=self.kw, reverse_of=self
        )


@dataclass(repr=False, frozen=True, eq=False)
class DropIndexOp(MigrateOperation):
    """``op.drop_index``; reversible when it knows the index it drops (``reverse_of``)."""

    index_name: str | None
    table_name: str | None = None
    schema: str | None = None
    if_exists: bool | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)
    reverse_of: CreateIndexOp | None = field(default=None, repr=False)

    def to_index(self, metadata: MetaData | None = None) -> Index:
        return schemaobj.index(
            self.index_name, self.table_name, (), schema=self.schema, metadata=metadata, **self.kw
        )

    def reverse(self) -> CreateIndexOp:
        if self.reverse_of is None:
            raise NotImplementedError(
                f"dropping index {self.index_name!r} cannot be reversed: its columns are unknown"
            )
        return self.reverse_of


# -- SQL and data -----------------------------------------------------------------------------


@dataclass(repr=False, frozen=True, eq=False)
class ExecuteSQLOp(MigrateOperation):
    """``op.execute``: a string (read as ``text()``) or any executable construct."""

    sqltext: Executable | str
    execution_options: Mapping[str, Any] | None = None


@dataclass(repr=False, frozen=True, eq=False)
class BulkInsertOp(MigrateOperation):
    """``op.bulk_insert``: rows of a ``Table`` or ``sa.table()``."""

    table: Table | TableClause
    rows: Sequence[Mapping[str, Any]]
    multiinsert: bool = True


# -- containers -------------------------------------------------------------------------------


@dataclass(repr=False, eq=False)
class OpContainer(MigrateOperation):
    """An ordered list of operations; rewriters edit ``ops`` in place."""

    ops: list[MigrateOperation] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not self.ops

    def _reversed_ops(self) -> list[MigrateOperation]:
        return [op.reverse() for op in reversed(self.ops)]


@dataclass(repr=False, eq=False)
class ModifyTableOps(OpContainer):
    """Operations on one table, grouped (autogenerate and batch mode use this)."""

    table_name: str = ""
    schema: str | None = None

    def reverse(self) -> ModifyTableOps:
        return ModifyTableOps(self._reversed_ops(), table_name=self.table_name, schema=self.schema)


@dataclass(repr=False, eq=False)
class UpgradeOps(OpContainer):
    """The body of ``upgrade()``."""

    upgrade_token: str = "upgrades"

    def reverse(self) -> DowngradeOps:
        return DowngradeOps(self._reversed_ops())


@dataclass(repr=False, eq=False)
class DowngradeOps(OpContainer):
    """The body of ``downgrade()``."""

    downgrade_token: str = "downgrades"

    def reverse(self) -> UpgradeOps:
        return UpgradeOps(self._reversed_ops())


@dataclass(repr=False, eq=False)
class MigrationScript(MigrateOperation):
    """A revision file to be: its header values and both bodies."""

    rev_id: str | None
    upgrade_ops: UpgradeOps = field(default_factory=UpgradeOps)
    downgrade_ops: DowngradeOps = field(default_factory=DowngradeOps)
    message: str | None = None
    imports: set[str] = field(default_factory=set)
    head: str | None = None
    splice: bool | None = None
    branch_label: str | Sequence[str] | None = None
    version_path: str | None = None
    depends_on: str | Sequence[str] | None = None


__all__ = [
    "AddColumnOp",
    "AddConstraintOp",
    "AlterColumnOp",
    "BulkInsertOp",
    "CreateCheckConstraintOp",
    "CreateExcludeConstraintOp",
    "CreateForeignKeyOp",
    "CreateIndexOp",
    "CreatePrimaryKeyOp",
    "CreateTableCommentOp",
    "CreateTableOp",
    "CreateUniqueConstraintOp",
    "DowngradeOps",
    "DropColumnOp",
    "DropConstraintOp",
    "DropIndexOp",
    "DropTableCommentOp",
    "DropTableOp",
    "ExecuteSQLOp",
    "MigrateOperation",
    "MigrationScript",
    "ModifyTableOps",
    "OpContainer",
    "RenameTableOp",
    "UpgradeOps",
]
