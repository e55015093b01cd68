"""The multidb template: three databases upgraded, downgraded, stamped and read together."""

from __future__ import annotations

import contextlib
import io
import itertools
from typing import TYPE_CHECKING

import pytest
from _multi import NAMES, add_multidb_revision, table_code, write_multidb_config

from amigrate import command
from amigrate.errors import ConfigError, MultiDatabaseError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from _envfactory import Backend, MigrationEnv


@pytest.fixture
def databases(backend: Backend, request: pytest.FixtureRequest, tmp_path) -> Iterator[dict]:
    """Three fresh databases on ``backend``'s kind: db1 is ``backend`` itself."""
    from conftest import fresh_postgres_database, fresh_sqlite_database

    with contextlib.ExitStack() as stack:
        found = {NAMES[0]: backend}
        for name in NAMES[1:]:
            if backend.name == "postgresql":
                server = request.getfixturevalue("postgres_server")
                found[name] = stack.enter_context(fresh_postgres_database(server))
            else:
                found[name] = stack.enter_context(fresh_sqlite_database(tmp_path))
        yield found


@pytest.fixture
def multidb(env: MigrationEnv, databases: dict[str, Backend]) -> MigrationEnv:
    """A project on the multidb template: a1 and b2 give each database its own tables."""
    env.use_template("multidb")
    write_multidb_config(env, databases)
    add_multidb_revision(env, "a1", None, {n: table_code(f"{n}_a") for n in NAMES})
    add_multidb_revision(env, "b2", "a1", {n: table_code(f"{n}_b") for n in NAMES})
    return env


async def state(databases: dict[str, Backend]) -> dict[str, tuple[set[str], list[str]]]:
    return {n: (await b.tables() - {"alembic_version"}, await b.version_rows())
            for n, b in databases.items()}  # fmt: skip


async def test_upgrade_downgrade_stamp_current_on_every_database(
    multidb: MigrationEnv, databases: dict[str, Backend]
) -> None:
    steps = await command.upgrade(multidb.config, "head")
    assert len(steps) == 6
    assert await state(databases) == {n: ({f"{n}_a", f"{n}_b"}, ["b2"]) for n in NAMES}

    results = await command.current_many(multidb.config)
    assert [(r.target.name, r.after) for r in results] == [(n, ("b2",)) for n in NAMES]

    results = await command.downgrade_many(multidb.config, "-1", jobs=2)
    assert {r.target.name: (r.before, r.after, len(r.steps)) for r in results} == {
        n: (("b2",), ("a1",), 1) for n in NAMES
    }
    assert await state(databases) == {n: ({f"{n}_a"}, ["a1"]) for n in NAMES}

    assert await command.stamp(multidb.config, "head") == ("b2",)
    assert await state(databases) == {n: ({f"{n}_a"}, ["b2"]) for n in NAMES}


async def test_a_failure_leaves_the_others_at_their_own_revisions(
    multidb: MigrationEnv, databases: dict[str, Backend]
) -> None:
    bodies = {n: table_code(f"{n}_c") for n in NAMES}
    bodies["db2"] = "op.execute('SELECT * FROM no_such_table')"
    add_multidb_revision(multidb, "c3", "b2", bodies)
    with pytest.raises(MultiDatabaseError) as raised:
        await command.upgrade(multidb.config, "head")
    assert list(raised.value.failures) == ["db2"]
    assert "c3" in str(raised.value.failures["db2"])
    found = await state(databases)
    assert found["db1"] == ({"db1_a", "db1_b", "db1_c"}, ["c3"])
    assert found["db2"] == ({"db2_a", "db2_b"}, ["b2"])
    assert found["db3"] == ({"db3_a", "db3_b", "db3_c"}, ["c3"])
    by_name = {r.target.name: r for r in raised.value.results}
    assert (by_name["db2"].status, by_name["db2"].after) == ("failed", ("b2",))
    assert len(by_name["db2"].steps) == 2


def test_cli_prints_one_line_per_failed_database(
    multidb: MigrationEnv, databases: dict[str, Backend]
) -> None:
    bodies = {n: "op.execute('SELECT * FROM nope')" for n in NAMES[:2]}
    add_multidb_revision(multidb, "c3", "b2", {**bodies, "db3": "pass"})
    result = multidb.run("upgrade", "head")
    code, out, err = result.returncode, result.stdout, result.stderr
    assert code == 1
    lines = err.splitlines()
    errors = lines[lines.index("amigrate: error: 2 database(s) failed:") :]
    assert errors[0] == "amigrate: error: 2 database(s) failed:"
    assert [line.split(":")[0].strip() for line in errors[1:]] == ["db1", "db2"]
    assert "Traceback" not in err
    assert "db3" in out and "ok" in out  # the summary table

    result = multidb.run("current", "--database", "db3", "--database", "db1", check=True)
    assert result.stdout == "db3: c3\ndb1: b2\n"


def test_database_option_limits_the_run(
    multidb: MigrationEnv, databases: dict[str, Backend], cli: Callable[..., tuple]
) -> None:
    code, out, err = cli("upgrade", "a1", "--database", "db1", "--database", "db3", "--json")
    assert code == 0, err
    import json

    data = json.loads(out)
    assert [t["target"] for t in data["targets"]] == ["db1", "db3"]
    assert data["targets"][0]["to"] == ["a1"] and data["summary"]["ok"] == 2

    code, _, err = cli("upgrade", "head", "--database", "db9")
    assert code == 1
    assert "unknown database 'db9' (the config lists: db1, db2, db3)" in err


def test_sql_prints_each_database_after_the_other(multidb: MigrationEnv) -> None:
    buffer = io.StringIO()
    anyio_run(command.upgrade(multidb.config, "head", sql=True, output_buffer=buffer))
    text = buffer.getvalue()
    headers = [line for line in text.splitlines() if line.startswith("-- database:")]
    assert headers == [f"-- database: {n}" for n in NAMES]
    for first, second in itertools.pairwise(NAMES):
        assert text.index(f"{first}_b") < text.index(f"-- database: {second}")


def test_unknown_database_in_attributes_is_a_config_error(multidb: MigrationEnv) -> None:
    config = multidb.config
    config.attributes["databases"] = ["dbx"]
    with pytest.raises(ConfigError, match="unknown database 'dbx'"):
        anyio_run(command.upgrade(config, "head"))


def anyio_run(coroutine) -> object:
    import anyio

    async def wait() -> object:
        return await coroutine

    return anyio.run(wait)
