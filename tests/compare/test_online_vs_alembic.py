"""Online runs, differential against Alembic: the same scripts, two databases, same results.

Each history is written twice: once into amigrate's project (the ``env`` fixture, async
template, ``backend``'s async URL) and once, identical but for ``from alembic import op``,
into a sibling Alembic project (``alembic.ini``, an env.py and script.py.mako written here,
``second_backend``'s sync URL: Alembic runs synchronously, in a worker thread). After each
command of a sequence both databases must hold the same version rows (as a set) and the same
reflected schema: tables, columns (types as class names, nullability), primary keys, indexes
and unique constraints. A command that fails must fail for both tools, and leave both
databases alike.

The expected rows are written next to each command, so a reader sees what both tools do.
Alembic's env.py uses ``transaction_per_migration=True``, amigrate's default.

The sequences avoid the places where amigrate differs from Alembic on purpose; the last
section runs each of those with both tools and asserts both results, with the reason: a
failing revision on SQLite, ``label@base`` and ``label@+1`` on a fork, ``label@rev`` off the
branch, a downgrade to an applied dependency. ``current`` creates no version table in either
tool (README's "Coming from Alembic" says Alembic's does; the installed release no longer
does). ``test_current_lists_the_tip_of_a_dependency_branch`` is a difference that is not on
purpose.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import pytest
from _alembic_project import AlembicProject
from _envfactory import Backend, MigrationEnv, sync_connection

from amigrate import command

# -- reflection -------------------------------------------------------------------------------


def reflect(sync_url: str) -> dict[str, Any]:
    """Tables → columns (name, type class, nullable), primary key, indexes, unique constraints."""
    import sqlalchemy as sa

    with sync_connection(sync_url) as conn:
        inspector = sa.inspect(conn)
        return {table: _describe(inspector, table) for table in inspector.get_table_names()}


def _describe(inspector: Any, table: str) -> dict[str, Any]:
    columns = [
        (c["name"], type(c["type"]).__name__, c["nullable"]) for c in inspector.get_columns(table)
    ]
    indexes = {
        (i["name"], tuple(i["column_names"]), bool(i["unique"]))
        for i in inspector.get_indexes(table)
    }
    uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)}
    primary_key = tuple(inspector.get_pk_constraint(table)["constrained_columns"])
    return {"columns": columns, "pk": primary_key, "indexes": indexes, "uniques": uniques}


# -- the two projects -------------------------------------------------------------------------


@dataclass(frozen=True)
class Rev:
    rev: str
    down: str | tuple[str, ...] | None = None
    upgrade: str = "pass"
    downgrade: str = "pass"
    branch_labels: str | None = None
    depends_on: str | tuple[str, ...] | None = None


@dataclass(frozen=True)
class Step:
    """One command run by both tools, and the version rows both must leave."""

    command: str  # upgrade / downgrade / stamp / current
    target: str
    rows: frozenset[str] = field(default_factory=frozenset)
    fails: bool = False

    def __str__(self) -> str:
        return f"{self.command} {self.target}".strip()


def step(command: str, target: str, *rows: str, fails: bool = False) -> Step:
    return Step(command, target, frozenset(rows), fails)


@dataclass
class Outcome:
    error: BaseException | None
    reported: frozenset[str] | None = None  # what `current` reported
    rows: frozenset[str] = frozenset()  # the database's version rows afterwards
    schema: dict[str, Any] = field(default_factory=dict)  # and its reflected schema


class Twins:
    """amigrate's project on one database, Alembic's sibling project on another."""

    def __init__(self, env: MigrationEnv, alembic_root: Path, alembic_db: Backend) -> None:
        env.use_template("async")
        assert env.backend is not None
        self.env = env
        self.ours = env.backend
        self.theirs = alembic_db
        self.project = AlembicProject(alembic_root, alembic_db.sync_url)
        self.alembic_stdout = io.StringIO()
        self.alembic_config = self.project.config(stdout=self.alembic_stdout)

    def add(self, rev: Rev) -> None:
        path = self.env.add_revision(
            rev.rev,
            rev.down,
            upgrade=rev.upgrade,
            downgrade=rev.downgrade,
            branch_labels=rev.branch_labels,
            depends_on=rev.depends_on,
        )
        self.project.copy_revision(path)

    async def amigrate(self, step: Step) -> Outcome:
        config = self.env.config
        try:
            if step.command == "current":
                infos = await command.current(config)
                return Outcome(None, frozenset(info.revision for info in infos))
            await getattr(command, step.command)(config, step.target)
        except Exception as error:
            return Outcome(error)
        return Outcome(None)

    async def alembic(self, step: Step) -> Outcome:
        from alembic import command as alembic_command

        run = getattr(alembic_command, step.command)
        args = () if step.command == "current" else (step.target,)
        self.alembic_stdout.seek(0)
        self.alembic_stdout.truncate()
        try:
            await anyio.to_thread.run_sync(partial(run, self.alembic_config, *args))
        except Exception as error:
            return Outcome(error)
        if step.command == "current":
            lines = self.alembic_stdout.getvalue().splitlines()
            return Outcome(None, frozenset(line.split()[0] for line in lines if line.strip()))
        return Outcome(None)

    async def state(self, backend: Backend) -> tuple[frozenset[str], dict[str, Any]]:
        rows = frozenset(await backend.version_rows())
        return rows, await anyio.to_thread.run_sync(reflect, backend.sync_url)

    async def run(self, step: Step) -> tuple[Outcome, Outcome]:
        """Run ``step`` with both tools; each outcome with its database's rows and schema."""
        ours, theirs = await self.amigrate(step), await self.alembic(step)
        ours.rows, ours.schema = await self.state(self.ours)
        theirs.rows, theirs.schema = await self.state(self.theirs)
        return ours, theirs

    async def check(self, step: Step) -> None:
        """Both tools succeed (or both fail, if ``step.fails``) and leave the same database."""
        ours, theirs = await self.run(step)
        where = f"after `{step}`"
        assert (ours.error is None) == (theirs.error is None), (
            f"{where}: amigrate {_verdict(ours)}, alembic {_verdict(theirs)}"
        )
        assert (ours.error is not None) == step.fails, f"{where}: amigrate {_verdict(ours)}"
        assert ours.reported == theirs.reported, f"{where}: `current` reported differently"
        assert ours.rows == theirs.rows, f"{where}: version rows differ"
        assert ours.rows == step.rows, f"{where}: both tools left unexpected version rows"
        assert ours.schema == theirs.schema, f"{where}: reflected schemas differ"


def _verdict(outcome: Outcome) -> str:
    if outcome.error is None:
        return "succeeded"
    return f"failed: {type(outcome.error).__name__}: {outcome.error}"


@pytest.fixture
def twins(env: MigrationEnv, backend: Backend, second_backend: Backend, tmp_path: Path) -> Twins:
    return Twins(env, tmp_path / "alembic", second_backend)


# -- histories --------------------------------------------------------------------------------


def create(table: str, *extra: str) -> str:
    columns = ", ".join(["sa.Column('id', sa.Integer, primary_key=True)", *extra])
    return f"op.create_table({table!r}, {columns})"


def lines(*code: str) -> str:
    return "\n".join(textwrap.dedent(c).strip() for c in code)


ACCOUNT = Rev(
    "a1",
    upgrade=lines(
        create("account", "sa.Column('name', sa.String(50), nullable=False)"),
        "op.create_index('ix_account_name', 'account', ['name'])",
    ),
    downgrade=lines(
        "op.drop_index('ix_account_name', table_name='account')", "op.drop_table('account')"
    ),
)

LINEAR = [
    ACCOUNT,
    Rev(
        "b2",
        "a1",
        upgrade=lines(
            "op.add_column('account', sa.Column('email', sa.String(100)))",
            "op.create_index('ix_account_email', 'account', ['email'], unique=True)",
        ),
        downgrade=lines(
            "op.drop_index('ix_account_email', table_name='account')",
            "op.drop_column('account', 'email')",
        ),
    ),
    Rev(
        "c3",
        "b2",
        upgrade=create(
            "audit",
            "sa.Column('account_id', sa.Integer)",
            "sa.Column('at', sa.DateTime, nullable=False)",
            "sa.UniqueConstraint('account_id', 'at', name='uq_audit')",
        ),
        downgrade="op.drop_table('audit')",
    ),
    Rev(
        "d4",
        "c3",
        upgrade="op.rename_table('audit', 'audit_log')",
        downgrade="op.rename_table('audit_log', 'audit')",
    ),
    Rev(
        "e5",
        "d4",
        upgrade="op.execute(\"INSERT INTO account (id, name) VALUES (1, 'x')\")",
        downgrade="op.execute('DELETE FROM account')",
    ),
]

LINEAR_STEPS = [
    step("upgrade", "b2", "b2"),
    step("current", "", "b2"),
    step("upgrade", "+1", "c3"),
    step("upgrade", "+2", "e5"),
    step("downgrade", "-1", "d4"),
    step("downgrade", "-2", "b2"),
    step("upgrade", "head", "e5"),
    step("downgrade", "a1", "a1"),
    step("downgrade", "c3", "a1", fails=True),  # above the current revision
    step("upgrade", "nope", "a1", fails=True),  # no such revision
    step("downgrade", "base"),
    step("stamp", "c3", "c3"),  # rows only: the tables stay as they are
    step("stamp", "base"),
    step("upgrade", "heads", "e5"),
    step("current", "", "e5"),
    step("stamp", "b2", "b2"),  # down, schema untouched
    step("stamp", "e5", "e5"),  # and back
    step("downgrade", "base"),
]

BRANCHED = [
    ACCOUNT,
    Rev(
        "b1",
        "a1",
        branch_labels="left",
        upgrade=create("left_t"),
        downgrade="op.drop_table('left_t')",
    ),
    Rev(
        "b2",
        "b1",
        upgrade=lines(
            "op.add_column('left_t', sa.Column('note', sa.Text))",
            "op.create_index('ix_left_note', 'left_t', ['note'])",
        ),
        downgrade=lines(
            "op.drop_index('ix_left_note', table_name='left_t')",
            "op.drop_column('left_t', 'note')",
        ),
    ),
    Rev(
        "c1",
        "a1",
        branch_labels="right",
        upgrade=create("right_t"),
        downgrade="op.drop_table('right_t')",
    ),
    Rev(
        "c2",
        "c1",
        upgrade="op.add_column('right_t', sa.Column('flag', sa.Boolean))",
        downgrade="op.drop_column('right_t', 'flag')",
    ),
]

BRANCHED_STEPS = [
    step("upgrade", "left@head", "b2"),
    step("upgrade", "c1", "b2", "c1"),
    step("current", "", "b2", "c1"),
    step("upgrade", "head", "b2", "c1", fails=True),  # two heads: which one?
    step("upgrade", "right@+1", "b2", "c2"),
    step("downgrade", "b1", "b1", "c2"),
    step("downgrade", "right@-1", "b1", "c1"),
    step("upgrade", "heads", "b2", "c2"),
    step("downgrade", "-1", "b2", "c2", fails=True),  # two heads: which one?
    step("downgrade", "a1", "a1"),
    step("upgrade", "b1", "b1"),
    step("stamp", "c1", "b1", "c1"),  # another branch: a row is added
    step("stamp", "a1", "a1"),
    step("stamp", "heads", "b2", "c2"),
    step("stamp", "base"),
]

MERGED = [
    ACCOUNT,
    Rev("b2", "a1", upgrade=create("b_t"), downgrade="op.drop_table('b_t')"),
    Rev("c3", "a1", upgrade=create("c_t"), downgrade="op.drop_table('c_t')"),
    Rev(
        "m4",
        ("b2", "c3"),
        upgrade="op.create_index('ix_b_c', 'b_t', ['id'])",
        downgrade="op.drop_index('ix_b_c', table_name='b_t')",
    ),
    Rev(
        "e5",
        "m4",
        upgrade="op.add_column('account', sa.Column('note', sa.String(20)))",
        downgrade="op.drop_column('account', 'note')",
    ),
]

MERGED_STEPS = [
    step("upgrade", "b2", "b2"),
    step("upgrade", "heads", "e5"),
    step("downgrade", "-1", "m4"),
    step("downgrade", "-1", "m4", fails=True),  # a merge point: which parent?
    step("downgrade", "b2", "b2", "c3"),
    step("downgrade", "c3", "b2", "c3"),  # already there: nothing to do
    step("downgrade", "a1", "a1"),
    step("upgrade", "c3", "c3"),
    step("upgrade", "m4", "m4"),
    step("current", "", "m4"),
    step("stamp", "c3", "c3"),
    step("stamp", "m4", "m4"),
    step("upgrade", "+1", "e5"),
    step("downgrade", "base"),
    step("stamp", "b2", "b2"),
    step("stamp", "c3", "b2", "c3"),
    step("stamp", "base"),
]

DEPENDS_ON = [
    ACCOUNT,
    Rev(
        "b2",
        "a1",
        upgrade="op.add_column('account', sa.Column('audit_id', sa.Integer))",
        downgrade="op.drop_column('account', 'audit_id')",
    ),
    Rev(
        "x1",
        None,
        branch_labels="audit",
        upgrade=create("audit"),
        downgrade="op.drop_table('audit')",
    ),
    Rev(
        "c3",
        "b2",
        depends_on="x1",
        upgrade="op.create_index('ix_audit_id', 'audit', ['id'])",
        downgrade="op.drop_index('ix_audit_id', table_name='audit')",
    ),
    Rev(
        "x2",
        "x1",
        upgrade="op.add_column('audit', sa.Column('extra', sa.Integer))",
        downgrade="op.drop_column('audit', 'extra')",
    ),
]

DEPENDS_ON_STEPS = [
    step("upgrade", "c3", "c3"),  # runs x1 first: c3 depends on it
    step("upgrade", "heads", "c3", "x2"),
    step("downgrade", "x1", "c3"),
    step("downgrade", "b2", "b2", "x1"),
    step("downgrade", "base"),
    step("upgrade", "audit@head", "x2"),
    step("upgrade", "c3", "c3", "x2"),
    step("downgrade", "audit@base", "b2"),
    step("stamp", "x1", "b2", "x1"),
    step("stamp", "c3", "c3"),
    step("stamp", "base"),
]

HISTORIES = {
    "linear": (LINEAR, LINEAR_STEPS),
    "branched": (BRANCHED, BRANCHED_STEPS),
    "merged": (MERGED, MERGED_STEPS),
    "depends_on": (DEPENDS_ON, DEPENDS_ON_STEPS),
}


@pytest.mark.parametrize("history", list(HISTORIES))
async def test_same_rows_and_schema_after_each_command(twins: Twins, history: str) -> None:
    revisions, steps = HISTORIES[history]
    for rev in revisions:
        twins.add(rev)
    for each in steps:
        await twins.check(each)


async def test_current_on_a_fresh_database_creates_nothing(
    twins: Twins, backend: Backend, second_backend: Backend
) -> None:
    """`current` is a question: neither tool creates alembic_version to answer it.

    (Older Alembic releases did; the installed one passes ``dont_mutate``. A read-only role
    can ask, and a wrong URL does not get a stray table.)
    """
    twins.add(ACCOUNT)
    await twins.check(step("current", ""))
    assert await backend.tables() == set()
    assert await second_backend.tables() == set()


async def test_current_lists_the_tip_of_a_dependency_branch(twins: Twins) -> None:
    """At c3, which depends on x1 of the ``audit`` branch, the only version row is c3 (in both
    tools); Alembic's `current` also lists x1, the applied tip of the audit branch. The row
    alone does not tell a user where the audit branch stands, so amigrate should list x1 too.
    """
    for rev in DEPENDS_ON:
        twins.add(rev)
    await twins.check(step("upgrade", "c3", "c3"))
    await twins.check(step("current", "", "c3"))


# -- where amigrate differs on purpose ------------------------------------------------------
# Each test runs the same command with both tools and asserts both results. D2 and D4 are
# the names test_steps_vs_alembic.py gives these differences.

FAILING = [
    *LINEAR[:2],
    Rev(
        "c3",
        "b2",
        upgrade=lines(
            create("scratch"),
            "op.create_index('ix_scratch', 'scratch', ['id'])",
            "op.execute('SELECT nope')",
        ),
    ),
]


@pytest.mark.parametrize(
    "backend", [pytest.param("postgresql", marks=pytest.mark.postgresql)], indirect=True
)
async def test_failing_revision_on_postgresql(twins: Twins) -> None:
    """PostgreSQL's DDL is transactional for both tools: the failing revision leaves nothing."""
    for rev in FAILING:
        twins.add(rev)
    await twins.check(step("upgrade", "head", "b2", fails=True))
    await twins.check(step("downgrade", "base"))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_failing_revision_on_sqlite_leaves_nothing_behind(twins: Twins) -> None:
    """Alembic runs SQLite DDL outside a transaction, so the failing revision's table and
    index stay behind; amigrate runs SQLite DDL in the revision's transaction (DESIGN.md §4,
    README "Coming from Alembic"), so nothing does. The version rows agree."""
    for rev in FAILING:
        twins.add(rev)
    ours, theirs = await twins.run(step("upgrade", "head"))
    assert ours.error is not None and theirs.error is not None
    assert ours.rows == theirs.rows == {"b2"}
    assert "scratch" not in ours.schema
    assert theirs.schema["scratch"]["indexes"] == {("ix_scratch", ("id",), False)}
    del theirs.schema["scratch"]
    assert ours.schema == theirs.schema


async def test_label_at_base_on_a_fork_takes_only_that_branch(twins: Twins) -> None:
    """D4. `left` forks from a1, which `right` also grows from. amigrate's `left@base` is the
    left branch from its first revision (b1): b2 and b1 go, a1 and the right branch stay.
    Alembic reads it as the base of the whole tree and also removes c2, c1 and a1."""
    for rev in BRANCHED:
        twins.add(rev)
    await twins.check(step("upgrade", "heads", "b2", "c2"))
    ours, theirs = await twins.run(step("downgrade", "left@base"))
    assert ours.error is None and theirs.error is None
    assert ours.rows == {"c2"}
    assert set(ours.schema) == {"alembic_version", "account", "right_t"}
    assert theirs.rows == set()
    assert set(theirs.schema) == {"alembic_version"}


async def test_downgrade_to_a_dependency_that_is_applied(twins: Twins) -> None:
    """D2. At c3, x1 is applied only as c3's dependency. `downgrade x1` finds the database
    already there (nothing above x1 on its branch is applied): nothing to do. Alembic refuses:
    "not a valid downgrade target from current head(s)"."""
    for rev in DEPENDS_ON:
        twins.add(rev)
    await twins.check(step("upgrade", "c3", "c3"))
    ours, theirs = await twins.run(step("downgrade", "x1"))
    assert ours.error is None
    assert "not a valid downgrade target" in str(theirs.error)
    assert ours.rows == theirs.rows == {"c3"}
    assert ours.schema == theirs.schema


async def test_label_at_a_revision_off_the_branch(twins: Twins) -> None:
    """`right@a1`: a1 is the fork `right` grows from, not a revision of the branch (README,
    "Naming revisions": a label applies down to the nearest branch point, and
    `mylabel@rev` is checked to be in that branch), so amigrate refuses it. Alembic accepts
    any revision in line with the branch and downgrades c2 and c1."""
    for rev in BRANCHED:
        twins.add(rev)
    await twins.check(step("upgrade", "heads", "b2", "c2"))
    ours, theirs = await twins.run(step("downgrade", "right@a1"))
    assert "is not on branch 'right'" in str(ours.error)
    assert ours.rows == {"b2", "c2"}
    assert theirs.error is None
    assert theirs.rows == {"b2"}


async def test_label_relative_step_from_below_a_fork(twins: Twins) -> None:
    """`upgrade left@+1` on an empty database: the first revision of the left branch is b1,
    so amigrate runs a1 and b1. Alembic counts a1 (below the fork) as the branch's first
    revision and stops there. The same reading of a label on a fork as D4; not among
    test_steps_vs_alembic.py's D1..D8, whose histories put labels on roots only."""
    for rev in BRANCHED:
        twins.add(rev)
    ours, theirs = await twins.run(step("upgrade", "left@+1"))
    assert ours.error is None and theirs.error is None
    assert ours.rows == {"b1"}
    assert theirs.rows == {"a1"}
