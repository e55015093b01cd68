"""Start-up and graph commands, amigrate against Alembic, as whole processes.

    .venv/bin/python benchmarks/startup.py [--runs N] [--regenerate] [--check]

Generates into benchmarks/.work/ (gitignored) the same histories of 1, 1,000 and 2,000
revisions twice, once per tool, then times the median wall time of ``--version``, ``heads``
and ``history`` for each. Both tools run from the executables next to ``sys.executable``, each
once unmeasured first (so byte-code caches are warm for both). A failing or wrong command is
reported with its output and makes the exit status non-zero; ``--check`` also fails on a
missed goal.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
BIN = Path(sys.executable).parent  # not resolved: the venv's bin, not the base interpreter's
SIZES = (1, 1000, 2000)
GENERATOR_VERSION = "1"
# Byte-code caches as users have them: a session that sets PYTHONDONTWRITEBYTECODE would
# otherwise make every run recompile both tools' modules (and Alembic's revision files).
ENVIRON = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
GOALS = [("heads, 2,000 revisions", 0.3), ("heads, 1 revision", 0.2)]


# -- histories ------------------------------------------------------------------------------


@dataclass
class Rev:
    rev: str
    down: tuple[str, ...]
    message: str
    upgrade: list[str]
    downgrade: list[str]


def build_history(size: int, seed: int = 2024) -> list[Rev]:
    """Mostly linear; now and then two or three short branches that a merge revision joins."""
    rng = random.Random(seed)
    used: set[str] = set()
    revs: list[Rev] = []
    tables = 0

    def new_id() -> str:
        while (rev := f"{rng.getrandbits(48):012x}") in used:
            pass
        used.add(rev)
        return rev

    def add(down: tuple[str, ...]) -> str:
        nonlocal tables
        rev = new_id()
        if len(down) > 1:
            revs.append(Rev(rev, down, "merge heads", ["pass"], ["pass"]))
            return rev
        if tables == 0 or rng.random() < 0.3:
            tables += 1
            revs.append(Rev(rev, down, f"create table t_{tables}", *_create_table(tables)))
        else:
            table = rng.randint(1, tables)
            column = len(revs)
            revs.append(
                Rev(rev, down, f"add c_{column} to t_{table}", *_add_column(table, column, rng))
            )
        return rev

    head: tuple[str, ...] = ()
    while len(revs) < size:
        room = size - len(revs)
        if head and room > 16 and rng.random() < 1 / 40:
            tips = []
            for _ in range(rng.choice((2, 2, 2, 3))):
                tip = head
                for _ in range(rng.randint(1, 4)):
                    tip = (add(tip),)
                tips.extend(tip)
            head = (add(tuple(tips)),)
        else:
            head = (add(head),)
    return revs


def _create_table(n: int) -> tuple[list[str], list[str]]:
    upgrade = [
        "op.create_table(",
        f'    "t_{n}",',
        '    sa.Column("id", sa.Integer(), nullable=False),',
        '    sa.Column("name", sa.String(length=100), nullable=False),',
        '    sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),',
        '    sa.PrimaryKeyConstraint("id"),',
        ")",
        f'op.create_index("ix_t_{n}_name", "t_{n}", ["name"], unique=False)',
    ]
    downgrade = [f'op.drop_index("ix_t_{n}_name", table_name="t_{n}")', f'op.drop_table("t_{n}")']
    return upgrade, downgrade


def _add_column(table: int, column: int, rng: random.Random) -> tuple[list[str], list[str]]:
    kind = rng.choice(("sa.Integer()", "sa.String(length=50)", "sa.Boolean()", "sa.Text()"))
    upgrade = [f'op.add_column("t_{table}", sa.Column("c_{column}", {kind}, nullable=True))']
    downgrade = [f'op.drop_column("t_{table}", "c_{column}")']
    if rng.random() < 0.4:
        index = f"ix_t_{table}_c_{column}"
        upgrade.append(f'op.create_index("{index}", "t_{table}", ["c_{column}"], unique=False)')
        downgrade.insert(0, f'op.drop_index("{index}", table_name="t_{table}")')
    return upgrade, downgrade


def render(rev: Rev, tool: str, index: int) -> str:
    down = None if not rev.down else rev.down[0] if len(rev.down) == 1 else rev.down
    date = f"2024-{1 + index // 28 % 12:02d}-{1 + index % 28:02d} 12:00:00.000000"
    body = "\n".join(f"    {line}" for line in rev.upgrade)
    undo = "\n".join(f"    {line}" for line in rev.downgrade)
    return f'''"""{rev.message}

Revision ID: {rev.rev}
Revises: {", ".join(rev.down)}
Create Date: {date}

"""

import sqlalchemy as sa

from {tool} import op

# revision identifiers, used by {tool}.
revision = {rev.rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
{body}


def downgrade() -> None:
{undo}
'''


AMIGRATE_INI = """[amigrate]
script_location = %(here)s/migrations
"""

ALEMBIC_INI = """[alembic]
script_location = %(here)s/migrations
path_separator = os
"""

ALEMBIC_ENV = '''"""Alembic env.py (not run by heads/history)."""

from alembic import context

config = context.config
target_metadata = None
'''


def generate(tool: str, size: int, regenerate: bool) -> Path:
    """The project directory for ``tool`` with a ``size``-revision history (made if needed)."""
    root = WORK / f"{tool}-{size}"
    marker = root / ".complete"
    if not regenerate and marker.exists() and marker.read_text() == GENERATOR_VERSION:
        return root
    if root.exists():
        import shutil

        shutil.rmtree(root)
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    if tool == "amigrate":
        (root / "amigrate.ini").write_text(AMIGRATE_INI)
    else:
        (root / "alembic.ini").write_text(ALEMBIC_INI)
        (root / "migrations" / "env.py").write_text(ALEMBIC_ENV)
    for index, rev in enumerate(build_history(size)):
        slug = rev.message.replace(" ", "_")
        (versions / f"{rev.rev}_{slug}.py").write_text(render(rev, tool, index))
    marker.write_text(GENERATOR_VERSION)
    return root


# -- timing ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    seconds: float | None
    error: str | None = None


def timed(args: list[str], cwd: Path, runs: int, expect: str | None) -> Outcome:
    """Median wall time of ``runs`` runs after one unmeasured run; or what went wrong."""
    times = []
    for attempt in range(runs + 1):
        started = time.perf_counter()
        result = subprocess.run(
            args, cwd=cwd, env=ENVIRON, capture_output=True, text=True, check=False
        )
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            return Outcome(None, _failure(args, cwd, f"exit {result.returncode}", result))
        if attempt == 0 and expect is not None and expect not in result.stdout:
            return Outcome(None, _failure(args, cwd, f"output lacks {expect!r}", result))
        if attempt:
            times.append(elapsed)
    return Outcome(statistics.median(times))


def _failure(
    args: list[str], cwd: Path, what: str, result: subprocess.CompletedProcess[str]
) -> str:
    command = " ".join([Path(args[0]).name, *args[1:]])
    return f"{command} (in {cwd}): {what}\n--- stdout\n{result.stdout}--- stderr\n{result.stderr}"


@dataclass
class Workload:
    name: str
    command: list[str]
    size: int | None  # None: no history needed


def workloads() -> list[Workload]:
    work = [Workload("--version", ["--version"], None)]
    for command in ("heads", "history"):
        for size in SIZES:
            label = "1 revision" if size == 1 else f"{size:,} revisions"
            work.append(Workload(f"{command}, {label}", [command], size))
    return work


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="measured runs per command (7)")
    parser.add_argument("--regenerate", action="store_true", help="rewrite the histories")
    parser.add_argument("--check", action="store_true", help="exit 1 if a goal is missed")
    args = parser.parse_args(argv)

    tools = {tool: BIN / tool for tool in ("amigrate", "alembic")}
    missing = [str(path) for path in tools.values() if not path.exists()]
    if missing:
        print(f"not found: {', '.join(missing)} (run with the dev venv's python)", file=sys.stderr)
        return 2

    heads = {size: build_history(size)[-1].rev for size in SIZES}
    projects = {
        (tool, size): generate(tool, size, args.regenerate) for tool in tools for size in SIZES
    }

    print(f"{'workload':<26} {'amigrate s':>11} {'alembic s':>11} {'ratio':>7}")
    errors: list[str] = []
    ratios: dict[str, float] = {}
    for work in workloads():
        cells = []
        for tool, executable in tools.items():
            cwd = projects[(tool, work.size)] if work.size else WORK
            expect = heads[work.size] if work.size else None
            outcome = timed([str(executable), *work.command], cwd, args.runs, expect)
            if outcome.error:
                errors.append(outcome.error)
            cells.append(outcome.seconds)
        amigrate_s, alembic_s = cells
        ratio = amigrate_s / alembic_s if amigrate_s and alembic_s else None
        if ratio is not None:
            ratios[work.name] = ratio
        print(
            f"{work.name:<26} {_fmt(amigrate_s, 11, 3)} {_fmt(alembic_s, 11, 3)} "
            f"{_fmt(ratio, 6, 2)}{'x' if ratio is not None else ' '}",
            flush=True,
        )

    print(f"\nmedian of {args.runs} runs each; ratio = amigrate / alembic (lower is better)")
    missed = False
    for name, goal in GOALS:
        ratio = ratios.get(name)
        if ratio is None:
            verdict = "not measured"
            missed = True
        else:
            verdict = f"{ratio:.2f}x, {'met' if ratio <= goal else 'MISSED'}"
            missed = missed or ratio > goal
        print(f"goal: {name} <= {goal}x alembic: {verdict}")

    for error in errors:
        print(f"\nerror: {error}", file=sys.stderr)
    if errors:
        return 1
    return 1 if args.check and missed else 0


def _fmt(value: float | None, width: int, digits: int) -> str:
    return f"{value:>{width}.{digits}f}" if value is not None else f"{'failed':>{width}}"


if __name__ == "__main__":
    sys.exit(main())
