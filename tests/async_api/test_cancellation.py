"""Cancelling `await command.upgrade()` stops between revisions and leaks nothing."""

from __future__ import annotations

import anyio
import pytest
from _envfactory import Backend, MigrationEnv

from amigrate import command

REVISIONS = 30


def slow_chain(env: MigrationEnv) -> None:
    down = None
    for number in range(REVISIONS):
        rev = f"r{number:02d}"
        env.add_revision(
            rev,
            down,
            upgrade=(
                f"op.create_table('t{number:02d}', sa.Column('id', sa.Integer, primary_key=True))\n"
                "import time\ntime.sleep(0.02)\n"
                f'op.execute("INSERT INTO t{number:02d} (id) VALUES (1)")'
            ),
        )
        down = rev


async def other_sessions(backend: Backend) -> int:
    """Connections to the database other than the one asking (PostgreSQL), else 0."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    engine = create_async_engine(backend.async_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            if backend.name != "postgresql":
                await conn.execute(text("BEGIN IMMEDIATE"))  # fails if a writer is still open
                await conn.execute(text("ROLLBACK"))
                return 0
            query = text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return int((await conn.execute(query)).scalar_one())
    finally:
        await engine.dispose()


@pytest.mark.parametrize("template", ["async", "generic"])
async def test_cancel_stops_at_a_revision_boundary(
    env: MigrationEnv, backend: Backend, template: str
) -> None:
    env.use_template(template)
    url = backend.async_url if template == "async" else backend.sync_url
    env.write_config(sqlalchemy_url=url.replace("%", "%%"))
    slow_chain(env)

    with anyio.move_on_after(0.25) as scope:
        await command.upgrade(env.config, "head")
    assert scope.cancelled_caught

    rows = await env.version_rows()
    assert len(rows) == 1
    done = int(rows[0][1:]) + 1
    assert 0 < done < REVISIONS
    assert await env.tables() == {"alembic_version"} | {f"t{n:02d}" for n in range(done)}
    assert await other_sessions(backend) == 0

    await command.upgrade(env.config, "head")
    assert await env.version_rows() == [f"r{REVISIONS - 1:02d}"]
