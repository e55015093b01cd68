"""Many tenants: 50 PostgreSQL databases through a 20-revision chain, amigrate against Alembic.

    .venv/bin/python benchmarks/multitenant.py [--runs N] [--tenants N] [--revisions N]
                                               [--jobs N] [--check]

Writes into benchmarks/.work/multitenant/ an amigrate project (``amigrate init -t async``)
and an Alembic project (``alembic init -t async``) with the same chain (each revision one
``create_table`` with two columns), and a file listing the tenant URLs. Then times, as whole
processes, with every tenant database freshly emptied before each run:

- amigrate: ``amigrate upgrade head --url-file tenants.txt --jobs N`` (one process, the graph
  read once, ``N`` databases at a time);
- Alembic, the way its users do it today: one Python process looping over the databases,
  calling ``alembic.command.upgrade(config, "head")`` for each with ``sqlalchemy.url`` set.

Both use asyncpg. PostgreSQL is ``AMIGRATE_TEST_POSTGRES_URL`` or a throwaway server started
with tests/_pgserver.py. Each tool runs once unmeasured first, then ``--runs`` times; the
table shows medians and the ratio. Goal: at most 0.25x Alembic's wall time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "multitenant"
BIN = Path(sys.executable).parent
ENVIRON = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
GOAL = 0.25

REVISION = '''\
"""create table t{n:02d}

Revision ID: {rev}
Revises: {down_text}
"""

import sqlalchemy as sa

from {tool} import op

revision = {rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "t{n:02d}",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("t{n:02d}")
'''

ALEMBIC_LOOP = """\
import sys

from alembic import command
from alembic.config import Config

urls = [line.strip() for line in open(sys.argv[1]) if line.strip()]
for url in urls:
    config = Config("alembic.ini")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")
"""


def write_project(tool: str, revisions: int) -> Path:
    root = WORK / tool
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
    versions = root / "migrations" / "versions"
    down = None
    for n in range(revisions):
        rev = f"r{n:04d}"
        text = REVISION.format(n=n, rev=rev, down=down, down_text=down or "", tool=tool)
        (versions / f"{rev}_create_t{n:02d}.py").write_text(text)
        down = rev
    if tool == "alembic":
        (root / "loop.py").write_text(ALEMBIC_LOOP)
    return root


def start_server() -> object:
    sys.path.insert(0, str(HERE.parent / "tests"))
    from _pgserver import PostgresServer

    return PostgresServer.from_environment().start()


def reset(server: object, names: list[str]) -> None:
    for name in names:
        server.drop_database(name)  # type: ignore[attr-defined]
        server.create_database(name)  # type: ignore[attr-defined]


def timed(args: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(args, cwd=cwd, env=ENVIRON, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return elapsed


def at_head(server: object, names: list[str], head: str) -> bool:
    import psycopg

    for name in names:
        with psycopg.connect(server.conninfo_for(name)) as connection:  # type: ignore[attr-defined]
            rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
            if rows != [(head,)]:
                return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--revisions", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=16)
    parser.add_argument("--check", action="store_true", help="exit 1 if the goal is missed")
    args = parser.parse_args(argv)

    server = start_server()
    names = {
        tool: [f"bench_mt_{tool[:2]}_{n:03d}" for n in range(args.tenants)]
        for tool in ("amigrate", "alembic")
    }
    try:
        roots = {tool: write_project(tool, args.revisions) for tool in names}
        for tool, root in roots.items():
            urls = [server.url_for(name, "asyncpg") for name in names[tool]]  # type: ignore[attr-defined]
            (root / "tenants.txt").write_text("\n".join(urls) + "\n")
        commands = {
            "amigrate": [str(BIN / "amigrate"), "upgrade", "head", "--url-file", "tenants.txt",
                         "--jobs", str(args.jobs)],
            "alembic": [sys.executable, "loop.py", "tenants.txt"],
        }  # fmt: skip
        head = f"r{args.revisions - 1:04d}"
        times: dict[str, list[float]] = {tool: [] for tool in names}
        for run in range(args.runs + 1):
            for tool in names:
                reset(server, names[tool])
                elapsed = timed(commands[tool], roots[tool])
                if not at_head(server, names[tool], head):
                    raise SystemExit(f"{tool}: not every database is at {head}")
                if run:  # the first run warms byte-code caches
                    times[tool].append(elapsed)
    finally:
        for tool_names in names.values():
            for name in tool_names:
                server.drop_database(name)  # type: ignore[attr-defined]
        server.stop()  # type: ignore[attr-defined]

    median = {tool: statistics.median(values) for tool, values in times.items()}
    ratio = median["amigrate"] / median["alembic"]
    print(f"{args.tenants} databases x {args.revisions} revisions, median of {args.runs}:")
    print(f"  amigrate --jobs {args.jobs}: {median['amigrate']:.2f} s")
    print(f"  alembic (loop):   {median['alembic']:.2f} s")
    verdict = "ok" if ratio <= GOAL else "MISSED"
    print(f"  ratio: {ratio:.3f}x (goal <= {GOAL}x: {verdict})")
    return 1 if args.check and ratio > GOAL else 0


if __name__ == "__main__":
    raise SystemExit(main())
