"""What a failure says about what it left behind, and about files written for Alembic."""

from __future__ import annotations

import pytest
from _envfactory import Backend, MigrationEnv

from amigrate import command
from amigrate.errors import MigrationFailedError, ScriptError


async def test_a_failure_after_an_autocommit_block_says_what_stays_committed(
    env: MigrationEnv, backend: Backend
) -> None:
    env.add_revision(
        "a1",
        upgrade="""
        with op.get_context().autocommit_block():
            op.create_table("kept", sa.Column("id", sa.Integer, primary_key=True))
        op.execute("SELECT * FROM no_such_table")
        """,
    )
    with pytest.raises(MigrationFailedError, match=r"autocommit_block.*stay committed"):
        await command.upgrade(env.config, "head")
    assert "kept" in await env.tables()
    assert await env.version_rows() == []


async def test_a_plain_failure_says_it_was_rolled_back(env: MigrationEnv, backend: Backend) -> None:
    env.add_revision("a1", upgrade='op.execute("SELECT * FROM no_such_table")')
    with pytest.raises(MigrationFailedError) as failed:
        await command.upgrade(env.config, "head")
    assert str(failed.value).endswith("(its changes were rolled back)")


async def test_a_revision_written_for_alembic_gets_a_hint(
    env: MigrationEnv, backend: Backend
) -> None:
    pytest.importorskip("alembic")
    path = env.add_revision("a1", upgrade='op.create_table("t", sa.Column("id", sa.Integer))')
    path.write_text(path.read_text().replace("from amigrate import op", "from alembic import op"))
    with pytest.raises(MigrationFailedError, match="write 'from amigrate import op'"):
        await command.upgrade(env.config, "head")


async def test_an_env_py_written_for_alembic_gets_a_hint(
    env: MigrationEnv, backend: Backend
) -> None:
    pytest.importorskip("alembic")
    env.write_file(
        "migrations/env.py",
        "from alembic import context\n\nconfig = context.config\n",
    )
    with pytest.raises(ScriptError, match="from amigrate import context, op"):
        await command.upgrade(env.config, "head")


async def test_a_broken_models_module_is_named_with_the_import_line(
    env: MigrationEnv, backend: Backend
) -> None:
    env.write_config(prepend_sys_path="%(here)s")
    env.write_file("broken_models_abc.py", "import sqlalchemy as sa\n\nx = undefined_name\n")
    env.write_file("migrations/env.py", "from amigrate import context\nimport broken_models_abc\n")
    with pytest.raises(ScriptError) as failed:
        await command.upgrade(env.config, "head")
    text = str(failed.value)
    assert "broken_models_abc.py:3: failed to load: NameError" in text
    assert "imported at" in text and "env.py:2" in text


@pytest.mark.parametrize("driver", ["async", "sync"])
async def test_a_version_row_gone_mid_run_stops_the_run(
    env: MigrationEnv, backend: Backend, driver: str
) -> None:
    """Each step's UPDATE must move exactly one row; one that moves none is someone else's run."""
    env.write_config(sqlalchemy_url=backend.async_url if driver == "async" else backend.sync_url)
    env.add_revision("a1", upgrade='op.create_table("t", sa.Column("id", sa.Integer))')
    env.add_revision(
        "b2",
        "a1",
        upgrade="""
        op.create_table("u", sa.Column("id", sa.Integer))
        op.execute("DELETE FROM alembic_version")
        """,
    )
    with pytest.raises(MigrationFailedError, match="has no row 'a1' to update"):
        await command.upgrade(env.config, "head")
    assert await env.tables() == {"alembic_version", "t"}
    assert await env.version_rows() == ["a1"]


@pytest.mark.parametrize(
    "first",
    [
        'op.create_table("c", sa.Column("p_id", sa.Integer, sa.ForeignKey("p.id", **deferred)))',
        'op.execute("CREATE TABLE c (p_id INTEGER REFERENCES p DEFERRABLE INITIALLY DEFERRED)")',
    ],
    ids=["ddl-first", "statement-first"],
)
async def test_a_failing_commit_names_the_revision(
    env: MigrationEnv, backend: Backend, first: str
) -> None:
    """A deferred constraint fails at COMMIT: after the script ran, still the revision's failure.

    On asyncpg the COMMIT goes with the version row when the revision's DDL began the
    transaction ("ddl-first"), and alone otherwise; both say the same.
    """
    if backend.name != "postgresql":
        pytest.skip("deferred constraints need foreign keys enforced: PostgreSQL")
    env.add_revision(
        "a1", upgrade='op.create_table("p", sa.Column("id", sa.Integer, primary_key=True))'
    )
    path = env.add_revision(
        "b2",
        "a1",
        upgrade=f"""
        deferred = dict(deferrable=True, initially="DEFERRED")
        {first}
        op.execute("INSERT INTO c VALUES (42)")
        """,
    )
    with pytest.raises(MigrationFailedError) as failed:
        await command.upgrade(env.config, "head")
    text = str(failed.value)
    assert text.startswith(f"{path}: upgrade of revision b2 failed: ForeignKeyViolationError")
    assert text.endswith("(its changes were rolled back)")
    assert await env.version_rows() == ["a1"]
    assert await env.tables() == {"alembic_version", "p"}
