"""Tenants: one history on 50 PostgreSQL databases and on 50 schemas, sharded and not."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from amigrate import command
from amigrate.aio import fanout
from amigrate.aio.fanout import Target

if TYPE_CHECKING:
    from collections.abc import Iterator

    from _envfactory import MigrationEnv
    from _pgserver import PostgresServer
    from sqlalchemy.engine import Connection

TENANTS = 50
REVISIONS = 20

pytestmark = pytest.mark.postgresql


def chain(env: MigrationEnv, revisions: int = REVISIONS) -> list[str]:
    """A linear chain; each revision creates a small table (a few add a column too)."""
    ids = [f"r{number:02d}" for number in range(revisions)]
    for number, rev in enumerate(ids):
        code = (
            f"op.create_table('t{number:02d}', sa.Column('id', sa.Integer, primary_key=True),"
            " sa.Column('name', sa.String(40)))"
        )
        if number % 5 == 4:
            code += f"\nop.add_column('t{number - 1:02d}', sa.Column('extra', sa.Integer))"
        env.add_revision(
            rev, ids[number - 1] if number else None, upgrade=code,
            downgrade=f"op.drop_table('t{number:02d}')"
            + (f"\nop.drop_column('t{number - 1:02d}', 'extra')" if number % 5 == 4 else ""),
        )  # fmt: skip
    return ids


@pytest.fixture(scope="module")
def tenant_databases(postgres_server: PostgresServer) -> Iterator[list[str]]:
    """50 empty databases, shared by this module's tests (each test leaves them at base)."""
    names = [f"tenant_{uuid.uuid4().hex[:12]}" for _ in range(TENANTS)]
    for name in names:
        postgres_server.create_database(name)
    try:
        yield [postgres_server.url_for(name, "asyncpg") for name in names]
    finally:
        for name in names:
            postgres_server.drop_database(name)


async def schema_of(url: str, schema: str = "public") -> list[tuple[str, ...]]:
    """Tables, columns and types of ``schema``, and its version rows: what a run left."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            columns = await connection.execute(
                text(
                    "SELECT table_name, column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = :s ORDER BY 1, 2"
                ),
                {"s": schema},
            )
            found = [tuple(map(str, row)) for row in columns]
            if any(row[0] == "alembic_version" for row in found):
                rows = await connection.execute(
                    text(f'SELECT version_num FROM "{schema}".alembic_version')
                )
                found.append(("version", *sorted(rows.scalars())))
            return found
    finally:
        await engine.dispose()


async def sharded_upgrade(env: MigrationEnv, targets: list[Target], count: int) -> list[set]:
    """Upgrade ``targets`` as ``count`` shards one after the other; the targets of each."""
    slices = []
    for index in range(count):
        part = fanout.shard(targets, index, count)
        slices.append({t.identity for t in part})
        if part:
            await command.upgrade_many(env.config, "head", targets=part, jobs=16)
    return slices


async def test_fifty_databases_jobs_1_and_16_and_shards(
    env: MigrationEnv, tenant_databases: list[str]
) -> None:
    chain(env)
    targets = [Target(url=url) for url in tenant_databases]
    results = await command.upgrade_many(env.config, "head", targets=targets, jobs=1)
    assert {r.after for r in results} == {("r19",)}
    assert all(len(r.steps) == REVISIONS for r in results)
    one_at_a_time = [await schema_of(url) for url in tenant_databases]

    await command.downgrade_many(env.config, "base", targets=targets, jobs=16)
    assert {len(await schema_of(url)) for url in tenant_databases[:3]} == {2}  # version table

    slices = await sharded_upgrade(env, targets, 3)
    assert sum(map(len, slices)) == TENANTS
    assert set.union(*slices) == {t.identity for t in targets}
    assert [await schema_of(url) for url in tenant_databases] == one_at_a_time
    await command.downgrade_many(env.config, "base", targets=targets, jobs=16)


async def test_fifty_schemas_each_with_its_own_version_table(
    env: MigrationEnv, tenant_databases: list[str]
) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    url = tenant_databases[0]
    env.write_config(sqlalchemy_url=url.replace("%", "%%"))
    chain(env)
    schemas = [f"tenant{number:02d}" for number in range(TENANTS)]
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        for schema in schemas:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    await engine.dispose()
    targets = fanout.tenant_targets(schemas=schemas)
    public_before = await schema_of(url, "public")

    results = await command.upgrade_many(env.config, "head", targets=targets, jobs=1)
    assert {r.after for r in results} == {("r19",)}
    one_at_a_time = [await schema_of(url, s) for s in schemas]
    assert ("t03", "extra", "integer") in one_at_a_time[0]
    assert one_at_a_time[0][-1] == ("version", "r19")
    assert await schema_of(url, "public") == public_before  # nothing landed outside them

    await command.downgrade_many(env.config, "base", targets=targets, jobs=16)
    slices = await sharded_upgrade(env, targets, 4)
    assert sum(map(len, slices)) == TENANTS
    assert set.union(*slices) == {t.identity for t in targets}
    assert [await schema_of(url, s) for s in schemas] == one_at_a_time

    engine = create_async_engine(url)
    async with engine.begin() as connection:
        for schema in schemas:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await engine.dispose()


def current_database(connection: Connection) -> str | None:
    return connection.exec_driver_sql("SELECT current_database()").scalar()


async def test_databases_of_one_server_share_an_engine(tenant_databases: list[str]) -> None:
    from sqlalchemy.engine import make_url

    from amigrate.aio.engines import ServerEngines, in_greenlet

    first, second = tenant_databases[:2]
    engines = ServerEngines()
    try:
        engine = engines.engine_for(first, {})
        assert engine.dialect.driver == "asyncpg"  # an async driver's engine, used in greenlets
        assert engines.engine_for(second, {}) is engine  # the server's settings read once
        assert engines.engine_for(second, {"echo": True}) is not engine
        for url in (first, second):
            with engines.connect_to(url):
                connection = await in_greenlet(engine.connect)
                try:
                    found = await in_greenlet(current_database, connection)
                finally:
                    await in_greenlet(connection.close)
            assert found == make_url(url).database  # yet each connection goes to its own
    finally:
        await engines.dispose()
