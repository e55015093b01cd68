"""Operations that change an existing column or a table's comment.

``False`` means "not changed" for ``modify_server_default`` and ``modify_comment`` (and
"unknown" for ``existing_server_default``), because ``None`` is a value there: no default,
no comment. An alteration reverses when what it changes was described by the matching
``existing_*`` argument; ``existing_comment=None`` reads as "there was no comment".
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from amigrate.ddl.impl import ColumnChanges
from amigrate.operations.ops_base import MigrateOperation

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy.types import TypeEngine


@dataclass(repr=False, frozen=True, eq=False)
class AlterColumnOp(MigrateOperation):
    """``op.alter_column``: ``modify_*`` is the change, ``existing_*`` the column as it is."""

    table_name: str
    column_name: str
    schema: str | None = None
    existing_type: TypeEngine[Any] | None = None
    existing_server_default: Any = False
    existing_nullable: bool | None = None
    existing_comment: str | None = None
    modify_nullable: bool | None = None
    modify_server_default: Any = False
    modify_name: str | None = None
    modify_type: TypeEngine[Any] | None = None
    modify_comment: str | Literal[False] | None = False
    kw: Mapping[str, Any] = field(default_factory=dict)

    def changes(self) -> ColumnChanges:
        """The change, as the DDL implementation takes it."""
        return ColumnChanges(
            nullable=self.modify_nullable,
            server_default=self.modify_server_default,
            type_=self.modify_type,
            comment=self.modify_comment,
            new_column_name=self.modify_name,
            existing_type=self.existing_type,
            existing_server_default=self.existing_server_default,
            existing_nullable=self.existing_nullable,
            existing_comment=self.existing_comment,
            using=self.kw.get("postgresql_using"),
        )

    def reverse(self) -> AlterColumnOp:
        missing = self._unknown_before()
        if missing:
            raise NotImplementedError(
                f"altering column {self.table_name}.{self.column_name} cannot be reversed: "
                f"pass {', '.join(missing)} to say what the column was"
            )
        changed = {
            "nullable": self.modify_nullable is not None,
            "server_default": self.modify_server_default is not False,
            "type": self.modify_type is not None,
            "comment": self.modify_comment is not False,
        }
        return AlterColumnOp(
            self.table_name,
            self.modify_name or self.column_name,
            schema=self.schema,
            existing_type=self.modify_type if changed["type"] else self.existing_type,
            existing_server_default=self.modify_server_default
            if changed["server_default"]
            else self.existing_server_default,
            existing_nullable=self.modify_nullable
            if changed["nullable"]
            else self.existing_nullable,
            existing_comment=self.modify_comment
            if self.modify_comment is not False
            else self.existing_comment,
            modify_nullable=self.existing_nullable if changed["nullable"] else None,
            modify_server_default=self.existing_server_default
            if changed["server_default"]
            else False,
            modify_name=self.column_name if self.modify_name is not None else None,
            modify_type=self.existing_type if changed["type"] else None,
            modify_comment=self.existing_comment if changed["comment"] else False,
            kw={k: v for k, v in self.kw.items() if k != "postgresql_using"},
        )

    def _unknown_before(self) -> list[str]:
        missing = []
        if self.modify_nullable is not None and self.existing_nullable is None:
            missing.append("existing_nullable")
        if self.modify_type is not None and self.existing_type is None:
            missing.append("existing_type")
        if self.modify_server_default is not False and self.existing_server_default is False:
            missing.append("existing_server_default")
        if self.modify_type is not None and "postgresql_using" in self.kw:
            missing.append("(no USING expression is known for the way back)")
        return missing


@dataclass(repr=False, frozen=True, eq=False)
class CreateTableCommentOp(MigrateOperation):
    """``op.create_table_comment``: set (or replace) a table's comment."""

    table_name: str
    comment: str | None
    schema: str | None = None
    existing_comment: str | None = None

    def reverse(self) -> CreateTableCommentOp | DropTableCommentOp:
        """Back to ``existing_comment``; without one, the comment is dropped."""
        if self.existing_comment is None:
            return DropTableCommentOp(
                self.table_name, schema=self.schema, existing_comment=self.comment
            )
        return dataclasses.replace(
            self, comment=self.existing_comment, existing_comment=self.comment
        )


@dataclass(repr=False, frozen=True, eq=False)
class DropTableCommentOp(MigrateOperation):
    """``op.drop_table_comment``; reversible when ``existing_comment`` says what it was."""

    table_name: str
    schema: str | None = None
    existing_comment: str | None = None

    def reverse(self) -> CreateTableCommentOp:
        if self.existing_comment is None:
            raise NotImplementedError(
                f"dropping the comment of table {self.table_name!r} cannot be reversed: "
                "pass existing_comment="
            )
        return CreateTableCommentOp(
            self.table_name, self.existing_comment, schema=self.schema, existing_comment=None
        )


__all__ = ["AlterColumnOp", "CreateTableCommentOp", "DropTableCommentOp"]
