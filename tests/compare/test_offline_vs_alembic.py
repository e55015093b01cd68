"""Offline SQL (``--sql``) of a revision chain, differential against Alembic.

The same six revision files (``from alembic import op`` on Alembic's side) are rendered by
both tools on the postgresql and sqlite dialects, for ``upgrade base:head``, ``upgrade a1:c3``,
``downgrade head:base``, ``downgrade f6:d4`` and ``stamp a1:c3``. Alembic's env.py is its
offline template's configuration (``literal_binds``, ``named`` parameters) plus
``transaction_per_migration=True``, amigrate's default. The scripts are compared statement
for statement, whitespace-normalised, without ``--`` comment lines (amigrate's "Running
upgrade" comments also carry the message).

amigrate deliberately prints two things differently; ``as_amigrate_prints`` applies each to
Alembic's statements, and fails if the difference is not there (so the test notices when
either tool changes):

- The first version row is written with a plain ``INSERT``; Alembic's script says
  ``INSERT ... RETURNING version_num`` (SQLAlchemy's implicit RETURNING for a primary-key
  insert, leaking into a script where nothing reads the result).
- SQLite: amigrate runs SQLite DDL in transactions (DESIGN.md §4: a failing revision leaves
  nothing behind), so its script has BEGIN/COMMIT around each revision, as on PostgreSQL;
  Alembic treats SQLite DDL as non-transactional and prints none.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from _alembic_project import AlembicProject
from _envfactory import MigrationEnv

from amigrate import command

URLS = {"postgresql": "postgresql://", "sqlite": "sqlite://"}

ACCOUNT_COLUMNS = """\
op.create_table(
    "account",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50), nullable=False),
    sa.Column("balance", sa.Numeric(10, 2)),
    sa.Column("status", sa.String(20), server_default="new"),
    sa.Column("joined", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.UniqueConstraint("name", name="uq_account_name"),
)
"""

ROWS = """\
account = sa.table(
    "account",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("email", sa.String),
)
op.bulk_insert(
    account,
    [
        {"id": 1, "name": "O'Brien", "email": None},
        {"id": 2, "name": "b", "email": "b@example.com"},
        {"id": 3, "name": "100% sure", "email": None},
    ],
)
op.execute("UPDATE account SET status = 'old' WHERE id = 1")
"""

CHAIN = [
    ("a1", None, ACCOUNT_COLUMNS, "op.drop_table('account')"),
    (
        "b2",
        "a1",
        "op.add_column('account', sa.Column('email', sa.String(100)))\n"
        "op.create_index('ix_account_email', 'account', ['email'], unique=True)",
        "op.drop_index('ix_account_email', table_name='account')\n"
        "op.drop_column('account', 'email')",
    ),
    (
        "c3",
        "b2",
        "op.create_table('item', sa.Column('id', sa.Integer, primary_key=True),"
        " sa.Column('account_id', sa.Integer), sa.Column('title', sa.Text),"
        " sa.Column('qty', sa.Integer, nullable=False, server_default=sa.text('1')))\n"
        "op.create_index('ix_item_title', 'item', ['title'])",
        "op.drop_index('ix_item_title', table_name='item')\nop.drop_table('item')",
    ),
    ("d4", "c3", ROWS, "op.execute('DELETE FROM account')"),
    (
        "e5",
        "d4",
        "op.drop_column('account', 'balance')\nop.drop_index('ix_item_title', table_name='item')",
        "op.create_index('ix_item_title', 'item', ['title'])\n"
        "op.add_column('account', sa.Column('balance', sa.Numeric(10, 2)))",
    ),
    ("f6", "e5", "op.rename_table('item', 'line_item')", "op.rename_table('line_item', 'item')"),
]


@pytest.fixture(params=list(URLS))
def dialect(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def projects(
    env: MigrationEnv, tmp_path: Path, dialect: str
) -> tuple[MigrationEnv, AlembicProject]:
    env.use_template("generic")
    env.write_config(sqlalchemy_url=URLS[dialect])
    alembic = AlembicProject(tmp_path / "alembic", URLS[dialect])
    for rev, down, upgrade, downgrade in CHAIN:
        alembic.copy_revision(env.add_revision(rev, down, upgrade=upgrade, downgrade=downgrade))
    return env, alembic


_END = re.compile(r";[ \t]*\n")


def statements(script: str) -> list[str]:
    """The script's statements: ``--`` lines dropped, whitespace runs made one space."""
    text = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("--"))
    return [" ".join(part.split()) for part in _END.split(text + "\n") if part.strip()]


async def amigrate_sql(env: MigrationEnv, name: str, target: str) -> list[str]:
    buffer = io.StringIO()
    await getattr(command, name)(env.config, target, sql=True, output_buffer=buffer)
    return statements(buffer.getvalue())


def alembic_sql(project: AlembicProject, name: str, target: str) -> list[str]:
    from alembic import command as alembic_command

    buffer = io.StringIO()
    getattr(alembic_command, name)(project.config(output_buffer=buffer), target, sql=True)
    return statements(buffer.getvalue())


def as_amigrate_prints(alembic: list[str], dialect: str) -> list[str]:
    """Alembic's statements with amigrate's deliberate differences (module docstring) applied."""
    result = list(alembic)
    returning = [i for i, s in enumerate(result) if re.search(r"alembic_version.*RETURNING", s)]
    if any(s.startswith("INSERT INTO alembic_version") for s in result):
        assert returning, "Alembic no longer adds RETURNING: drop this difference"
    for i in returning:
        result[i] = re.sub(r" RETURNING .*$", "", result[i])
    if dialect == "sqlite":
        assert "BEGIN" not in result, "Alembic now prints BEGIN on SQLite: drop this difference"
        result = _with_transactions(result)
    return result


def _with_transactions(flat: list[str]) -> list[str]:
    """BEGIN/COMMIT around each revision: a revision ends with its version-table statement."""
    result = ["BEGIN"]
    for statement in flat:
        result.append(statement)
        if re.match(r"(INSERT INTO|UPDATE|DELETE FROM) alembic_version\b", statement):
            result += ["COMMIT", "BEGIN"]
    return result[:-1]


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("upgrade", "base:head"),
        ("upgrade", "a1:c3"),
        ("downgrade", "head:base"),
        ("downgrade", "f6:d4"),
        ("stamp", "a1:c3"),
    ],
)
async def test_same_statements_as_alembic(
    projects: tuple[MigrationEnv, AlembicProject], dialect: str, name: str, target: str
) -> None:
    env, alembic = projects
    ours = await amigrate_sql(env, name, target)
    theirs = alembic_sql(alembic, name, target)
    assert any("alembic_version" in statement for statement in ours)
    assert ours == as_amigrate_prints(theirs, dialect)


async def test_the_first_version_row_is_a_plain_insert(
    projects: tuple[MigrationEnv, AlembicProject],
) -> None:
    env, alembic = projects
    ours = [s for s in await amigrate_sql(env, "upgrade", "base:a1") if "INSERT" in s]
    theirs = [s for s in alembic_sql(alembic, "upgrade", "base:a1") if "INSERT" in s]
    assert ours == ["INSERT INTO alembic_version (version_num) VALUES ('a1')"]
    assert len(theirs) == 1
    assert theirs[0].startswith(ours[0] + " RETURNING ")


async def test_cli_prints_what_the_api_writes(
    projects: tuple[MigrationEnv, AlembicProject], dialect: str
) -> None:
    env, _ = projects
    result = env.run("upgrade", "base:head", "--sql", check=True)
    assert statements(result.stdout) == await amigrate_sql(env, "upgrade", "base:head")
