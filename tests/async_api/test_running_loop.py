"""`await command.upgrade()` inside a running event loop, as applications call it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from _envfactory import Backend, MigrationEnv

from amigrate import command
from amigrate.errors import AmigrateError


def table_revision(env: MigrationEnv, rev: str, table: str, down: str | None = None) -> None:
    env.add_revision(
        rev,
        down,
        upgrade=f"op.create_table({table!r}, sa.Column('id', sa.Integer, primary_key=True))",
        downgrade=f"op.drop_table({table!r})",
    )


async def test_app_owned_async_engine_in_a_lifespan(env: MigrationEnv, backend: Backend) -> None:
    """An ASGI-style lifespan migrates with the app's engine, which stays usable afterwards."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    env.use_template("async")
    env.write_config(sqlalchemy_url=None)  # the app passes its engine; no URL in the config
    table_revision(env, "a1", "account")
    engine = create_async_engine(backend.async_url)

    @contextlib.asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        await command.upgrade(env.config, "head", connection=engine)
        yield

    async with lifespan(), engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM account"))).scalar() == 0
    await engine.dispose()
    assert await env.version_rows() == ["a1"]


async def test_app_owned_connection_through_config_attributes(
    env: MigrationEnv, backend: Backend
) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    env.use_template("async")
    env.write_config(sqlalchemy_url=None)
    table_revision(env, "a1", "account")
    engine = create_async_engine(backend.async_url)
    async with engine.connect() as conn:
        config = env.config
        config.attributes["connection"] = conn
        await command.upgrade(config, "head")
        assert not conn.closed
    await engine.dispose()
    assert await env.tables() == {"alembic_version", "account"}


async def test_two_databases_upgrade_concurrently_in_one_loop(
    env: MigrationEnv, backend: Backend, second_backend: Backend, tmp_path: Path
) -> None:
    """Each upgrade sees only its own `op`: with module-global state this test fails."""
    other = MigrationEnv(tmp_path / "other", backend=second_backend)
    other.write_config()
    for project, prefix in ((env, "first"), (other, "second")):
        project.use_template("async")
        down = None
        for number in range(5):
            rev = f"{prefix[0]}{number}"
            table_revision(project, rev, f"{prefix}_{number}", down)
            down = rev

    async with anyio.create_task_group() as group:
        group.start_soon(command.upgrade, env.config, "head")
        group.start_soon(command.upgrade, other.config, "head")

    assert await env.tables() == {"alembic_version"} | {f"first_{n}" for n in range(5)}
    assert await other.tables() == {"alembic_version"} | {f"second_{n}" for n in range(5)}
    assert await env.version_rows() == ["f4"]
    assert await other.version_rows() == ["s4"]


def test_sync_facade_outside_a_loop(env: MigrationEnv, backend: Backend) -> None:
    from amigrate import sync

    table_revision(env, "a1", "account")
    sync.upgrade(env.config, "head")
    assert [info.revision for info in sync.current(env.config)] == ["a1"]


async def test_sync_facade_inside_a_loop_refuses(env: MigrationEnv) -> None:
    from amigrate import sync

    with pytest.raises(AmigrateError, match=r"inside a running event loop.*await amigrate"):
        sync.upgrade(env.config, "head")


@pytest.mark.parametrize("ending", ["rollback", "commit"])
async def test_migrations_inside_the_apps_transaction_follow_its_end(
    env: MigrationEnv, backend: Backend, ending: str
) -> None:
    """The app's connection is already in a transaction (it read something): the migrations
    join it, and the app's ROLLBACK undoes them whole, on SQLite as on PostgreSQL (where
    the sqlite3 driver would otherwise have committed the DDL as it ran)."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    env.use_template("async")
    env.write_config(sqlalchemy_url=None)
    table_revision(env, "a1", "account")
    table_revision(env, "b2", "invoice", "a1")
    engine = create_async_engine(backend.async_url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))  # the app's transaction has begun
            await command.upgrade(env.config, "head", connection=connection)
            await (connection.rollback() if ending == "rollback" else connection.commit())
    finally:
        await engine.dispose()
    if ending == "rollback":
        assert await env.tables() == set()
        assert await env.version_rows() == []
    else:
        assert await env.tables() == {"alembic_version", "account", "invoice"}
        assert await env.version_rows() == ["b2"]
