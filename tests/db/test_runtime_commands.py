"""upgrade, downgrade, stamp and current on real databases: the schema and the version rows."""

from __future__ import annotations

import pytest
from _envfactory import Backend, MigrationEnv

from amigrate import command
from amigrate.errors import MigrationFailedError, RevisionError

TABLE_A = "op.create_table('account', sa.Column('id', sa.Integer, primary_key=True))"
TABLE_B = "op.add_column('account', sa.Column('email', sa.String(100)))"
TABLE_C = "op.create_table('audit', sa.Column('id', sa.Integer, primary_key=True))"


def chain(env: MigrationEnv) -> None:
    env.add_revision("a1", upgrade=TABLE_A, downgrade="op.drop_table('account')")
    env.add_revision("b2", "a1", upgrade=TABLE_B, downgrade="op.drop_column('account', 'email')")
    env.add_revision("c3", "b2", upgrade=TABLE_C, downgrade="op.drop_table('audit')")


async def columns(backend: Backend, table: str) -> list[str]:
    from sqlalchemy import inspect
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    engine = create_async_engine(backend.async_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: [c["name"] for c in inspect(sync).get_columns(table)]
            )
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_round_trip(env: MigrationEnv, backend: Backend) -> None:
    chain(env)
    steps = await command.upgrade(env.config, "head")
    assert [s.revision.revision for s in steps] == ["a1", "b2", "c3"]
    assert await env.tables() == {"alembic_version", "account", "audit"}
    assert await columns(backend, "account") == ["id", "email"]
    assert await env.version_rows() == ["c3"]

    await command.downgrade(env.config, "-1")
    assert await env.tables() == {"alembic_version", "account"}
    assert await env.version_rows() == ["b2"]

    await command.downgrade(env.config, "a1")
    assert await columns(backend, "account") == ["id"]
    assert await env.version_rows() == ["a1"]

    await command.upgrade(env.config, "+1")
    assert await env.version_rows() == ["b2"]

    await command.downgrade(env.config, "base")
    assert await env.tables() == {"alembic_version"}
    assert await env.version_rows() == []


async def test_current_and_check_heads(env: MigrationEnv, backend: Backend) -> None:
    chain(env)
    assert await command.current(env.config) == []
    await command.upgrade(env.config, "b2")
    infos = await command.current(env.config)
    assert [i.revision for i in infos] == ["b2"]
    with pytest.raises(Exception, match="not at the head revision"):
        await command.current(env.config, check_heads=True)
    await command.upgrade(env.config)
    assert [i.revision for i in await command.current(env.config, check_heads=True)] == ["c3"]


async def test_branches_and_merge_rows(env: MigrationEnv, backend: Backend) -> None:
    env.add_revision("a1", upgrade=TABLE_A)
    env.add_revision("b2", "a1", upgrade="op.create_table('b', sa.Column('id', sa.Integer))")
    env.add_revision("c3", "a1", upgrade="op.create_table('c', sa.Column('id', sa.Integer))")
    await command.upgrade(env.config, "b2")
    assert await env.version_rows() == ["b2"]
    await command.upgrade(env.config, "heads")
    assert await env.version_rows() == ["b2", "c3"]
    env.add_revision("m4", ("b2", "c3"))
    await command.upgrade(env.config, "heads")
    assert await env.version_rows() == ["m4"]
    with pytest.raises(RevisionError, match="'m4' is a merge point"):
        await command.downgrade(env.config, "-1")  # as in Alembic: which parent?
    await command.downgrade(env.config, "b2")
    assert await env.version_rows() == ["b2", "c3"]


async def test_stamp(env: MigrationEnv, backend: Backend) -> None:
    chain(env)
    await command.stamp(env.config, "b2")
    assert await env.version_rows() == ["b2"]
    assert await env.tables() == {"alembic_version"}  # nothing ran
    await command.stamp(env.config, "base")
    assert await env.version_rows() == []
    await command.stamp(env.config, "c3", purge=True)
    assert await env.version_rows() == ["c3"]


async def test_failing_revision_leaves_no_trace(env: MigrationEnv, backend: Backend) -> None:
    env.add_revision("a1", upgrade=TABLE_A)
    path = env.add_revision(
        "b2",
        "a1",
        upgrade=(
            f"{TABLE_C}\nop.create_index('ix_audit', 'audit', ['id'])\nop.execute('SELECT nope')"
        ),
    )
    with pytest.raises(MigrationFailedError) as caught:
        await command.upgrade(env.config, "head")
    error = caught.value
    assert error.revision == "b2"
    assert str(error).startswith(f"{path}:")
    assert "upgrade of revision b2 failed" in str(error)
    assert "SELECT nope" in str(error)
    assert await env.tables() == {"alembic_version", "account"}
    assert await env.version_rows() == ["a1"]


async def test_failing_first_revision_leaves_not_even_the_version_table(
    env: MigrationEnv, backend: Backend
) -> None:
    env.add_revision("a1", upgrade=f"{TABLE_A}\nop.execute('SELECT nope')")
    with pytest.raises(MigrationFailedError):
        await command.upgrade(env.config, "head")
    assert await env.tables() == set()


async def test_downgrade_above_current_is_refused(env: MigrationEnv, backend: Backend) -> None:
    chain(env)
    await command.upgrade(env.config, "a1")
    with pytest.raises(RevisionError):
        await command.downgrade(env.config, "c3")
    assert await env.version_rows() == ["a1"]


async def test_builtin_environment_without_env_py(env: MigrationEnv, backend: Backend) -> None:
    assert not (env.script_dir / "env.py").exists()
    chain(env)
    await command.upgrade(env.config, "head")
    assert await env.version_rows() == ["c3"]


@pytest.mark.parametrize("template", ["generic", "async"])
async def test_templates_run_end_to_end(env: MigrationEnv, backend: Backend, template: str) -> None:
    env.use_template(template)
    url = backend.async_url if template == "async" else backend.sync_url
    env.write_config(sqlalchemy_url=url.replace("%", "%%"))
    chain(env)
    await command.upgrade(env.config, "head")
    assert await env.version_rows() == ["c3"]
    await command.downgrade(env.config, "base")
    assert await env.tables() == {"alembic_version"}
