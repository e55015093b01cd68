"""The core operations on real databases: apply, reflect, reverse, reflect again.

Each scenario sets up a table or two, applies one operation through ``Operations`` on a
live connection, checks the reflected schema, then applies ``op.reverse()`` and checks
the schema is exactly what it was before. Operations whose SQLite reverse the database
refuses (dropping a column that has an index or a foreign key) are checked forward only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from _envfactory import Backend, sync_connection
from _pgserver import PostgresServer
from conftest import fresh_postgres_database
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from amigrate.ddl import impl_for
from amigrate.ddl.sink import ConnectionSink
from amigrate.ddl.sqlite import use_explicit_begin
from amigrate.operations import Operations
from amigrate.operations.ops import (
    AddColumnOp,
    CreateIndexOp,
    CreateTableOp,
    MigrateOperation,
    RenameTableOp,
)


def operations_on(connection: sa.Connection) -> Operations:
    impl = impl_for(connection.dialect.name)(connection.dialect, ConnectionSink(connection))
    return Operations(impl)


@contextlib.contextmanager
def connected(backend: Backend) -> Iterator[tuple[Operations, sa.Connection]]:
    with sync_connection(backend.sync_url, begin=True) as connection:
        yield operations_on(connection), connection


def schema(connection: sa.Connection) -> dict[str, dict[str, Any]]:
    """What reflection sees of every table: columns, keys, indexes, comments."""
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
                (tuple(fk["constrained_columns"]), fk["referred_table"], fk["options"])
                for fk in inspector.get_foreign_keys(name)
            ),
            "indexes": sorted(
                (ix["name"], tuple(ix["column_names"]), bool(ix["unique"]))
                for ix in inspector.get_indexes(name)
            ),
            "uniques": sorted(
                tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)
            ),
            "comment": inspector.get_table_comment(name)["text"] if comments else None,
        }
    return tables


def account() -> CreateTableOp:
    return CreateTableOp(
        "account",
        (
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(50), nullable=False),
        ),
    )


@dataclass
class Scenario:
    id: str
    op: Callable[[], MigrateOperation]
    expect: Callable[[dict[str, dict[str, Any]]], None]
    setup: Callable[[], list[MigrateOperation]] = field(default=lambda: [account()])
    reversible: bool = True


def columns(tables: dict[str, dict[str, Any]], table: str) -> list[str]:
    return [c[0] for c in tables[table]["columns"]]


def expect_invoice(tables: dict[str, dict[str, Any]]) -> None:
    invoice = tables["invoice"]
    assert [c[0] for c in invoice["columns"]] == ["id", "account_id", "total", "state", "note"]
    assert invoice["pk"] == ["id"]
    assert [fk[:2] for fk in invoice["fks"]] == [(("account_id",), "account")]
    assert ("ix_invoice_account_id", ("account_id",), False) in invoice["indexes"]
    assert ("ix_invoice_state_total", ("state", "total"), True) in invoice["indexes"]
    assert ("note",) in invoice["uniques"]
    assert invoice["columns"][3][3] is not None  # the server default


def invoice() -> CreateTableOp:
    return CreateTableOp(
        "invoice",
        (
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("account_id", sa.Integer, sa.ForeignKey("account.id"), index=True),
            sa.Column("total", sa.Numeric(10, 2), sa.CheckConstraint("total >= 0")),
            sa.Column("state", sa.String(10), server_default="open", nullable=False),
            sa.Column("note", sa.String(20), unique=True, comment="free text"),
            sa.Index("ix_invoice_state_total", "state", "total", unique=True),
        ),
        kw={"comment": "bills"},
    )


SCENARIOS = [
    Scenario("create_table", invoice, expect_invoice),
    Scenario(
        "drop_table (reverse of create_table)",
        lambda: invoice().reverse(),
        lambda tables: assert_absent(tables, "invoice"),
        setup=lambda: [account(), invoice()],
    ),
    Scenario(
        "add_column",
        lambda: AddColumnOp("account", sa.Column("age", sa.Integer)),
        lambda tables: assert_columns(tables, "account", ["id", "name", "age"]),
    ),
    Scenario(
        "add_column not null with server default",
        lambda: AddColumnOp(
            "account", sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true())
        ),
        lambda tables: assert_column(tables, "account", "active", nullable=False),
    ),
    Scenario(
        "add_column with comment",
        lambda: AddColumnOp("account", sa.Column("code", sa.String(5), comment="short")),
        lambda tables: assert_columns(tables, "account", ["id", "name", "code"]),
    ),
    Scenario(
        "add_column with index",
        lambda: AddColumnOp("account", sa.Column("email", sa.String(50), index=True, unique=True)),
        lambda tables: assert_index(tables, "account", ("ix_account_email", ("email",), True)),
        reversible=False,  # SQLite will not drop an indexed column; the index needs its own op
    ),
    Scenario(
        "add_column with foreign key",
        lambda: AddColumnOp(
            "account", sa.Column("parent_id", sa.Integer, sa.ForeignKey("account.id"))
        ),
        lambda tables: assert_fk(tables, "account", ("parent_id",), "account"),
        reversible=False,  # SQLite will not drop a column that is part of a foreign key
    ),
    Scenario(
        "drop_column (reverse of add_column)",
        lambda: AddColumnOp("account", sa.Column("name", sa.String(50), nullable=False)).reverse(),
        lambda tables: assert_columns(tables, "account", ["id"]),
    ),
    Scenario(
        "create_index",
        lambda: CreateIndexOp("ix_account_name", "account", ("name",)),
        lambda tables: assert_index(tables, "account", ("ix_account_name", ("name",), False)),
    ),
    Scenario(
        "create_index unique, two columns",
        lambda: CreateIndexOp("ix_both", "account", ("name", "id"), unique=True),
        lambda tables: assert_index(tables, "account", ("ix_both", ("name", "id"), True)),
    ),
    Scenario(
        "create_index partial",
        lambda: CreateIndexOp(
            "ix_named",
            "account",
            ("name",),
            kw={
                "postgresql_where": sa.text("name <> ''"),
                "sqlite_where": sa.text("name <> ''"),
            },
        ),
        lambda tables: assert_index(tables, "account", ("ix_named", ("name",), False)),
    ),
    Scenario(
        "drop_index (reverse of create_index)",
        lambda: CreateIndexOp("ix_account_name", "account", ("name",)).reverse(),
        lambda tables: assert_no_index(tables, "account", "ix_account_name"),
        setup=lambda: [account(), CreateIndexOp("ix_account_name", "account", ("name",))],
    ),
    Scenario(
        "rename_table",
        lambda: RenameTableOp("account", "customer"),
        lambda tables: assert_columns(tables, "customer", ["id", "name"]),
    ),
]


def assert_absent(tables: dict[str, dict[str, Any]], table: str) -> None:
    assert table not in tables


def assert_columns(tables: dict[str, dict[str, Any]], table: str, names: list[str]) -> None:
    assert columns(tables, table) == names


def assert_column(
    tables: dict[str, dict[str, Any]], table: str, name: str, *, nullable: bool
) -> None:
    (found,) = [c for c in tables[table]["columns"] if c[0] == name]
    assert found[2] is nullable
    assert found[3] is not None


def assert_index(tables: dict[str, dict[str, Any]], table: str, index: tuple[Any, ...]) -> None:
    assert index in tables[table]["indexes"]


def assert_no_index(tables: dict[str, dict[str, Any]], table: str, name: str) -> None:
    assert name not in [ix[0] for ix in tables[table]["indexes"]]


def assert_fk(
    tables: dict[str, dict[str, Any]], table: str, local: tuple[str, ...], target: str
) -> None:
    assert [fk[:2] for fk in tables[table]["fks"]] == [(local, target)]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_operation_and_its_reverse(backend: Backend, scenario: Scenario) -> None:
    with connected(backend) as (op, connection):
        for step in scenario.setup():
            op.invoke(step)
        before = schema(connection)
        operation = scenario.op()

        op.invoke(operation)
        scenario.expect(schema(connection))

        if scenario.reversible:
            op.invoke(operation.reverse())
            assert schema(connection) == before


def test_reverse_of_reverse_applies_again(backend: Backend) -> None:
    create = invoice()
    with connected(backend) as (op, connection):
        op.invoke(account())
        op.invoke(create)
        applied = schema(connection)

        op.invoke(create.reverse())
        op.invoke(create.reverse().reverse())  # the same columns, attached to a new table

        assert schema(connection) == applied


def test_comments_are_stored(postgres_server: PostgresServer) -> None:
    with fresh_postgres_database(postgres_server) as backend, connected(backend) as (op, conn):
        op.invoke(account())
        op.invoke(invoice())
        op.add_column("account", sa.Column("code", sa.String(5), comment="short"))
        tables = schema(conn)

    assert tables["invoice"]["comment"] == "bills"
    assert ("note", "VARCHAR(20)", True, None, "free text") in tables["invoice"]["columns"]
    assert tables["account"]["columns"][2] == ("code", "VARCHAR(5)", True, None, "short")


def test_create_table_returns_the_table_for_bulk_insert(backend: Backend) -> None:
    with connected(backend) as (op, connection):
        table = op.create_table(
            "item", sa.Column("id", sa.Integer), sa.Column("name", sa.String(9))
        )
        op.bulk_insert(table, [{"id": 1, "name": "one"}, {"id": 2, "name": "two"}])
        op.bulk_insert(table, [{"id": 3, "name": "it's"}], multiinsert=False)
        op.bulk_insert(
            table,
            [{"id": 4, "name": op.inline_literal("lit")}, {"id": 5, "name": sa.func.upper("up")}],
        )

        rows = connection.execute(sa.select(table).order_by(table.c.id)).all()

    assert rows == [(1, "one"), (2, "two"), (3, "it's"), (4, "lit"), (5, "UP")]


def test_execute_runs_strings_text_and_constructs(backend: Backend) -> None:
    with connected(backend) as (op, connection):
        item = op.create_table("item", sa.Column("id", sa.Integer), sa.Column("name", sa.String(9)))
        op.execute("INSERT INTO item (id, name) VALUES (1, '100%')")
        op.execute(
            sa.text("INSERT INTO item (id, name) VALUES (:id, :name)").bindparams(id=2, name="b")
        )
        op.execute(item.update().where(item.c.id == 2).values(name=op.inline_literal("c")))

        rows = connection.execute(sa.select(item).order_by(item.c.id)).all()

    assert rows == [(1, "100%"), (2, "c")]


def test_get_bind_is_the_connection(backend: Backend) -> None:
    with connected(backend) as (op, connection):
        assert op.get_bind() is connection


def test_enum_type_is_created_with_its_table(backend: Backend) -> None:
    with connected(backend) as (op, connection):
        mood = sa.Enum("happy", "sad", name="mood")
        table = op.create_table("a", sa.Column("m", mood))
        op.create_table("b", sa.Column("m", sa.Enum("happy", "sad", name="mood")))
        op.bulk_insert(table, [{"m": "sad"}])

        assert connection.execute(sa.select(table.c.m)).scalar_one() == "sad"


def test_failed_statement_in_a_transaction_undoes_earlier_ddl(backend: Backend) -> None:
    engine = sa.create_engine(backend.sync_url, poolclass=NullPool)
    impl_for(backend.name).enable_transactional_ddl(engine)
    try:
        with pytest.raises(sa.exc.DBAPIError), engine.begin() as connection:
            op = operations_on(connection)
            op.create_table("t", sa.Column("id", sa.Integer))
            op.create_index("ix_t_id", "t", ["id"])
            op.execute("SELECT nope FROM nowhere")
        assert sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


# -- SQLite: DDL in transactions only with explicit BEGIN -------------------------------------


def sqlite_url(tmp_path: Any, driver: str = "") -> str:
    return f"sqlite{driver}:///{tmp_path / 'db.sqlite'}"


def create_then_fail(connection: sa.Connection) -> None:
    op = operations_on(connection)
    op.create_table("t", sa.Column("id", sa.Integer))
    op.execute("SELECT nope FROM nowhere")


def test_sqlite_driver_alone_commits_ddl_behind_our_back(tmp_path: Any) -> None:
    engine = sa.create_engine(sqlite_url(tmp_path), poolclass=NullPool)

    with pytest.raises(sa.exc.OperationalError), engine.begin() as connection:
        create_then_fail(connection)

    assert sa.inspect(engine).get_table_names() == ["t"]  # why use_explicit_begin exists
    engine.dispose()


def test_sqlite_explicit_begin_on_an_engine_rolls_ddl_back(tmp_path: Any) -> None:
    engine = sa.create_engine(sqlite_url(tmp_path), poolclass=NullPool)
    use_explicit_begin(engine)

    with pytest.raises(sa.exc.OperationalError), engine.begin() as connection:
        create_then_fail(connection)

    assert sa.inspect(engine).get_table_names() == []
    engine.dispose()


def test_sqlite_explicit_begin_on_an_open_connection(tmp_path: Any) -> None:
    engine = sa.create_engine(sqlite_url(tmp_path), poolclass=NullPool)
    with engine.connect() as connection:
        use_explicit_begin(connection, "BEGIN IMMEDIATE")
        with pytest.raises(sa.exc.OperationalError), connection.begin():
            create_then_fail(connection)

    assert sa.inspect(engine).get_table_names() == []
    engine.dispose()


def test_sqlite_explicit_begin_refuses_a_connection_in_a_transaction(tmp_path: Any) -> None:
    engine = sa.create_engine(sqlite_url(tmp_path), poolclass=NullPool)
    with engine.begin() as connection, pytest.raises(ValueError, match="already in a transaction"):
        use_explicit_begin(connection)
    engine.dispose()


async def test_sqlite_explicit_begin_with_aiosqlite(tmp_path: Any) -> None:
    engine = create_async_engine(sqlite_url(tmp_path, "+aiosqlite"), poolclass=NullPool)
    use_explicit_begin(engine.sync_engine)
    try:
        with pytest.raises(sa.exc.OperationalError):
            async with engine.begin() as connection:
                await connection.run_sync(create_then_fail)
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names())
    finally:
        await engine.dispose()

    assert names == []


def test_connection_sink_passes_plain_strings_to_the_driver_as_they_are(backend: Backend) -> None:
    with connected(backend) as (op, _):
        result = op.impl.sink.execute("SELECT '100%'")

        assert result is not None and result.scalar_one() == "100%"


async def test_operations_run_on_async_drivers_through_run_sync(backend: Backend) -> None:
    def migrate(connection: sa.Connection) -> list[Any]:
        op = operations_on(connection)
        table = op.create_table("item", sa.Column("id", sa.Integer), sa.Column("note", sa.Text))
        op.add_column("item", sa.Column("qty", sa.Integer, index=True))
        op.bulk_insert(table, [{"id": 1, "note": "a"}, {"id": 2, "note": "b"}])
        op.execute("UPDATE item SET note = '100%' WHERE id = 2")
        op.impl.sink.execute("UPDATE item SET qty = 7")
        return list(connection.execute(sa.text("SELECT id, note, qty FROM item ORDER BY id")))

    engine = create_async_engine(backend.async_url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            rows = await connection.run_sync(migrate)
    finally:
        await engine.dispose()

    assert [tuple(row) for row in rows] == [(1, "a", 7), (2, "100%", 7)]
    assert await backend.tables() == {"item"}
