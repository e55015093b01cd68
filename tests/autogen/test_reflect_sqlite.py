"""SQLite reflection over a plain ``sqlite3`` connection of its own: the same answer, faster.

``reflect`` reads a file database through ``dialects.sqlite.reading_connection``; wherever
that connection could see something else than the given one, it reflects over the given
connection as before.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from _envfactory import sync_connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from amigrate.autogenerate.api import AutogenContext
from amigrate.autogenerate.dialects.sqlite import reading_connection
from amigrate.autogenerate.reflect import SchemaReflection, _reflect, reflect


def models() -> sa.MetaData:
    metadata = sa.MetaData()
    parent = sa.Table(
        "parent",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(40), nullable=False, server_default="x"),
        sa.Column("price", sa.Numeric(10, 2)),
        sa.UniqueConstraint("name", name="uq_parent_name"),
        sa.CheckConstraint("price > 0", name="ck_parent_price"),
    )
    sa.Index("ix_parent_lower_name", sa.func.lower(parent.c.name))
    sa.Index("ix_parent_price", parent.c.price, sqlite_where=parent.c.price > 1)
    sa.Table(
        "child",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("parent_id", sa.ForeignKey("parent.id", ondelete="CASCADE"), index=True),
        sa.Column("note", sa.Text),
        sa.Column("shout", sa.Text, sa.Computed("upper(note)")),
        sa.ForeignKeyConstraint(["id"], ["parent.id"], name="fk_child_is_parent"),
    )
    return metadata


LEGACY = """CREATE TABLE legacy (
    x INTEGER CONSTRAINT pk_legacy PRIMARY KEY,
    label VARCHAR(20) UNIQUE,
    parent INTEGER REFERENCES parent,
    size NUMERIC(8, 2) DEFAULT 1.5 CHECK (size > 0)
)"""


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "app.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=NullPool)
    with engine.begin() as connection:
        models().create_all(connection)
        connection.exec_driver_sql(LEGACY)
        connection.exec_driver_sql("CREATE TABLE bare (x)")
        connection.exec_driver_sql("CREATE VIEW parents AS SELECT name FROM parent")
    engine.dispose()
    return path


def context(connection: sa.Connection) -> AutogenContext:
    return AutogenContext(dialect=connection.dialect, metadata=[models()], connection=connection)


def comparable(reflection: SchemaReflection) -> Any:
    """The reflection with its SQLAlchemy objects (types, WHERE clauses) as text."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, sa.types.TypeEngine):
            return repr(value)
        if isinstance(value, sa.sql.ClauseElement):
            return str(value)
        return value

    return plain({key: vars(table) for key, table in reflection.tables.items()}), (
        reflection.table_names
    )


@contextlib.contextmanager
def statements(target: Any) -> Iterator[list[str]]:
    """The SQL ``target`` (a connection, or every Engine) executes meanwhile."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    sa.event.listen(target, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(target, "before_cursor_execute", record)


def test_a_file_database_reads_the_same_over_its_own_connection(database: Path) -> None:
    with sync_connection(f"sqlite:///{database}") as connection:
        ctx = context(connection)
        direct = _reflect(ctx, connection)
        with reading_connection(connection) as reader:
            assert reader is not None
        with statements(connection) as given, statements(sa.engine.Engine) as everywhere:
            assert comparable(reflect(ctx)) == comparable(direct)
    assert set(direct.tables) == {(None, t) for t in ("parent", "child", "legacy", "bare")}
    assert "ix_parent_lower_name" in direct.tables[(None, "parent")].index_sql
    assert len(given) < 5  # the reading went elsewhere,
    assert len(everywhere) < 20  # in a few statements for all tables, not ten a table:
    per_table = [s for s in everywhere if s.startswith(("PRAGMA main.", "PRAGMA temp."))]
    assert per_table == []  # not even for a table without indexes ("bare")


async def test_an_async_connection_reads_the_same(database: Path) -> None:
    with sync_connection(f"sqlite:///{database}") as connection:
        direct = comparable(_reflect(context(connection), connection))
    engine = create_async_engine(f"sqlite+aiosqlite:///{database}", poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            found = await connection.run_sync(lambda sync: reflect(context(sync)))
    finally:
        await engine.dispose()
    assert comparable(found) == direct


def test_memory_and_attached_databases_are_read_over_the_given_connection(
    database: Path,
) -> None:
    with sync_connection("sqlite://") as connection:
        models().create_all(connection)
        with reading_connection(connection) as reader:
            assert reader is None
        assert set(reflect(context(connection)).tables) == {(None, "parent"), (None, "child")}
    with sync_connection(f"sqlite:///{database}") as connection:
        connection.exec_driver_sql("ATTACH DATABASE ':memory:' AS other")
        with reading_connection(connection) as reader:
            assert reader is None


def test_a_schema_changed_in_an_open_transaction_is_read_over_the_given_connection(
    database: Path,
) -> None:
    with sync_connection(f"sqlite:///{database}") as connection:
        connection.connection.dbapi_connection.isolation_level = None  # type: ignore[union-attr]
        connection.exec_driver_sql("BEGIN")
        connection.exec_driver_sql("CREATE TABLE fresh (x INTEGER)")
        with reading_connection(connection) as reader:
            assert reader is None
        assert (None, "fresh") in reflect(context(connection)).tables
        connection.exec_driver_sql("ROLLBACK")


def test_what_the_plain_connection_cannot_read_is_read_over_the_given_one(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from amigrate.autogenerate import reflect as module

    def no_module(ctx: AutogenContext, connection: sa.Connection) -> SchemaReflection:
        if connection is not ctx.connection:  # an extension's virtual table, say
            raise sa.exc.OperationalError("PRAGMA", {}, Exception("no such module: vec0"))
        return _reflect(ctx, connection)

    monkeypatch.setattr(module, "_reflect", no_module)
    with sync_connection(f"sqlite:///{database}") as connection:
        assert set(reflect(context(connection)).tables) == {
            (None, t) for t in ("parent", "child", "legacy", "bare")
        }


def test_the_reading_connection_answers_like_the_dialect_for_any_name(database: Path) -> None:
    with sync_connection(f"sqlite:///{database}") as connection:
        given = sa.inspect(connection)
        with reading_connection(connection) as reader:
            assert reader is not None
            read = sa.inspect(reader)
            for name in ("parent", "bare", "parents", "nope"):
                assert read.has_table(name) == given.has_table(name)
            assert read.get_unique_constraints("legacy") == given.get_unique_constraints("legacy")
            assert read.get_unique_constraints("bare") == []
            with pytest.raises(sa.exc.NoSuchTableError):
                read.get_unique_constraints("nope")
