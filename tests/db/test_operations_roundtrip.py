"""The rest of the vocabulary on real databases: apply, reflect, reverse, reflect again.

Each scenario builds a starting schema, applies one operation through ``Operations`` on a
live connection, checks what reflection sees, applies ``op.reverse()`` and checks the
schema is back where it started. What SQLite cannot do outside batch mode (alter a
column other than renaming it, add or drop a constraint, store a comment) is refused there
with ``UnsupportedOperationError`` before any statement runs; those scenarios assert that.

Also here: ``op.run_async``, and bad input in a real migration (the database's error,
wrapped with the script line; a refused operation failing before its first statement).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from _envfactory import Backend, MigrationEnv
from _pgserver import PostgresServer
from conftest import fresh_postgres_database, fresh_sqlite_database
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool
from test_core_operations import connected, operations_on

import amigrate.command
from amigrate.ddl import impl_for
from amigrate.ddl.sink import ScriptSink, offline_dialect
from amigrate.errors import AmigrateError, MigrationFailedError, UnsupportedOperationError
from amigrate.operations import Operations
from amigrate.operations.ops import (
    AlterColumnOp,
    CreateCheckConstraintOp,
    CreateExcludeConstraintOp,
    CreateForeignKeyOp,
    CreateIndexOp,
    CreatePrimaryKeyOp,
    CreateTableCommentOp,
    CreateTableOp,
    CreateUniqueConstraintOp,
    DropTableCommentOp,
    MigrateOperation,
)

Tables = dict[str, dict[str, Any]]


def schema(connection: sa.Connection) -> Tables:
    """Columns (name, type, nullable, default, comment), keys, constraints, indexes, comment."""
    inspector = sa.inspect(connection)
    comments = inspector.dialect.supports_comments
    tables = {}
    for name in sorted(inspector.get_table_names()):
        tables[name] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], c["default"], c.get("comment"))
                for c in inspector.get_columns(name)
            ],
            "pk": inspector.get_pk_constraint(name)["constrained_columns"],
            "fks": sorted(
                (fk["name"], tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in inspector.get_foreign_keys(name)
            ),
            "uniques": sorted(
                (u["name"], tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(name)
            ),
            "checks": sorted(c["name"] or "" for c in inspector.get_check_constraints(name)),
            "indexes": sorted(
                (ix["name"], tuple(str(c) for c in ix["column_names"]), bool(ix["unique"]))
                for ix in inspector.get_indexes(name)
            ),
            "comment": inspector.get_table_comment(name)["text"] if comments else None,
        }
    return tables


def column(tables: Tables, table: str, name: str) -> tuple[Any, ...]:
    (found,) = [c for c in tables[table]["columns"] if c[0] == name]
    return tuple(found)


def item() -> CreateTableOp:
    return CreateTableOp(
        "item",
        (
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(50), nullable=False),
            sa.Column("qty", sa.Integer),
            sa.Column("code", sa.String(10), server_default="x"),
        ),
        kw={"comment": "things"},
    )


def owner() -> CreateTableOp:
    return CreateTableOp("owner", (sa.Column("id", sa.Integer, primary_key=True),))


@dataclass
class Scenario:
    id: str
    op: Callable[[], MigrateOperation]
    expect: Callable[[Tables], None]
    setup: Callable[[], list[MigrateOperation]] = field(default=lambda: [owner(), item()])
    sqlite_refuses: str | None = None
    """The UnsupportedOperationError message SQLite gives instead (outside batch mode)."""


def expect_column(table: str, name: str, **attrs: Any) -> Callable[[Tables], None]:
    positions = {"type": 1, "nullable": 2, "default": 3, "comment": 4}

    def check(tables: Tables) -> None:
        found = column(tables, table, name)
        for attr, value in attrs.items():
            actual = found[positions[attr]]
            if attr == "default":
                assert (actual is not None) is value, found
            else:
                assert actual == value, found

    return check


def alter(column: str = "name", **kw: Any) -> Callable[[], AlterColumnOp]:
    return lambda: AlterColumnOp("item", column, **kw)


SCENARIOS = [
    Scenario(
        "alter_column nullable",
        alter(modify_nullable=True, existing_nullable=False, existing_type=sa.String(50)),
        expect_column("item", "name", nullable=True),
        sqlite_refuses="in place (nullable)",
    ),
    Scenario(
        "alter_column type",
        alter(modify_type=sa.String(100), existing_type=sa.String(50), existing_nullable=False),
        expect_column("item", "name", type="VARCHAR(100)", nullable=False),
        sqlite_refuses="in place (type_)",
    ),
    Scenario(
        "alter_column server_default set",
        alter(
            column="qty",
            modify_server_default="7",
            existing_server_default=None,
            existing_type=sa.Integer(),
        ),
        expect_column("item", "qty", default=True),
        sqlite_refuses="in place (server_default)",
    ),
    Scenario(
        "alter_column server_default dropped",
        alter(
            column="code",
            modify_server_default=None,
            existing_server_default="x",
            existing_type=sa.String(10),
        ),
        expect_column("item", "code", default=False),
        sqlite_refuses="in place (server_default)",
    ),
    Scenario(
        "alter_column new_column_name",
        alter(column="qty", modify_name="quantity", existing_type=sa.Integer()),
        lambda tables: column(tables, "item", "quantity"),
    ),
    Scenario(
        "create_unique_constraint",
        lambda: CreateUniqueConstraintOp("uq_item_name", "item", ("name",)),
        lambda tables: assert_in(("uq_item_name", ("name",)), tables["item"]["uniques"]),
        sqlite_refuses="add a UNIQUE constraint",
    ),
    Scenario(
        "create_check_constraint",
        lambda: CreateCheckConstraintOp("ck_item_qty", "item", "qty >= 0"),
        lambda tables: assert_in("ck_item_qty", tables["item"]["checks"]),
        sqlite_refuses="add a CHECK constraint",
    ),
    Scenario(
        "create_foreign_key",
        lambda: CreateForeignKeyOp(
            "fk_item_owner", "item", "owner", ("qty",), ("id",), kw={"ondelete": "CASCADE"}
        ),
        lambda tables: assert_in(("fk_item_owner", ("qty",), "owner"), tables["item"]["fks"]),
        sqlite_refuses="add a FOREIGN KEY constraint",
    ),
    Scenario(
        "create_primary_key",
        lambda: CreatePrimaryKeyOp("pk_tag", "tag", ("name",)),
        lambda tables: assert_in("name", tables["tag"]["pk"]),
        setup=lambda: [CreateTableOp("tag", (sa.Column("name", sa.String(9), nullable=False),))],
        sqlite_refuses="add a PRIMARY KEY constraint",
    ),
    Scenario(
        "create_table_comment",
        lambda: CreateTableCommentOp("item", "all the things", existing_comment="things"),
        lambda tables: assert_in("all the things", [tables["item"]["comment"]]),
        sqlite_refuses="store a comment on a table",
    ),
    Scenario(
        "drop_table_comment",
        lambda: DropTableCommentOp("item", existing_comment="things"),
        lambda tables: assert_in(None, [tables["item"]["comment"]]),
        sqlite_refuses="store a comment on a table",
    ),
    Scenario(
        "create_index on an expression",
        lambda: CreateIndexOp("ix_item_desc", "item", (sa.column("name").desc(), "qty")),
        lambda tables: assert_in("ix_item_desc", [ix[0] for ix in tables["item"]["indexes"]]),
    ),
    Scenario(
        "create_index unique if_not_exists",
        lambda: CreateIndexOp("ix_item_code", "item", ("code",), unique=True, if_not_exists=True),
        lambda tables: assert_in(("ix_item_code", ("code",), True), tables["item"]["indexes"]),
    ),
]


def assert_in(value: Any, found: Any) -> None:
    assert value in found


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_operation_and_its_reverse(backend: Backend, scenario: Scenario) -> None:
    with connected(backend) as (op, connection):
        for step in scenario.setup():
            op.invoke(step)
        before = schema(connection)
        operation = scenario.op()

        if backend.name == "sqlite" and scenario.sqlite_refuses:
            with pytest.raises(UnsupportedOperationError, match=re.escape(scenario.sqlite_refuses)):
                op.invoke(operation)
            assert schema(connection) == before
            return

        op.invoke(operation)
        scenario.expect(schema(connection))

        op.invoke(operation.reverse())
        assert schema(connection) == before


def test_alter_column_comment_and_its_reverse(postgres_backend: Backend) -> None:
    with connected(postgres_backend) as (op, connection):
        op.invoke(item())
        before = schema(connection)
        change = AlterColumnOp(
            "item", "name", existing_type=sa.String(50), modify_comment="what it's called"
        )

        op.invoke(change)
        assert column(schema(connection), "item", "name")[4] == "what it's called"

        op.invoke(change.reverse())
        assert schema(connection) == before


def test_postgresql_using_converts_the_values(postgres_backend: Backend) -> None:
    with connected(postgres_backend) as (op, connection):
        op.create_table("t", sa.Column("n", sa.String(10)))
        op.execute("INSERT INTO t (n) VALUES ('42')")

        op.alter_column(
            "t", "n", type_=sa.Integer, existing_type=sa.String(10), postgresql_using="n::integer"
        )

        assert connection.execute(sa.text("SELECT n + 1 FROM t")).scalar_one() == 43


def test_exclude_constraint_and_its_reverse(postgres_backend: Backend) -> None:
    with connected(postgres_backend) as (op, connection):
        op.create_table(
            "booking", sa.Column("id", sa.Integer), sa.Column("during", postgresql.TSRANGE)
        )
        before = schema(connection)
        exclude = CreateExcludeConstraintOp(
            "ex_booking", "booking", (("during", "&&"),), kw={"using": "gist"}
        )

        op.invoke(exclude)
        op.execute("INSERT INTO booking VALUES (1, '[2024-01-01, 2024-01-03)')")
        with pytest.raises(sa.exc.IntegrityError), connection.begin_nested():
            op.execute("INSERT INTO booking VALUES (2, '[2024-01-02, 2024-01-04)')")

        op.invoke(exclude.reverse())
        op.execute("INSERT INTO booking VALUES (2, '[2024-01-02, 2024-01-04)')")
        assert schema(connection) == before


def test_naming_convention_names_constraints_on_the_database(backend: Backend) -> None:
    convention = {"uq": "uq_%(table_name)s_%(column_0_name)s", "ix": "ix_%(column_0_label)s"}
    with connected(backend) as (plain, connection):
        op = Operations(plain.impl, naming_convention=convention)
        op.create_table("t", sa.Column("a", sa.Integer), sa.Column("b", sa.Integer))
        op.create_index(None, "t", ["b"])

        tables = schema(connection)

    assert [ix[0] for ix in tables["t"]["indexes"]] == ["ix_t_b"]


# -- run_async --------------------------------------------------------------------------------


async def count_rows(connection: AsyncConnection, table: str) -> int:
    result = await connection.execute(sa.text(f"SELECT count(*) FROM {table}"))
    return int(result.scalar_one())


async def test_run_async_gets_the_runs_own_connection(backend: Backend) -> None:
    def migrate(connection: sa.Connection) -> int:
        op = operations_on(connection)
        op.create_table("t", sa.Column("id", sa.Integer))
        op.execute("INSERT INTO t VALUES (1)")
        return op.run_async(count_rows, "t")  # sees the uncommitted row: same transaction

    engine = create_async_engine(backend.async_url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            assert await connection.run_sync(migrate) == 1
    finally:
        await engine.dispose()


def test_run_async_needs_an_async_driver(backend: Backend) -> None:
    with connected(backend) as (op, _), pytest.raises(AmigrateError, match="async driver"):
        op.run_async(count_rows, "t")


def test_run_async_needs_a_database() -> None:
    dialect = offline_dialect("postgresql")
    op = Operations(impl_for("postgresql")(dialect, ScriptSink(dialect, io.StringIO())))

    with pytest.raises(AmigrateError, match="offline"):
        op.run_async(count_rows, "t")


# -- bad input in a real migration ------------------------------------------------------------


def op_line(path: Any, call: str) -> int:
    lines = path.read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if call in line)


@pytest.mark.parametrize(
    "call",
    [
        "op.alter_column('nope', 'x', new_column_name='y')",
        "op.alter_column('t', 'nope', new_column_name='y')",
        "op.drop_column('nope', 'x')",
        "op.drop_column('t', 'nope')",
    ],
)
async def test_unknown_table_or_column_fails_with_the_script_line(
    env: MigrationEnv, backend: Backend, call: str
) -> None:
    env.add_revision("a1", upgrade="op.create_table('t', sa.Column('id', sa.Integer))")
    script = env.add_revision("b2", "a1", upgrade=call)

    with pytest.raises(MigrationFailedError) as caught:
        await amigrate.command.upgrade(env.config, "head")

    assert str(caught.value).startswith(f"{script}:{op_line(script, call)}: ")
    assert caught.value.__cause__ is not None  # the database's own error
    assert await env.version_rows() == ["a1"]


async def test_refused_operation_fails_before_its_first_statement(
    env: MigrationEnv, sqlite_backend: Backend
) -> None:
    env.backend = sqlite_backend
    env.write_config()
    call = "op.alter_column('t', 'id', new_column_name='key', nullable=False)"
    env.add_revision("a1", upgrade=f"op.create_table('t', sa.Column('id', sa.Integer))\n{call}")

    with pytest.raises(MigrationFailedError, match="sqlite cannot alter column 'id'") as caught:
        await amigrate.command.upgrade(env.config, "head")

    assert isinstance(caught.value.__cause__, UnsupportedOperationError)
    assert await env.tables() == set()  # the rename (the part SQLite can do) never ran


# -- backends one at a time -------------------------------------------------------------------


@pytest.fixture
def postgres_backend(postgres_server: PostgresServer) -> Iterator[Backend]:
    with fresh_postgres_database(postgres_server) as fresh:
        yield fresh


@pytest.fixture
def sqlite_backend(tmp_path: Any) -> Iterator[Backend]:
    with fresh_sqlite_database(tmp_path) as fresh:
        yield fresh


# -- MySQL, offline ---------------------------------------------------------------------------


async def test_mysql_offline_script_from_a_real_project(env: MigrationEnv) -> None:
    env.write_config(sqlalchemy_url="mysql://scott@localhost/shop")
    env.add_revision(
        "a1",
        upgrade="""
            op.create_table('t', sa.Column('id', sa.Integer, primary_key=True),
                            sa.Column('c', sa.String(10)))
            op.alter_column('t', 'c', new_column_name='d', existing_type=sa.String(10),
                            nullable=False)
            op.create_unique_constraint('uq_t_d', 't', ['d'])
            op.drop_constraint('uq_t_d', 't', type_='unique')
        """,
    )
    output = io.StringIO()

    await amigrate.command.upgrade(env.config, "head", sql=True, output_buffer=output)

    script = " ".join(output.getvalue().split())
    assert "ALTER TABLE t CHANGE c d VARCHAR(10) NOT NULL;" in script
    assert "ALTER TABLE t ADD CONSTRAINT uq_t_d UNIQUE (d);" in script
    assert "ALTER TABLE t DROP INDEX uq_t_d;" in script
    assert "BEGIN;" not in script  # MySQL has no transactional DDL
