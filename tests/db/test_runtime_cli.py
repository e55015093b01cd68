"""The runtime through the real CLI: logs, --sql, and bad input as one line each."""

from __future__ import annotations

import re

import pytest
from _envfactory import Backend, MigrationEnv

TABLE = "op.create_table('account', sa.Column('id', sa.Integer, primary_key=True))"


def one_line_error(result, *fragments: str) -> None:
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("amigrate: error:")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in errors[0]


def test_upgrade_logs_each_step_with_its_time(env: MigrationEnv, backend: Backend) -> None:
    env.add_revision("a1", message="create account", upgrade=TABLE)
    env.add_revision("b2", "a1", message="nothing")
    result = env.run("upgrade", "head", check=True)
    assert result.stdout == ""
    assert re.search(r"Running upgrade  -> a1, create account \(\d+ ms\)", result.stderr)
    assert re.search(r"Running upgrade a1 -> b2, nothing \(\d+ ms\)", result.stderr)
    current = env.run("current", check=True)
    assert current.stdout == "b2 (head)\n"
    history = env.run("history", "-i", check=True)
    assert history.stdout.splitlines()[0] == "a1 -> b2 (head) (current), nothing"
    assert env.run("history", "-r", "current:", check=True).stdout.startswith("a1 -> b2")
    env.run("downgrade", "base", check=True)
    assert env.run("current", check=True).stdout == ""


def test_check_heads_exit_code(env: MigrationEnv, backend: Backend) -> None:
    env.add_revision("a1", upgrade=TABLE)
    env.add_revision("b2", "a1")
    env.run("upgrade", "a1", check=True)
    one_line_error(env.run("current", "--check-heads"), "not at the head revision(s) b2")
    env.run("upgrade", "head", check=True)
    assert env.run("current", "--check-heads").returncode == 0


async def test_unknown_target(env: MigrationEnv, backend: Backend) -> None:
    env.add_revision("a1", upgrade=TABLE)
    one_line_error(env.run("upgrade", "zz9"), "no revision matches 'zz9'")
    assert await env.tables() == set()


@pytest.mark.parametrize(
    "command",
    [["upgrade", "zz9"], ["downgrade", "zz9"], ["stamp", "zz9"], ["upgrade", "a1@zz9"]],
    ids=" ".join,
)
def test_a_wrong_target_creates_no_sqlite_file(env: MigrationEnv, command: list[str]) -> None:
    """The target is checked before connecting: SQLite would create the file on connect."""
    database = env.root / "app.db"
    env.write_config(sqlalchemy_url="sqlite+aiosqlite:///%(here)s/app.db")
    env.add_revision("a1", upgrade=TABLE)
    one_line_error(env.run(*command), "zz9")
    assert not database.exists()


async def test_downgrade_above_current(env: MigrationEnv, backend: Backend) -> None:
    env.add_revision("a1", upgrade=TABLE)
    env.add_revision("b2", "a1")
    env.run("upgrade", "a1", check=True)
    one_line_error(env.run("downgrade", "b2"))
    assert await env.version_rows() == ["a1"]


def test_sql_without_a_range(env: MigrationEnv) -> None:
    env.add_revision("a1", upgrade=TABLE)
    env.write_config(sqlalchemy_url="postgresql://app:s3cret@db.invalid/app")
    one_line_error(env.run("downgrade", "base", "--sql"), "needs a range START:END")


def test_sql_needs_no_database(env: MigrationEnv) -> None:
    env.add_revision("a1", upgrade=TABLE)
    env.write_config(sqlalchemy_url="postgresql://app:s3cret@db.invalid/app")
    result = env.run("upgrade", "head", "--sql", check=True)
    assert "CREATE TABLE account" in result.stdout
    assert "INSERT INTO alembic_version (version_num) VALUES ('a1')" in result.stdout


ASYNC_OFFLINE_HOOK = """
import asyncio
from amigrate import context


async def run_migrations_offline():
    await asyncio.sleep(0)  # needs a running event loop
    context.configure(url=context.config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
"""

WORK_AT_IMPORT = """
import asyncio
from amigrate import context


def offline():
    context.configure(url=context.config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


async def online():
    raise AssertionError("--sql must not run the online branch")


if context.is_offline_mode():
    offline()
else:
    asyncio.run(online())
"""


@pytest.mark.parametrize("env_py", [ASYNC_OFFLINE_HOOK, WORK_AT_IMPORT], ids=["async", "legacy"])
def test_sql_through_other_env_py_forms(env: MigrationEnv, env_py: str) -> None:
    """The CLI writes SQL with no event loop of its own; an async hook gets one."""
    env.write_file("migrations/env.py", env_py)
    env.add_revision("a1", upgrade=TABLE)
    env.write_config(sqlalchemy_url="postgresql://app:s3cret@db.invalid/app")
    result = env.run("upgrade", "head", "--sql", check=True)
    assert "CREATE TABLE account" in result.stdout
    assert "INSERT INTO alembic_version (version_num) VALUES ('a1')" in result.stdout
    assert re.search(r"Running upgrade  -> a1, revision a1 \(\d+ ms\)", result.stderr)


def test_unreachable_database_masks_the_password(env: MigrationEnv) -> None:
    env.add_revision("a1", upgrade=TABLE)
    env.write_config(sqlalchemy_url="postgresql+asyncpg://app:s3cret@127.0.0.1:9/app")
    result = env.run("upgrade", "head")
    one_line_error(result, "cannot connect to postgresql+asyncpg://app:***@127.0.0.1:9/app")
    assert "s3cret" not in result.stderr


async def test_env_py_that_raises(env: MigrationEnv, backend: Backend) -> None:
    env.use_template("async")
    env.write_file(
        "migrations/env.py",
        (env.script_dir / "env.py").read_text() + "\nraise ImportError('no module models')\n",
    )
    env.add_revision("a1", upgrade=TABLE)
    one_line_error(env.run("upgrade", "head"), "env.py:", "ImportError: no module models")
    assert await env.tables() == set()


async def test_failing_revision_names_script_line(env: MigrationEnv, backend: Backend) -> None:
    env.add_revision("a1", upgrade=TABLE)
    path = env.add_revision("b2", "a1", upgrade="op.execute('SELECT * FROM missing_table')")
    result = env.run("upgrade", "head")
    one_line_error(result, f"{path}:", "upgrade of revision b2 failed", "missing_table")
    assert await env.version_rows() == ["a1"]


def test_history_ranges_relative_to_current(env: MigrationEnv, backend: Backend) -> None:
    for rev, down in [("a1", None), ("b2", "a1"), ("c3", "b2"), ("d4", "c3")]:
        env.add_revision(rev, down)
    env.run("upgrade", "c3", check=True)

    def shown(rev_range: str) -> list[str]:
        out = env.run("history", "-r", rev_range, check=True).stdout
        return [line.split(" -> ")[1].split()[0].rstrip(",") for line in out.splitlines()]

    assert shown("current:") == ["d4", "c3"]
    assert shown(":current") == ["c3", "b2", "a1"]
    assert shown("-1:current") == ["c3", "b2"]
    assert shown("current:+1") == ["d4", "c3"]


async def test_revisions_run_with_the_garbage_collector_on(
    env: MigrationEnv, backend: Backend
) -> None:
    # the program starts with the collector off; a data migration must still get it
    env.add_revision(
        "a1",
        upgrade="""
        import gc

        op.create_table(f"gc_enabled_{int(gc.isenabled())}", sa.Column("id", sa.Integer))
        """,
    )
    env.run("upgrade", "head", check=True)
    assert "gc_enabled_1" in await env.tables()
