"""The inverses of alter_column, the constraint operations and table comments, and the
``Operations`` methods that build them (no database)."""

from __future__ import annotations

import io
from typing import Any

import pytest
import sqlalchemy as sa

from amigrate.ddl import impl_for
from amigrate.ddl.sink import ScriptSink, offline_dialect
from amigrate.operations import Operations, toimpl
from amigrate.operations.ops import (
    AlterColumnOp,
    CreateCheckConstraintOp,
    CreateForeignKeyOp,
    CreatePrimaryKeyOp,
    CreateTableCommentOp,
    CreateUniqueConstraintOp,
    DropConstraintOp,
    DropTableCommentOp,
    MigrateOperation,
)


def recorded(**options: Any) -> tuple[Operations, list[MigrateOperation]]:
    """Operations whose invoke() records the op instead of carrying it out."""
    dialect = offline_dialect("postgresql")
    seen: list[MigrateOperation] = []

    class Recording(Operations):
        def invoke(self, operation: MigrateOperation) -> Any:
            seen.append(operation)

    return Recording(impl_for("postgresql")(dialect, ScriptSink(dialect, io.StringIO()))), seen


def test_alter_column_reverses_what_it_changed_from_the_existing_values() -> None:
    change = AlterColumnOp(
        "t",
        "c",
        schema="s",
        existing_type=sa.String(10),
        existing_nullable=False,
        existing_server_default="a",
        existing_comment="old",
        modify_nullable=True,
        modify_type=sa.String(20),
        modify_server_default=None,
        modify_comment="new",
        modify_name="d",
    )

    back = change.reverse()

    assert (back.table_name, back.column_name, back.schema, back.modify_name) == (
        "t",
        "d",
        "s",
        "c",
    )
    assert back.modify_nullable is False and back.existing_nullable is True
    assert back.modify_type is change.existing_type and back.existing_type is change.modify_type
    assert back.modify_server_default == "a" and back.existing_server_default is None
    assert (back.modify_comment, back.existing_comment) == ("old", "new")
    again = back.reverse()
    assert (again.column_name, again.modify_name, again.modify_nullable) == ("c", "d", True)


def test_alter_column_leaves_unchanged_parts_alone_in_reverse() -> None:
    back = AlterColumnOp("t", "c", existing_type=sa.Integer(), modify_name="d").reverse()

    assert (back.modify_nullable, back.modify_type, back.modify_server_default) == (
        None,
        None,
        False,
    )
    assert back.modify_comment is False


@pytest.mark.parametrize(
    ("change", "missing"),
    [
        (AlterColumnOp("t", "c", modify_nullable=True), "existing_nullable"),
        (AlterColumnOp("t", "c", modify_type=sa.Text()), "existing_type"),
        (AlterColumnOp("t", "c", modify_server_default="x"), "existing_server_default"),
        (
            AlterColumnOp(
                "t",
                "c",
                modify_type=sa.Integer(),
                existing_type=sa.Text(),
                kw={"postgresql_using": "c::int"},
            ),
            "USING",
        ),
    ],
)
def test_alter_column_without_what_it_was_cannot_be_reversed(
    change: AlterColumnOp, missing: str
) -> None:
    with pytest.raises(NotImplementedError, match=missing):
        change.reverse()


@pytest.mark.parametrize(
    ("add", "type_"),
    [
        (CreatePrimaryKeyOp("pk", "t", ("id",), schema="s"), "primary"),
        (CreateUniqueConstraintOp("uq", "t", ("a",), schema="s"), "unique"),
        (CreateCheckConstraintOp("ck", "t", "a > 0", schema="s"), "check"),
        (CreateForeignKeyOp("fk", "t", "r", ("a",), ("id",), source_schema="s"), "foreignkey"),
    ],
)
def test_added_constraint_reverses_into_a_drop_that_knows_it(
    add: MigrateOperation, type_: str
) -> None:
    drop = add.reverse()

    assert isinstance(drop, DropConstraintOp)
    assert (drop.table_name, drop.schema, drop.type_) == ("t", "s", type_)
    assert drop.reverse() is add


def test_drop_constraint_by_name_cannot_be_reversed() -> None:
    with pytest.raises(NotImplementedError, match="'fk' cannot be reversed"):
        DropConstraintOp("fk", "t", type_="foreignkey").reverse()


def test_table_comment_ops_reverse() -> None:
    first = CreateTableCommentOp("t", "new", schema="s")
    replace = CreateTableCommentOp("t", "new", existing_comment="old")

    assert isinstance(first.reverse(), DropTableCommentOp)
    assert first.reverse().existing_comment == "new"
    assert first.reverse().reverse().comment == "new"
    assert (replace.reverse().comment, replace.reverse().existing_comment) == ("old", "new")
    with pytest.raises(NotImplementedError, match="existing_comment"):
        DropTableCommentOp("t").reverse()


def test_operations_methods_build_the_ops() -> None:
    op, seen = recorded()

    op.alter_column("t", "c", type_=sa.Integer, existing_type=sa.Text, postgresql_using="c::int")
    op.create_foreign_key(
        None, "t", "r", ["a"], ["id"], ondelete="CASCADE", referent_schema="x", info={"k": 1}
    )
    op.create_exclude_constraint("ex", "t", ("a", "="), schema="s", using="gist")
    op.drop_constraint("uq", "t", "unique", schema="s", if_exists=True)
    op.create_table_comment("t", "c", existing_comment="b")
    op.drop_table_comment("t", existing_comment="c")

    alter, fk, exclude, drop, comment, drop_comment = seen
    assert isinstance(alter, AlterColumnOp)
    assert isinstance(alter.modify_type, sa.Integer) and isinstance(alter.existing_type, sa.Text)
    assert alter.kw == {"postgresql_using": "c::int"}
    assert isinstance(fk, CreateForeignKeyOp)
    assert fk.kw == {"ondelete": "CASCADE", "info": {"k": 1}} and fk.referent_schema == "x"
    assert (exclude.schema, exclude.kw) == ("s", {"using": "gist"})
    assert isinstance(drop, DropConstraintOp) and (drop.type_, drop.if_exists) == ("unique", True)
    assert isinstance(comment, CreateTableCommentOp) and comment.existing_comment == "b"
    assert isinstance(drop_comment, DropTableCommentOp)


def test_unnamed_constraint_cannot_be_dropped_without_a_convention() -> None:
    dialect = offline_dialect("postgresql")
    op = Operations(impl_for("postgresql")(dialect, ScriptSink(dialect, io.StringIO())))

    with pytest.raises(Exception, match="unnamed constraint"):
        op.invoke(CreateUniqueConstraintOp(None, "t", ("a",)).reverse())


def test_unnamed_constraint_reverse_uses_the_conventional_name() -> None:
    output = io.StringIO()
    dialect = offline_dialect("postgresql")
    op = Operations(
        impl_for("postgresql")(dialect, ScriptSink(dialect, output)),
        naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s"},
    )

    add = CreateUniqueConstraintOp(None, "t", ("a",))
    op.invoke(add)
    op.invoke(add.reverse())

    assert output.getvalue().split(";\n\n")[:2] == [
        "ALTER TABLE t ADD CONSTRAINT uq_t_a UNIQUE (a)",
        "ALTER TABLE t DROP CONSTRAINT uq_t_a",
    ]


def test_batch_alter_table_hands_every_argument_to_batch_mode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from amigrate.operations import batch

    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(batch, "batch_alter_table", lambda *a, **kw: calls.append((a, kw)))
    op, _ = recorded()

    op.batch_alter_table("t", "s", "always", [("a", "b")], None, (1,), {"k": 1}, (2,), {"r": 2})

    ((args, kw),) = calls
    assert args == (op, "t")
    assert kw == {
        "schema": "s",
        "recreate": "always",
        "partial_reordering": [("a", "b")],
        "copy_from": None,
        "table_args": (1,),
        "table_kwargs": {"k": 1},
        "reflect_args": (2,),
        "reflect_kwargs": {"r": 2},
        "naming_convention": None,
    }


def test_exclude_constraint_has_a_postgresql_implementation_only() -> None:
    from amigrate.operations.ops import CreateExcludeConstraintOp

    assert toimpl.lookup(CreateExcludeConstraintOp, "postgresql") is not toimpl.lookup(
        CreateExcludeConstraintOp, "mysql"
    )
