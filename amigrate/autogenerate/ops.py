"""The few operations only autogenerate writes: PostgreSQL enum types, and notes for review.

They render as plain ``op.execute(...)`` calls or comments in the revision file, so a
revision never depends on amigrate-specific operations to run; as objects they carry what
``reverse()`` and ``check`` need.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from amigrate.operations.ops_alter import AlterColumnOp
from amigrate.operations.ops_base import MigrateOperation


@dataclass(repr=False, frozen=True, eq=False)
class CreateEnumTypeOp(MigrateOperation):
    """``CREATE TYPE name AS ENUM (...)`` (PostgreSQL), written before the tables using it."""

    name: str
    values: tuple[str, ...]
    schema: str | None = None

    def reverse(self) -> DropEnumTypeOp:
        return DropEnumTypeOp(self.name, self.values, schema=self.schema)


@dataclass(repr=False, frozen=True, eq=False)
class DropEnumTypeOp(MigrateOperation):
    """``DROP TYPE name``, written after the last table using it is dropped."""

    name: str
    values: tuple[str, ...]
    schema: str | None = None

    def reverse(self) -> CreateEnumTypeOp:
        return CreateEnumTypeOp(self.name, self.values, schema=self.schema)


@dataclass(repr=False, frozen=True, eq=False)
class AddEnumValueOp(MigrateOperation):
    """``ALTER TYPE name ADD VALUE 'v' [BEFORE|AFTER 'w']``, run in an autocommit block.

    PostgreSQL cannot remove a value from an enum type, so the reverse is a TODO note.
    """

    name: str
    value: str
    schema: str | None = None
    before: str | None = None
    after: str | None = None

    def reverse(self) -> TodoOp:
        return TodoOp(
            f"PostgreSQL cannot remove value {self.value!r} from enum type {self.name!r}: "
            "recreate the type without it (and convert the columns using it) by hand"
        )


@dataclass(repr=False, frozen=True, eq=False)
class AlterColumnUsingOp(AlterColumnOp):
    """A type change with ``postgresql_using`` that knows the ``USING`` of the way back.

    PostgreSQL casts to or from an enum type only through text, both ways; it renders as
    the ``op.alter_column`` it is.
    """

    reverse_using: str = ""

    def reverse(self) -> AlterColumnUsingOp:
        using = self.kw.get("postgresql_using", "")
        plain = {k: v for k, v in self.kw.items() if k != "postgresql_using"}
        back = AlterColumnOp.reverse(dataclasses.replace(self, kw=plain))
        values = {f.name: getattr(back, f.name) for f in dataclasses.fields(AlterColumnOp)}
        values["kw"] = {**back.kw, "postgresql_using": self.reverse_using}
        return AlterColumnUsingOp(**values, reverse_using=using)


@dataclass(repr=False, frozen=True, eq=False)
class TodoOp(MigrateOperation):
    """A note for the reviewer, rendered as ``# TODO:`` comment lines; it runs nothing.

    ``suggestion`` is code the reviewer may uncomment (rendered as commented lines).
    ``reverse_text`` is the note for the other direction (default: the same note).
    """

    text: str
    suggestion: str | None = None
    reverse_text: str | None = None
    reverse_suggestion: str | None = None

    def reverse(self) -> TodoOp:
        return TodoOp(
            self.reverse_text or self.text,
            self.reverse_suggestion,
            reverse_text=self.text,
            reverse_suggestion=self.suggestion,
        )


@dataclass(repr=False, frozen=True, eq=False)
class ExecuteReversibleSQLOp(MigrateOperation):
    """SQL text with known inverse SQL (identity changes on PostgreSQL), as ``op.execute``."""

    sql: str
    reverse_sql: str
    description: str = ""

    def reverse(self) -> ExecuteReversibleSQLOp:
        return ExecuteReversibleSQLOp(self.reverse_sql, self.sql, self.description)


__all__ = [
    "AddEnumValueOp",
    "AlterColumnUsingOp",
    "CreateEnumTypeOp",
    "DropEnumTypeOp",
    "ExecuteReversibleSQLOp",
    "TodoOp",
]
