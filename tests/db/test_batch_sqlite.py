"""Batch mode on SQLite: the table is recreated and keeps its rows, keys, checks and indexes.

The big scenario runs through real migrations (the runtime's per-revision transactions):
a 10,000-row table with foreign keys in and out, a unique index, a check constraint, a
server default and a generated column goes through add, drop, rename and retype. A batch
that fails, before or after the swap, leaves the original table and its rows untouched.
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from _envfactory import Backend, MigrationEnv, sync_connection
from alembic.migration import MigrationContext
from alembic.operations import Operations as AlembicOperations

from amigrate import command
from amigrate.ddl import impl_for
from amigrate.ddl.sink import ConnectionSink, ScriptSink, offline_dialect
from amigrate.errors import AmigrateError, MigrationFailedError, UnsupportedOperationError
from amigrate.operations import Operations

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

SETUP = """
op.create_table("parent", sa.Column("id", sa.Integer, primary_key=True))
op.create_table(
    "item",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("parent.id"), nullable=False),
    sa.Column("code", sa.String(20), nullable=False),
    sa.Column("qty", sa.Integer, nullable=False),
    sa.Column("status", sa.String(10), server_default="new", nullable=False),
    sa.Column("total", sa.Integer, sa.Computed("qty * 2")),
    sa.Column("price", sa.String(20)),
    sa.Column("legacy", sa.String(20)),
    sa.CheckConstraint("qty >= 0", name="ck_item_qty"),
)
op.create_index("ux_item_code", "item", ["code"], unique=True)
op.create_index("ix_item_qty", "item", ["qty"])
op.create_table(
    "child",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("item.id", ondelete="CASCADE")),
)
op.execute("INSERT INTO parent (id) VALUES (1), (2)")
op.execute(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000) "
    "INSERT INTO item (id, parent_id, code, qty, price, legacy) "
    "SELECT i, 1 + i % 2, 'code-' || i, i % 50, i || '.5', 'x' FROM n"
)
op.execute("INSERT INTO child (id, item_id) SELECT id, id FROM item WHERE id <= 100")
"""

BATCH = """
with op.batch_alter_table("item") as batch_op:
    batch_op.add_column(sa.Column("note", sa.String(30), server_default="n/a"), insert_after="code")
    batch_op.drop_column("legacy")
    batch_op.alter_column("qty", new_column_name="quantity")
    batch_op.alter_column("price", type_=sa.Numeric(10, 2))
"""


def rows(connection: sa.Connection, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in connection.exec_driver_sql(sql)]


def snapshot(backend: Backend) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The schema as SQLite stores it, and every row of ``item``."""
    with sync_connection(backend.sync_url) as connection:
        schema = rows(connection, "SELECT type, name, sql FROM sqlite_master ORDER BY name")
        data = rows(connection, "SELECT * FROM item ORDER BY id")
    return schema, data


@SQLITE
async def test_batch_keeps_rows_keys_checks_and_indexes(env: MigrationEnv, backend: Backend):
    env.add_revision("a1", upgrade=SETUP)
    env.add_revision("b2", "a1", upgrade=BATCH)
    await command.upgrade(env.config, "head")
    assert await env.version_rows() == ["b2"]
    with sync_connection(backend.sync_url) as connection:
        inspector = sa.inspect(connection)
        names = [c["name"] for c in inspector.get_columns("item")]
        assert names == [
            "id", "parent_id", "code", "note", "quantity", "status", "total", "price"
        ]  # fmt: skip
        assert rows(connection, "SELECT count(*), count(DISTINCT code) FROM item") == [
            (10000, 10000)
        ]
        assert rows(
            connection,
            "SELECT id, parent_id, code, note, quantity, status, total, typeof(price), price "
            "FROM item WHERE id IN (1, 4321, 10000) ORDER BY id",
        ) == [
            (1, 2, "code-1", "n/a", 1, "new", 2, "real", 1.5),
            (4321, 2, "code-4321", "n/a", 21, "new", 42, "real", 4321.5),
            (10000, 1, "code-10000", "n/a", 0, "new", 0, "real", 10000.5),
        ]
        # the indexes, the check (renamed column included), the generated column, the keys
        indexes = {
            ix["name"]: (ix["column_names"], ix["unique"]) for ix in inspector.get_indexes("item")
        }
        assert indexes == {"ix_item_qty": (["quantity"], 0), "ux_item_code": (["code"], 1)}
        checks = inspector.get_check_constraints("item")
        assert [(c["name"], c["sqltext"]) for c in checks] == [("ck_item_qty", "quantity >= 0")]
        assert [
            (fk["constrained_columns"], fk["referred_table"])
            for fk in inspector.get_foreign_keys("item")
        ] == [(["parent_id"], "parent")]
        child_fks = inspector.get_foreign_keys("child")
        assert [(fk["constrained_columns"], fk["referred_table"]) for fk in child_fks] == [
            (["item_id"], "item")
        ]
        assert rows(connection, "PRAGMA foreign_key_check") == []
        assert not [t for t in inspector.get_table_names() if t.startswith("_amigrate_tmp")]

        # and they all still work
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.exec_driver_sql(
            "INSERT INTO item (id, parent_id, code, quantity) VALUES (10001, 1, 'new', 4)"
        )
        assert rows(connection, "SELECT status, note, total FROM item WHERE id = 10001") == [
            ("new", "n/a", 8)
        ]
        for bad in (
            "INSERT INTO item (id, parent_id, code, quantity) VALUES (10002, 1, 'code-1', 1)",
            "INSERT INTO item (id, parent_id, code, quantity) VALUES (10002, 1, 'c', -1)",
            "INSERT INTO item (id, parent_id, code, quantity) VALUES (10002, 99, 'c', 1)",
        ):
            with pytest.raises(sa.exc.IntegrityError):
                connection.exec_driver_sql(bad)
        connection.exec_driver_sql("DELETE FROM item WHERE id = 5")
        assert rows(connection, "SELECT count(*) FROM child") == [(99,)]  # ON DELETE CASCADE
        connection.commit()


@pytest.mark.parametrize(
    "failing",
    [
        pytest.param("batch_op.drop_column('nope')", id="unknown-column"),
        pytest.param("batch_op.execute('INSERT INTO nope VALUES (1)')", id="after-the-swap"),
        pytest.param(
            "batch_op.add_column(sa.Column('required', sa.Integer, nullable=False))",
            id="copy-fails",
        ),
    ],
)
@SQLITE
async def test_a_failing_batch_leaves_the_table_untouched(
    env: MigrationEnv, backend: Backend, failing: str
):
    env.add_revision("a1", upgrade=SETUP)
    await command.upgrade(env.config, "head")
    before = snapshot(backend)
    env.add_revision("b2", "a1", upgrade=BATCH + "    " + failing)
    with pytest.raises(MigrationFailedError, match="b2"):
        await command.upgrade(env.config, "head")
    assert snapshot(backend) == before
    assert len(before[1]) == 10000
    assert await env.version_rows() == ["a1"]


@SQLITE
async def test_a_view_on_the_table_is_named_before_anything_changes(
    env: MigrationEnv, backend: Backend
):
    env.add_revision(
        "a1",
        upgrade="""
        op.create_table("t", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("x", sa.Integer))
        op.execute("CREATE VIEW big_x AS SELECT id FROM t WHERE x > 10")
        """,
    )
    env.add_revision(
        "b2",
        "a1",
        upgrade="""
        with op.batch_alter_table("t") as batch_op:
            batch_op.drop_column("x")
        """,
    )
    with pytest.raises(MigrationFailedError, match="view big_x depends on it") as caught:
        await command.upgrade(env.config, "head")
    assert isinstance(caught.value.__cause__, UnsupportedOperationError)
    assert await env.version_rows() == ["a1"]
    with sync_connection(backend.sync_url) as connection:
        assert [c["name"] for c in sa.inspect(connection).get_columns("t")] == ["id", "x"]


# -- on a connection of the test's own ----------------------------------------------------------


@contextlib.contextmanager
def operations(
    backend: Backend, *, foreign_keys: bool = False
) -> Iterator[tuple[Operations, sa.Connection]]:
    """Operations on a connection whose transactions the test controls (explicit BEGIN)."""
    with sync_connection(backend.sync_url) as connection:
        connection.connection.dbapi_connection.isolation_level = None  # type: ignore[union-attr]
        if foreign_keys:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        impl = impl_for("sqlite")(connection.dialect, ConnectionSink(connection))
        yield Operations(impl), connection


PARENT_AND_CHILD = (
    "CREATE TABLE p (id INTEGER PRIMARY KEY, name VARCHAR(10))",
    "CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id) ON DELETE CASCADE)",
    "INSERT INTO p VALUES (1, 'a'), (2, 'b')",
    "INSERT INTO c VALUES (1, 1), (2, 2)",
)


def create(connection: sa.Connection, *statements: str) -> None:
    for statement in statements:
        connection.exec_driver_sql(statement)


@SQLITE
def test_never_refuses_what_needs_a_recreate_before_anything_runs(backend: Backend):
    with operations(backend) as (op, connection):
        create(connection, PARENT_AND_CHILD[0])
        refused = pytest.raises(
            UnsupportedOperationError, match="ALTER TABLE cannot do drop_column"
        )
        with refused, op.batch_alter_table("p", recreate="never") as batch_op:
            batch_op.add_column(sa.Column("plain", sa.Integer))
            batch_op.drop_column("name")
        assert [c["name"] for c in sa.inspect(connection).get_columns("p")] == ["id", "name"]

        with op.batch_alter_table("p", recreate="never") as batch_op:
            batch_op.add_column(sa.Column("plain", sa.Integer))
            batch_op.create_index("ix_p_plain", ["plain"])
        sql = rows(connection, "SELECT sql FROM sqlite_master WHERE name = 'p'")[0][0]
        assert sql.endswith(", plain INTEGER)")  # ALTER TABLE ADD COLUMN, not a new table


@SQLITE
def test_enforced_foreign_keys_are_off_during_the_swap_and_on_again(backend: Backend):
    """Outside a transaction, the batch switches enforcement off and runs one of its own."""
    with operations(backend, foreign_keys=True) as (op, connection):
        create(connection, *PARENT_AND_CHILD)
        with op.batch_alter_table("p") as batch_op:
            batch_op.add_column(sa.Column("code", sa.String(5)), insert_before="name")
        assert rows(connection, "SELECT * FROM c ORDER BY id") == [(1, 1), (2, 2)]
        assert rows(connection, "SELECT * FROM p ORDER BY id") == [(1, None, "a"), (2, None, "b")]
        assert rows(connection, "PRAGMA foreign_keys") == [(1,)]
        connection.exec_driver_sql("DELETE FROM p WHERE id = 1")
        assert rows(connection, "SELECT * FROM c") == [(2, 2)]


@SQLITE
def test_enforced_foreign_keys_inside_a_transaction_are_refused_up_front(backend: Backend):
    with operations(backend, foreign_keys=True) as (op, connection):
        create(connection, *PARENT_AND_CHILD)
        connection.exec_driver_sql("BEGIN")
        refused = pytest.raises(UnsupportedOperationError, match="rows of c that reference it")
        with refused, op.batch_alter_table("p") as batch_op:
            batch_op.drop_column("name")
        connection.exec_driver_sql("ROLLBACK")
        assert rows(connection, "SELECT * FROM c ORDER BY id") == [(1, 1), (2, 2)]
        assert [c["name"] for c in sa.inspect(connection).get_columns("p")] == ["id", "name"]

        # a table nobody references can be recreated right there
        connection.exec_driver_sql("BEGIN")
        with op.batch_alter_table("c") as batch_op:
            batch_op.alter_column("p_id", new_column_name="parent_id")
        connection.exec_driver_sql("COMMIT")
        assert rows(connection, "SELECT id, parent_id FROM c ORDER BY id") == [(1, 1), (2, 2)]


@SQLITE
def test_renaming_a_column_other_tables_reference_is_refused_up_front(backend: Backend):
    with operations(backend) as (op, connection):
        create(connection, *PARENT_AND_CHILD)
        refused = pytest.raises(UnsupportedOperationError, match=r"c\.p_id -> id")
        with refused, op.batch_alter_table("p") as batch_op:
            batch_op.alter_column("id", new_column_name="pid")
        assert [c["name"] for c in sa.inspect(connection).get_columns("p")] == ["id", "name"]


@SQLITE
def test_partial_reordering_and_an_expression_index(backend: Backend):
    with operations(backend) as (op, connection):
        create(
            connection,
            "CREATE TABLE t (a INTEGER, b VARCHAR(5), c INTEGER, d INTEGER)",
            "CREATE INDEX ix_t_lower_b ON t (lower(b)) WHERE c > 0",
            "INSERT INTO t VALUES (1, 'B', 3, 4)",
        )
        with op.batch_alter_table("t", partial_reordering=[("d", "c", "b")]) as batch_op:
            batch_op.alter_column("b", new_column_name="bee")
        assert [c["name"] for c in sa.inspect(connection).get_columns("t")] == [
            "a",
            "d",
            "c",
            "bee",
        ]
        assert rows(connection, "SELECT * FROM t") == [(1, 4, 3, "B")]
        index_sql = rows(connection, "SELECT sql FROM sqlite_master WHERE name = 'ix_t_lower_b'")
        assert index_sql == [("CREATE INDEX ix_t_lower_b ON t (lower(bee)) WHERE c > 0",)]


@SQLITE
def test_unnamed_constraints_are_kept_and_named_by_naming_convention(backend: Backend):
    convention = {
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    }
    with operations(backend) as (op, connection):
        create(
            connection,
            "CREATE TABLE p (id INTEGER PRIMARY KEY)",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, code VARCHAR(5) UNIQUE,"
            " nick VARCHAR(5) UNIQUE, p_id INTEGER REFERENCES p (id), qty INT CHECK (qty > 0))",
        )
        with op.batch_alter_table("t", naming_convention=convention) as batch_op:
            batch_op.drop_constraint("uq_t_code", type_="unique")
            batch_op.drop_constraint("fk_t_p_id_p", type_="foreignkey")
            batch_op.create_foreign_key("fk_qty", "p", ["qty"], ["id"], ondelete="SET NULL")
        inspector = sa.inspect(connection)
        assert [u["column_names"] for u in inspector.get_unique_constraints("t")] == [["nick"]]
        fks = inspector.get_foreign_keys("t")
        assert [(fk["name"], fk["constrained_columns"], fk["options"]) for fk in fks] == [
            ("fk_qty", ["qty"], {"ondelete": "SET NULL"})
        ]
        assert [c["sqltext"] for c in inspector.get_check_constraints("t")] == ["qty > 0"]


@SQLITE
def test_new_unnamed_constraints_take_the_target_naming_convention(backend: Backend):
    convention = {
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
    with operations(backend) as (op, connection):
        create(connection, "CREATE TABLE p (id INTEGER PRIMARY KEY)")
        create(connection, "CREATE TABLE t (id INTEGER, code VARCHAR(5))")
        op = Operations(op.impl, naming_convention=convention)
        with op.batch_alter_table("t") as batch_op:
            batch_op.create_primary_key(None, ["id"])
            batch_op.create_unique_constraint(None, ["code"])
            batch_op.add_column(sa.Column("p_id", sa.Integer, sa.ForeignKey("p.id")))
            batch_op.create_index(batch_op.f("ix_t_p_id"), ["p_id"])
        inspector = sa.inspect(connection)
        assert inspector.get_pk_constraint("t")["name"] == "pk_t"
        assert [u["name"] for u in inspector.get_unique_constraints("t")] == ["uq_t_code"]
        assert [fk["name"] for fk in inspector.get_foreign_keys("t")] == ["fk_t_p_id_p"]
        assert [ix["name"] for ix in inspector.get_indexes("t")] == ["ix_t_p_id"]


@SQLITE
def test_what_sqlite_reflection_misses_is_kept(backend: Backend):
    """Column-level UNIQUE, ON DELETE and DEFERRABLE, COLLATE; a generated column's SQL."""
    with operations(backend) as (op, connection):
        create(
            connection,
            "CREATE TABLE p (id INTEGER PRIMARY KEY)",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, code TEXT COLLATE NOCASE UNIQUE,"
            " p_id INT REFERENCES p (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,"
            " twice INT GENERATED ALWAYS AS (p_id * 2) STORED, legacy INT,"
            " CONSTRAINT ck_p CHECK (p_id > 0))",
        )
        with op.batch_alter_table("t") as batch_op:
            batch_op.drop_column("legacy")
        sql = rows(connection, "SELECT sql FROM sqlite_master WHERE name = 't'")[0][0]
        assert 'code TEXT COLLATE "NOCASE"' in sql
        assert "UNIQUE (code)" in sql
        connection.exec_driver_sql("INSERT INTO t (id, code) VALUES (1, 'a')")
        with pytest.raises(sa.exc.IntegrityError):  # unique, case-insensitively
            connection.exec_driver_sql("INSERT INTO t (id, code) VALUES (2, 'A')")
        assert "ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED" in sql
        assert "GENERATED ALWAYS AS (p_id * 2) STORED" in sql
        assert "CONSTRAINT ck_p CHECK (p_id > 0)" in sql


@SQLITE
def test_self_reference_and_autoincrement_survive(backend: Backend):
    with operations(backend) as (op, connection):
        create(
            connection,
            "CREATE TABLE node (id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " parent_id INTEGER REFERENCES node (id) ON DELETE CASCADE, x INT)",
            "INSERT INTO node VALUES (1, NULL, 1), (2, 1, 2), (3, 2, 3), (9, 2, 9)",
            "DELETE FROM node WHERE id = 9",
        )
        with op.batch_alter_table("node") as batch_op:
            batch_op.drop_column("x")
        connection.exec_driver_sql("INSERT INTO node (parent_id) VALUES (3)")
        assert rows(connection, "SELECT * FROM node ORDER BY id") == [
            (1, None), (2, 1), (3, 2), (10, 3)
        ]  # fmt: skip
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.exec_driver_sql("DELETE FROM node WHERE id = 2")
        assert rows(connection, "SELECT id FROM node") == [(1,)]


@SQLITE
def test_an_error_inside_the_block_applies_nothing(backend: Backend):
    with operations(backend) as (op, connection):
        create(connection, PARENT_AND_CHILD[0])
        with pytest.raises(ZeroDivisionError), op.batch_alter_table("p") as batch_op:
            batch_op.drop_column("name")
            1 / 0  # noqa: B018
        assert [c["name"] for c in sa.inspect(connection).get_columns("p")] == ["id", "name"]


@SQLITE
def test_if_exists_and_if_not_exists_on_a_recreate(backend: Backend):
    with operations(backend) as (op, connection):
        create(connection, PARENT_AND_CHILD[0], "CREATE INDEX ix_p_name ON p (name)")
        with op.batch_alter_table("p") as batch_op:
            batch_op.add_column(sa.Column("name", sa.String(10)), if_not_exists=True)
            batch_op.add_column(sa.Column("code", sa.String(10)), if_not_exists=True)
            batch_op.drop_column("nope", if_exists=True)
            batch_op.create_index("ix_p_name", ["name"], if_not_exists=True)
            batch_op.drop_index("ix_nope", if_exists=True)
        inspector = sa.inspect(connection)
        assert [c["name"] for c in inspector.get_columns("p")] == ["id", "name", "code"]
        assert [ix["name"] for ix in inspector.get_indexes("p")] == ["ix_p_name"]


@SQLITE
def test_dropping_what_a_generated_column_uses_is_refused(backend: Backend):
    with operations(backend) as (op, connection):
        create(connection, "CREATE TABLE t (a INT, b INT GENERATED ALWAYS AS (a + 1))")
        refused = pytest.raises(AmigrateError, match="generated column 'b' is computed from it")
        with refused, op.batch_alter_table("t") as batch_op:
            batch_op.drop_column("a")


# -- offline ----------------------------------------------------------------------------------


def offline(run: Callable[[Any], object]) -> str:
    output = io.StringIO()
    dialect = offline_dialect("sqlite")
    run(Operations(impl_for("sqlite")(dialect, ScriptSink(dialect, output))))
    return output.getvalue()


def alembic_offline(run: Callable[[Any], object]) -> str:
    output = io.StringIO()
    context = MigrationContext.configure(
        dialect_name="sqlite",
        opts={"as_sql": True, "output_buffer": output, "literal_binds": True},
        dialect_opts={"paramstyle": "named"},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run(AlembicOperations(context))
    return output.getvalue()


def statements(script: str) -> list[str]:
    script = script.replace("_alembic_tmp_", "_amigrate_tmp_")
    return [" ".join(part.split()) for part in script.split(";\n\n") if part.strip()]


def account() -> sa.Table:
    return sa.Table(
        "account",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("age", sa.Integer),
        sa.Column("legacy", sa.String(10)),
        sa.Index("ix_account_name", "name"),
    )


BATCHES: dict[str, Callable[[Any], None]] = {
    "drop-and-add": lambda batch_op: (
        batch_op.drop_column("legacy"),
        batch_op.add_column(sa.Column("email", sa.String(100))),
    ),
    "retype": lambda batch_op: batch_op.alter_column("age", type_=sa.String(3)),
    "insert-before": lambda batch_op: batch_op.add_column(
        sa.Column("email", sa.String(100)), insert_before="name"
    ),
    "unique": lambda batch_op: batch_op.create_unique_constraint("uq_account_name", ["name"]),
    "foreign-key": lambda batch_op: batch_op.create_foreign_key(
        "fk_account_age", "other", ["age"], ["id"], ondelete="CASCADE"
    ),
    "check": lambda batch_op: batch_op.create_check_constraint("ck_age", "age > 0"),
    "rename": lambda batch_op: batch_op.alter_column("name", new_column_name="full_name"),
    "not-null": lambda batch_op: batch_op.alter_column("age", nullable=False),
    "server-default": lambda batch_op: batch_op.alter_column("age", server_default="5"),
    "indexes": lambda batch_op: (
        batch_op.drop_index("ix_account_name"),
        batch_op.create_index("ix_account_age", ["age"]),
    ),
}


@pytest.mark.parametrize("case", sorted(BATCHES))
def test_offline_copy_from_matches_alembic(case: str):
    def ours(op: Operations) -> None:
        with op.batch_alter_table("account", copy_from=account(), recreate="always") as batch_op:
            BATCHES[case](batch_op)

    def theirs(op: AlembicOperations) -> None:
        with op.batch_alter_table("account", copy_from=account(), recreate="always") as batch_op:
            BATCHES[case](batch_op)

    assert statements(offline(ours)) == statements(alembic_offline(theirs))


def test_offline_statements_and_the_need_for_copy_from():
    def run(op: Operations) -> None:
        with op.batch_alter_table("account", copy_from=account()) as batch_op:
            batch_op.alter_column("name", new_column_name="full_name")

    assert statements(offline(run)) == [
        "CREATE TABLE _amigrate_tmp_account ( id INTEGER NOT NULL, full_name VARCHAR(50) NOT NULL,"
        " age INTEGER, legacy VARCHAR(10), PRIMARY KEY (id) )",
        "INSERT INTO _amigrate_tmp_account (id, full_name, age, legacy)"
        " SELECT account.id, account.name, account.age, account.legacy FROM account",
        "DROP TABLE account",
        "ALTER TABLE _amigrate_tmp_account RENAME TO account",
        "CREATE INDEX ix_account_name ON account (full_name)",
    ]

    def without_copy_from(op: Operations) -> None:
        with op.batch_alter_table("account") as batch_op:
            batch_op.drop_column("legacy")

    with pytest.raises(AmigrateError, match=re.escape("offline (--sql) mode needs copy_from")):
        offline(without_copy_from)

    def plain(op: Operations) -> None:
        with op.batch_alter_table("account") as batch_op:
            batch_op.add_column(sa.Column("email", sa.String(100)))

    assert statements(offline(plain)) == ["ALTER TABLE account ADD COLUMN email VARCHAR(100)"]


OFFLINE_REVISION = """
account = sa.Table(
    "account",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50)),
)
with op.batch_alter_table("account", copy_from={copy_from}) as batch_op:
    batch_op.alter_column("name", nullable=False)
"""


@SQLITE
async def test_sql_mode_runs_batches_from_copy_from(env: MigrationEnv, backend: Backend):
    env.add_revision("a1", upgrade=OFFLINE_REVISION.format(copy_from="account"))
    buffer = io.StringIO()
    await command.upgrade(env.config, "head", sql=True, output_buffer=buffer)
    script = buffer.getvalue()
    assert "name VARCHAR(50) NOT NULL" in script
    assert "ALTER TABLE _amigrate_tmp_account RENAME TO account;" in script
    assert script.index("BEGIN;") < script.index("DROP TABLE account;") < script.index("COMMIT;")
    assert await env.tables() == set()  # offline: nothing ran

    env.add_revision("b2", "a1", upgrade=OFFLINE_REVISION.format(copy_from="None"))
    with pytest.raises(MigrationFailedError, match="needs copy_from"):
        await command.upgrade(env.config, "a1:head", sql=True, output_buffer=io.StringIO())
