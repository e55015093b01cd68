"""env.py in its forms, and the transaction options it can choose."""

from __future__ import annotations

import pytest
from _envfactory import Backend, MigrationEnv

from amigrate import command
from amigrate.errors import MigrationFailedError, ScriptError

TABLE_A = "op.create_table('a', sa.Column('id', sa.Integer, primary_key=True))"
TABLE_B = "op.create_table('b', sa.Column('id', sa.Integer, primary_key=True))"

LEGACY_SYNC = """
from sqlalchemy import create_engine, pool
from amigrate import context

config = context.config
engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
"""

LEGACY_ASYNCIO_RUN = """
import asyncio
from sqlalchemy.ext.asyncio import create_async_engine
from amigrate import context

config = context.config


def do_run(connection):
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def main():
    engine = create_async_engine(config.get_main_option("sqlalchemy.url"))
    async with engine.connect() as connection:
        await connection.run_sync(do_run)
    await engine.dispose()


asyncio.run(main())  # an Alembic-style async env.py: legal in amigrate's worker thread
"""

WHOLE_RUN = """
from amigrate import context


async def run_migrations_online():
    async with context.connect() as connection:
        await connection.run_sync(work)


def work(connection):
    context.configure(connection=connection, transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()
"""


async def upgrade_through(env: MigrationEnv, env_py: str) -> None:
    """With ``env_py`` as env.py, upgrade to a1; it must run and be recorded."""
    env.write_file("migrations/env.py", env_py)
    env.add_revision("a1", upgrade=TABLE_A)
    await command.upgrade(env.config, "head")
    await assert_at_a1(env)


async def assert_at_a1(env: MigrationEnv) -> None:
    """Revision a1 ran and was recorded: its table exists and it is the version row."""
    assert await env.tables() == {"alembic_version", "a"}
    assert await env.version_rows() == ["a1"]


@pytest.mark.parametrize(
    ("body", "url_kind"), [(LEGACY_SYNC, "sync"), (LEGACY_ASYNCIO_RUN, "async")]
)
async def test_legacy_env_py_doing_the_work_at_import(
    env: MigrationEnv, backend: Backend, body: str, url_kind: str
) -> None:
    url = backend.sync_url if url_kind == "sync" else backend.async_url
    env.write_config(sqlalchemy_url=url.replace("%", "%%"))
    await upgrade_through(env, body)


async def test_env_py_without_hooks_or_work_is_an_error(
    env: MigrationEnv, backend: Backend
) -> None:
    env.write_file("migrations/env.py", "from amigrate import context\nconfig = context.config\n")
    env.add_revision("a1", upgrade=TABLE_A)
    with pytest.raises(ScriptError, match="defines no run_migrations_online"):
        await command.upgrade(env.config, "head")
    assert await env.tables() == set()


async def test_one_transaction_for_the_whole_run(env: MigrationEnv, backend: Backend) -> None:
    env.write_file("migrations/env.py", WHOLE_RUN)
    env.add_revision("a1", upgrade=TABLE_A)
    env.add_revision("b2", "a1", upgrade=f"{TABLE_B}\nop.execute('SELECT nope')")
    with pytest.raises(MigrationFailedError):
        await command.upgrade(env.config, "head")
    assert await env.tables() == set()  # a1 was undone with b2
    env.add_revision("b2", "a1", upgrade=TABLE_B, filename="b2_revision_b2.py")
    await command.upgrade(env.config, "head")
    assert await env.version_rows() == ["b2"]


async def test_per_revision_transactions_keep_progress(env: MigrationEnv, backend: Backend) -> None:
    env.add_revision("a1", upgrade=TABLE_A)
    env.add_revision("b2", "a1", upgrade=f"{TABLE_B}\nop.execute('SELECT nope')")
    with pytest.raises(MigrationFailedError):
        await command.upgrade(env.config, "head")
    await assert_at_a1(env)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_autocommit_block_runs_outside_the_transaction(
    env: MigrationEnv, backend: Backend
) -> None:
    env.add_revision(
        "a1",
        upgrade=(
            f"{TABLE_A}\n"
            "with op.get_context().autocommit_block():\n"
            "    op.create_index('ix_a_id', 'a', ['id'], postgresql_concurrently=True)\n"
            "op.execute('INSERT INTO a (id) VALUES (1)')"
        ),
    )
    await command.upgrade(env.config, "head")
    assert await env.version_rows() == ["a1"]
    assert await env.tables() == {"alembic_version", "a"}


async def test_autocommit_block_on_both_backends(env: MigrationEnv, backend: Backend) -> None:
    env.add_revision(
        "a1",
        upgrade=(
            f"{TABLE_A}\n"
            "with op.get_context().autocommit_block():\n"
            "    op.execute('INSERT INTO a (id) VALUES (1)')\n"
            "op.execute('INSERT INTO a (id) VALUES (2)')"
        ),
    )
    env.add_revision("b2", "a1", upgrade=f"{TABLE_B}\nop.execute('SELECT nope')")
    with pytest.raises(MigrationFailedError):
        await command.upgrade(env.config, "head")
    assert await env.version_rows() == ["a1"]
    assert await env.tables() == {"alembic_version", "a"}


ASYNC_CONNECTION_API = """
from sqlalchemy import text
from amigrate import context


async def run_migrations_online():
    async with context.connect() as connection:
        # what an app's env.py may do first: plain AsyncConnection calls, committed
        await connection.execute(text("CREATE TABLE seeded (id INTEGER)"))
        await connection.execute(text("INSERT INTO seeded (id) VALUES (7)"))
        await connection.commit()
        seen = (await connection.execute(text("SELECT id FROM seeded"))).scalar_one()
        await connection.rollback()
        assert seen == 7, seen
        assert connection.dialect.name in ("sqlite", "postgresql")
        await connection.run_sync(work)


def work(connection):
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
"""


async def test_async_env_py_can_use_the_connection_as_an_async_connection(
    env: MigrationEnv, backend: Backend
) -> None:
    """``context.connect()`` on an async URL answers AsyncConnection's calls, not only run_sync."""
    env.write_file("migrations/env.py", ASYNC_CONNECTION_API)
    env.add_revision("a1", upgrade=TABLE_A)
    await command.upgrade(env.config, "head")
    assert await env.tables() == {"alembic_version", "a", "seeded"}
    assert await env.version_rows() == ["a1"]


SESSION_ON_THE_CONNECTION = """
from sqlalchemy import MetaData, Table, Column, Integer, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession  # loaded by env.py itself
from amigrate import compare_metadata, context


async def run_migrations_online():
    async with context.connect() as connection:
        assert isinstance(connection, AsyncConnection), type(connection)
        await connection.execute(text("CREATE TABLE seeded (id INTEGER)"))  # not committed
        async with AsyncSession(bind=connection) as session:  # the same connection
            rows = (await session.execute(text("SELECT count(*) FROM seeded"))).scalar_one()
        assert rows == 0, rows
        await connection.commit()
        wanted = MetaData()
        Table("seeded", wanted, Column("id", Integer))
        Table("extra", wanted, Column("id", Integer))
        diffs = await compare_metadata(connection, wanted)
        assert [d[0] for d in diffs] == ["add_table"], diffs
        await connection.rollback()  # end the comparison's reads: the run commits its own
        await connection.run_sync(work)


def work(connection):
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
"""

SESSION_NEEDS_THE_REAL_CONNECTION = """
import sys
from sqlalchemy import MetaData, Table, Column, Integer, text
from amigrate import compare_metadata, context


async def run_migrations_online():
    async with context.connect() as connection:
        wanted = MetaData()
        Table("extra", wanted, Column("id", Integer))
        diffs = await compare_metadata(connection, wanted)
        assert [d[0] for d in diffs] == ["add_table"], diffs
        assert "sqlalchemy.ext.asyncio" not in sys.modules  # nothing so far needed it
        from sqlalchemy.exc import ArgumentError
        from sqlalchemy.ext.asyncio import AsyncSession

        try:
            AsyncSession(bind=connection)
        except ArgumentError as exc:  # never a session on a second connection
            assert "as_async_connection" in repr(connection), repr(connection)
        else:
            raise AssertionError("AsyncSession took the connection's engine")
        await connection.rollback()  # end the comparison's reads
        await connection.execute(text("CREATE TABLE seeded (id INTEGER)"))
        async with AsyncSession(bind=connection.as_async_connection()) as session:
            rows = (await session.execute(text("SELECT count(*) FROM seeded"))).scalar_one()
        assert rows == 0, rows
        await connection.commit()
        await connection.run_sync(work)


def work(connection):
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
"""


@pytest.mark.parametrize(
    "body",
    [SESSION_ON_THE_CONNECTION, SESSION_NEEDS_THE_REAL_CONNECTION],
    ids=["asyncio-imported-by-env-py", "asyncio-imported-later"],
)
async def test_an_async_session_runs_on_the_migration_connection(
    env: MigrationEnv, backend: Backend, body: str
) -> None:
    """Run as a user runs it (a fresh ``amigrate`` process: what env.py imports matters)."""
    env.write_file("migrations/env.py", body)
    env.add_revision("a1", upgrade=TABLE_A)
    env.run("upgrade", "head", check=True)
    assert await env.tables() == {"alembic_version", "a", "seeded"}
    assert await env.version_rows() == ["a1"]


STATEMENT_FIRST = """
from sqlalchemy import text
from amigrate import context


async def run_migrations_online():
    async with context.connect() as connection:
        await connection.execute(text("SELECT 1"))  # SQLAlchemy begins a transaction for it
        await connection.run_sync(work)
        {after}


def work(connection):
    context.configure(connection=connection)
    with context.begin_transaction():  # inside env.py's transaction: the run leaves COMMIT
        context.run_migrations()
"""


async def test_what_env_py_left_uncommitted_on_our_connection_is_committed(
    env: MigrationEnv, backend: Backend
) -> None:
    """Closing would roll the migrations back without a word (and, on SQLite, keep the
    tables the driver had committed but not their version row)."""
    await upgrade_through(env, STATEMENT_FIRST.format(after="pass"))


async def test_an_error_after_the_run_commits_nothing_left_open(
    env: MigrationEnv, backend: Backend
) -> None:
    env.write_file(
        "migrations/env.py", STATEMENT_FIRST.format(after="raise RuntimeError('after the run')")
    )
    env.add_revision("a1", upgrade=TABLE_A)
    with pytest.raises(Exception, match="after the run"):
        await command.upgrade(env.config, "head")
    assert await env.version_rows() == []
    if backend.name == "postgresql":
        assert await env.tables() == set()


SYNC_STATEMENT_FIRST = """
from sqlalchemy import text
from amigrate import context


def run_migrations_online():
    with context.connect() as connection:
        connection.execute(text("SELECT 1"))  # SQLAlchemy begins a transaction for it
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
"""


async def test_a_sync_env_py_gets_the_same_commit(env: MigrationEnv, backend: Backend) -> None:
    env.write_config(sqlalchemy_url=backend.sync_url.replace("%", "%%"))
    await upgrade_through(env, SYNC_STATEMENT_FIRST)
