"""Shared fixtures: databases on both backends, migration projects, async tests.

- ``backend``: a fresh, empty database per test, once on SQLite and once on PostgreSQL
  (test ids ``[sqlite]`` / ``[postgresql]``; PostgreSQL tests carry the ``postgresql`` mark,
  so ``-m "not postgresql"`` skips them).
- ``postgres_server``: the session's PostgreSQL server, started on first use (tests/_pgserver.py;
  ``AMIGRATE_TEST_POSTGRES_URL`` points at an existing server instead).
- ``env``: a ``MigrationEnv`` project in ``tmp_path / "proj"``, bound to ``backend`` when the
  test uses it (tests/_envfactory.py).
- ``async def`` tests run on asyncio through anyio's pytest plugin; no mark needed.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import uuid
from typing import TYPE_CHECKING

import pytest
from _envfactory import Backend, MigrationEnv
from _pgserver import ENV_VAR, PostgresServer, mask

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterator
    from pathlib import Path

__all__ = ["Backend", "MigrationEnv", "fresh_postgres_database", "fresh_sqlite_database"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgresql: needs the test PostgreSQL server")


@pytest.hookimpl(wrapper=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Generator[None, object, object]:
    """Mark every ``async def`` test for anyio, before anyio's own hook looks for the mark."""
    if collector.istestfunction(obj, name):
        function = getattr(getattr(obj, "hypothesis", None), "inner_test", obj)
        if inspect.iscoroutinefunction(function):
            pytest.mark.anyio(obj)
    return (yield)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that ask for the server directly are ``postgresql`` tests too."""
    for item in items:
        if "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgresql)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


# -- databases ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (started on first use, stopped at the end)."""
    server = PostgresServer.from_environment()
    try:
        yield server.start()
    finally:
        server.stop()


@contextlib.contextmanager
def fresh_postgres_database(server: PostgresServer) -> Iterator[Backend]:
    """A new database ``t_<hex>`` on ``server``, dropped (WITH FORCE) on exit."""
    name = f"t_{uuid.uuid4().hex}"
    server.create_database(name)
    try:
        yield Backend(
            "postgresql", server.url_for(name, "asyncpg"), server.url_for(name, "psycopg")
        )
    finally:
        server.drop_database(name)


@contextlib.contextmanager
def fresh_sqlite_database(directory: Path) -> Iterator[Backend]:
    """A new SQLite file in ``directory`` (created on first connect)."""
    path = directory / f"db_{uuid.uuid4().hex[:8]}.sqlite"
    yield Backend("sqlite", f"sqlite+aiosqlite:///{path}", f"sqlite:///{path}")


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
    ]
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """A fresh, empty database for this test, on each backend in turn."""
    if request.param == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        database = fresh_postgres_database(server)
    else:
        database = fresh_sqlite_database(tmp_path)
    with database as fresh:
        yield fresh


@pytest.fixture
def second_backend(
    backend: Backend, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Backend]:
    """Another fresh database on the same backend as ``backend``."""
    if backend.name == "postgresql":
        database = fresh_postgres_database(request.getfixturevalue("postgres_server"))
    else:
        database = fresh_sqlite_database(tmp_path)
    with database as fresh:
        yield fresh


# -- migration projects ---------------------------------------------------------------------


@pytest.fixture
def env(request: pytest.FixtureRequest, tmp_path: Path) -> MigrationEnv:
    """A migration project with amigrate.ini written (bound to ``backend`` if the test uses it)."""
    bound = request.getfixturevalue("backend") if "backend" in request.fixturenames else None
    project = MigrationEnv(tmp_path / "proj", backend=bound)
    project.write_config()
    return project


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get(ENV_VAR)
    where = f"{ENV_VAR}={mask(url)}" if url else "a throwaway server, started on first use"
    return f"amigrate PostgreSQL tests: {where}"


@pytest.fixture
def cli(
    env: MigrationEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """Run amigrate in-process in the ``env`` project root; returns (exit code, stdout, stderr)."""
    from amigrate.cli import main

    monkeypatch.chdir(env.root)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
