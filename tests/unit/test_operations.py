"""amigrate.operations without a database: ops and their reverses, the registry, plugins."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.sql.elements import conv

from amigrate.ddl import impl_for
from amigrate.ddl.sink import ScriptSink, offline_dialect
from amigrate.errors import AmigrateError
from amigrate.operations import Operations, toimpl
from amigrate.operations.ops import (
    AddColumnOp,
    CreateIndexOp,
    CreateTableOp,
    DowngradeOps,
    DropColumnOp,
    DropIndexOp,
    DropTableOp,
    ExecuteSQLOp,
    MigrateOperation,
    MigrationScript,
    ModifyTableOps,
    RenameTableOp,
    UpgradeOps,
)


def offline(dialect_name: str = "postgresql", **options: Any) -> tuple[Operations, io.StringIO]:
    output = io.StringIO()
    dialect = offline_dialect(dialect_name)
    impl = impl_for(dialect_name)(dialect, ScriptSink(dialect, output))
    return Operations(impl, **options), output


def sql(output: io.StringIO) -> list[str]:
    return [" ".join(s.split()) for s in output.getvalue().split(";\n\n") if s.strip()]


# -- reverse ----------------------------------------------------------------------------------


def test_add_column_and_drop_column_reverse_each_other() -> None:
    column = sa.Column("age", sa.Integer)
    add = AddColumnOp("account", column, schema="s")

    drop = add.reverse()

    assert (drop.table_name, drop.column_name, drop.schema, drop.column) == (
        "account",
        "age",
        "s",
        column,
    )
    again = drop.reverse()
    assert (again.table_name, again.column, again.schema) == ("account", column, "s")


def test_drop_column_without_its_definition_cannot_be_reversed() -> None:
    with pytest.raises(NotImplementedError, match=r"account\.age .* definition is unknown"):
        DropColumnOp("account", "age").reverse()


def test_create_and_drop_table_reverse_each_other() -> None:
    create = CreateTableOp("t", (sa.Column("id", sa.Integer),), schema="s")

    drop = create.reverse()

    assert (drop.table_name, drop.schema) == ("t", "s")
    assert drop.reverse() is create
    with pytest.raises(NotImplementedError, match="columns are unknown"):
        DropTableOp("t").reverse()


def test_create_and_drop_index_reverse_each_other() -> None:
    create = CreateIndexOp("ix", "t", ("a",), kw={"postgresql_concurrently": True})

    drop = create.reverse()

    assert (drop.index_name, drop.table_name, dict(drop.kw)) == (
        "ix",
        "t",
        {"postgresql_concurrently": True},
    )
    assert drop.reverse() is create
    with pytest.raises(NotImplementedError):
        DropIndexOp("ix").reverse()


def test_rename_table_reverses_by_swapping() -> None:
    back = RenameTableOp("a", "b", schema="s").reverse()

    assert (back.old_table_name, back.new_table_name, back.schema) == ("b", "a", "s")


def test_execute_has_no_reverse() -> None:
    with pytest.raises(NotImplementedError, match="ExecuteSQLOp"):
        ExecuteSQLOp("SELECT 1").reverse()


def test_containers_reverse_in_reverse_order() -> None:
    first = RenameTableOp("a", "b")
    second = CreateIndexOp("ix", "b", ("x",))
    upgrade = UpgradeOps([first, ModifyTableOps([second], table_name="b")])

    downgrade = upgrade.reverse()

    assert isinstance(downgrade, DowngradeOps)
    modify, rename = downgrade.ops
    assert isinstance(modify, ModifyTableOps) and modify.table_name == "b"
    assert isinstance(modify.ops[0], DropIndexOp)
    assert isinstance(rename, RenameTableOp) and rename.old_table_name == "b"
    assert isinstance(downgrade.reverse(), UpgradeOps)
    assert MigrationScript("abc", upgrade, downgrade).upgrade_ops.ops[0] is first


def test_ops_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        RenameTableOp("a", "b").schema = "s"  # type: ignore[misc]


# -- the facade -------------------------------------------------------------------------------


def test_get_bind_offline_says_why() -> None:
    op, _ = offline()

    with pytest.raises(AmigrateError, match="offline") as caught:
        op.get_bind()
    assert caught.value.hint is not None and "is_offline_mode" in caught.value.hint


def test_get_context_returns_what_the_runtime_gave() -> None:
    marker = object()
    op, _ = offline(context=marker)
    bare, _ = offline()

    assert op.get_context() is marker
    assert op.migration_context is marker
    with pytest.raises(AmigrateError):
        bare.get_context()


def test_f_marks_a_name_final() -> None:
    op, output = offline(naming_convention={"ix": "ix_%(table_name)s_%(column_0_name)s"})

    op.create_index(op.f("custom"), "t", "a")
    op.create_index(None, "t", ["b"])

    assert isinstance(op.f("x"), conv)
    assert sql(output) == ["CREATE INDEX custom ON t (a)", "CREATE INDEX ix_t_b ON t (b)"]


def test_naming_convention_names_unnamed_constraints() -> None:
    op, output = offline(naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s"})

    op.create_table("t", sa.Column("code", sa.String(5), unique=True))

    assert sql(output) == ["CREATE TABLE t ( code VARCHAR(5), CONSTRAINT uq_t_code UNIQUE (code) )"]


def test_bulk_insert_wants_a_list_of_dictionaries() -> None:
    op, _ = offline()
    table = sa.table("t", sa.column("a", sa.Integer))

    with pytest.raises(TypeError, match="list of dictionaries"):
        op.bulk_insert(table, {"a": 1})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="list of dictionaries"):
        op.bulk_insert(table, [1])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="no column 'b'"):
        op.bulk_insert(table, [{"b": 1}])


def test_create_table_returns_a_table_for_later_operations() -> None:
    op, _ = offline()

    table = op.create_table("t", sa.Column("id", sa.Integer), schema="s")

    assert isinstance(table, sa.Table)
    assert (table.name, table.schema, list(table.c.keys())) == ("t", "s", ["id"])


def test_a_column_can_be_added_twice_to_different_tables() -> None:
    op, output = offline()
    column = sa.Column("x", sa.Integer, sa.ForeignKey("other.id"))

    op.add_column("a", column)
    op.add_column("b", column)

    assert sql(output) == [
        "ALTER TABLE a ADD COLUMN x INTEGER",
        "ALTER TABLE a ADD FOREIGN KEY(x) REFERENCES other (id)",
        "ALTER TABLE b ADD COLUMN x INTEGER",
        "ALTER TABLE b ADD FOREIGN KEY(x) REFERENCES other (id)",
    ]


# -- registry and plugins ---------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CreateSequenceOp(MigrateOperation):
    sequence_name: str

    @classmethod
    def create_sequence(cls, operations: Operations, sequence_name: str) -> Any:
        """Create a sequence."""
        return operations.invoke(cls(sequence_name))


@pytest.fixture
def plugin_registry() -> Iterator[None]:
    """Plugins registered by a test are gone afterwards."""
    registry = dict(toimpl._registry)
    methods = set(vars(Operations))
    try:
        yield
    finally:
        toimpl._registry.clear()
        toimpl._registry.update(registry)
        for name in set(vars(Operations)) - methods:
            delattr(Operations, name)


@pytest.mark.usefixtures("plugin_registry")
def test_plugin_operation_and_dialect_specific_implementation() -> None:
    Operations.register_operation("create_sequence")(CreateSequenceOp)

    @Operations.implementation_for(CreateSequenceOp)
    def create_sequence(operations: Operations, op: CreateSequenceOp) -> str:
        operations.execute(f"CREATE SEQUENCE {op.sequence_name}")
        return "default"

    @Operations.implementation_for(CreateSequenceOp, "sqlite")
    def create_sequence_sqlite(operations: Operations, op: CreateSequenceOp) -> str:
        operations.execute(f"-- no sequences: {op.sequence_name}")
        return "sqlite"

    pg, pg_output = offline("postgresql")
    lite, lite_output = offline("sqlite")

    assert pg.create_sequence("s1") == "default"  # type: ignore[attr-defined]
    assert lite.create_sequence("s1") == "sqlite"  # type: ignore[attr-defined]
    assert sql(pg_output) == ["CREATE SEQUENCE s1"]
    assert sql(lite_output) == ["-- no sequences: s1"]
    assert Operations.create_sequence.__doc__ == "Create a sequence."  # type: ignore[attr-defined]


def test_plugin_registration_is_undone_by_the_fixture() -> None:
    assert not hasattr(Operations, "create_sequence")


def test_builtin_operations_cannot_be_replaced_by_plugins() -> None:
    with pytest.raises(ValueError, match="built in"):
        Operations.register_operation("add_column")(CreateSequenceOp)


def test_an_op_without_implementation_says_so() -> None:
    @dataclass(frozen=True, eq=False)
    class Orphan(MigrateOperation):
        pass

    op, _ = offline()
    with pytest.raises(NotImplementedError, match="no implementation for Orphan"):
        op.invoke(Orphan())
