"""Many migrators at once: every revision runs exactly once and every migrator succeeds.

Each revision of the chain creates its own table and records itself in a side table
``ran``; after a stampede, ``ran`` must hold each revision once, the version table the head.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
import sqlalchemy as sa
from _envfactory import Backend, MigrationEnv, sync_connection
from _pgserver import PostgresServer
from conftest import fresh_postgres_database

from amigrate import command
from amigrate.aio.locking import lock_key
from amigrate.errors import LockTimeoutError

REVISIONS = 30
MIGRATORS = 16
ROUNDS = 5


@pytest.fixture
def pg(postgres_server: PostgresServer) -> Iterator[Backend]:
    """A fresh PostgreSQL database, for the tests that only PostgreSQL can run."""
    with fresh_postgres_database(postgres_server) as fresh:
        yield fresh


@pytest.fixture
def pg_env(pg: Backend, tmp_path: Path) -> MigrationEnv:
    project = MigrationEnv(tmp_path / "proj", backend=pg)
    project.write_config()
    return project


def chain(env: MigrationEnv, pause: float = 0.0) -> list[str]:
    """r00..r29: r00 creates the side table ``ran``; each revision adds a table and a row."""
    revs = [f"r{n:02d}" for n in range(REVISIONS)]
    for n, rev in enumerate(revs):
        first = "op.create_table('ran', sa.Column('rev', sa.String(8)))\n" if n == 0 else ""
        env.add_revision(
            rev,
            revs[n - 1] if n else None,
            upgrade=(
                f"{first}op.create_table('t{n:02d}', sa.Column('id', sa.Integer))\n"
                f"op.execute(\"INSERT INTO ran (rev) VALUES ('{rev}')\")\n"
                + (f"import time\ntime.sleep({pause})\n" if pause else "")
            ),
            downgrade=f"op.drop_table('t{n:02d}')" + ("\nop.drop_table('ran')" if n == 0 else ""),
        )
    return revs


def ran(backend: Backend) -> list[str]:
    """The side table's rows, in the order they were inserted ([] if it does not exist)."""
    with sync_connection(backend.sync_url) as connection:
        if not sa.inspect(connection).has_table("ran"):
            return []
        return [row[0] for row in connection.exec_driver_sql("SELECT rev FROM ran")]


def wipe(backend: Backend) -> None:
    """Back to an empty database, for the next round."""
    if backend.name == "sqlite":
        path = backend.sync_url.removeprefix("sqlite:///")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        return
    with sync_connection(backend.sync_url) as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
        connection.commit()


def version_rows(backend: Backend) -> list[str]:
    with sync_connection(backend.sync_url) as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return []
        rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
        return sorted(row[0] for row in rows)


def assert_applied_once(backend: Backend, revs: list[str]) -> None:
    assert sorted(ran(backend)) == revs  # each revision exactly once
    assert version_rows(backend) == [revs[-1]]
    with sync_connection(backend.sync_url) as connection:
        tables = set(sa.inspect(connection).get_table_names())
    assert tables == {"alembic_version", "ran", *(f"t{n:02d}" for n in range(REVISIONS))}


def start(env: MigrationEnv, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "amigrate", *args],
        cwd=env.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sixteen_processes_upgrade_at_once(env: MigrationEnv, backend: Backend) -> None:
    revs = chain(env)
    for _ in range(ROUNDS):
        wipe(backend)
        migrators = [start(env, "upgrade", "head") for _ in range(MIGRATORS)]
        outcomes = [(p.communicate(timeout=120)[1], p.returncode) for p in migrators]
        assert [code for _, code in outcomes] == [0] * MIGRATORS, outcomes
        assert_applied_once(backend, revs)


async def test_sixteen_upgrades_in_one_process(env: MigrationEnv, backend: Backend) -> None:
    revs = chain(env)
    for _ in range(ROUNDS):
        wipe(backend)
        applied: list[list[str]] = []

        async def migrate(applied: list[list[str]] = applied) -> None:
            steps = await command.upgrade(env.config, "head")
            applied.append([step.revision.revision for step in steps])

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tasks:
                for _ in range(MIGRATORS):
                    tasks.start_soon(migrate)
        assert_applied_once(backend, revs)
        assert sorted(rev for steps in applied for rev in steps) == revs  # what each one did


def test_sigkill_leaves_a_revision_boundary_and_frees_the_lock(
    pg_env: MigrationEnv, pg: Backend
) -> None:
    env, backend = pg_env, pg
    revs = chain(env, pause=0.005)
    chance = random.Random(5)
    stopped_at: list[int] = []
    for _ in range(10):
        wipe(backend)
        victim = start(env, "upgrade", "head")
        with sync_connection(backend.sync_url) as monitor:
            wait_until_locked(monitor, victim)
            time.sleep(chance.uniform(0, 0.2))
            victim.send_signal(signal.SIGKILL)
            victim.communicate(timeout=30)
            assert wait_until_unlocked(monitor), "the dead migrator's lock is still held"
        done = ran(backend)
        assert done == revs[: len(done)]  # whole revisions, in order
        assert version_rows(backend) == ([done[-1]] if done else [])  # the version table agrees
        stopped_at.append(len(done))
        env.run("upgrade", "head", check=True)
        assert_applied_once(backend, revs)
    assert any(0 < n < REVISIONS for n in stopped_at), stopped_at  # killed mid-chain


def advisory_locks(monitor: sa.Connection) -> int:
    query = (
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    count = int(monitor.exec_driver_sql(query).scalar_one())
    monitor.rollback()  # a fresh snapshot of pg_locks next time
    return count


def wait_until_locked(monitor: sa.Connection, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while advisory_locks(monitor) == 0:
        assert process.poll() is None, "the migrator ended before taking the lock"
        assert time.monotonic() < deadline, "the migrator never took the lock"
        time.sleep(0.005)


def wait_until_unlocked(monitor: sa.Connection) -> bool:
    deadline = time.monotonic() + 10
    while advisory_locks(monitor):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


# -- waiting, timeouts, --no-lock ------------------------------------------------------------


@contextlib.contextmanager
def held_lock(backend: Backend) -> Iterator[None]:
    """Another session holds the migration lock (PostgreSQL) or the write lock (SQLite)."""
    with sync_connection(backend.sync_url) as connection:
        if backend.name == "sqlite":
            connection.exec_driver_sql("SELECT 1")  # connect
            raw = connection.connection.dbapi_connection
            assert raw is not None
            raw.isolation_level = None  # type: ignore[attr-defined]
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            yield
            connection.exec_driver_sql("ROLLBACK")
            return
        connection.exec_driver_sql("SET application_name = 'replica-7'")
        name = connection.exec_driver_sql("SELECT current_database()").scalar_one()
        key = lock_key(name, "public", "alembic_version")
        connection.exec_driver_sql(f"SELECT pg_advisory_lock({key})")
        connection.commit()
        yield
        connection.exec_driver_sql(f"SELECT pg_advisory_unlock({key})")


async def test_lock_timeout_error(env: MigrationEnv, backend: Backend) -> None:
    env.add_revision("a1", upgrade="op.create_table('t', sa.Column('id', sa.Integer))")
    with held_lock(backend), pytest.raises(LockTimeoutError, match=r"0\.3 s") as raised:
        await command.upgrade(env.config, "head", lock_timeout=0.3)
    if backend.name == "postgresql":
        assert "replica-7" in str(raised.value)
        assert "pid" in str(raised.value)
    assert await env.version_rows() == []


async def test_cli_lock_timeout_names_the_holder(pg_env: MigrationEnv, pg: Backend) -> None:
    env, backend = pg_env, pg
    env.add_revision("a1", upgrade="op.create_table('t', sa.Column('id', sa.Integer))")
    with held_lock(backend):
        waited = env.run("upgrade", "head", "--lock-timeout", "0.2")
        skipped = env.run("upgrade", "head", "--no-lock")
    assert waited.returncode == 1
    assert "amigrate: error: the migration lock" in waited.stderr
    assert "replica-7" in waited.stderr
    assert skipped.returncode == 0, skipped.stderr
    assert await env.version_rows() == ["a1"]


async def test_lock_timeout_from_config(pg_env: MigrationEnv, pg: Backend) -> None:
    env, backend = pg_env, pg
    env.add_revision("a1")
    env.write_config(lock_timeout="0.1")
    with held_lock(backend):
        result = env.run("stamp", "a1")
    assert result.returncode == 1
    assert "was not granted in 0.1 s" in result.stderr


async def test_a_waiter_finds_the_work_done(env: MigrationEnv, backend: Backend) -> None:
    env.add_revision("a1", upgrade="op.create_table('t', sa.Column('id', sa.Integer))")
    results: list[list[str]] = []

    async def migrate() -> None:
        steps = await command.upgrade(env.config, "head")
        results.append([step.revision.revision for step in steps])

    with contextlib.ExitStack() as holder:
        holder.enter_context(held_lock(backend))
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(migrate)
                tasks.start_soon(migrate)
                await anyio.sleep(0.5)  # both are waiting now
                assert results == []
                holder.close()  # the other session lets go
    assert sorted(results) == [[], ["a1"]]
    assert ran_tables(await env.tables()) == {"t"}


def ran_tables(tables: set[str]) -> set[str]:
    return tables - {"alembic_version"}


async def test_lock_does_not_block_create_index_concurrently(pg_env: MigrationEnv) -> None:
    env = pg_env
    env.add_revision("a1", upgrade="op.create_table('t', sa.Column('id', sa.Integer))")
    env.add_revision(
        "b2",
        "a1",
        upgrade=(
            "with op.get_context().autocommit_block():\n"
            "    op.execute('CREATE INDEX CONCURRENTLY ix_t_id ON t (id)')"
        ),
    )
    with anyio.fail_after(30):
        async with anyio.create_task_group() as tasks:
            for _ in range(4):
                tasks.start_soon(command.upgrade, env.config, "head")
    assert await env.version_rows() == ["b2"]


WHOLE_RUN = """
import time

from amigrate import context


async def run_migrations_online():
    async with context.connect() as connection:
        await connection.run_sync(work)


def work(connection):
    context.configure(connection=connection, transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()
        time.sleep(0.3)  # the run's transaction is still open: the lock must be too
"""


def test_one_transaction_for_the_run_keeps_the_lock_until_it_commits(
    env: MigrationEnv, backend: Backend
) -> None:
    env.write_file("migrations/env.py", WHOLE_RUN)
    revs = chain(env)
    migrators = [start(env, "upgrade", "head") for _ in range(4)]
    outcomes = [(p.communicate(timeout=120)[1], p.returncode) for p in migrators]
    assert [code for _, code in outcomes] == [0] * 4, outcomes
    assert_applied_once(backend, revs)  # no waiter read the rows of an open transaction


async def test_current_does_not_wait_for_the_lock(env: MigrationEnv, backend: Backend) -> None:
    env.add_revision("a1")
    with held_lock(backend), anyio.fail_after(10):
        assert await command.current(env.config) == []


async def test_sync_drivers_take_the_lock_too(env: MigrationEnv, backend: Backend) -> None:
    env.use_template("generic")  # a sync env.py: the core runs in worker threads
    env.write_config(sqlalchemy_url=backend.sync_url.replace("%", "%%"))
    revs = chain(env)
    with anyio.fail_after(60):
        async with anyio.create_task_group() as tasks:
            for _ in range(4):
                tasks.start_soon(command.upgrade, env.config, "head")
    assert_applied_once(backend, revs)


async def test_concurrent_downgrades_and_stamps(env: MigrationEnv, backend: Backend) -> None:
    revs = chain(env)
    await command.upgrade(env.config, "head")

    async def all_at_once(*calls: tuple[object, ...]) -> None:
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tasks:
                for call in calls:
                    tasks.start_soon(*call)  # type: ignore[arg-type]

    await all_at_once(*[(command.downgrade, env.config, "base")] * 6)  # each drop runs once
    with sync_connection(backend.sync_url) as connection:
        assert set(sa.inspect(connection).get_table_names()) == {"alembic_version"}
    assert version_rows(backend) == []
    await all_at_once(*[(command.stamp, env.config, revs[-1])] * 6)  # one row, not six
    assert version_rows(backend) == [revs[-1]]


async def test_the_applications_connections_take_the_lock(
    env: MigrationEnv, backend: Backend
) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    revs = chain(env)
    engine = create_async_engine(backend.async_url)  # a pooled engine, as an app has

    async def migrate() -> None:
        async with engine.connect() as connection:  # the lock opens a second one from its pool
            await command.upgrade(env.config, "head", connection=connection)

    try:
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tasks:
                for _ in range(4):
                    tasks.start_soon(migrate)
    finally:
        await engine.dispose()
    assert_applied_once(backend, revs)
