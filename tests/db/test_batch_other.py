"""Batch mode where ALTER TABLE can do the work (PostgreSQL): the recorded ops, in order.

No table is recreated: each recorded operation is replayed through the ordinary
``Operations`` method, so the batch emits exactly what the same ``op.*`` calls would.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from _envfactory import Backend, MigrationEnv, sync_connection

from amigrate import command
from amigrate.errors import MigrationFailedError, UnsupportedOperationError

POSTGRESQL = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)

SETUP = """
op.create_table(
    "account",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50), nullable=False),
    sa.Column("legacy", sa.String(10)),
)
op.create_index("ix_account_legacy", "account", ["legacy"])
op.execute("INSERT INTO account (id, name, legacy) VALUES (1, 'ann', 'x'), (2, 'bob', 'y')")
"""


def inspect(backend: Backend, table: str) -> dict[str, object]:
    with sync_connection(backend.sync_url) as connection:
        inspector = sa.inspect(connection)
        return {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ],
            "indexes": sorted(
                (ix["name"], tuple(ix["column_names"]), bool(ix["unique"]))
                for ix in inspector.get_indexes(table)
            ),
            "rows": [
                tuple(r) for r in connection.exec_driver_sql(f"SELECT * FROM {table} ORDER BY 1")
            ],
            "tables": sorted(inspector.get_table_names()),
        }


@POSTGRESQL
async def test_batch_runs_as_plain_alters(env: MigrationEnv, backend: Backend):
    env.add_revision("a1", upgrade=SETUP)
    env.add_revision(
        "b2",
        "a1",
        upgrade="""
        with op.batch_alter_table("account") as batch_op:
            batch_op.drop_index("ix_account_legacy")
            batch_op.drop_column("legacy")
            batch_op.add_column(sa.Column("email", sa.String(100)), insert_before="name")
            batch_op.create_index("ux_account_email", ["email"], unique=True)
            batch_op.execute("UPDATE account SET email = name || '@example.com'")
        """,
    )
    await command.upgrade(env.config, "head")
    schema = inspect(backend, "account")
    assert schema["columns"] == [
        ("id", "INTEGER", False),
        ("name", "VARCHAR(50)", False),
        ("email", "VARCHAR(100)", True),  # ALTER TABLE ADD COLUMN appends; no recreate
    ]
    assert schema["indexes"] == [("ux_account_email", ("email",), True)]
    assert schema["rows"] == [(1, "ann", "ann@example.com"), (2, "bob", "bob@example.com")]
    assert schema["tables"] == ["account", "alembic_version"]


@POSTGRESQL
async def test_a_failing_batch_rolls_back_with_its_revision(env: MigrationEnv, backend: Backend):
    env.add_revision("a1", upgrade=SETUP)
    env.add_revision(
        "b2",
        "a1",
        upgrade="""
        with op.batch_alter_table("account") as batch_op:
            batch_op.drop_column("legacy")
            batch_op.drop_column("nope")
        """,
    )
    await command.upgrade(env.config, "a1")
    before = inspect(backend, "account")
    with pytest.raises(MigrationFailedError, match="b2"):
        await command.upgrade(env.config, "head")
    assert inspect(backend, "account") == before
    assert await env.version_rows() == ["a1"]


@POSTGRESQL
async def test_recreating_is_for_sqlite_only(env: MigrationEnv, backend: Backend):
    env.add_revision("a1", upgrade=SETUP)
    env.add_revision(
        "b2",
        "a1",
        upgrade="""
        with op.batch_alter_table("account", recreate="always") as batch_op:
            batch_op.drop_column("legacy")
        """,
    )
    with pytest.raises(MigrationFailedError, match="recreates tables on SQLite only") as caught:
        await command.upgrade(env.config, "head")
    assert isinstance(caught.value.__cause__, UnsupportedOperationError)
    assert await env.version_rows() == ["a1"]


ALTER = """
with op.batch_alter_table("account") as batch_op:
    batch_op.alter_column("name", new_column_name="full_name", type_=sa.String(80))
    batch_op.alter_column("legacy", nullable=False, existing_type=sa.String(10))
"""


@POSTGRESQL
async def test_alter_column_replays_as_alter_column(env: MigrationEnv, backend: Backend):
    env.add_revision("a1", upgrade=SETUP)
    env.add_revision("b2", "a1", upgrade=ALTER)
    await command.upgrade(env.config, "head")
    assert inspect(backend, "account")["columns"] == [
        ("id", "INTEGER", False),
        ("full_name", "VARCHAR(80)", False),
        ("legacy", "VARCHAR(10)", False),
    ]


@POSTGRESQL
async def test_constraints_and_comments_replay_as_alters(env: MigrationEnv, backend: Backend):
    env.add_revision(
        "a1",
        upgrade=SETUP + "op.create_table('team', sa.Column('id', sa.Integer, primary_key=True))",
    )
    env.add_revision(
        "b2",
        "a1",
        upgrade="""
        with op.batch_alter_table("account") as batch_op:
            batch_op.add_column(sa.Column("team_id", sa.Integer))
            batch_op.create_foreign_key("fk_account_team", "team", ["team_id"], ["id"])
            batch_op.create_unique_constraint("uq_account_name", ["name"])
            batch_op.create_check_constraint("ck_account_name", "length(name) > 1")
            batch_op.create_table_comment("people")
        with op.batch_alter_table("account") as batch_op:
            batch_op.drop_constraint("uq_account_name", type_="unique")
        """,
    )
    await command.upgrade(env.config, "head")
    with sync_connection(backend.sync_url) as connection:
        inspector = sa.inspect(connection)
        fks = inspector.get_foreign_keys("account")
        assert [(fk["name"], fk["referred_table"]) for fk in fks] == [("fk_account_team", "team")]
        assert inspector.get_unique_constraints("account") == []
        checks = inspector.get_check_constraints("account")
        assert [c["name"] for c in checks] == ["ck_account_name"]
        assert inspector.get_table_comment("account")["text"] == "people"
