"""Offline SQL of the rest of the vocabulary, and of every operation on MySQL, vs Alembic.

Same harness as ``test_ddl_vs_alembic.py`` (whose helpers this module uses): each case runs
the same ``op.*`` code on amigrate and on Alembic, offline, and compares the statements
whitespace-normalised. Here: ``alter_column``, the constraint operations, table comments,
naming conventions, and the core cases of that module again on the mysql dialect.

SQLite cannot alter a column (other than renaming it) or add or drop a constraint in place;
amigrate refuses those up front, pointing at ``batch_alter_table`` (``REFUSED``), where
Alembic writes statements SQLite rejects, or fails half-way through.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations as AlembicOperations
from test_ddl_vs_alembic import SAME, Case, Different, Refused, Run, statements

from amigrate.ddl import impl_for
from amigrate.ddl.sink import ScriptSink, offline_dialect
from amigrate.errors import AmigrateError
from amigrate.operations import Operations

ALL = ("postgresql", "sqlite", "mysql")
NO_SQLITE = ("postgresql", "mysql")
CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def amigrate_sql(dialect_name: str, run: Run, convention: dict[str, str] | None = None) -> str:
    output = io.StringIO()
    dialect = offline_dialect(dialect_name)
    impl = impl_for(dialect_name)(dialect, ScriptSink(dialect, output))
    run(Operations(impl, naming_convention=convention))
    return output.getvalue()


def alembic_sql(dialect_name: str, run: Run, convention: dict[str, str] | None = None) -> str:
    output = io.StringIO()
    opts: dict[str, Any] = {"as_sql": True, "output_buffer": output, "literal_binds": True}
    if convention is not None:
        opts["target_metadata"] = sa.MetaData(naming_convention=convention)
    context = MigrationContext.configure(
        dialect_name=dialect_name, opts=opts, dialect_opts={"paramstyle": "named"}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run(AlembicOperations(context))
    return output.getvalue()


# -- the same SQL as Alembic ------------------------------------------------------------------

ALTER = [
    Case(
        "alter_column nullable",
        lambda op: op.alter_column("t", "c", nullable=False, existing_type=sa.Integer),
        NO_SQLITE,
    ),
    Case(
        "alter_column nullable keeps the rest (MySQL restates it)",
        lambda op: op.alter_column(
            "t",
            "c",
            nullable=True,
            existing_type=sa.String(10),
            existing_server_default="x",
            existing_comment="kept",
            schema="s",
        ),
        NO_SQLITE,
    ),
    Case(
        "alter_column type",
        lambda op: op.alter_column(
            "t", "c", type_=sa.String(20), existing_type=sa.String(10), existing_nullable=False
        ),
        NO_SQLITE,
    ),
    Case(
        "alter_column type given as a class",
        lambda op: op.alter_column("t", "c", type_=sa.Text, existing_type=sa.String(10)),
        NO_SQLITE,
    ),
    Case(
        "alter_column type postgresql_using",
        lambda op: op.alter_column(
            "t", "c", type_=sa.Integer, existing_type=sa.String(10), postgresql_using="c::integer"
        ),
        NO_SQLITE,
    ),
    Case(
        "alter_column server_default string",
        lambda op: op.alter_column("t", "c", server_default="x", existing_type=sa.String(10)),
        NO_SQLITE,
    ),
    Case(
        "alter_column server_default quoted string",
        lambda op: op.alter_column("t", "c", server_default="it's", existing_type=sa.String(10)),
        NO_SQLITE,
    ),
    Case(
        "alter_column server_default text",
        lambda op: op.alter_column(
            "t", "c", server_default=sa.text("42"), existing_type=sa.Integer, schema="s"
        ),
        NO_SQLITE,
    ),
    Case(
        "alter_column drop server_default",
        lambda op: op.alter_column("t", "c", server_default=None, existing_type=sa.String(10)),
        NO_SQLITE,
    ),
    Case(
        "alter_column datetime server_default (MySQL: CHANGE)",
        lambda op: op.alter_column(
            "t", "at", server_default=sa.text("CURRENT_TIMESTAMP"), existing_type=sa.DateTime()
        ),
        NO_SQLITE,
    ),
    Case(
        "alter_column new_column_name",
        lambda op: op.alter_column("t", "c", new_column_name="d", existing_type=sa.String(10)),
        ALL,
    ),
    Case(
        "alter_column new_column_name schema",
        lambda op: op.alter_column(
            "t", "c", new_column_name="d", existing_type=sa.Integer, schema="s"
        ),
        ALL,
    ),
    Case(
        "alter_column new_column_name quoted",
        lambda op: op.alter_column(
            "Order", "Select", new_column_name="From", existing_type=sa.Integer
        ),
        ALL,
    ),
    Case(
        "alter_column rename and retype",
        lambda op: op.alter_column(
            "t",
            "c",
            new_column_name="d",
            type_=sa.BigInteger,
            existing_type=sa.Integer,
            existing_nullable=False,
        ),
        NO_SQLITE,
    ),
    Case(
        "alter_column comment",
        lambda op: op.alter_column("t", "c", comment="it's c", existing_type=sa.String(10)),
        NO_SQLITE,
    ),
    Case(
        "alter_column drop comment",
        lambda op: op.alter_column(
            "t", "c", comment=None, existing_type=sa.String(10), existing_comment="old"
        ),
        NO_SQLITE,
    ),
    Case(
        "alter_column everything at once",
        lambda op: op.alter_column(
            "t",
            "c",
            nullable=True,
            server_default="1",
            type_=sa.BigInteger,
            comment="c",
            new_column_name="d",
            existing_type=sa.Integer,
            existing_nullable=False,
            existing_server_default="0",
            existing_comment="old",
            schema="s",
        ),
        NO_SQLITE,
    ),
    Case(
        "alter_column nothing",
        lambda op: op.alter_column("t", "c", existing_type=sa.Integer),
        ALL,
    ),
]

CONSTRAINTS = [
    Case("create_primary_key", lambda op: op.create_primary_key("pk_t", "t", ["id"]), NO_SQLITE),
    Case(
        "create_primary_key composite schema",
        lambda op: op.create_primary_key("pk_t", "t", ["a", "b"], schema="s"),
        NO_SQLITE,
    ),
    Case(
        "create_primary_key quoted",
        lambda op: op.create_primary_key("Pk T", "Order", ["Select"], schema="My Schema"),
        NO_SQLITE,
    ),
    Case(
        "create_unique_constraint",
        lambda op: op.create_unique_constraint("uq_t_a", "t", ["a"]),
        NO_SQLITE,
    ),
    Case(
        "create_unique_constraint composite schema",
        lambda op: op.create_unique_constraint("uq_t_ab", "t", ["a", "b"], schema="s"),
        NO_SQLITE,
    ),
    Case(
        "create_unique_constraint deferrable",
        lambda op: op.create_unique_constraint(
            "uq_t_a", "t", ["a"], deferrable=True, initially="DEFERRED"
        ),
        ("postgresql",),
    ),
    Case(
        "create_unique_constraint unnamed",
        lambda op: op.create_unique_constraint(None, "t", ["a"]),
        NO_SQLITE,
    ),
    Case(
        "create_check_constraint text",
        lambda op: op.create_check_constraint("ck_t_a", "t", "a > 0"),
        NO_SQLITE,
    ),
    Case(
        "create_check_constraint expression schema",
        lambda op: op.create_check_constraint("ck_t_a", "t", sa.column("a") > 5, schema="s"),
        NO_SQLITE,
    ),
    Case(
        "create_check_constraint text() with a quote",
        lambda op: op.create_check_constraint("ck_t_n", "t", sa.text("n <> 'it''s'")),
        NO_SQLITE,
    ),
    Case(
        "create_foreign_key",
        lambda op: op.create_foreign_key("fk_t_r", "t", "r", ["r_id"], ["id"]),
        NO_SQLITE,
    ),
    Case(
        "create_foreign_key composite cascades",
        lambda op: op.create_foreign_key(
            "fk_t_r", "t", "r", ["a", "b"], ["x", "y"], onupdate="CASCADE", ondelete="SET NULL"
        ),
        NO_SQLITE,
    ),
    Case(
        "create_foreign_key deferrable initially match",
        lambda op: op.create_foreign_key(
            "fk_t_r",
            "t",
            "r",
            ["r_id"],
            ["id"],
            deferrable=True,
            initially="DEFERRED",
            match="FULL",
        ),
        ("postgresql",),
    ),
    Case(
        "create_foreign_key schemas",
        lambda op: op.create_foreign_key(
            "fk_t_r", "t", "r", ["r_id"], ["id"], source_schema="s1", referent_schema="s2"
        ),
        NO_SQLITE,
    ),
    Case(
        "create_foreign_key to itself",
        lambda op: op.create_foreign_key("fk_t_t", "t", "t", ["parent_id"], ["id"]),
        NO_SQLITE,
    ),
    Case(
        "create_foreign_key to itself in a schema",
        lambda op: op.create_foreign_key(
            "fk_t_t", "t", "t", ["parent_id"], ["id"], source_schema="s", referent_schema="s"
        ),
        NO_SQLITE,
    ),
    Case(
        "create_foreign_key unnamed",
        lambda op: op.create_foreign_key(None, "t", "r", ["r_id"], ["id"]),
        NO_SQLITE,
    ),
    Case(
        "create_exclude_constraint",
        lambda op: op.create_exclude_constraint(
            "ex_booking", "booking", ("room", "="), ("during", "&&"), using="gist"
        ),
        ("postgresql",),
    ),
    Case(
        "create_exclude_constraint where schema",
        lambda op: op.create_exclude_constraint(
            "ex_booking",
            "booking",
            ("room", "="),
            where="active",
            schema="s",
            deferrable=True,
        ),
        ("postgresql",),
    ),
    Case(
        "drop_constraint foreignkey",
        lambda op: op.drop_constraint("fk_t_r", "t", type_="foreignkey"),
        NO_SQLITE,
    ),
    Case(
        "drop_constraint primary",
        lambda op: op.drop_constraint("pk_t", "t", type_="primary", schema="s"),
        NO_SQLITE,
    ),
    Case(
        "drop_constraint unique",
        lambda op: op.drop_constraint("uq_t_a", "t", type_="unique"),
        NO_SQLITE,
    ),
    Case(
        "drop_constraint check",
        lambda op: op.drop_constraint("ck_t_a", "t", type_="check", schema="s"),
        NO_SQLITE,
    ),
    Case(
        "drop_constraint without type",
        lambda op: op.drop_constraint("c_t", "t"),
        ("postgresql",),
    ),
    Case(
        "drop_constraint if_exists",
        lambda op: op.drop_constraint("uq_t_a", "t", type_="unique", if_exists=True),
        ("postgresql",),
    ),
    Case(
        "drop_constraint quoted",
        lambda op: op.drop_constraint("Fk T", "Order", type_="foreignkey", schema="My Schema"),
        NO_SQLITE,
    ),
]

COMMENTS = [
    Case(
        "create_table_comment",
        lambda op: op.create_table_comment("t", "it's a table"),
        NO_SQLITE,
    ),
    Case(
        "create_table_comment schema existing_comment",
        lambda op: op.create_table_comment("t", "new", existing_comment="old", schema="s"),
        NO_SQLITE,
    ),
    Case("drop_table_comment", lambda op: op.drop_table_comment("t"), NO_SQLITE),
    Case(
        "drop_table_comment schema",
        lambda op: op.drop_table_comment("t", existing_comment="x", schema="s"),
        NO_SQLITE,
    ),
]

MORE = [
    Case(
        "create_index mysql_length",
        lambda op: op.create_index("ix_t_name", "t", ["name"], mysql_length={"name": 10}),
        ALL,
    ),
    Case(
        "create_index column expression",
        lambda op: op.create_index("ix_t_lower", "t", [sa.func.lower(sa.column("name"))]),
        NO_SQLITE,
    ),
    Case(
        "create_index postgresql_using btree where",
        lambda op: op.create_index(
            "ix_t_a",
            "t",
            ["a"],
            unique=True,
            postgresql_using="btree",
            postgresql_where=sa.column("a") > 0,
        ),
        ("postgresql",),
    ),
    Case(
        "create_table every column feature",
        lambda op: op.create_table(
            "full",
            sa.Column("id", sa.Integer, sa.Identity(), primary_key=True, comment="key"),
            sa.Column("code", sa.String(8), nullable=False, unique=True, server_default="x"),
            sa.Column("parent_id", sa.Integer, sa.ForeignKey("full.id", ondelete="CASCADE")),
            sa.Column("qty", sa.Integer, sa.CheckConstraint("qty > 0", name="ck_qty")),
            sa.Column("twice", sa.Integer, sa.Computed("qty * 2")),
            sa.Column("note", sa.Text, comment="free"),
            sa.UniqueConstraint("code", "qty", name="uq_code_qty"),
            sa.Index("ix_full_note", "note"),
            comment="every feature",
            schema="s",
        ),
        ALL,
    ),
    Case(
        "rename_table in a schema",
        lambda op: op.rename_table("a", "b", schema="s"),
        ("mysql",),
    ),
    Case(
        "execute execution_options",
        lambda op: op.execute("UPDATE t SET a = 1", execution_options={"autocommit": True}),
        ALL,
    ),
]

CONVENTIONS = [
    Case("unique", lambda op: op.create_unique_constraint(None, "t", ["a"]), NO_SQLITE),
    Case(
        "foreign key",
        lambda op: op.create_foreign_key(None, "t", "r", ["r_id"], ["id"]),
        NO_SQLITE,
    ),
    Case("check", lambda op: op.create_check_constraint("positive", "t", "a > 0"), NO_SQLITE),
    Case("primary key", lambda op: op.create_primary_key(None, "t", ["id"]), NO_SQLITE),
    Case("index", lambda op: op.create_index(None, "t", ["a"]), ALL),
    Case(
        "final name",
        lambda op: op.create_unique_constraint(op.f("mine"), "t", ["a"]),
        NO_SQLITE,
    ),
    Case(
        "drop check",
        lambda op: op.drop_constraint("positive", "t", type_="check"),
        NO_SQLITE,
    ),
    Case(
        "create_table",
        lambda op: op.create_table(
            "t",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("a", sa.Integer, unique=True, index=True),
            sa.Column("r_id", sa.Integer, sa.ForeignKey("r.id")),
            sa.CheckConstraint("a > 0", name="positive"),
        ),
        ALL,
    ),
]

NEW = ALTER + CONSTRAINTS + COMMENTS + MORE
MYSQL_REFUSED_CORE = {"drop_index", "drop_index if_exists"}
CORE_ON_MYSQL = [case for case in SAME if case.id not in MYSQL_REFUSED_CORE]


def params(cases: list[Case], prefix: str = "") -> list[Any]:
    return [
        pytest.param(case, name, id=f"{prefix}{case.id}-{name}")
        for case in cases
        for name in case.dialects
    ]


@pytest.mark.parametrize(("case", "dialect_name"), params(NEW))
def test_same_sql_as_alembic(case: Case, dialect_name: str) -> None:
    ours = statements(amigrate_sql(dialect_name, case.run))

    assert ours == statements(alembic_sql(dialect_name, case.run))
    assert ours or case.id == "alter_column nothing"


@pytest.mark.parametrize("case", CORE_ON_MYSQL, ids=[case.id for case in CORE_ON_MYSQL])
def test_core_operations_on_mysql_same_as_alembic(case: Case) -> None:
    ours = statements(amigrate_sql("mysql", case.run))

    assert ours == statements(alembic_sql("mysql", case.run))


@pytest.mark.parametrize(("case", "dialect_name"), params(CONVENTIONS, "convention "))
def test_naming_convention_names_what_the_op_leaves_unnamed(case: Case, dialect_name: str) -> None:
    ours = statements(amigrate_sql(dialect_name, case.run, CONVENTION))

    assert ours == statements(alembic_sql(dialect_name, case.run, CONVENTION))
    assert ours


def test_enough_cases() -> None:
    from test_ddl_vs_alembic import SAME as CORE

    core = sum(len(case.dialects) for case in CORE)
    here = sum(len(case.dialects) for case in NEW + CONVENTIONS) + len(CORE_ON_MYSQL)
    assert core + here >= 150
    assert here >= 100


# -- deliberately different SQL ---------------------------------------------------------------

DIFFERENT = [
    Different(
        "alter_column datetime default, type given as a class",
        "mysql",
        lambda op: op.alter_column(
            "t", "at", server_default=sa.text("CURRENT_TIMESTAMP"), existing_type=sa.DateTime
        ),
        ["ALTER TABLE t CHANGE at at DATETIME NULL DEFAULT CURRENT_TIMESTAMP"],
        "existing_type=sa.DateTime (the class) means what sa.DateTime() means, so a DATETIME "
        "default goes through CHANGE either way; Alembic checks the class for DATETIME, misses, "
        "and writes ALTER COLUMN ... SET DEFAULT.",
    ),
    Different(
        "alter_column of a datetime column that changes nothing",
        "mysql",
        lambda op: op.alter_column("t", "at", existing_type=sa.DateTime()),
        [],
        "nothing to change, so no statement; Alembic writes CHANGE at at DATETIME NULL, which "
        "rewrites the column and drops a default that existing_server_default did not restate.",
    ),
]


@pytest.mark.parametrize("case", DIFFERENT, ids=[case.id for case in DIFFERENT])
def test_deliberately_different_sql(case: Different) -> None:
    ours = statements(amigrate_sql(case.dialect, case.run))

    assert ours == case.expected, case.why
    assert statements(alembic_sql(case.dialect, case.run)) != ours


# -- refused up front -------------------------------------------------------------------------

BATCH = "use batch_alter_table"
REFUSED = [
    *[
        Refused(
            f"alter_column {what}",
            "sqlite",
            run,
            rf"sqlite cannot alter column 'c' of table 't' in place \({what}\).*{BATCH}",
            "writes ALTER COLUMN, a syntax error on SQLite",
        )
        for what, run in [
            ("nullable", lambda op: op.alter_column("t", "c", nullable=False)),
            ("type_", lambda op: op.alter_column("t", "c", type_=sa.Text)),
            ("server_default", lambda op: op.alter_column("t", "c", server_default="x")),
            ("comment", lambda op: op.alter_column("t", "c", comment="x")),
            (
                "nullable, type_",
                lambda op: op.alter_column(
                    "t", "c", nullable=True, type_=sa.Text, new_column_name="d"
                ),
            ),
        ]
    ],
    *[
        Refused(
            f"{name} on sqlite",
            "sqlite",
            run,
            rf"sqlite cannot (add|drop) a {kind}.*{BATCH}",
            "raises NotImplementedError",
        )
        for name, kind, run in [
            (
                "create_primary_key",
                "PRIMARY KEY",
                lambda op: op.create_primary_key("p", "t", ["a"]),
            ),
            (
                "create_unique_constraint",
                "UNIQUE",
                lambda op: op.create_unique_constraint("u", "t", ["a"]),
            ),
            (
                "create_check_constraint",
                "CHECK",
                lambda op: op.create_check_constraint("c", "t", "a > 0"),
            ),
            (
                "create_foreign_key",
                "FOREIGN KEY",
                lambda op: op.create_foreign_key("f", "t", "r", ["a"], ["id"]),
            ),
            ("drop_constraint", "constraint", lambda op: op.drop_constraint("c", "t")),
            (
                "drop_constraint foreignkey",
                "FOREIGN KEY",
                lambda op: op.drop_constraint("c", "t", type_="foreignkey"),
            ),
        ]
    ],
    Refused(
        "create_table_comment",
        "sqlite",
        lambda op: op.create_table_comment("t", "x"),
        "sqlite cannot store a comment on a table",
        "writes COMMENT ON TABLE, a syntax error on SQLite",
    ),
    Refused(
        "drop_table_comment",
        "sqlite",
        lambda op: op.drop_table_comment("t"),
        "sqlite cannot store a comment on a table",
        "writes COMMENT ON TABLE, a syntax error on SQLite",
    ),
    Refused(
        "create_exclude_constraint",
        "mysql",
        lambda op: op.create_exclude_constraint("ex", "t", ("a", "=")),
        "mysql cannot create an EXCLUDE constraint",
        "fails to compile the statement",
    ),
    Refused(
        "create_exclude_constraint",
        "sqlite",
        lambda op: op.create_exclude_constraint("ex", "t", ("a", "=")),
        "sqlite cannot create an EXCLUDE constraint",
        "raises NotImplementedError",
    ),
    Refused(
        "drop_constraint without type",
        "mysql",
        lambda op: op.drop_constraint("c", "t"),
        "mysql cannot drop constraint 'c' without knowing its kind",
        "raises NotImplementedError",
    ),
    Refused(
        "drop_index without table",
        "mysql",
        lambda op: op.drop_index("ix"),
        "mysql cannot drop index 'ix' without its table",
        "writes DROP INDEX ix ON no_table",
    ),
    Refused(
        "alter_column without existing_type",
        "mysql",
        lambda op: op.alter_column("t", "c", nullable=False),
        "mysql cannot alter column 'c' of table 't' without its type",
        "raises CommandError",
    ),
    Refused(
        "alter_column postgresql_using without type_",
        "postgresql",
        lambda op: op.alter_column("t", "c", nullable=False, postgresql_using="c::int"),
        "postgresql cannot apply postgresql_using without a new type",
        "raises CommandError",
    ),
    Refused(
        "alter_column identity",
        "postgresql",
        lambda op: op.alter_column("t", "c", server_default=sa.Identity()),
        "postgresql cannot change the generated expression or identity of column 'c'",
        "writes ALTER COLUMN ... ADD GENERATED (Alembic supports this one; amigrate not yet)",
    ),
]


@pytest.mark.parametrize("case", REFUSED, ids=[f"{case.id}-{case.dialect}" for case in REFUSED])
def test_refused_before_anything_is_written(case: Refused) -> None:
    output = io.StringIO()
    dialect = offline_dialect(case.dialect)
    op = Operations(impl_for(case.dialect)(dialect, ScriptSink(dialect, output)))

    with pytest.raises(AmigrateError, match=case.message):
        case.run(op)
    assert output.getvalue() == ""


def test_mariadb_drops_a_check_constraint_its_own_way() -> None:
    run: Run = lambda op: op.drop_constraint("ck_t_a", "t", type_="check")  # noqa: E731

    ours = statements(amigrate_sql("mariadb", run))

    assert ours == ["ALTER TABLE t DROP CONSTRAINT ck_t_a"]
    assert ours == statements(alembic_sql("mariadb", run))
    assert statements(amigrate_sql("mysql", run)) == ["ALTER TABLE t DROP CHECK ck_t_a"]
