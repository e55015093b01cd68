"""A long revision chain, upgraded from empty and downgraded to base: amigrate, Alembic, floor.

    .venv/bin/python benchmarks/chain.py [--runs N] [--revisions N] [--backend sqlite|postgresql]
                                         [--regenerate] [--check]

Generates into benchmarks/.work/ (gitignored, reused between runs) the same chain twice: an
amigrate project (``amigrate init -t async``) and an Alembic project (``alembic init -t
async``), each revision one ``create_table``, ``add_column`` or ``create_index`` with its
downgrade. Then times whole processes, async drivers for both tools (aiosqlite on a SQLite
file, asyncpg on PostgreSQL):

- ``amigrate upgrade head`` then ``amigrate downgrade base``;
- ``alembic upgrade head`` then ``alembic downgrade base``;
- the floor: a tiny script that executes the same DDL statements (compiled here by
  SQLAlchemy) on one connection of the same driver, with no version table: one transaction
  per revision (amigrate's default), and, as "floor1", all in one transaction (what
  Alembic's async template does).

Each tool runs once unmeasured first (byte-code caches warm, as users have them), then
``--runs`` times; the table shows medians. PostgreSQL is ``AMIGRATE_TEST_POSTGRES_URL`` or a
throwaway server started with tests/_pgserver.py; each tool gets its own database.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
BIN = Path(sys.executable).parent  # not resolved: the venv's bin, not the base interpreter's
GENERATOR_VERSION = "1"
# Byte-code caches as users have them: a session that sets PYTHONDONTWRITEBYTECODE would
# otherwise make every run recompile both tools' modules (and Alembic's revision files).
ENVIRON = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
GOAL_VS_ALEMBIC = 0.5
GOAL_VS_FLOOR = 2.0
# "floor": one transaction per revision, as amigrate runs them by default; "floor1": the
# whole chain in one transaction (Alembic's async template's choice), the lowest there is.
TOOLS = ("amigrate", "alembic", "floor", "floor1")

# -- the chain ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Revision:
    """One revision: ``kind`` is table / column / index; ``table``, ``name`` what it makes."""

    rev: str
    down: str | None
    kind: str
    table: str
    name: str
    type_: str  # the column's SQLAlchemy type, as source ("" for a table)

    @property
    def message(self) -> str:
        return {
            "table": f"create table {self.table}",
            "column": f"add {self.name} to {self.table}",
            "index": f"index {self.table}.{self.name}",
        }[self.kind]

    def upgrade(self) -> list[str]:
        if self.kind == "table":
            return [
                "op.create_table(",
                f'    "{self.table}",',
                '    sa.Column("id", sa.Integer(), primary_key=True),',
                '    sa.Column("name", sa.String(length=100), nullable=False),',
                '    sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),',
                ")",
            ]
        if self.kind == "column":
            column = f'sa.Column("{self.name}", {self.type_}, nullable=True)'
            return [f'op.add_column("{self.table}", {column})']
        return [f'op.create_index("{self.index}", "{self.table}", ["{self.name}"])']

    def downgrade(self) -> list[str]:
        if self.kind == "table":
            return [f'op.drop_table("{self.table}")']
        if self.kind == "column":
            return [f'op.drop_column("{self.table}", "{self.name}")']
        return [f'op.drop_index("{self.index}", table_name="{self.table}")']

    @property
    def index(self) -> str:
        return f"ix_{self.table}_{self.name}"


COLUMN_TYPES = ("sa.Integer()", "sa.String(length=50)", "sa.Boolean()", "sa.Text()")


def build_chain(size: int, seed: int = 500) -> list[Revision]:
    """A linear chain: about a third tables, a third columns, a third indexes."""
    rng = random.Random(seed)
    revisions: list[Revision] = []
    columns: dict[str, list[str]] = {}  # table -> columns without an index yet
    down: str | None = None
    used: set[str] = set()
    for number in range(size):
        while (rev := f"{rng.getrandbits(48):012x}") in used:
            pass
        used.add(rev)
        indexable = [t for t, cols in columns.items() if cols]
        roll = rng.random()
        if not columns or roll < 0.3:
            table = f"t_{len(columns) + 1}"
            columns[table] = ["name"]
            revision = Revision(rev, down, "table", table, "", "")
        elif roll < 0.65 or not indexable:
            table = rng.choice(sorted(columns))
            name = f"c_{number}"
            columns[table].append(name)
            revision = Revision(rev, down, "column", table, name, rng.choice(COLUMN_TYPES))
        else:
            table = rng.choice(indexable)
            name = columns[table].pop(rng.randrange(len(columns[table])))
            revision = Revision(rev, down, "index", table, name, "")
        revisions.append(revision)
        down = rev
    return revisions


def render(revision: Revision, tool: str) -> str:
    body = "\n".join(f"    {line}" for line in revision.upgrade())
    undo = "\n".join(f"    {line}" for line in revision.downgrade())
    return f'''"""{revision.message}

Revision ID: {revision.rev}
Revises: {revision.down or ""}
Create Date: 2024-01-01 12:00:00.000000

"""

import sqlalchemy as sa

from {tool} import op

# revision identifiers, used by {tool}.
revision = {revision.rev!r}
down_revision = {revision.down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
{body}


def downgrade() -> None:
{undo}
'''


# -- projects -------------------------------------------------------------------------------


def write_project(tool: str, root: Path, chain: list[Revision], url: str) -> Path:
    """``<tool> init -t async migrations`` in ``root``, the URL set, the chain written."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    subprocess.run(
        [str(BIN / tool), "init", "-t", "async", "migrations"],
        cwd=root,
        env=ENVIRON,
        check=True,
        capture_output=True,
    )
    set_url(root / f"{tool}.ini", url)
    versions = root / "migrations" / "versions"
    for revision in chain:
        slug = revision.message.replace(" ", "_").replace(".", "_")
        (versions / f"{revision.rev}_{slug}.py").write_text(render(revision, tool))
    return root


def floor_statements(chain: list[Revision], dialect_name: str) -> dict[str, list[list[str]]]:
    """The chain's DDL as SQL text per revision: ``up`` in order, ``down`` in reverse."""
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.schema import CreateIndex, CreateTable

    dialect = {"postgresql": postgresql.dialect(), "sqlite": sqlite.dialect()}[dialect_name]
    types: dict[tuple[str, str], sa.types.TypeEngine[object]] = {}
    up: list[list[str]] = []
    for revision in chain:
        table = revision.table
        if revision.kind == "table":
            created = sa.Table(
                table,
                sa.MetaData(),
                sa.Column("id", sa.Integer(), primary_key=True),
                sa.Column("name", sa.String(length=100), nullable=False),
                sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
            )
            types[(table, "name")] = sa.String(length=100)
            up.append([str(CreateTable(created).compile(dialect=dialect)).strip()])
        elif revision.kind == "column":
            type_ = eval(revision.type_, {"sa": sa})  # one of COLUMN_TYPES
            types[(table, revision.name)] = type_
            spec = type_.compile(dialect=dialect)
            up.append([f"ALTER TABLE {table} ADD COLUMN {revision.name} {spec}"])
        else:
            holder = sa.Table(
                table, sa.MetaData(), sa.Column(revision.name, types[(table, revision.name)])
            )
            index = sa.Index(revision.index, holder.c[revision.name])
            up.append([str(CreateIndex(index).compile(dialect=dialect)).strip()])
    down = [
        [
            {
                "table": f"DROP TABLE {r.table}",
                "column": f"ALTER TABLE {r.table} DROP COLUMN {r.name}",
                "index": f"DROP INDEX {r.index}",
            }[r.kind]
        ]
        for r in reversed(chain)
    ]
    return {"up": up, "down": down}


FLOOR = '''\
"""The floor: the chain's DDL on one connection, nothing else.

    python floor.py URL STATEMENTS.json up|down revision|run

One transaction per revision, or one for the whole run.
"""
import asyncio
import json
import sys

from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool


async def main(url, path, direction, transactions):
    revisions = json.loads(open(path).read())[direction]
    engine = create_async_engine(url, poolclass=NullPool)
    if url.startswith("sqlite"):
        # the driver opens no transaction before DDL: turn that off and BEGIN ourselves
        @event.listens_for(engine.sync_engine, "connect")
        def _connect(dbapi_connection, record):
            dbapi_connection.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(connection):
            connection.exec_driver_sql("BEGIN")

    if transactions == "run":
        revisions = [[statement for statements in revisions for statement in statements]]
    async with engine.connect() as connection:
        for statements in revisions:
            async with connection.begin():
                for statement in statements:
                    await connection.exec_driver_sql(statement)
    await engine.dispose()


asyncio.run(main(*sys.argv[1:5]))
'''


def generate(size: int, backend: str, regenerate: bool) -> dict[str, Path]:
    """Projects and floor files for ``size`` revisions on ``backend`` (reused when complete).

    The projects' ``sqlalchemy.url`` is set by ``set_url`` for each run's databases.
    """
    root = WORK / f"chain-{size}-{backend}"
    marker = root / ".complete"
    paths = {tool: root / tool for tool in TOOLS}
    paths["floor1"] = paths["floor"]
    if not regenerate and marker.exists() and marker.read_text() == GENERATOR_VERSION:
        return paths
    if root.exists():
        shutil.rmtree(root)
    chain = build_chain(size)
    for tool in ("amigrate", "alembic"):
        write_project(tool, paths[tool], chain, "sqlite+aiosqlite://")
    paths["floor"].mkdir(parents=True)
    (paths["floor"] / "floor.py").write_text(FLOOR)
    statements = floor_statements(chain, backend)
    (paths["floor"] / "statements.json").write_text(json.dumps(statements))
    marker.write_text(GENERATOR_VERSION)
    return paths


# -- databases ------------------------------------------------------------------------------


@dataclass
class Databases:
    """One database per tool: ``urls[tool]`` (async driver); ``check(tool)`` what it holds."""

    backend: str
    urls: dict[str, str]
    sync_urls: dict[str, str]

    def state(self, tool: str) -> tuple[int, list[str]]:
        """(number of tables other than alembic_version, version rows)."""
        import sqlalchemy as sa
        from sqlalchemy.pool import NullPool

        engine = sa.create_engine(self.sync_urls[tool], poolclass=NullPool)
        try:
            with engine.connect() as conn:
                names = set(sa.inspect(conn).get_table_names())
                rows: list[str] = []
                if "alembic_version" in names:
                    query = sa.text("SELECT version_num FROM alembic_version")
                    rows = sorted(conn.execute(query).scalars())
                return len(names - {"alembic_version"}), rows
        finally:
            engine.dispose()


@contextmanager
def databases(backend: str) -> Iterator[Databases]:
    if backend == "sqlite":
        folder = WORK / "sqlite-files"
        folder.mkdir(parents=True, exist_ok=True)
        files = {tool: folder / f"{tool}.sqlite" for tool in TOOLS}
        for path in files.values():
            path.unlink(missing_ok=True)
            sqlite3.connect(path).close()
        yield Databases(
            backend,
            {tool: f"sqlite+aiosqlite:///{path}" for tool, path in files.items()},
            {tool: f"sqlite:///{path}" for tool, path in files.items()},
        )
        return
    sys.path.insert(0, str(HERE.parent / "tests"))
    from _pgserver import PostgresServer

    server = PostgresServer.from_environment().start()
    names = {tool: f"bench_chain_{tool}" for tool in TOOLS}
    try:
        for name in names.values():
            server.drop_database(name)
            server.create_database(name)
        yield Databases(
            backend,
            {tool: server.url_for(name, "asyncpg") for tool, name in names.items()},
            {tool: server.url_for(name, "psycopg") for tool, name in names.items()},
        )
    finally:
        for name in names.values():
            server.drop_database(name)
        server.stop()


# -- timing ---------------------------------------------------------------------------------


def command(tool: str, project: Path, url: str, direction: str) -> list[str]:
    if tool.startswith("floor"):
        statements = str(project / "statements.json")
        transactions = "run" if tool == "floor1" else "revision"
        return [sys.executable, str(project / "floor.py"), url, statements, direction, transactions]
    target = "head" if direction == "up" else "base"
    return [str(BIN / tool), "upgrade" if direction == "up" else "downgrade", target]


def run(args: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(args, cwd=cwd, env=ENVIRON, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise BenchmarkError(
            f"{' '.join([Path(args[0]).name, *args[1:]])} (in {cwd}) exited with "
            f"{result.returncode}\n--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
        )
    return elapsed


class BenchmarkError(RuntimeError):
    pass


def verify(dbs: Databases, tool: str, direction: str, chain_head: str, tables: int) -> None:
    """After the unmeasured run: the database holds the whole chain, or nothing."""
    count, rows = dbs.state(tool)
    head_rows = [] if tool.startswith("floor") else [chain_head]
    expected = (tables, head_rows) if direction == "up" else (0, [])
    if (count, rows) != expected:
        raise BenchmarkError(
            f"{tool} {direction} on {dbs.backend}: {count} tables, rows {rows}; "
            f"expected {expected[0]} tables, rows {expected[1]}"
        )


def measure(backend: str, size: int, runs: int, regenerate: bool) -> dict[tuple[str, str], float]:
    """Median seconds per (tool, direction) on ``backend``."""
    chain = build_chain(size)
    head, tables = chain[-1].rev, sum(r.kind == "table" for r in chain)
    times: dict[tuple[str, str], list[float]] = {}
    with databases(backend) as dbs:
        projects = generate(size, backend, regenerate)
        for tool in ("amigrate", "alembic"):
            set_url(projects[tool] / f"{tool}.ini", dbs.urls[tool])
        for attempt in range(runs + 1):
            for tool in TOOLS:
                for direction in ("up", "down"):
                    args = command(tool, projects[tool], dbs.urls[tool], direction)
                    elapsed = run(args, projects[tool])
                    if attempt == 0:
                        verify(dbs, tool, direction, head, tables)
                    else:
                        times.setdefault((tool, direction), []).append(elapsed)
    return {key: statistics.median(values) for key, values in times.items()}


def set_url(ini: Path, url: str) -> None:
    """Point a project's ini file at ``url``."""
    lines = ini.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("sqlalchemy.url"))
    lines[at] = f"sqlalchemy.url = {url.replace('%', '%%')}"
    ini.write_text("\n".join(lines) + "\n")


# -- report ---------------------------------------------------------------------------------


def report(results: dict[str, dict[tuple[str, str], float]], runs: int, size: int) -> bool:
    """Print the table; True if every goal is met (the floor: one transaction per revision)."""
    print(
        f"{'workload':<31} {'amigrate s':>10} {'alembic s':>9} {'floor s':>7} {'floor1 s':>8}"
        f" {'vs alembic':>10} {'vs floor':>8} {'vs floor1':>9}"
    )
    met = True
    for backend, medians in results.items():
        rows = [("upgrade head", ("up",)), ("downgrade base", ("down",))]
        rows.append(("upgrade + downgrade", ("up", "down")))
        for label, directions in rows:
            ours, theirs, floor, floor1 = (
                sum(medians[(tool, d)] for d in directions) for tool in TOOLS
            )
            met = met and ours / theirs <= GOAL_VS_ALEMBIC and ours / floor <= GOAL_VS_FLOOR
            print(
                f"{f'{backend}: {label}':<31} {ours:>10.3f} {theirs:>9.3f} {floor:>7.3f}"
                f" {floor1:>8.3f} {ours / theirs:>9.2f}x {ours / floor:>7.2f}x"
                f" {ours / floor1:>8.2f}x",
                flush=True,
            )
    print(
        f"\n{size} revisions; median of {runs} runs per process, after one unmeasured run."
        "\nfloor: the same DDL on one connection, one transaction per revision (as amigrate);"
        "\nfloor1: the same, all in one transaction (as Alembic's async template)."
        f"\ngoals: at most {GOAL_VS_ALEMBIC}x alembic and {GOAL_VS_FLOOR}x the floor"
        f" (whole processes, interpreter start included): {'met' if met else 'MISSED'}"
    )
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="measured runs per process (3)")
    parser.add_argument("--revisions", type=int, default=500, help="chain length (500)")
    parser.add_argument(
        "--backend",
        action="append",
        choices=["sqlite", "postgresql"],
        help="repeatable; default: both",
    )
    parser.add_argument("--regenerate", action="store_true", help="rewrite the projects")
    parser.add_argument("--check", action="store_true", help="exit 1 if a goal is missed")
    args = parser.parse_args(argv)
    missing = [tool for tool in ("amigrate", "alembic") if not (BIN / tool).exists()]
    if missing:
        print(
            f"not found in {BIN}: {', '.join(missing)} (use the dev venv's python)", file=sys.stderr
        )
        return 2
    results = {}
    try:
        for backend in args.backend or ["sqlite", "postgresql"]:
            results[backend] = measure(backend, args.revisions, args.runs, args.regenerate)
    except BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    met = report(results, args.runs, args.revisions)
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
