"""On asyncpg, DDL and version-row writes go in one round trip each, not prepared first."""

from __future__ import annotations

import pytest
from _envfactory import Backend, MigrationEnv, sync_connection

from amigrate import command
from amigrate.errors import MigrationFailedError

pytestmark = pytest.mark.postgresql

# How many statements the session has prepared that are DDL or version-row writes.
_PREPARED_COUNT = """
    op.execute(
        "INSERT INTO prepared SELECT count(*) FROM pg_prepared_statements "
        "WHERE ltrim(statement, E' \\\\n') SIMILAR TO "
        "'(CREATE TABLE|INSERT INTO alembic_version|UPDATE alembic_version)%%'"
    )
"""


@pytest.fixture
def postgres_env(env: MigrationEnv, backend: Backend) -> MigrationEnv:
    if backend.name != "postgresql":
        pytest.skip("asyncpg only")
    return env


async def test_ddl_and_version_writes_are_not_prepared(
    postgres_env: MigrationEnv, backend: Backend
) -> None:
    env = postgres_env
    env.add_revision("a1", upgrade='op.create_table("prepared", sa.Column("n", sa.Integer))')
    env.add_revision("b2", "a1", upgrade='op.create_table("t", sa.Column("id", sa.Integer))')
    env.add_revision("c3", "b2", upgrade=_PREPARED_COUNT)
    await command.upgrade(env.config, "head")
    assert await env.version_rows() == ["c3"]
    with sync_connection(backend.sync_url) as connection:
        counts = connection.exec_driver_sql("SELECT n FROM prepared").scalars().all()
    assert counts == [0]


async def test_a_failing_statement_is_reported_as_before(postgres_env: MigrationEnv) -> None:
    env = postgres_env
    path = env.add_revision("a1", upgrade='op.create_table("t", sa.Column("id", sa.Integer))')
    env.add_revision(
        "b2",
        "a1",
        upgrade="""
        op.create_table("u", sa.Column("id", sa.Integer))
        op.add_column("t", sa.Column("id", sa.Integer))
        """,
    )
    with pytest.raises(MigrationFailedError) as failed:
        await command.upgrade(env.config, "head")
    text = str(failed.value)
    assert 'column "id" of relation "t" already exists' in text
    assert "ALTER TABLE t ADD COLUMN id INTEGER" in text
    assert f"{path.parent / 'b2_revision_b2.py'}:" in text
    assert await env.tables() == {"alembic_version", "t"}
    assert await env.version_rows() == ["a1"]
