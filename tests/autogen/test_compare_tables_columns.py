"""Comparing real databases with changed models: tables, columns, types, defaults, comments.

Each test creates a schema with SQLAlchemy (``create_all``), changes the models, and checks
the ops ``reflect`` + ``compare_schema`` produce: what a user would see in the generated
revision, and that each op reverses into what the database had.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from _envfactory import Backend, sync_connection
from _pgserver import PostgresServer
from conftest import fresh_postgres_database

from amigrate.autogenerate.api import AutogenContext, AutogenOptions
from amigrate.autogenerate.compare import compare_schema
from amigrate.autogenerate.ops import ExecuteReversibleSQLOp, TodoOp
from amigrate.autogenerate.reflect import reflect
from amigrate.ddl import impl_for
from amigrate.ddl.sink import ConnectionSink
from amigrate.operations import Operations
from amigrate.operations.ops import (
    AddColumnOp,
    AlterColumnOp,
    CreateTableCommentOp,
    CreateTableOp,
    DropColumnOp,
    DropTableCommentOp,
    DropTableOp,
    MigrateOperation,
    ModifyTableOps,
    UpgradeOps,
)


@pytest.fixture
def conn(backend: Backend) -> Iterator[sa.Connection]:
    with sync_connection(backend.sync_url, begin=True) as connection:
        yield connection


@pytest.fixture
def pg(postgres_server: PostgresServer) -> Iterator[sa.Connection]:
    """A connection to a fresh PostgreSQL database, for what only PostgreSQL has."""
    with (
        fresh_postgres_database(postgres_server) as fresh,
        sync_connection(fresh.sync_url, begin=True) as c,
    ):
        yield c


def compare(conn: sa.Connection, metadata: sa.MetaData, **options: Any) -> UpgradeOps:
    ctx = AutogenContext(
        dialect=conn.dialect,
        metadata=[metadata],
        connection=conn,
        opts=AutogenOptions(**options),
    )
    return compare_schema(ctx, reflect(ctx))


def table_ops(upgrade: UpgradeOps, name: str) -> list[MigrateOperation]:
    (found,) = [
        op for op in upgrade.ops if isinstance(op, ModifyTableOps) and op.table_name == name
    ]
    return found.ops


def kinds(ops: list[MigrateOperation]) -> list[str]:
    return [type(op).__name__ for op in ops]


def people(*extra: Any, name_length: int = 50, comment: str | None = None) -> sa.MetaData:
    metadata = sa.MetaData()
    sa.Table(
        "person",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(name_length), nullable=False),
        *extra,
        comment=comment,
    )
    return metadata


# -- tables -------------------------------------------------------------------------------------


def test_unchanged_models_give_no_ops(conn: sa.Connection) -> None:
    people(sa.Column("born", sa.Date)).create_all(conn)

    assert compare(conn, people(sa.Column("born", sa.Date))).ops == []


def test_new_table_is_created_and_removed_table_dropped_reversibly(conn: sa.Connection) -> None:
    old = sa.MetaData()
    sa.Table("parent", old, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table(
        "child",
        old,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("parent_id", sa.ForeignKey("parent.id")),
        sa.Column("label", sa.String(20), server_default="x", nullable=False),
        sa.UniqueConstraint("label", name="uq_child_label"),
        sa.Index("ix_child_parent", "parent_id"),
    )
    old.create_all(conn)
    new = sa.MetaData()
    sa.Table("parent", new, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table("toy", new, sa.Column("id", sa.Integer, primary_key=True), comment="toys")

    upgrade = compare(conn, new)

    drop, create = upgrade.ops  # tables go before tables come
    assert isinstance(create, CreateTableOp)
    assert create.table_name == "toy"
    assert create.to_table().comment == "toys"
    assert isinstance(drop, DropTableOp)
    assert drop.table_name == "child"
    recreated = drop.reverse().to_table()
    assert [c.name for c in recreated.columns] == ["id", "parent_id", "label"]
    assert recreated.c.label.nullable is False
    assert [fk.target_fullname for fk in recreated.foreign_keys] == ["parent.id"]
    assert {i.name for i in recreated.indexes} == {"ix_child_parent"}
    assert "uq_child_label" in {c.name for c in recreated.constraints}


def test_tables_are_dropped_before_the_tables_they_refer_to(conn: sa.Connection) -> None:
    old = sa.MetaData()
    sa.Table("a", old, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table(
        "b",
        old,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("a", sa.ForeignKey("a.id")),
    )
    sa.Table(
        "c",
        old,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("b", sa.ForeignKey("b.id")),
    )
    old.create_all(conn)

    dropped = compare(conn, sa.MetaData()).ops
    created = compare(conn, sa.MetaData()).reverse().ops

    assert [op.table_name for op in dropped if isinstance(op, DropTableOp)] == ["c", "b", "a"]
    assert [op.table_name for op in created if isinstance(op, CreateTableOp)] == ["a", "b", "c"]


def test_created_table_keeps_the_models_constraints_and_indexes(conn: sa.Connection) -> None:
    new = sa.MetaData()
    sa.Table("a", new, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table(
        "b",
        new,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("a_id", sa.ForeignKey("a.id"), index=True),
        sa.Column("code", sa.String(5), unique=True),
        sa.CheckConstraint("length(code) > 1", name="ck_code"),
    )

    a, b = compare(conn, new).ops

    assert isinstance(a, CreateTableOp) and isinstance(b, CreateTableOp)
    table = b.to_table()
    assert len(table.foreign_keys) == 1
    assert len(table.indexes) == 1
    assert len([c for c in table.constraints if isinstance(c, sa.UniqueConstraint)]) == 1
    assert "ck_code" in {c.name for c in table.constraints}


def test_version_table_is_never_compared(conn: sa.Connection) -> None:
    version = sa.MetaData()
    sa.Table("alembic_version", version, sa.Column("version_num", sa.String(32), primary_key=True))
    sa.Table("my_versions", version, sa.Column("version_num", sa.String(32), primary_key=True))
    version.create_all(conn)

    assert kinds(compare(conn, sa.MetaData(), version_table="my_versions").ops) == ["DropTableOp"]
    assert compare(conn, version, version_table="my_versions").ops == []
    assert kinds(compare(conn, sa.MetaData()).ops) == ["DropTableOp"]


# -- columns ------------------------------------------------------------------------------------


def test_added_and_removed_columns_reverse_into_each_other(conn: sa.Connection) -> None:
    people(sa.Column("age", sa.Integer, server_default="0")).create_all(conn)

    upgrade = compare(conn, people(sa.Column("email", sa.Text)))

    add, drop = table_ops(upgrade, "person")
    assert isinstance(add, AddColumnOp) and add.column.name == "email"
    assert isinstance(drop, DropColumnOp) and drop.column_name == "age"
    restored = drop.reverse()
    assert isinstance(restored.column.type, sa.Integer)
    assert restored.column.server_default is not None


def test_removed_and_added_column_of_one_type_gets_a_rename_hint(conn: sa.Connection) -> None:
    people(sa.Column("surname", sa.String(30))).create_all(conn)

    models = people(sa.Column("family_name", sa.String(30)))
    upgrade = compare(conn, models, render_as_batch=False)

    ops = table_ops(upgrade, "person")
    assert kinds(ops) == ["AddColumnOp", "DropColumnOp", "TodoOp"]
    hint = ops[2]
    assert isinstance(hint, TodoOp)
    assert hint.suggestion == 'op.alter_column("person", "surname", new_column_name="family_name")'
    assert hint.reverse().suggestion == (
        'op.alter_column("person", "family_name", new_column_name="surname")'
    )
    in_batch = table_ops(compare(conn, models, render_as_batch=True), "person")[2]
    assert isinstance(in_batch, TodoOp)
    assert in_batch.suggestion == 'batch_op.alter_column("surname", new_column_name="family_name")'


def test_nullable_and_type_changes_are_one_reversible_alteration(conn: sa.Connection) -> None:
    people().create_all(conn)
    changed = sa.MetaData()
    sa.Table(
        "person",
        changed,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(80), nullable=True),
    )

    (alter,) = table_ops(compare(conn, changed), "person")

    assert isinstance(alter, AlterColumnOp)
    assert alter.modify_nullable is True
    assert alter.existing_nullable is False
    assert getattr(alter.modify_type, "length", None) == 80
    back = alter.reverse()
    assert back.modify_nullable is False
    assert getattr(back.modify_type, "length", None) == 50


def test_compare_type_false_or_a_hook_decides(conn: sa.Connection) -> None:
    people().create_all(conn)
    asked: list[tuple[str, str]] = []

    def hook(context: Any, inspected: Any, metadata: Any, inspected_type: Any, metadata_type: Any):
        asked.append((inspected.name, metadata.name))
        return True if metadata.name == "id" else None

    assert compare(conn, people(name_length=60), compare_type=False).ops == []
    ops = table_ops(compare(conn, people(name_length=60), compare_type=hook), "person")
    assert sorted(asked) == [("id", "id"), ("name", "name")]
    assert sorted(op.column_name for op in ops if isinstance(op, AlterColumnOp)) == ["id", "name"]


def test_enum_with_room_in_its_column_is_unchanged(conn: sa.Connection) -> None:
    people(sa.Column("size", sa.Enum("small", "large", name="size"))).create_all(conn)

    wider = people(sa.Column("size", sa.Enum("small", "large", "xl", name="size")))

    assert not [
        op
        for op in compare(conn, wider).ops
        if isinstance(op, ModifyTableOps) and any(isinstance(o, AlterColumnOp) for o in op.ops)
    ]


def test_changed_generated_column_is_dropped_and_added(conn: sa.Connection) -> None:
    twice = sa.Computed("id * 2", persisted=True)
    people(sa.Column("double", sa.Integer, twice)).create_all(conn)

    thrice = people(sa.Column("double", sa.Integer, sa.Computed("id * 3", persisted=True)))
    same = people(sa.Column("double", sa.Integer, sa.Computed("id*2", persisted=True)))

    drop, add = table_ops(compare(conn, thrice), "person")
    assert isinstance(drop, DropColumnOp) and drop.column is not None
    assert drop.column.computed is not None
    assert isinstance(add, AddColumnOp) and add.column.computed is not None
    assert compare(conn, same).ops == []


# -- server defaults ----------------------------------------------------------------------------


def test_server_defaults_are_compared_only_when_asked(conn: sa.Connection) -> None:
    people(sa.Column("status", sa.String(10), server_default="new")).create_all(conn)
    changed = people(sa.Column("status", sa.String(10), server_default="open"))

    assert compare(conn, changed).ops == []
    (alter,) = table_ops(compare(conn, changed, compare_server_default=True), "person")
    assert isinstance(alter, AlterColumnOp)
    assert isinstance(alter.modify_server_default, sa.DefaultClause)
    assert alter.modify_server_default.arg == "open"
    assert str(alter.existing_server_default).strip("()").startswith("'new'")
    assert alter.reverse().modify_server_default is alter.existing_server_default


@pytest.mark.parametrize(
    "default",
    [
        pytest.param("x", id="string"),
        pytest.param("it's", id="quote"),
        pytest.param(sa.text("0"), id="number"),
        pytest.param("-1", id="negative"),
        pytest.param(sa.text("1.50"), id="decimal"),
        pytest.param(sa.func.now(), id="now"),
        pytest.param(sa.text("CURRENT_TIMESTAMP"), id="current_timestamp"),
        pytest.param(sa.text("(1 + 2)"), id="expression"),
    ],
)
def test_unchanged_server_defaults_read_back_the_same(conn: sa.Connection, default: Any) -> None:
    type_ = sa.DateTime if "now" in str(default) or "TIME" in str(default) else sa.String(20)
    if isinstance(default, sa.TextClause) and str(default)[0] in "-(0123456789":
        type_ = sa.Numeric(10, 2)
    people(sa.Column("value", type_, server_default=default)).create_all(conn)

    again = people(sa.Column("value", type_, server_default=default))

    assert compare(conn, again, compare_server_default=True).ops == []


def test_server_default_hook_answers_first(conn: sa.Connection) -> None:
    people(sa.Column("status", sa.String(10), server_default="new")).create_all(conn)
    seen: list[Any] = []

    def hook(context: Any, inspected: Any, metadata: Any, found: Any, given: Any, rendered: Any):
        seen.append((metadata.name, rendered))
        return False

    changed = people(sa.Column("status", sa.String(10), server_default="open"))

    assert compare(conn, changed, compare_server_default=hook).ops == []
    assert ("status", "open") in seen  # a string default as written, as Alembic passes it


# -- hooks --------------------------------------------------------------------------------------


def test_include_object_keeps_tables_and_columns_out(conn: sa.Connection) -> None:
    old = people(sa.Column("legacy", sa.Integer))
    sa.Table("audit", old, sa.Column("id", sa.Integer, primary_key=True))
    old.create_all(conn)
    calls: list[tuple[str, str, bool]] = []

    def include(obj: Any, name: str, type_: str, reflected: bool, compare_to: Any) -> bool:
        calls.append((name, type_, reflected))
        assert isinstance(obj, sa.Table if type_ == "table" else sa.Column)
        return name not in {"audit", "legacy", "extra"}

    assert compare(conn, people(sa.Column("extra", sa.Text)), include_object=include).ops == []
    assert ("audit", "table", True) in calls
    assert ("legacy", "column", True) in calls
    assert ("extra", "column", False) in calls
    assert ("person", "table", False) in calls


def test_include_name_keeps_database_tables_out(conn: sa.Connection) -> None:
    old = people()
    sa.Table("spatial_ref_sys", old, sa.Column("id", sa.Integer, primary_key=True))
    old.create_all(conn)
    calls: list[tuple[Any, str, dict[str, Any]]] = []

    def include(name: Any, type_: str, parents: dict[str, Any]) -> bool:
        calls.append((name, type_, parents))
        return name != "spatial_ref_sys"

    assert compare(conn, people(), include_name=include).ops == []
    assert ("spatial_ref_sys", "table") in [(n, t) for n, t, _ in calls]
    assert kinds(compare(conn, people()).ops) == ["DropTableOp"]


# -- PostgreSQL only ------------------------------------------------------------------------------


def test_column_and_table_comments_change_reversibly(pg: sa.Connection) -> None:
    people(sa.Column("age", sa.Integer, comment="years"), comment="everyone").create_all(pg)

    changed = people(sa.Column("age", sa.Integer, comment="in years"), comment=None)
    ops = table_ops(compare(pg, changed), "person")

    alter, drop_comment = ops
    assert isinstance(alter, AlterColumnOp)
    assert (alter.modify_comment, alter.existing_comment) == ("in years", "years")
    assert isinstance(drop_comment, DropTableCommentOp)
    restored = drop_comment.reverse()
    assert isinstance(restored, CreateTableCommentOp) and restored.comment == "everyone"


def test_native_enum_of_the_same_name_is_unchanged(pg: sa.Connection) -> None:
    people(sa.Column("size", sa.Enum("s", "m", name="size"))).create_all(pg)

    same_name = people(sa.Column("size", sa.Enum("s", "m", "l", name="size")))
    other_name = people(sa.Column("size", sa.Enum("s", "m", name="sizes")))

    assert not any(isinstance(op, ModifyTableOps) for op in compare(pg, same_name).ops)
    (alter,) = table_ops(compare(pg, other_name), "person")
    assert isinstance(alter, AlterColumnOp) and alter.modify_type is not None


def test_identity_changes_are_sql_that_runs_and_reverses(pg: sa.Connection) -> None:
    people(sa.Column("n", sa.Integer, nullable=False)).create_all(pg)
    states = [
        sa.Column("n", sa.Integer, sa.Identity(), nullable=False),
        sa.Column("n", sa.Integer, sa.Identity(always=True, start=10, increment=5), nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
    ]
    for column in states:
        (op,) = table_ops(compare(pg, people(column)), "person")
        assert isinstance(op, ExecuteReversibleSQLOp)
        pg.exec_driver_sql(op.sql)
        assert compare(pg, people(column._copy())).ops == []
        pg.exec_driver_sql(op.reverse().sql)
        pg.exec_driver_sql(op.sql)


def test_serial_and_identity_keys_give_no_differences(pg: sa.Connection) -> None:
    def models() -> sa.MetaData:
        metadata = sa.MetaData()
        sa.Table("a", metadata, sa.Column("id", sa.Integer, primary_key=True))
        sa.Table("b", metadata, sa.Column("id", sa.BigInteger, primary_key=True))
        sa.Table("c", metadata, sa.Column("id", sa.Integer, sa.Identity(), primary_key=True))
        return metadata

    models().create_all(pg)

    assert compare(pg, models(), compare_server_default=True).ops == []


def test_include_schemas_compares_every_schema_the_hook_admits(pg: sa.Connection) -> None:
    pg.exec_driver_sql("CREATE SCHEMA other")
    pg.exec_driver_sql("CREATE SCHEMA ignored")
    old = people()
    sa.Table("t", old, sa.Column("id", sa.Integer, primary_key=True), schema="other")
    sa.Table("t", old, sa.Column("id", sa.Integer, primary_key=True), schema="ignored")
    old.create_all(pg)

    def include(name: Any, type_: str, parents: dict[str, Any]) -> bool:
        return not (type_ == "schema" and name == "ignored")

    without = compare(pg, people())
    upgrade = compare(pg, people(), include_schemas=True, include_name=include)

    assert without.ops == []
    (drop,) = upgrade.ops
    assert isinstance(drop, DropTableOp)
    assert (drop.schema, drop.table_name) == ("other", "t")


# -- round trip ---------------------------------------------------------------------------------


def operations_on(connection: sa.Connection) -> Operations:
    impl = impl_for(connection.dialect.name)(connection.dialect, ConnectionSink(connection))
    return Operations(impl)


def apply(connection: sa.Connection, ops: list[MigrateOperation]) -> None:
    """Run an op tree as a generated revision would: table changes in batch mode."""
    operations = operations_on(connection)
    for op in ops:
        if isinstance(op, ModifyTableOps):
            with operations.batch_alter_table(op.table_name, schema=op.schema) as batch:
                for inner in op.ops:
                    apply_in_batch(batch, inner)
        else:
            operations.invoke(op)


def apply_in_batch(batch: Any, op: MigrateOperation) -> None:
    if isinstance(op, AddColumnOp):
        batch.add_column(op.column)
    elif isinstance(op, DropColumnOp):
        batch.drop_column(op.column_name)
    elif isinstance(op, AlterColumnOp):
        changes: dict[str, Any] = {
            "nullable": op.modify_nullable,
            "type_": op.modify_type,
            "existing_type": op.existing_type,
            "existing_nullable": op.existing_nullable,
        }
        if op.modify_server_default is not False:
            changes["server_default"] = op.modify_server_default
        if op.modify_comment is not False:
            changes["comment"] = op.modify_comment
        batch.alter_column(op.column_name, **changes)
    elif isinstance(op, CreateTableCommentOp):
        batch.create_table_comment(op.comment, existing_comment=op.existing_comment)
    elif isinstance(op, DropTableCommentOp):
        batch.drop_table_comment(existing_comment=op.existing_comment)
    elif isinstance(op, ExecuteReversibleSQLOp):
        batch.execute(op.sql)
    else:
        assert isinstance(op, TodoOp), op


def before_models() -> sa.MetaData:
    metadata = people(
        sa.Column("nick", sa.String(20), server_default="none"),
        sa.Column("age", sa.Integer, comment="years"),
        sa.Column("score", sa.Integer, sa.Computed("id * 2", persisted=True)),
        comment="everyone",
    )
    sa.Table("old_notes", metadata, sa.Column("id", sa.Integer, primary_key=True))
    return metadata


def after_models() -> sa.MetaData:
    metadata = people(
        sa.Column("nick", sa.String(40), server_default="anon", nullable=False),
        sa.Column("age", sa.Integer, comment="in years"),
        sa.Column("score", sa.Integer, sa.Computed("id * 3", persisted=True)),
        sa.Column("email", sa.Text),
        name_length=80,
        comment="all people",
    )
    sa.Table(
        "address",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("person_id", sa.ForeignKey("person.id"), nullable=False),
    )
    return metadata


def test_upgrade_and_its_reverse_run_and_leave_no_differences(conn: sa.Connection) -> None:
    before_models().create_all(conn)
    conn.execute(sa.text("INSERT INTO person (id, name, nick) VALUES (1, 'Ann', 'a')"))

    upgrade = compare(conn, after_models(), compare_server_default=True)
    assert kinds(upgrade.ops) == ["DropTableOp", "ModifyTableOps", "CreateTableOp"]
    assert len(table_ops(upgrade, "person")) >= 5
    apply(conn, upgrade.ops)

    assert compare(conn, after_models(), compare_server_default=True).ops == []
    apply(conn, upgrade.reverse().ops)
    assert compare(conn, before_models(), compare_server_default=True).ops == []
    assert conn.execute(sa.text("SELECT name, nick FROM person")).all() == [("Ann", "a")]


def test_default_schema_named_explicitly_is_the_default_schema(pg: sa.Connection) -> None:
    def models() -> sa.MetaData:
        metadata = sa.MetaData()
        sa.Table("a", metadata, sa.Column("id", sa.Integer, primary_key=True), schema="public")
        return metadata

    models().create_all(pg)

    assert compare(pg, models()).ops == []
    assert compare(pg, models(), include_schemas=True).ops == []


def test_reflected_columns_include_name_turns_down_are_left_alone(conn: sa.Connection) -> None:
    people(sa.Column("internal", sa.Integer)).create_all(conn)

    def include(name: Any, type_: str, parents: dict[str, Any]) -> bool:
        return not (type_ == "column" and name == "internal")

    assert compare(conn, people(), include_name=include).ops == []
    assert kinds(table_ops(compare(conn, people()), "person")) == ["DropColumnOp"]


def test_table_in_a_schema_the_database_lacks_is_created(conn: sa.Connection) -> None:
    metadata = sa.MetaData()
    sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True), schema="elsewhere")

    (create,) = compare(conn, metadata).ops

    assert isinstance(create, CreateTableOp)
    assert (create.schema, create.table_name) == ("elsewhere", "t")
