"""The database fixtures are real: fresh databases, reachable through both drivers."""

from __future__ import annotations

import ast
import configparser
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from _envfactory import Backend, MigrationEnv, sync_connection
from conftest import fresh_postgres_database
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from _pgserver import PostgresServer


async def create_table_async(url: str, name: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY)"))
    finally:
        await engine.dispose()


async def test_table_created_through_async_url_is_seen(backend: Backend) -> None:
    await create_table_async(backend.async_url, "widget")

    assert await backend.tables() == {"widget"}


@pytest.mark.parametrize("turn", ["first", "second"])
async def test_each_test_gets_an_empty_database(backend: Backend, turn: str) -> None:
    assert await backend.tables() == set()

    await create_table_async(backend.async_url, "leftover")  # must not reach the other turn


def test_sync_url_works(backend: Backend) -> None:
    with sync_connection(backend.sync_url, begin=True) as conn:
        conn.execute(sa.text("CREATE TABLE gadget (id INTEGER PRIMARY KEY)"))
        assert conn.execute(sa.text("SELECT count(*) FROM gadget")).scalar_one() == 0


async def test_sync_and_async_urls_reach_the_same_database(backend: Backend) -> None:
    with sync_connection(backend.sync_url, begin=True) as conn:
        conn.execute(sa.text("CREATE TABLE gadget (id INTEGER PRIMARY KEY)"))

    assert await backend.tables() == {"gadget"}


def test_urls_name_the_expected_drivers(backend: Backend) -> None:
    async_driver = sa.make_url(backend.async_url).drivername
    sync_driver = sa.make_url(backend.sync_url).drivername

    assert (async_driver, sync_driver) in {
        ("sqlite+aiosqlite", "sqlite"),
        ("postgresql+asyncpg", "postgresql+psycopg"),
    }
    assert async_driver.startswith(backend.name)


async def test_version_rows_are_sorted_and_empty_without_the_table(backend: Backend) -> None:
    assert await backend.version_rows() == []

    engine = create_async_engine(backend.async_url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
            )
            await conn.execute(
                sa.text("INSERT INTO alembic_version VALUES ('b2'), ('a1')"),
            )
    finally:
        await engine.dispose()

    assert await backend.version_rows() == ["a1", "b2"]
    assert await backend.version_rows("other_version") == []
    assert await backend.tables() == {"alembic_version"}


async def test_postgres_server_is_at_least_version_12(postgres_server: PostgresServer) -> None:
    engine = create_async_engine(postgres_server.url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            version = (await conn.execute(sa.text("SHOW server_version_num"))).scalar_one()
    finally:
        await engine.dispose()

    assert int(version) >= 120000


def test_postgres_database_is_dropped_afterwards(postgres_server: PostgresServer) -> None:
    with fresh_postgres_database(postgres_server) as fresh:
        name = sa.make_url(fresh.sync_url).database
        assert name is not None
        assert postgres_server.database_exists(name)
        engine = sa.create_engine(fresh.sync_url, poolclass=NullPool)
        conn = engine.connect()  # an open session must not stop the drop

    try:
        assert not postgres_server.database_exists(name)
    finally:
        conn.invalidate()
        engine.dispose()


def test_backend_repr_masks_the_password() -> None:
    backend = Backend(
        "postgresql",
        "postgresql+asyncpg://scott:tiger@db.example/app",
        "postgresql+psycopg://scott:tiger@db.example/app",
    )

    assert "tiger" not in repr(backend)
    assert "scott" in repr(backend)


async def test_env_is_bound_to_the_backend(env: MigrationEnv, backend: Backend) -> None:
    config = configparser.ConfigParser(defaults={"here": str(env.root)})
    config.read(env.config_path)

    assert config.get("amigrate", "script_location") == str(env.script_dir)
    same_url = config.get("amigrate", "sqlalchemy.url") == backend.async_url
    assert same_url, "sqlalchemy.url is not the backend's URL"  # (no URL in the message)
    assert env.versions.is_dir()
    assert await env.tables() == set()
    assert await env.version_rows() == []


def test_revision_files_have_the_documented_shape(env: MigrationEnv) -> None:
    path = env.add_revision(
        "c3",
        ("a1", "b2"),
        message="merge heads",
        branch_labels="main",
        upgrade="""
            op.create_table("t", sa.Column("id", sa.Integer))
            op.execute("SELECT 1")
        """,
    )

    text = path.read_text()
    tree = ast.parse(text)
    assigned = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    assert path == env.versions / "c3_merge_heads.py"
    assert assigned == {
        "revision": "c3",
        "down_revision": ("a1", "b2"),
        "branch_labels": "main",
        "depends_on": None,
    }
    assert ast.get_docstring(tree) == "merge heads\n\nRevision ID: c3\nRevises: a1, b2"
    assert '    op.create_table("t", sa.Column("id", sa.Integer))\n    op.execute(' in text
