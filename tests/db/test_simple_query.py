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


async def test_a_revision_takes_two_round_trips(
    postgres_env: MigrationEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``BEGIN`` goes with the revision's first statement, ``COMMIT`` with its version row."""
    import asyncpg

    env = postgres_env
    env.add_revision("a1", upgrade='op.create_table("t1", sa.Column("id", sa.Integer))')
    env.add_revision("b2", "a1", upgrade='op.create_table("t2", sa.Column("id", sa.Integer))')
    sent: list[str] = []
    execute = asyncpg.Connection.execute

    async def recording(self: asyncpg.Connection, query: str, *args: object, **kw: object) -> str:
        sent.append(" ".join(query.split()))
        return await execute(self, query, *args, **kw)

    monkeypatch.setattr(asyncpg.Connection, "execute", recording)
    await command.upgrade(env.config, "head")
    assert await env.version_rows() == ["b2"]
    assert await env.tables() == {"alembic_version", "t1", "t2"}
    start = next(i for i, text in enumerate(sent) if "CREATE TABLE t2" in text)
    assert sent[start : start + 2] == [
        "BEGIN; CREATE TABLE t2 ( id INTEGER )",
        "WITH touched AS (UPDATE alembic_version SET version_num='b2' "
        "WHERE alembic_version.version_num = 'a1' RETURNING 1) "
        "SELECT 1 / count(*) FROM touched; COMMIT",
    ]


@pytest.mark.parametrize(
    ("body", "driver_message", "statement"),
    [
        (  # the first: its BEGIN went in the same round trip
            """
            op.add_column("missing", sa.Column("n", sa.Integer))
            op.create_table("u", sa.Column("id", sa.Integer))
            """,
            'relation "missing" does not exist',
            "ALTER TABLE missing ADD COLUMN n INTEGER",
        ),
        (  # a later one
            """
            op.create_table("u", sa.Column("id", sa.Integer))
            op.add_column("t", sa.Column("id", sa.Integer))
            """,
            'column "id" of relation "t" already exists',
            "ALTER TABLE t ADD COLUMN id INTEGER",
        ),
    ],
    ids=["first", "later"],
)
async def test_a_failing_statement_is_reported_and_rolled_back(
    postgres_env: MigrationEnv, body: str, driver_message: str, statement: str
) -> None:
    env = postgres_env
    path = env.add_revision("a1", upgrade='op.create_table("t", sa.Column("id", sa.Integer))')
    env.add_revision("b2", "a1", upgrade=body)
    with pytest.raises(MigrationFailedError) as failed:
        await command.upgrade(env.config, "head")
    text = str(failed.value)
    assert driver_message in text
    assert statement in text
    assert "BEGIN" not in text
    assert f"{path.parent / 'b2_revision_b2.py'}:" in text
    assert await env.version_rows() == ["a1"]
    assert await env.tables() == {"alembic_version", "t"}
    env.add_revision("b2", "a1", upgrade='op.create_table("u", sa.Column("id", sa.Integer))')
    await command.upgrade(env.config, "head")  # the next run starts clean
    assert await env.version_rows() == ["b2"]


async def test_the_configured_isolation_level_holds_for_a_revision(
    postgres_env: MigrationEnv, backend: Backend
) -> None:
    env = postgres_env
    env.write_config(sqlalchemy_isolation_level="SERIALIZABLE")
    env.add_revision("a1")  # b2's transaction then begins with its CREATE TABLE
    env.add_revision(
        "b2",
        "a1",
        upgrade="""
        op.create_table("seen", sa.Column("level", sa.Text))
        op.execute("INSERT INTO seen SELECT current_setting('transaction_isolation')")
        """,
    )
    await command.upgrade(env.config, "head")
    with sync_connection(backend.sync_url) as connection:
        levels = connection.exec_driver_sql("SELECT level FROM seen").scalars().all()
    assert levels == ["serializable"]
