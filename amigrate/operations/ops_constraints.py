"""Constraint operations: one op per kind of ADD CONSTRAINT, and DROP CONSTRAINT.

An added constraint reverses into a ``DropConstraintOp`` that remembers it
(``reverse_of``), so the drop names the constraint exactly as the add did, naming
convention included, and reverses back into the same add. A ``DropConstraintOp`` made by
hand knows only a name and a kind, and has no determined inverse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from amigrate.operations import schemaobj
from amigrate.operations.ops_base import MigrateOperation

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy.schema import Constraint, MetaData
    from sqlalchemy.sql.elements import ClauseElement


class AddConstraintOp(MigrateOperation):
    """Base of the ``create_*_constraint`` / ``create_primary_key`` / ... operations."""

    constraint_type: ClassVar[str | None] = None
    """The ``type_`` a ``drop_constraint`` of this constraint takes."""

    @property
    def target(self) -> tuple[str, str | None]:
        """(table name, schema) of the table the constraint is added to."""
        raise NotImplementedError

    def to_constraint(self, metadata: MetaData | None = None) -> Constraint:
        """The SQLAlchemy constraint, on a stub table in ``metadata``."""
        raise NotImplementedError

    def reverse(self) -> DropConstraintOp:
        name: Any = getattr(self, "constraint_name", None)
        table_name, schema = self.target
        return DropConstraintOp(
            name, table_name, type_=self.constraint_type, schema=schema, reverse_of=self
        )


@dataclass(repr=False, frozen=True, eq=False)
class CreatePrimaryKeyOp(AddConstraintOp):
    """``op.create_primary_key``."""

    constraint_type: ClassVar[str | None] = "primary"

    constraint_name: str | None
    table_name: str
    columns: tuple[str, ...]
    schema: str | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> tuple[str, str | None]:
        return self.table_name, self.schema

    def to_constraint(self, metadata: MetaData | None = None) -> Constraint:
        return schemaobj.primary_key(
            self.constraint_name,
            self.table_name,
            self.columns,
            schema=self.schema,
            metadata=metadata,
            **self.kw,
        )


@dataclass(repr=False, frozen=True, eq=False)
class CreateUniqueConstraintOp(AddConstraintOp):
    """``op.create_unique_constraint``."""

    constraint_type: ClassVar[str | None] = "unique"

    constraint_name: str | None
    table_name: str
    columns: tuple[str, ...]
    schema: str | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> tuple[str, str | None]:
        return self.table_name, self.schema

    def to_constraint(self, metadata: MetaData | None = None) -> Constraint:
        return schemaobj.unique(
            self.constraint_name,
            self.table_name,
            self.columns,
            schema=self.schema,
            metadata=metadata,
            **self.kw,
        )


@dataclass(repr=False, frozen=True, eq=False)
class CreateCheckConstraintOp(AddConstraintOp):
    """``op.create_check_constraint``: ``condition`` is SQL text or an expression."""

    constraint_type: ClassVar[str | None] = "check"

    constraint_name: str | None
    table_name: str
    condition: str | ClauseElement
    schema: str | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> tuple[str, str | None]:
        return self.table_name, self.schema

    def to_constraint(self, metadata: MetaData | None = None) -> Constraint:
        return schemaobj.check(
            self.constraint_name,
            self.table_name,
            self.condition,
            schema=self.schema,
            metadata=metadata,
            **self.kw,
        )


@dataclass(repr=False, frozen=True, eq=False)
class CreateExcludeConstraintOp(AddConstraintOp):
    """``op.create_exclude_constraint`` (PostgreSQL): ``(column or expression, operator)``."""

    constraint_name: str | None
    table_name: str
    elements: tuple[Any, ...]
    schema: str | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> tuple[str, str | None]:
        return self.table_name, self.schema

    def to_constraint(self, metadata: MetaData | None = None) -> Constraint:
        return schemaobj.exclude(
            self.constraint_name,
            self.table_name,
            self.elements,
            schema=self.schema,
            metadata=metadata,
            **self.kw,
        )


@dataclass(repr=False, frozen=True, eq=False)
class CreateForeignKeyOp(AddConstraintOp):
    """``op.create_foreign_key``: ``source_table(local_cols)`` → ``referent_table(remote_cols)``."""

    constraint_type: ClassVar[str | None] = "foreignkey"

    constraint_name: str | None
    source_table: str
    referent_table: str
    local_cols: tuple[str, ...]
    remote_cols: tuple[str, ...]
    source_schema: str | None = None
    referent_schema: str | None = None
    kw: Mapping[str, Any] = field(default_factory=dict)
    """``onupdate``, ``ondelete``, ``deferrable``, ``initially``, ``match``, dialect options."""

    @property
    def target(self) -> tuple[str, str | None]:
        return self.source_table, self.source_schema

    def to_constraint(self, metadata: MetaData | None = None) -> Constraint:
        return schemaobj.foreign_key(
            self.constraint_name,
            self.source_table,
            self.referent_table,
            self.local_cols,
            self.remote_cols,
            source_schema=self.source_schema,
            referent_schema=self.referent_schema,
            metadata=metadata,
            **self.kw,
        )


@dataclass(repr=False, frozen=True, eq=False)
class DropConstraintOp(MigrateOperation):
    """``op.drop_constraint``; ``type_`` is ``foreignkey``, ``primary``, ``unique`` or ``check``.

    Some dialects (MySQL) cannot drop a constraint without knowing its kind.
    """

    constraint_name: str | None
    table_name: str
    type_: str | None = None
    schema: str | None = None
    if_exists: bool | None = None
    reverse_of: AddConstraintOp | None = field(default=None, repr=False)

    def to_constraint(self, metadata: MetaData | None = None) -> Constraint:
        """The constraint to drop: the one that was added, or one known by name and kind."""
        if self.reverse_of is not None:
            return self.reverse_of.to_constraint(metadata)
        return schemaobj.generic_constraint(
            self.constraint_name, self.table_name, self.type_, schema=self.schema, metadata=metadata
        )

    def reverse(self) -> AddConstraintOp:
        if self.reverse_of is None:
            raise NotImplementedError(
                f"dropping constraint {self.constraint_name!r} cannot be reversed: "
                "its definition is unknown"
            )
        return self.reverse_of


__all__ = [
    "AddConstraintOp",
    "CreateCheckConstraintOp",
    "CreateExcludeConstraintOp",
    "CreateForeignKeyOp",
    "CreatePrimaryKeyOp",
    "CreateUniqueConstraintOp",
    "DropConstraintOp",
]
