"""Graph-only commands start fast: they import no SQLAlchemy dialect, no Mako, no asyncio;
``revision`` imports Mako only for a template that is not one amigrate ships; a run on a
sync driver imports no ``sqlalchemy.ext.asyncio`` (nor, with it, the ORM).

Each command runs in a fresh interpreter through a tiny wrapper that calls
``amigrate.cli.main`` and then writes ``sorted(sys.modules)`` to a file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

if TYPE_CHECKING:
    from pathlib import Path

    from _envfactory import Backend, MigrationEnv

WRAPPER = """
import json, sys
from amigrate.cli import main
try:
    code = main(sys.argv[2:])
finally:
    with open(sys.argv[1], "w") as out:
        json.dump(sorted(sys.modules), out)
sys.exit(code)
"""


def run_and_list_modules(env: MigrationEnv, *args: str) -> set[str]:
    """Run ``amigrate ARGS`` in ``env`` (it must succeed); the modules it had imported."""
    listing = env.root / "modules.json"
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(listing), *args],
        cwd=env.root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"amigrate {' '.join(args)} failed:\n{result.stderr}"
    return set(json.loads(listing.read_text()))


def imported(modules: set[str], package: str) -> list[str]:
    return sorted(m for m in modules if m == package or m.startswith(package + "."))


@pytest.fixture
def three_revisions(env: MigrationEnv) -> MigrationEnv:
    env.add_revision("a1", message="create account")
    env.add_revision("b2", "a1", message="add email")
    env.add_revision("c3", "b2", message="add index")
    return env


@pytest.mark.parametrize(
    "command", [["heads"], ["history"], ["branches"], ["show", "c3"]], ids="-".join
)
def test_graph_commands_import_no_sqlalchemy_mako_or_asyncio(
    three_revisions: MigrationEnv, command: list[str]
) -> None:
    modules = run_and_list_modules(three_revisions, *command)

    assert imported(modules, "sqlalchemy") == []
    assert imported(modules, "mako") == []
    assert imported(modules, "asyncio") == []


@pytest.mark.parametrize("template", ["generic", "async", "multidb"])
def test_revision_with_a_shipped_template_imports_neither_mako_nor_a_dialect(
    three_revisions: MigrationEnv, template: str
) -> None:
    three_revisions.use_template(template)
    before = set(three_revisions.versions.glob("*.py"))

    modules = run_and_list_modules(three_revisions, "revision", "-m", "x")

    assert imported(modules, "mako") == []
    assert imported(modules, "sqlalchemy.dialects") == []
    (written,) = set(three_revisions.versions.glob("*.py")) - before
    assert 'down_revision: str | Sequence[str] | None = "c3"' in written.read_text()


def test_revision_with_an_edited_template_renders_it_with_mako(
    three_revisions: MigrationEnv,
) -> None:
    three_revisions.use_template("generic")
    template = three_revisions.script_dir / "script.py.mako"
    template.write_text(template.read_text().replace("Create Date:", "Created at:"))
    before = set(three_revisions.versions.glob("*.py"))

    modules = run_and_list_modules(three_revisions, "revision", "-m", "x")

    assert imported(modules, "mako") != []
    assert imported(modules, "sqlalchemy.dialects") == []
    (written,) = set(three_revisions.versions.glob("*.py")) - before
    assert "Created at: " in written.read_text()


def test_wrapper_sees_what_a_real_import_pulls_in(tmp_path: Path) -> None:
    """The check itself works: importing SQLAlchemy's PostgreSQL dialect is noticed."""
    listing = tmp_path / "modules.json"
    code = (
        "import json, sys, sqlalchemy.dialects.postgresql\n"
        f"json.dump(sorted(sys.modules), open({str(listing)!r}, 'w'))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)

    assert imported(set(json.loads(listing.read_text())), "sqlalchemy.dialects") != []


@pytest.mark.parametrize("driver", ["async", "sync"])
@pytest.mark.parametrize("command", [["upgrade", "head"], ["current"]], ids="-".join)
async def test_a_run_imports_neither_the_asyncio_extension_nor_the_orm(
    env: MigrationEnv, backend: Backend, command: list[str], driver: str
) -> None:
    """``sqlalchemy.ext.asyncio`` imports the ORM: 50-90 ms a migration has no use for.

    On an async driver (asyncpg, aiosqlite) amigrate runs the sync core in greenlets of
    the loop itself, as ``AsyncConnection.run_sync`` would, without making one.
    """
    url = backend.async_url if driver == "async" else backend.sync_url
    env.write_config(sqlalchemy_url=url.replace("%", "%%"))
    env.add_revision("a1", upgrade="op.create_table('account', sa.Column('id', sa.Integer))")
    if command == ["current"]:
        run_and_list_modules(env, "upgrade", "head")
    modules = run_and_list_modules(env, *command)
    driver_module = sa_dialect_of(url) + "." + sa.make_url(url).get_dialect().driver
    assert driver_module in modules  # it did reach the database through that driver
    assert imported(modules, "sqlalchemy.ext.asyncio") == []
    assert imported(modules, "sqlalchemy.orm") == []
    assert await env.version_rows() == ["a1"]
    assert "account" in await backend.tables()


def sa_dialect_of(url: str) -> str:
    return "sqlalchemy.dialects." + url.split(":", 1)[0].split("+", 1)[0]


def test_sql_starts_no_event_loop(three_revisions: MigrationEnv) -> None:
    """``--sql`` does no I/O: no anyio back end, no event loop (about 20 ms per command)."""
    three_revisions.write_config(sqlalchemy_url="postgresql+asyncpg://app:pw@db.invalid/app")

    modules = run_and_list_modules(three_revisions, "upgrade", "base:head", "--sql")

    assert "sqlalchemy.dialects.postgresql" in modules  # it did write PostgreSQL's SQL
    assert imported(modules, "anyio._backends") == []
