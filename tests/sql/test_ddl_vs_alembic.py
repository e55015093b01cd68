"""Offline SQL of the core operations, differential against Alembic as the oracle.

Each case calls the same ``op.*`` code on amigrate's ``Operations`` (ScriptSink into a
StringIO) and on Alembic's (``MigrationContext.configure(dialect_name=..., as_sql)``), on
the postgresql and sqlite dialects, and compares the statements whitespace-normalised.

Alembic is configured as its own generated env.py configures offline mode:
``literal_binds=True`` and the ``named`` parameter style (amigrate's `offline_dialect`
default). Without them Alembic prints ``%(x)s`` placeholders and doubles ``%`` on
PostgreSQL, which no script runner accepts.

Two normalisations besides whitespace: runs of consecutive CREATE INDEX statements, and of
``ALTER TABLE ... ADD <constraint>`` statements, are compared sorted. Alembic emits them
in the iteration order of a Python set (it changes between runs); amigrate sorts them by
name so a script is the same every time.

``DIFFERENT`` lists where amigrate deliberately emits other SQL, each with the reason;
``REFUSED`` where amigrate refuses up front what Alembic turns into SQL the database rejects.
"""

from __future__ import annotations

import datetime
import decimal
import io
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations as AlembicOperations
from sqlalchemy.dialects import postgresql

from amigrate.ddl import impl_for
from amigrate.ddl.sink import ScriptSink, offline_dialect
from amigrate.errors import AmigrateError
from amigrate.operations import Operations

DIALECTS = ("postgresql", "sqlite")
Run = Callable[[Any], object]


def amigrate_sql(dialect_name: str, run: Run) -> str:
    output = io.StringIO()
    dialect = offline_dialect(dialect_name)
    run(Operations(impl_for(dialect_name)(dialect, ScriptSink(dialect, output))))
    return output.getvalue()


def alembic_sql(dialect_name: str, run: Run) -> str:
    output = io.StringIO()
    context = MigrationContext.configure(
        dialect_name=dialect_name,
        opts={"as_sql": True, "output_buffer": output, "literal_binds": True},
        dialect_opts={"paramstyle": "named"},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Alembic warns where it skips a constraint on SQLite
        run(AlembicOperations(context))
    return output.getvalue()


_SORTED_RUNS = re.compile(r"^(CREATE (UNIQUE )?INDEX|ALTER TABLE \S+ ADD (?!COLUMN))")


def statements(script: str) -> list[str]:
    """The script's statements, whitespace-normalised; set-ordered runs sorted."""
    found = [" ".join(part.split()) for part in script.split(";\n\n") if part.strip()]
    result: list[str] = []
    run: list[str] = []
    for statement in [*found, ""]:
        if statement and _SORTED_RUNS.match(statement):
            run.append(statement)
            continue
        result += sorted(run)
        run = []
        if statement:
            result.append(statement)
    return result


@dataclass(frozen=True)
class Case:
    id: str
    run: Run
    dialects: tuple[str, ...] = DIALECTS


def table_items() -> list[sa.Column[Any]]:
    return [
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
    ]


# -- the same SQL as Alembic ------------------------------------------------------------------

SAME = [
    # create_table
    Case("create_table", lambda op: op.create_table("account", *table_items())),
    Case(
        "create_table schema",
        lambda op: op.create_table("account", *table_items(), schema="billing"),
    ),
    Case(
        "create_table if_not_exists",
        lambda op: op.create_table("account", *table_items(), if_not_exists=True),
    ),
    Case(
        "create_table comments",
        lambda op: op.create_table(
            "account",
            sa.Column("id", sa.Integer, primary_key=True, comment="the key"),
            sa.Column("name", sa.String(20), comment="it's a name"),
            comment="accounts",
            schema="billing",
        ),
    ),
    Case(
        "create_table indexes",
        lambda op: op.create_table(
            "account",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(50), index=True),
            sa.Column("email", sa.String(50)),
            sa.Index("ix_name_email", "name", "email", unique=True),
            sa.Index("ix_lower_email", sa.text("lower(email)")),
        ),
    ),
    Case(
        "create_table unique",
        lambda op: op.create_table(
            "account",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("email", sa.String(50), unique=True),
            sa.Column("a", sa.Integer),
            sa.Column("b", sa.Integer),
            sa.UniqueConstraint("a", "b", name="uq_account_a_b"),
        ),
    ),
    Case(
        "create_table foreign keys",
        lambda op: op.create_table(
            "invoice",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("account_id", sa.Integer, sa.ForeignKey("account.id", ondelete="CASCADE")),
            sa.Column("parent_id", sa.Integer, sa.ForeignKey("invoice.id")),
            sa.Column("a", sa.Integer),
            sa.Column("b", sa.Integer),
            sa.ForeignKeyConstraint(
                ["a", "b"], ["pair.x", "pair.y"], name="fk_pair", onupdate="SET NULL"
            ),
        ),
    ),
    Case(
        "create_table foreign key to another schema",
        lambda op: op.create_table(
            "invoice",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("account_id", sa.Integer, sa.ForeignKey("other.account.id")),
        ),
    ),
    Case(
        "create_table defaults",
        lambda op: op.create_table(
            "event",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now()),
            sa.Column("flag", sa.Boolean, server_default=sa.true(), nullable=False),
            sa.Column("kind", sa.String(10), server_default="new"),
            sa.Column("note", sa.Text, server_default=sa.text("'it''s'")),
        ),
    ),
    Case(
        "create_table checks",
        lambda op: op.create_table(
            "item",
            sa.Column("qty", sa.Integer, sa.CheckConstraint("qty >= 0")),
            sa.Column("price", sa.Numeric(10, 2)),
            sa.CheckConstraint("price > 0", name="ck_item_price"),
        ),
    ),
    Case(
        "create_table identity and computed",
        lambda op: op.create_table(
            "item",
            sa.Column("id", sa.Integer, sa.Identity(start=10), primary_key=True),
            sa.Column("qty", sa.Integer),
            sa.Column("twice", sa.Integer, sa.Computed("qty * 2", persisted=True)),
        ),
    ),
    Case(
        "create_table enum",
        lambda op: op.create_table(
            "mood_log",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("mood", sa.Enum("happy", "sad", name="mood")),
        ),
    ),
    Case(
        "create_table enum shared by two tables",
        lambda op: [
            op.create_table("a", sa.Column("m", sa.Enum("x", "y", name="shared"))),
            op.create_table("b", sa.Column("m", sa.Enum("x", "y", name="shared"))),
        ],
    ),
    Case(
        "create_table postgresql enum create_type=False",
        lambda op: op.create_table(
            "a", sa.Column("m", postgresql.ENUM("x", name="made_elsewhere", create_type=False))
        ),
        ("postgresql",),
    ),
    Case(
        "create_table types",
        lambda op: op.create_table(
            "typed",
            sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("doc", sa.JSON),
            sa.Column("uid", sa.Uuid),
            sa.Column("amount", sa.Numeric(12, 4), server_default="1.5"),
            sa.Column("day", sa.Date),
            sa.Column("blob", sa.LargeBinary),
        ),
    ),
    Case(
        "create_table quoted names",
        lambda op: op.create_table(
            "Mixed Case",
            sa.Column("select", sa.Integer, comment="reserved"),
            sa.Column("Upper", sa.String(5)),
            schema="My Schema",
        ),
    ),
    Case(
        "create_table prefixes",
        lambda op: op.create_table("scratch", sa.Column("x", sa.Integer), prefixes=["TEMPORARY"]),
    ),
    Case(
        "create_table named composite primary key",
        lambda op: op.create_table(
            "link",
            sa.Column("a", sa.Integer),
            sa.Column("b", sa.Integer),
            sa.PrimaryKeyConstraint("a", "b", name="pk_link"),
        ),
    ),
    Case(
        "create_table comment on an unnamed constraint (dropped, as Alembic drops it)",
        lambda op: op.create_table(
            "account", sa.Column("code", sa.String(5)), sa.UniqueConstraint("code", comment="c")
        ),
    ),
    Case(
        "create_table dialect options",
        lambda op: op.create_table(
            "auto", sa.Column("id", sa.Integer, primary_key=True), sqlite_autoincrement=True
        ),
    ),
    # drop_table
    Case("drop_table", lambda op: op.drop_table("account")),
    Case("drop_table schema", lambda op: op.drop_table("account", schema="billing")),
    Case("drop_table if_exists", lambda op: op.drop_table("account", if_exists=True)),
    Case("drop_table quoted", lambda op: op.drop_table("Order", schema="My Schema")),
    # add_column
    Case("add_column", lambda op: op.add_column("account", sa.Column("age", sa.Integer))),
    Case(
        "add_column schema",
        lambda op: op.add_column("account", sa.Column("age", sa.Integer), schema="billing"),
    ),
    Case(
        "add_column not null with default",
        lambda op: op.add_column(
            "account", sa.Column("n", sa.Integer, nullable=False, server_default="0")
        ),
    ),
    Case(
        "add_column comment",
        lambda op: op.add_column(
            "account", sa.Column("n", sa.Integer, comment="how many"), schema="billing"
        ),
    ),
    Case(
        "add_column index",
        lambda op: op.add_column("account", sa.Column("n", sa.Integer, index=True)),
    ),
    Case(
        "add_column unique index",
        lambda op: op.add_column("account", sa.Column("n", sa.Integer, index=True, unique=True)),
    ),
    Case(
        "add_column check",
        lambda op: op.add_column(
            "account", sa.Column("n", sa.Integer, sa.CheckConstraint("n > 0", name="ck_n"))
        ),
    ),
    Case(
        "add_column computed",
        lambda op: op.add_column("account", sa.Column("n2", sa.Integer, sa.Computed("n + 1"))),
    ),
    Case(
        "add_column boolean",
        lambda op: op.add_column("account", sa.Column("active", sa.Boolean)),
    ),
    Case(
        "add_column foreign key",
        lambda op: op.add_column(
            "invoice",
            sa.Column(
                "account_id",
                sa.Integer,
                sa.ForeignKey("account.id", name="fk_acc", ondelete="CASCADE"),
                index=True,
                comment="owner",
            ),
            schema="billing",
        ),
        ("postgresql",),
    ),
    Case(
        "add_column unique",
        lambda op: op.add_column("account", sa.Column("code", sa.String(8), unique=True)),
        ("postgresql",),
    ),
    Case(
        "add_column if_not_exists",
        lambda op: op.add_column("account", sa.Column("n", sa.Integer), if_not_exists=True),
        ("postgresql",),
    ),
    Case(
        "add_column non-native enum check",
        lambda op: op.add_column(
            "account",
            sa.Column("kind", sa.Enum("a", "b", native_enum=False, create_constraint=True)),
        ),
        ("postgresql",),
    ),
    Case(
        "add_column postgresql enum (type not created, as with Alembic)",
        lambda op: op.add_column("account", sa.Column("mood", sa.Enum("x", name="mood"))),
        ("postgresql",),
    ),
    Case(
        "add_column quoted",
        lambda op: op.add_column("Order", sa.Column("Select", sa.Integer), schema="My Schema"),
    ),
    Case(
        "add_column column of another table",
        lambda op: op.add_column(
            "copy", sa.Table("model", sa.MetaData(), sa.Column("x", sa.String(3))).c.x
        ),
    ),
    # drop_column
    Case("drop_column", lambda op: op.drop_column("account", "age")),
    Case("drop_column schema", lambda op: op.drop_column("account", "age", schema="billing")),
    Case(
        "drop_column if_exists",
        lambda op: op.drop_column("account", "age", if_exists=True),
        ("postgresql",),
    ),
    Case("drop_column quoted", lambda op: op.drop_column("Order", "Select")),
    # create_index
    Case("create_index", lambda op: op.create_index("ix_name", "account", ["name"])),
    Case(
        "create_index unique schema",
        lambda op: op.create_index(
            "ix_name", "account", ["name", "email"], unique=True, schema="billing"
        ),
    ),
    Case(
        "create_index expressions",
        lambda op: op.create_index(
            "ix_lower", "account", [sa.text("lower(name)"), "id", sa.column("email").desc()]
        ),
    ),
    Case(
        "create_index partial",
        lambda op: op.create_index(
            "ix_active",
            "account",
            ["name"],
            postgresql_where=sa.text("active"),
            sqlite_where=sa.text("active"),
        ),
    ),
    Case(
        "create_index postgresql options",
        lambda op: op.create_index(
            "ix_doc",
            "account",
            ["doc"],
            postgresql_using="gin",
            postgresql_include=["id"],
            postgresql_concurrently=True,
        ),
    ),
    Case(
        "create_index if_not_exists",
        lambda op: op.create_index("ix_name", "account", ["name"], if_not_exists=True),
    ),
    Case(
        "create_index final name",
        lambda op: op.create_index(op.f("ix_final"), "account", ["name"]),
    ),
    Case(
        "create_index quoted",
        lambda op: op.create_index("Ix Name", "Order", ["Select"], schema="My Schema"),
    ),
    # drop_index
    Case("drop_index", lambda op: op.drop_index("ix_name")),
    Case(
        "drop_index table schema",
        lambda op: op.drop_index("ix_name", "account", schema="billing"),
    ),
    Case("drop_index if_exists", lambda op: op.drop_index("ix_name", if_exists=True)),
    Case(
        "drop_index concurrently",
        lambda op: op.drop_index("ix_name", "account", postgresql_concurrently=True),
    ),
    # rename_table
    Case("rename_table", lambda op: op.rename_table("account", "customer")),
    Case(
        "rename_table schema", lambda op: op.rename_table("account", "customer", schema="billing")
    ),
    Case(
        "rename_table quoted",
        lambda op: op.rename_table("Mixed Case", "order", schema="My Schema"),
    ),
    # execute
    Case("execute string", lambda op: op.execute("UPDATE account SET name = 'x'")),
    Case("execute percent sign", lambda op: op.execute("SELECT '100%' AS pct")),
    Case(
        "execute text with values",
        lambda op: op.execute(
            sa.text("UPDATE account SET name = :name, day = :day").bindparams(
                name="o'k", day=datetime.date(2024, 2, 29)
            )
        ),
    ),
    Case(
        "execute construct",
        lambda op: op.execute(
            sa.table("account", sa.column("name", sa.String), sa.column("id", sa.Integer))
            .update()
            .where(sa.column("id", sa.Integer) == 5)
            .values(name="n")
        ),
    ),
    Case(
        "execute inline_literal",
        lambda op: op.execute(
            sa.table("account", sa.column("name", sa.String))
            .update()
            .values(name=op.inline_literal("new"))
        ),
    ),
    Case(
        "execute function body",
        lambda op: op.execute("CREATE FUNCTION one() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;"),
        ("postgresql",),
    ),
    # bulk_insert
    Case(
        "bulk_insert",
        lambda op: op.bulk_insert(
            sa.table("account", sa.column("id", sa.Integer), sa.column("name", sa.String)),
            [{"id": 1, "name": "one"}, {"id": 2, "name": "it's"}, {"id": 3, "name": None}],
        ),
    ),
    Case(
        "bulk_insert multiinsert=False, uneven rows",
        lambda op: op.bulk_insert(
            sa.table("account", sa.column("id", sa.Integer), sa.column("name", sa.String)),
            [{"id": 1, "name": "one"}, {"id": 2}],
            multiinsert=False,
        ),
    ),
    Case(
        "bulk_insert typed values",
        lambda op: op.bulk_insert(
            sa.table(
                "typed",
                sa.column("day", sa.Date),
                sa.column("flag", sa.Boolean),
                sa.column("amount", sa.Numeric),
                sa.column("at", sa.DateTime),
            ),
            [
                {
                    "day": datetime.date(2020, 1, 2),
                    "flag": True,
                    "amount": decimal.Decimal("1.50"),
                    "at": datetime.datetime(2020, 1, 2, 3, 4, 5),
                }
            ],
        ),
    ),
    Case(
        "bulk_insert into a Table",
        lambda op: op.bulk_insert(
            op.create_table("seeded", sa.Column("id", sa.Integer), sa.Column("s", sa.String(5))),
            [{"id": 1, "s": "a"}],
        ),
    ),
    Case(
        "bulk_insert no rows",
        lambda op: op.bulk_insert(sa.table("account", sa.column("id", sa.Integer)), []),
    ),
]


@pytest.mark.parametrize(
    ("case", "dialect_name"),
    [pytest.param(case, name, id=f"{case.id}-{name}") for case in SAME for name in case.dialects],
)
def test_same_sql_as_alembic(case: Case, dialect_name: str) -> None:
    ours = statements(amigrate_sql(dialect_name, case.run))

    assert ours == statements(alembic_sql(dialect_name, case.run))
    assert ours or case.id == "bulk_insert no rows"


def test_enough_cases() -> None:
    runs = sum(len(case.dialects) for case in SAME)
    assert runs >= 80


# -- deliberately different SQL ---------------------------------------------------------------


@dataclass(frozen=True)
class Different:
    id: str
    dialect: str
    run: Run
    expected: list[str]
    why: str


DIFFERENT = [
    Different(
        "add_column foreign key",
        "sqlite",
        lambda op: op.add_column(
            "invoice",
            sa.Column("account_id", sa.Integer, sa.ForeignKey("account.id", ondelete="CASCADE")),
        ),
        [
            "ALTER TABLE invoice ADD COLUMN account_id INTEGER "
            "REFERENCES account (id) ON DELETE CASCADE"
        ],
        "SQLite cannot ALTER TABLE ADD CONSTRAINT, but ADD COLUMN accepts a REFERENCES column "
        "constraint; Alembic raises NotImplementedError instead.",
    ),
    Different(
        "add_column named foreign key",
        "sqlite",
        lambda op: op.add_column(
            "invoice",
            sa.Column("account_id", sa.Integer, sa.ForeignKey("account.id", name="fk_acc")),
        ),
        [
            "ALTER TABLE invoice ADD COLUMN account_id INTEGER "
            "CONSTRAINT fk_acc REFERENCES account (id)"
        ],
        "as above; the constraint keeps its name.",
    ),
    Different(
        "add_column non-native enum check",
        "sqlite",
        lambda op: op.add_column(
            "account",
            sa.Column("kind", sa.Enum("a", "b", native_enum=False, create_constraint=True)),
        ),
        ["ALTER TABLE account ADD COLUMN kind VARCHAR(1) CHECK (kind IN ('a', 'b'))"],
        "the CHECK the type asks for is written inline; Alembic warns and leaves it out.",
    ),
    Different(
        "add_column to a dotted schema",
        "postgresql",
        lambda op: op.add_column("t", sa.Column("x", sa.Integer), schema="my.db"),
        ['ALTER TABLE "my.db".t ADD COLUMN x INTEGER'],
        "ALTER TABLE quotes the schema as SQLAlchemy does in CREATE/DROP TABLE; Alembic splits "
        "it at the dot (an MSSQL database.schema convention), so its DROP TABLE and ALTER "
        "TABLE name different schemas.",
    ),
    Different(
        "rename_table in a dotted schema",
        "postgresql",
        lambda op: op.rename_table("t", "u", schema="my.db"),
        ['ALTER TABLE "my.db".t RENAME TO u'],
        "as above.",
    ),
    Different(
        "create_table if_not_exists with an index",
        "postgresql",
        lambda op: op.create_table(
            "account", sa.Column("name", sa.String(5), index=True), if_not_exists=True
        ),
        [
            "CREATE TABLE IF NOT EXISTS account ( name VARCHAR(5) )",
            "CREATE INDEX IF NOT EXISTS ix_account_name ON account (name)",
        ],
        "when the table may already exist, so may its indexes; Alembic's plain CREATE INDEX "
        "fails exactly when IF NOT EXISTS mattered.",
    ),
    Different(
        "create_table constraint comment",
        "postgresql",
        lambda op: op.create_table(
            "account",
            sa.Column("code", sa.String(5)),
            sa.UniqueConstraint("code", name="uq_code", comment="one per code"),
        ),
        [
            "CREATE TABLE account ( code VARCHAR(5), CONSTRAINT uq_code UNIQUE (code) )",
            "COMMENT ON CONSTRAINT uq_code ON account IS 'one per code'",
        ],
        "the comment is kept, as SQLAlchemy's create_all keeps it; Alembic drops it silently.",
    ),
    Different(
        "bulk_insert with a SQL expression value",
        "postgresql",
        lambda op: op.bulk_insert(
            sa.table("account", sa.column("name", sa.String)), [{"name": sa.func.upper("x")}]
        ),
        ["INSERT INTO account (name) VALUES (upper('x'))"],
        "an expression is inserted as an expression; Alembic fails to render it as a literal.",
    ),
]


@pytest.mark.parametrize("case", DIFFERENT, ids=[case.id for case in DIFFERENT])
def test_deliberately_different_sql(case: Different) -> None:
    ours = statements(amigrate_sql(case.dialect, case.run))

    assert ours == case.expected, case.why
    try:
        theirs = statements(alembic_sql(case.dialect, case.run))
    except Exception:
        return
    assert theirs != ours


# -- refused up front -------------------------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    id: str
    dialect: str
    run: Run
    message: str
    alembic: str


REFUSED = [
    Refused(
        "add_column unique",
        "sqlite",
        lambda op: op.add_column("account", sa.Column("code", sa.String(8), unique=True)),
        "sqlite cannot add a UNIQUE constraint",
        "raises NotImplementedError after writing the ADD COLUMN",
    ),
    Refused(
        "add_column if_not_exists",
        "sqlite",
        lambda op: op.add_column("account", sa.Column("n", sa.Integer), if_not_exists=True),
        "sqlite cannot add a column with IF NOT EXISTS",
        "writes ADD COLUMN IF NOT EXISTS, a syntax error on SQLite",
    ),
    Refused(
        "drop_column if_exists",
        "sqlite",
        lambda op: op.drop_column("account", "n", if_exists=True),
        "sqlite cannot drop a column with IF EXISTS",
        "writes DROP COLUMN IF EXISTS, a syntax error on SQLite",
    ),
    Refused(
        "add_column foreign key to another schema",
        "sqlite",
        lambda op: op.add_column(
            "invoice", sa.Column("account_id", sa.Integer, sa.ForeignKey("other.account.id"))
        ),
        "sqlite cannot reference a table in another schema",
        "raises NotImplementedError after writing the ADD COLUMN",
    ),
]


@pytest.mark.parametrize("case", REFUSED, ids=[case.id for case in REFUSED])
def test_refused_before_anything_is_written(case: Refused) -> None:
    output = io.StringIO()
    dialect = offline_dialect(case.dialect)
    op = Operations(impl_for(case.dialect)(dialect, ScriptSink(dialect, output)))

    with pytest.raises(AmigrateError, match=case.message):
        case.run(op)
    assert output.getvalue() == ""


# -- the normaliser itself --------------------------------------------------------------------


def test_statements_sorts_only_index_and_constraint_runs() -> None:
    script = (
        "CREATE TABLE t (\n    a INTEGER\n);\n\n"
        "CREATE INDEX b ON t (a);\n\nCREATE INDEX a ON t (a);\n\n"
        "COMMENT ON TABLE t IS 'x';\n\n"
        "ALTER TABLE t ADD COLUMN z INTEGER;\n\n"
        "ALTER TABLE t ADD UNIQUE (z);\n\nALTER TABLE t ADD FOREIGN KEY(z) REFERENCES o (id);\n\n"
    )

    assert statements(script) == [
        "CREATE TABLE t ( a INTEGER )",
        "CREATE INDEX a ON t (a)",
        "CREATE INDEX b ON t (a)",
        "COMMENT ON TABLE t IS 'x'",
        "ALTER TABLE t ADD COLUMN z INTEGER",
        "ALTER TABLE t ADD FOREIGN KEY(z) REFERENCES o (id)",
        "ALTER TABLE t ADD UNIQUE (z)",
    ]
