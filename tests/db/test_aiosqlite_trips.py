"""On aiosqlite, each statement takes one trip to the driver's thread, and still answers as before.

The trips are counted on SQLite only; what statements inside a revision see (rows, row
counts, new ids, ``op.run_async``) is checked on both backends, which must agree.
"""

from __future__ import annotations

import pytest
from _envfactory import Backend, MigrationEnv, sync_connection

from amigrate import command

_OBSERVE = """
    op.create_table(
        "t", sa.Column("id", sa.Integer, primary_key=True), sa.Column("n", sa.Integer)
    )
    t = sa.Table(
        "t",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("n", sa.Integer),
    )
    op.bulk_insert(t, [{"n": 1}, {"n": 2}, {"n": 3}])
    bind = op.get_bind()
    new_id = bind.execute(t.insert().values(n=4)).inserted_primary_key[0]
    updated = bind.execute(sa.text("UPDATE t SET n = n + 10 WHERE n < 3")).rowcount
    rows = [tuple(row) for row in bind.execute(sa.text("SELECT id, n FROM t ORDER BY id"))]
    first = bind.execute(sa.text("SELECT n FROM t ORDER BY id")).scalar()
    nothing = bind.execute(sa.text("SELECT n FROM t WHERE n > 100")).all()

    async def count(connection):
        result = await connection.execute(sa.text("SELECT count(*) FROM t"))
        return result.scalar_one()

    counted = op.run_async(count)
    op.create_table("seen", sa.Column("what", sa.Text))
    seen = repr((new_id, updated, rows, first, nothing, counted))
    op.bulk_insert(sa.table("seen", sa.column("what")), [{"what": seen}])
"""


async def test_statements_in_a_revision_see_rows_counts_and_new_ids(
    env: MigrationEnv, backend: Backend
) -> None:
    env.add_revision("a1", upgrade=_OBSERVE)
    await command.upgrade(env.config, "head")
    with sync_connection(backend.sync_url) as connection:
        seen = connection.exec_driver_sql("SELECT what FROM seen").scalars().all()
    assert seen == ["(4, 2, [(1, 11), (2, 12), (3, 3), (4, 4)], 11, [], 4)"]
    assert await env.version_rows() == ["a1"]


async def test_a_revision_takes_five_trips(
    env: MigrationEnv, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write lock with its settings, the version re-read, the DDL, the version row, COMMIT."""
    if backend.name != "sqlite":
        pytest.skip("aiosqlite only")
    import aiosqlite

    trips = 0
    execute = aiosqlite.Connection._execute

    async def counting(
        self: aiosqlite.Connection, fn: object, *args: object, **kw: object
    ) -> object:
        nonlocal trips
        trips += 1
        return await execute(self, fn, *args, **kw)

    async def trips_to(target: str) -> int:
        nonlocal trips
        trips = 0
        await command.upgrade(env.config, target)
        return trips

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    down = None
    for rev, table in (("a1", "t1"), ("b2", "t2"), ("c3", "t3"), ("d4", "t4")):
        env.add_revision(
            rev, down, upgrade=f'op.create_table("{table}", sa.Column("id", sa.Integer))'
        )
        down = rev
    await command.upgrade(env.config, "a1")
    one_revision = await trips_to("b2")
    two_revisions = await trips_to("d4")
    assert await env.version_rows() == ["d4"]
    assert await env.tables() == {"alembic_version", "t1", "t2", "t3", "t4"}
    assert two_revisions - one_revision == 5  # twelve before
