"""Rendered code runs for real: nasty names, values and comments make the expected schema.

Each test renders ops into a revision file (upgrade from the ops, downgrade from their
reverse, as autogenerate writes them), runs it with ``command.upgrade`` against a fresh
database, looks at what the database holds, then downgrades.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from _envfactory import Backend, MigrationEnv, sync_connection
from _pgserver import PostgresServer
from conftest import fresh_postgres_database

from amigrate import command
from amigrate.autogenerate.api import AutogenContext, AutogenOptions
from amigrate.autogenerate.ops import AddEnumValueOp, CreateEnumTypeOp, TodoOp
from amigrate.autogenerate.render import render_imports, render_python_code
from amigrate.operations import ops

TABLE = "we\"ird 'table' ü"
OTHER = "select"
COLUMN = "col: %(x)s ü"
VALUE = 'it\'s: 50% \\ ü :name "q"'
COMMENT = "a 'comment'\nwith \"quotes\", :colons and 50%"


def write_revision(env: MigrationEnv, dialect: str, upgrade: ops.UpgradeOps) -> str:
    """Render ``upgrade`` (and its reverse) into revision a1; returns the upgrade body."""
    found = sa.create_engine(f"{dialect}://").dialect
    ctx = AutogenContext(found, opts=AutogenOptions(render_as_batch=dialect == "sqlite"))
    up = render_python_code(upgrade, ctx)
    down = render_python_code(upgrade.reverse(), ctx)
    imports = render_imports(ctx)
    env.add_revision("a1", upgrade=f"{imports}\n{up}", downgrade=f"{imports}\n{down}")
    return up


def nasty_tables() -> ops.UpgradeOps:
    other = ops.CreateTableOp(OTHER, (sa.Column("id", sa.Integer, primary_key=True),))
    table = ops.CreateTableOp(
        TABLE,
        (
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column(COLUMN, sa.String(100), server_default=VALUE, comment=COMMENT),
            sa.Column("other_id", sa.Integer, sa.ForeignKey(f"{OTHER}.id", ondelete="CASCADE")),
            sa.CheckConstraint("id > 0", name="ck: 'positive' 50%"),
            sa.UniqueConstraint(COLUMN, name='uq "col"'),
            sa.Index("ix: 'other' %", "other_id"),
        ),
        kw={"comment": COMMENT},
    )
    return ops.UpgradeOps([other, table, TodoOp(COMMENT, suggestion=VALUE)])


async def test_create_table_with_nasty_names_and_values(
    env: MigrationEnv, backend: Backend
) -> None:
    write_revision(env, backend.name, nasty_tables())
    await command.upgrade(env.config, "head")
    assert await env.tables() == {"alembic_version", TABLE, OTHER}
    with sync_connection(backend.sync_url, begin=True) as connection:
        inspector = sa.inspect(connection)
        columns = {c["name"]: c for c in inspector.get_columns(TABLE)}
        assert list(columns) == ["id", COLUMN, "other_id"]
        assert inspector.get_foreign_keys(TABLE)[0]["referred_table"] == OTHER
        assert "ix: 'other' %" in [ix["name"] for ix in inspector.get_indexes(TABLE)]
        if inspector.dialect.supports_comments:
            assert columns[COLUMN]["comment"] == COMMENT
            assert inspector.get_table_comment(TABLE)["text"] == COMMENT
        table = sa.table(TABLE, sa.column("id"), sa.column(COLUMN))
        connection.execute(table.insert().values(id=1))
        assert connection.execute(sa.select(table.c[COLUMN])).scalar_one() == VALUE
        with pytest.raises(sa.exc.IntegrityError):
            connection.execute(table.insert().values(id=-1, **{COLUMN: "other"}))
    await command.downgrade(env.config, "base")
    assert await env.tables() == {"alembic_version"}


def table_changes() -> ops.UpgradeOps:
    sql = "'" + VALUE.replace("'", "''").replace(":", "\\:") + "'"  # as a user writes it
    added = sa.Column(COLUMN, sa.String(100), server_default=sa.text(sql))
    changes = ops.ModifyTableOps(
        [
            ops.AddColumnOp(TABLE, sa.Column("note", sa.String(50), comment=COMMENT)),
            ops.AlterColumnOp(
                TABLE,
                "name",
                existing_type=sa.String(20),
                existing_nullable=True,
                modify_nullable=False,
                existing_server_default=False,
                modify_name="renamed: 'x'",
            ),
            ops.CreateIndexOp('ix "note"', TABLE, ("note",)),
            ops.CreateCheckConstraintOp("ck 'note'", TABLE, "note <> 'a:b 50%'"),
            ops.CreateTableCommentOp(TABLE, COMMENT),
        ],
        table_name=TABLE,
    )
    return ops.UpgradeOps([ops.ModifyTableOps([ops.AddColumnOp(TABLE, added)], TABLE), changes])


async def test_changes_to_a_table_with_nasty_names(env: MigrationEnv, backend: Backend) -> None:
    with sync_connection(backend.sync_url, begin=True) as connection:
        connection.execute(
            sa.schema.CreateTable(
                sa.Table(
                    TABLE,
                    sa.MetaData(),
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("name", sa.String(20), nullable=True),
                )
            )
        )
        connection.execute(
            sa.text(f"INSERT INTO {quoted(connection, TABLE)} (id, name) VALUES (1, 'n')")
        )
    write_revision(env, backend.name, table_changes())
    await command.upgrade(env.config, "head")
    with sync_connection(backend.sync_url, begin=True) as connection:
        inspector = sa.inspect(connection)
        columns = {c["name"]: c for c in inspector.get_columns(TABLE)}
        assert list(columns) == ["id", "renamed: 'x'", COLUMN, "note"]
        assert columns["renamed: 'x'"]["nullable"] is False
        assert ('ix "note"', ["note"]) in [
            (ix["name"], ix["column_names"]) for ix in inspector.get_indexes(TABLE)
        ]
        table = sa.table(TABLE, sa.column(COLUMN), sa.column("note"))
        assert connection.execute(sa.select(table.c[COLUMN])).scalar_one() == VALUE
        with pytest.raises(sa.exc.IntegrityError):
            connection.execute(sa.update(table).values(note="a:b 50%"))
    await command.downgrade(env.config, "base")
    with sync_connection(backend.sync_url, begin=True) as connection:
        columns = [c["name"] for c in sa.inspect(connection).get_columns(TABLE)]
        assert columns == ["id", "name"]


def quoted(connection: sa.Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


# -- PostgreSQL enum types ------------------------------------------------------------------------


@pytest.fixture
def pg_env(postgres_server: PostgresServer, tmp_path: Path) -> Iterator[MigrationEnv]:
    with fresh_postgres_database(postgres_server) as backend:
        project = MigrationEnv(tmp_path / "proj", backend=backend)
        project.write_config()
        yield project


ENUM_VALUE = "it's: a :name, 50% \\ ü"


def enum_ops() -> ops.UpgradeOps:
    column = sa.Column("mood", sa.Enum("happy", "o'k", name="mood: 'x'"))
    return ops.UpgradeOps(
        [
            CreateEnumTypeOp("mood: 'x'", ("happy", "o'k")),
            ops.CreateTableOp("person", (sa.Column("id", sa.Integer, primary_key=True), column)),
            AddEnumValueOp("mood: 'x'", ENUM_VALUE, after="happy"),
        ]
    )


def enum_values(connection: sa.Connection) -> list[Any]:
    query = "SELECT unnest(enum_range(NULL::\"mood: 'x'\"))::text"
    return list(connection.exec_driver_sql(query).scalars())


async def test_enum_types_and_add_value(pg_env: MigrationEnv) -> None:
    assert pg_env.backend is not None
    code = write_revision(pg_env, "postgresql", enum_ops())
    assert "autocommit_block" in code
    await command.upgrade(pg_env.config, "head")
    with sync_connection(pg_env.backend.sync_url, begin=True) as connection:
        assert enum_values(connection) == ["happy", ENUM_VALUE, "o'k"]
        person = sa.table("person", sa.column("id"), sa.column("mood"))
        connection.execute(person.insert().values(id=1, mood=ENUM_VALUE))
        assert connection.execute(sa.select(person.c.mood)).scalar_one() == ENUM_VALUE
    await command.downgrade(pg_env.config, "base")
    with sync_connection(pg_env.backend.sync_url, begin=True) as connection:
        assert (
            connection.exec_driver_sql(
                "SELECT count(*) FROM pg_type WHERE typname = 'mood: ''x'''"
            ).scalar_one()
            == 0
        )
    assert await pg_env.tables() == {"alembic_version"}


async def test_enum_ops_write_exact_sql_offline(pg_env: MigrationEnv) -> None:
    write_revision(pg_env, "postgresql", enum_ops())
    output = io.StringIO()
    await command.upgrade(pg_env.config, "head", sql=True, output_buffer=output)
    script = output.getvalue()
    assert "CREATE TYPE \"mood: 'x'\" AS ENUM ('happy', 'o''k')" in script
    added = "ADD VALUE IF NOT EXISTS 'it''s: a :name, 50% \\ ü' AFTER 'happy'"
    assert f"ALTER TYPE \"mood: 'x'\" {added}" in script
    assert await pg_env.tables() == set()
