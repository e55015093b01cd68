"""Bad tenant input: one clear line each, and the other targets carry on."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from amigrate import command
from amigrate.aio import fanout
from amigrate.aio.fanout import Target
from amigrate.errors import ConfigError, MultiDatabaseError

if TYPE_CHECKING:
    from pathlib import Path

    from _envfactory import Backend, MigrationEnv
    from _pgserver import PostgresServer

TABLE = "op.create_table('account', sa.Column('id', sa.Integer, primary_key=True))"
UNREACHABLE = "postgresql+asyncpg://nobody:s3cret@127.0.0.1:1/nowhere"


def sqlite_urls(directory: Path, count: int) -> list[str]:
    return [f"sqlite+aiosqlite:///{directory / f'tenant{n}.db'}" for n in range(count)]


async def tables(url: str) -> set[str]:
    from _envfactory import Backend

    return await Backend("sqlite", url, url).tables()


def error_lines(stderr: str) -> list[str]:
    lines = stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("amigrate: error:"))
    return lines[start:]


async def test_a_url_that_cannot_connect(env: MigrationEnv, tmp_path: Path) -> None:
    env.add_revision("a1", upgrade=TABLE)
    good = sqlite_urls(tmp_path, 2)
    listing = env.write_file("tenants.txt", f"# tenants\n{good[0]}\n{UNREACHABLE}\n\n{good[1]}\n")
    result = env.run("upgrade", "head", "--url-file", str(listing), "--json")
    assert result.returncode == 1
    errors = error_lines(result.stderr)
    assert errors[0] == "amigrate: error: 1 database(s) failed:"
    assert len(errors) == 2 and "cannot connect to postgresql+asyncpg://nobody:***@" in errors[1]
    assert "s3cret" not in result.stderr + result.stdout
    data = json.loads(result.stdout)
    assert [t["status"] for t in data["targets"]] == ["ok", "failed", "ok"]
    assert data["summary"] == {"total": 3, "ok": 2, "failed": 1, "cancelled": 0}
    assert [await tables(url) for url in good] == [{"account", "alembic_version"}] * 2


async def test_the_config_key_names_the_url_file(env: MigrationEnv, tmp_path: Path) -> None:
    env.add_revision("a1", upgrade=TABLE)
    urls = sqlite_urls(tmp_path, 3)
    env.write_file("tenants.txt", "\n".join(urls))
    env.write_config(tenant_url_file="tenants.txt")
    result = env.run("upgrade", "head", "--shard", "0/1", check=True)
    rows = result.stdout.splitlines()
    assert rows[0].split() == ["target", "status", "from", "to", "steps", "seconds"]
    assert [row.split()[1:5] for row in rows[1:4]] == [["ok", "<base>", "a1", "1"]] * 3
    assert rows[-1] == "3 of 3 target(s) ok"
    assert env.run("current", check=True).stdout.count(": a1\n") == 3


async def test_a_schema_that_does_not_exist(
    env: MigrationEnv, postgres_server: PostgresServer
) -> None:
    from conftest import fresh_postgres_database
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    with fresh_postgres_database(postgres_server) as backend:
        env.write_config(sqlalchemy_url=backend.async_url.replace("%", "%%"))
        engine = create_async_engine(backend.async_url)
        async with engine.begin() as connection:
            await connection.execute(text("CREATE SCHEMA acme"))
        await engine.dispose()
        await schema_run(env, backend)


async def schema_run(env: MigrationEnv, backend: Backend) -> None:
    env.add_revision("a1", upgrade=TABLE)
    result = env.run("upgrade", "head", "--schema", "acme", "--schema", "globex")
    assert result.returncode == 1
    errors = error_lines(result.stderr)
    assert errors[1].strip().startswith("globex: schema 'globex' does not exist in postgresql")
    assert "CREATE SCHEMA" in errors[1]
    assert "acme" in result.stdout and "ok" in result.stdout
    assert await backend.tables() == set()  # public untouched
    current = env.run("current", "--schema", "acme", check=True)
    assert current.stdout == "acme: a1\n"


def test_bad_shard_specs(env: MigrationEnv) -> None:
    result = env.run("upgrade", "head", "--schema", "x", "--shard", "3/2")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "amigrate: error: --shard 3/2: the index must be below the count "
        "(shards are numbered from 0) (use 0/2 to 1/2)"
    ]
    other = 1 - fanout.shard_of(Target(schema="x"), 2)
    empty = env.run("upgrade", "head", "--schema", "x", "--shard", f"{other}/2", check=True)
    assert empty.stdout.splitlines()[-1] == "0 of 0 target(s) ok"  # nothing in this slice
    for spec in ("1", "a/b", "0/0", "-1/2"):
        with pytest.raises(ConfigError, match="--shard"):
            fanout.parse_shard(spec)
    assert fanout.parse_shard(" 2/5 ") == (2, 5)


def test_shards_are_disjoint_cover_everything_and_are_stable() -> None:
    targets = [Target(url=f"postgresql://app:pw{n}@db/t{n}") for n in range(1000)]
    slices = [fanout.shard(targets, index, 7) for index in range(7)]
    assert sorted(t.url or "" for s in slices for t in s) == sorted(t.url or "" for t in targets)
    assert all(60 < len(s) < 230 for s in slices)  # roughly even
    moved = Target(url="postgresql://app:other@db/t5")  # a new password moves nothing
    assert fanout.shard_of(moved, 7) == fanout.shard_of(targets[5], 7)
    assert fanout.shard_of(Target(schema="acme"), 4) == 3  # pinned: the same on every machine


async def test_fail_fast_cancels_the_rest(env: MigrationEnv, tmp_path: Path) -> None:
    env.add_revision("a1", upgrade=TABLE)
    urls = [UNREACHABLE, *sqlite_urls(tmp_path, 2)]
    targets = [Target(url=url) for url in urls]
    with pytest.raises(MultiDatabaseError) as raised:
        await command.upgrade_many(env.config, "head", targets=targets, jobs=1, fail_fast=True)
    assert [r.status for r in raised.value.results] == ["failed", "cancelled", "cancelled"]
    assert list(raised.value.failures) == ["postgresql+asyncpg://nobody:***@127.0.0.1:1/nowhere"]
    assert [await tables(url) for url in urls[1:]] == [set(), set()]


async def test_jobs_must_be_positive(env: MigrationEnv, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--jobs must be at least 1"):
        await command.upgrade_many(env.config, targets=[Target(url="sqlite://")], jobs=0)


async def test_env_py_runs_with_the_garbage_collector_on_over_many_tenants(
    env: MigrationEnv, tmp_path: Path
) -> None:
    # the program starts with the collector off; hundreds of tenants' connections need it
    env.use_template("async")
    env_py = env.root / "migrations" / "env.py"
    record = (
        "import gc, pathlib\npathlib.Path(__file__).with_name(f'gc_{gc.isenabled()}').touch()\n"
    )
    env_py.write_text(record + env_py.read_text())
    env.add_revision("a1", upgrade=TABLE)
    listing = env.write_file("tenants.txt", "\n".join(sqlite_urls(tmp_path, 10)))
    result = env.run("stamp", "head", "--url-file", str(listing))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in env_py.parent.glob("gc_*")) == ["gc_True"]
