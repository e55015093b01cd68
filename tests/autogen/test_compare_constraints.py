"""Indexes, unique constraints, foreign keys and checks: model against a real database.

Each scenario creates the "before" models with ``create_all``, compares the "after" models
with the database, checks the ops a user would read in the revision, runs them through
``Operations`` (SQLite's constraint changes in batch mode, as the rendered revision does),
and compares again: nothing left. Then the downgrade (``reverse()`` of each op, in reverse
order) brings back the "before" schema, which compares clean too.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from _envfactory import Backend, sync_connection
from sqlalchemy.dialects import postgresql

from amigrate.autogenerate.api import AutogenContext, AutogenOptions
from amigrate.autogenerate.compare.checks import check_text, compare_checks
from amigrate.autogenerate.compare.foreign_keys import compare_foreign_keys
from amigrate.autogenerate.compare.indexes import compare_indexes
from amigrate.autogenerate.compare.matching import normalise_sql
from amigrate.autogenerate.dialects.sqlite import index_sql
from amigrate.autogenerate.reflect import ReflectedTable
from amigrate.ddl import impl_for
from amigrate.ddl.sink import ConnectionSink
from amigrate.operations import Operations
from amigrate.operations.ops import (
    AddColumnOp,
    AddConstraintOp,
    CreateCheckConstraintOp,
    CreateForeignKeyOp,
    CreateUniqueConstraintOp,
    DropColumnOp,
    DropConstraintOp,
    DropIndexOp,
    MigrateOperation,
    ModifyTableOps,
)

Models = Callable[[sa.MetaData], None]

# -- harness ------------------------------------------------------------------------------------


def reflect_table(connection: sa.Connection, name: str, schema: str | None) -> ReflectedTable:
    """What the reflection step hands the comparators: SQLAlchemy's bulk reflection dicts."""
    inspector = sa.inspect(connection)
    key = (schema, name)
    kw: dict[str, Any] = {"schema": schema, "filter_names": [name]}
    sqlite = connection.dialect.name == "sqlite"
    with warnings.catch_warnings():  # SQLite: the comparator reads those indexes itself
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        return ReflectedTable(
            name,
            schema,
            indexes=inspector.get_multi_indexes(**kw).get(key, []),
            unique_constraints=inspector.get_multi_unique_constraints(**kw).get(key, []),
            foreign_keys=inspector.get_multi_foreign_keys(**kw).get(key, []),
            check_constraints=inspector.get_multi_check_constraints(**kw).get(key, []),
            index_sql=index_sql(connection, schema).get(name, {}) if sqlite else {},
        )


def compare(
    connection: sa.Connection,
    metadata: sa.MetaData,
    *,
    earlier: Callable[[sa.Table], list[MigrateOperation]] = lambda table: [],
    **options: Any,
) -> list[MigrateOperation]:
    """Every model table's ops, as the driver collects them, minus ``earlier`` column ops."""
    options.setdefault("compare_check_constraints", True)
    ctx = AutogenContext(connection.dialect, [metadata], connection, AutogenOptions(**options))
    found: list[MigrateOperation] = []
    for table in metadata.sorted_tables:
        reflected = reflect_table(connection, table.name, table.schema)
        table_ops = ModifyTableOps(list(earlier(table)), table.name, table.schema)
        for comparator in (compare_indexes, compare_foreign_keys, compare_checks):
            comparator(ctx, table_ops, reflected, table)
        found.extend(op for op in table_ops.ops if not isinstance(op, AddColumnOp | DropColumnOp))
    return found


def apply(connection: sa.Connection, ops: list[MigrateOperation]) -> None:
    """Run ops as a revision would: SQLite's constraint changes through batch mode."""
    operations = Operations(
        impl_for(connection.dialect.name)(connection.dialect, ConnectionSink(connection))
    )
    batched = (AddConstraintOp, DropConstraintOp)
    for op in ops:
        if connection.dialect.name == "sqlite" and isinstance(op, batched):
            table, schema = _target(op)
            with operations.batch_alter_table(table, schema=schema) as batch_op:
                _batch(batch_op, op)
        else:
            operations.invoke(op)


def _target(op: AddConstraintOp | DropConstraintOp) -> tuple[str, str | None]:
    return op.target if isinstance(op, AddConstraintOp) else (op.table_name, op.schema)


def _batch(batch_op: Any, op: MigrateOperation) -> None:
    if isinstance(op, DropConstraintOp):
        batch_op.drop_constraint(op.constraint_name, op.type_)
    elif isinstance(op, CreateUniqueConstraintOp):
        batch_op.create_unique_constraint(op.constraint_name, op.columns)
    elif isinstance(op, CreateCheckConstraintOp):
        batch_op.create_check_constraint(op.constraint_name, op.condition)
    elif isinstance(op, CreateForeignKeyOp):
        batch_op.create_foreign_key(
            op.constraint_name,
            op.referent_table,
            op.local_cols,
            op.remote_cols,
            referent_schema=op.referent_schema,
            **op.kw,
        )
    else:  # pragma: no cover
        raise AssertionError(op)


def migrate(
    backend: Backend, before: Models, after: Models, *, downgrade: bool = True, **options: Any
) -> list[Any]:
    """before → compare after → apply → clean → downgrade → clean; returns the upgrade ops."""
    old, new = sa.MetaData(), sa.MetaData()
    before(old)
    after(new)
    with sync_connection(backend.sync_url, begin=True) as connection:
        old.create_all(connection)
        ops = compare(connection, new, **options)
        apply(connection, ops)
        assert compare(connection, new, **options) == []
        if downgrade:
            apply(connection, [op.reverse() for op in reversed(ops)])
            assert compare(connection, old, **options) == []
    return ops


def summary(ops: list[Any]) -> list[tuple[str, Any, Any]]:
    """(kind, name, columns) per op: what a reviewer reads first."""
    rows: list[tuple[str, Any, Any]] = []
    for op in ops:
        name = getattr(op, "index_name", getattr(op, "constraint_name", None))
        columns = getattr(op, "columns", getattr(op, "local_cols", None))
        if isinstance(op, DropConstraintOp | DropIndexOp):
            columns = getattr(op.reverse_of, "columns", getattr(op.reverse_of, "local_cols", None))
        if columns is not None:
            columns = tuple(normalise_sql(str(c)) for c in columns)
        kind = type(op).__name__ + (f":{op.type_}" if isinstance(op, DropConstraintOp) else "")
        rows.append((kind, None if name is None else str(name), columns))
    return rows


def people(metadata: sa.MetaData, *extra: Any, columns: tuple[Any, ...] = ()) -> sa.Table:
    return sa.Table(
        "person",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50)),
        sa.Column("email", sa.String(100)),
        sa.Column("age", sa.Integer),
        *columns,
        *extra,
    )


# -- no false diffs -------------------------------------------------------------------------------


def rich(metadata: sa.MetaData) -> None:
    """Every kind of index and constraint the comparators know, as models declare them."""
    sa.Table(
        "team",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(10), unique=True),
        sa.Column("region", sa.String(10)),
        sa.Column("number", sa.Integer),
        sa.UniqueConstraint("region", "number", name="uq_team_region_number"),
    )
    sa.Table(
        "member",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50), index=True),
        sa.Column("nick", sa.String(50), unique=True, index=True),
        sa.Column("score", sa.Integer),
        sa.Column("active", sa.Boolean(create_constraint=True)),
        sa.Column("level", sa.Enum("low", "high", name="level", create_constraint=True)),
        sa.Column("team_id", sa.ForeignKey("team.id", ondelete="CASCADE")),
        sa.Column("team_code", sa.ForeignKey("team.code", onupdate="CASCADE")),
        sa.Column("region", sa.String(10)),
        sa.Column("number", sa.Integer),
        sa.Column("boss_id", sa.ForeignKey("member.id", name="fk_member_boss")),
        sa.ForeignKeyConstraint(
            ["region", "number"], ["team.region", "team.number"], name="fk_member_team_rn"
        ),
        sa.UniqueConstraint("name", "score"),
        sa.CheckConstraint("score >= 0", name="ck_member_score"),
        sa.CheckConstraint("score < 1000"),
        sa.CheckConstraint("region IN ('north', 'south')", name="ck_member_region"),
        sa.Index("ix_member_lower_name", sa.func.lower(sa.column("name"))),
        sa.Index("ix_member_score_desc", sa.desc("score"), "name"),
        sa.Index(
            "ix_member_active_score",
            "score",
            postgresql_where=sa.text("active"),
            sqlite_where=sa.text("active = 1"),
        ),
        sa.Index("ix_member_region_number", "region", "number", unique=True),
        sa.Index("ix_member_score_or_zero", sa.func.coalesce(sa.column("score"), 0)),
        sa.Index("ix_member_lower_region_desc", sa.text("lower(region) DESC")),
        sa.Index("ix_member_name_incl", "name", postgresql_include=["score"]),
    )


def test_no_false_diffs_right_after_create_all(backend: Backend) -> None:
    metadata = sa.MetaData()
    rich(metadata)
    with sync_connection(backend.sync_url, begin=True) as connection:
        metadata.create_all(connection)
        assert compare(connection, metadata) == []


def test_no_false_diffs_with_a_naming_convention(backend: Backend) -> None:
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        }
    )
    rich(metadata)
    with sync_connection(backend.sync_url, begin=True) as connection:
        metadata.create_all(connection)
        assert compare(connection, metadata) == []


LONG = "_with_a_suffix_that_takes_the_name_beyond_the_limit_of_sixty_three"


def test_long_convention_names_match_the_shortened_database_names(backend: Backend) -> None:
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s" + LONG,
            "uq": "uq_%(table_name)s_%(column_0_name)s" + LONG,
            "ck": "ck_%(table_name)s_%(constraint_name)s" + LONG,
        }
    )
    people(
        metadata,
        sa.Index(None, "name"),
        sa.UniqueConstraint("email"),
        columns=(sa.Column("score", sa.Integer, sa.CheckConstraint("score > 0", name="pos")),),
    )
    with sync_connection(backend.sync_url, begin=True) as connection:
        metadata.create_all(connection)
        assert compare(connection, metadata) == []


postgresql_only = pytest.mark.parametrize(
    "backend", [pytest.param("postgresql", marks=pytest.mark.postgresql)], indirect=True
)


@postgresql_only
def test_no_false_diffs_across_schemas_and_postgresql_options(backend: Backend) -> None:
    metadata = sa.MetaData()
    teams(metadata)
    sa.Table(
        "shop_team",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tags", postgresql.ARRAY(sa.String)),
        sa.Index("ix_shop_team_tags", "tags", postgresql_using="gin"),
        schema="shop",
    )
    sa.Table(
        "member",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team_id", sa.ForeignKey("team.id")),
        sa.Column("shop_team_id", sa.ForeignKey("shop.shop_team.id", deferrable=True)),
        sa.Column(
            "other_id", sa.ForeignKey("shop.shop_team.id", initially="DEFERRED", deferrable=True)
        ),
        sa.Column("name", sa.String(20), index=True),
        sa.UniqueConstraint("name", "team_id", name="uq_member_name_team"),
        schema="shop",
    )
    with sync_connection(backend.sync_url, begin=True) as connection:
        connection.exec_driver_sql("CREATE SCHEMA shop")
        metadata.create_all(connection)
        assert compare(connection, metadata) == []


@postgresql_only
def test_index_method_and_deferrable_changes_are_seen(backend: Backend) -> None:
    def models(using: str, deferrable: bool) -> Models:
        def build(m: sa.MetaData) -> None:
            teams(m)
            sa.Table(
                "doc",
                m,
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("tags", postgresql.ARRAY(sa.String)),
                sa.Column("team_id", sa.Integer),
                sa.Index("ix_doc_tags", "tags", postgresql_using=using),
                sa.ForeignKeyConstraint(
                    ["team_id"], ["team.id"], name="fk_doc_team", deferrable=deferrable
                ),
            )

        return build

    ops = migrate(backend, models("btree", False), models("gin", True))
    assert summary(ops) == [
        ("DropIndexOp", "ix_doc_tags", ("tags",)),
        ("CreateIndexOp", "ix_doc_tags", ("tags",)),
        ("DropConstraintOp:foreignkey", "fk_doc_team", ("team_id",)),
        ("CreateForeignKeyOp", "fk_doc_team", ("team_id",)),
    ]


# -- indexes --------------------------------------------------------------------------------------


def test_indexes_added_removed_and_changed(backend: Backend) -> None:
    def before(m: sa.MetaData) -> None:
        people(m, sa.Index("ix_name", "name"), sa.Index("ix_email_name", "email", "name"))
        sa.Index("ix_age", m.tables["person"].c.age)

    def after(m: sa.MetaData) -> None:
        people(
            m,
            sa.Index("ix_email_name", "name", "email"),  # order changed
            sa.Index("ix_email", "email", unique=True),
            sa.Index("ix_lower_email", sa.func.lower(sa.column("email"))),
            sa.Index(
                "ix_adults",
                "name",
                postgresql_where=sa.text("age >= 18"),
                sqlite_where=sa.text("age >= 18"),
            ),
        )
        sa.Index("ix_age", m.tables["person"].c.age)

    ops = migrate(backend, before, after)
    assert sorted(summary(ops)) == [
        ("CreateIndexOp", "ix_adults", ("name",)),
        ("CreateIndexOp", "ix_email", ("email",)),
        ("CreateIndexOp", "ix_email_name", ("name", "email")),
        ("CreateIndexOp", "ix_lower_email", ("loweremail",)),
        ("DropIndexOp", "ix_email_name", ("email", "name")),
        ("DropIndexOp", "ix_name", ("name",)),
    ]
    assert [type(op).__name__ for op in ops][:2] == ["DropIndexOp", "DropIndexOp"]
    (unique,) = [op for op in ops if getattr(op, "index_name", None) == "ix_email"]
    assert unique.unique


def test_a_changed_partial_index_condition_is_drop_and_create(backend: Backend) -> None:
    def partial(condition: str) -> Models:
        return lambda m: people(
            m,
            sa.Index(
                "ix_named",
                "name",
                postgresql_where=sa.text(condition),
                sqlite_where=sa.text(condition),
            ),
        )

    ops = migrate(backend, partial("age > 10"), partial("age > 20"))
    assert summary(ops) == [
        ("DropIndexOp", "ix_named", ("name",)),
        ("CreateIndexOp", "ix_named", ("name",)),
    ]


def test_a_changed_expression_index_is_drop_and_create(backend: Backend) -> None:
    def expression(function: Any) -> Models:
        return lambda m: people(m, sa.Index("ix_expr", function(sa.column("name"))))

    ops = migrate(backend, expression(sa.func.lower), expression(sa.func.upper))
    assert summary(ops) == [
        ("DropIndexOp", "ix_expr", ("lowername",)),
        ("CreateIndexOp", "ix_expr", ("uppername",)),
    ]


def test_what_an_added_column_carries_is_not_created_twice(backend: Backend) -> None:
    metadata = sa.MetaData()
    teams(metadata)
    people(metadata)
    new = sa.MetaData()
    teams(new)
    table = people(
        new,
        sa.Index("ix_nick_age", "nick", "age"),
        columns=(
            sa.Column("nick", sa.String(20), index=True, unique=True),
            sa.Column("team_id", sa.ForeignKey("team.id")),
        ),
    )
    added = [AddColumnOp("person", table.c.nick), AddColumnOp("person", table.c.team_id)]
    with sync_connection(backend.sync_url, begin=True) as connection:
        metadata.create_all(connection)
        ops = compare(connection, new, earlier=lambda t: added if t.name == "person" else [])
    assert summary(ops) == [("CreateIndexOp", "ix_nick_age", ("nick", "age"))]


def test_an_added_bare_column_gets_its_index_unique_and_foreign_key(backend: Backend) -> None:
    old, new = sa.MetaData(), sa.MetaData()
    teams(old)
    people(old)
    teams(new)
    table = people(
        new,
        sa.UniqueConstraint("nick", name="uq_nick"),
        columns=(
            sa.Column("nick", sa.String(20), index=True),
            sa.Column("team_id", sa.ForeignKey("team.id", name="fk_team")),
        ),
    )
    bare = [sa.Column(c.name, c.type) for c in (table.c.nick, table.c.team_id)]
    added: list[MigrateOperation] = [AddColumnOp("person", c) for c in bare]
    with sync_connection(backend.sync_url, begin=True) as connection:
        old.create_all(connection)
        ops = compare(connection, new, earlier=lambda t: added if t.name == "person" else [])
        assert sorted(summary(ops)) == [
            ("CreateForeignKeyOp", "fk_team", ("team_id",)),
            ("CreateIndexOp", "ix_person_nick", ("nick",)),
            ("CreateUniqueConstraintOp", "uq_nick", ("nick",)),
        ]
        apply(connection, [*added, *ops])
        assert compare(connection, new) == []


def test_what_covers_a_dropped_column_is_dropped_just_before_it(backend: Backend) -> None:
    old, new = sa.MetaData(), sa.MetaData()
    teams(old)
    people(
        old,
        sa.Index("ix_name_age", "name", "age"),
        sa.UniqueConstraint("age", "email", name="uq_age_email"),
        sa.ForeignKeyConstraint(["age"], ["team.id"], name="fk_age"),
        sa.CheckConstraint("age >= 0", name="ck_age"),
    )
    teams(new)
    sa.Table(
        "person",
        new,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50)),
        sa.Column("email", sa.String(100)),
    )
    with sync_connection(backend.sync_url, begin=True) as connection:
        old.create_all(connection)
        drop = DropColumnOp("person", "age", column=sa.Column("age", sa.Integer))
        ctx_ops = full_ops(connection, new, {"person": [drop]})
        assert summary(ctx_ops) == [
            ("DropConstraintOp:unique", "uq_age_email", ("age", "email")),
            ("DropIndexOp", "ix_name_age", ("name", "age")),
            ("DropConstraintOp:foreignkey", "fk_age", ("age",)),
            ("DropConstraintOp:check", "ck_age", None),
            ("DropColumnOp", None, None),
        ]
        apply(connection, ctx_ops)
        assert compare(connection, new) == []
        apply(connection, [op.reverse() for op in reversed(ctx_ops)])
        assert compare(connection, old) == []


def full_ops(
    connection: sa.Connection, metadata: sa.MetaData, earlier: dict[str, list[MigrateOperation]]
) -> list[MigrateOperation]:
    """One table's ``ModifyTableOps`` as the driver leaves it: column ops and ours."""
    ctx = AutogenContext(
        connection.dialect,
        [metadata],
        connection,
        AutogenOptions(compare_check_constraints=True),
    )
    found: list[MigrateOperation] = []
    for table in metadata.sorted_tables:
        reflected = reflect_table(connection, table.name, table.schema)
        table_ops = ModifyTableOps(list(earlier.get(table.name, [])), table.name, table.schema)
        for comparator in (compare_indexes, compare_foreign_keys, compare_checks):
            comparator(ctx, table_ops, reflected, table)
        found.extend(table_ops.ops)
    return found


# -- unique constraints ---------------------------------------------------------------------------


def test_unique_constraints_added_and_removed(backend: Backend) -> None:
    def before(m: sa.MetaData) -> None:
        people(m, sa.UniqueConstraint("name", "age", name="uq_name_age"))

    def after(m: sa.MetaData) -> None:
        people(m, sa.UniqueConstraint("email", name="uq_email"))

    ops = migrate(backend, before, after)
    assert summary(ops) == [
        ("DropConstraintOp:unique", "uq_name_age", ("name", "age")),
        ("CreateUniqueConstraintOp", "uq_email", ("email",)),
    ]


def test_unnamed_unique_constraints_match_by_columns(backend: Backend) -> None:
    def before(m: sa.MetaData) -> None:
        people(m, sa.UniqueConstraint("name", "age"))

    def after(m: sa.MetaData) -> None:
        people(m, sa.UniqueConstraint("name", "age"), sa.UniqueConstraint("email"))

    # PostgreSQL: the op carries the name the database would give it, so its drop can name
    # it; SQLite keeps it unnamed (a batch drop finds it by its columns, as rendered)
    ops = migrate(backend, before, after, downgrade=False)
    name = {"sqlite": None, "postgresql": "person_email_key"}[backend.name]
    assert summary(ops) == [("CreateUniqueConstraintOp", name, ("email",))]


def test_a_unique_index_becomes_a_unique_constraint_of_the_same_name(backend: Backend) -> None:
    def before(m: sa.MetaData) -> None:
        people(m, sa.Index("uq_email", "email", unique=True))

    def after(m: sa.MetaData) -> None:
        people(m, sa.UniqueConstraint("email", name="uq_email"))

    ops = migrate(backend, before, after)
    assert summary(ops) == [
        ("DropIndexOp", "uq_email", ("email",)),
        ("CreateUniqueConstraintOp", "uq_email", ("email",)),
    ]


# -- foreign keys ---------------------------------------------------------------------------------


def teams(m: sa.MetaData) -> None:
    sa.Table(
        "team",
        m,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(10), unique=True),
    )


def test_foreign_keys_added_removed_and_changed(backend: Backend) -> None:
    def before(m: sa.MetaData) -> None:
        teams(m)
        people(
            m,
            sa.ForeignKeyConstraint(["age"], ["team.id"], name="fk_age"),
            sa.ForeignKeyConstraint(["name"], ["team.code"], name="fk_name", ondelete="CASCADE"),
        )

    def after(m: sa.MetaData) -> None:
        teams(m)
        people(
            m,
            sa.ForeignKeyConstraint(["name"], ["team.code"], name="fk_name", ondelete="SET NULL"),
            sa.ForeignKeyConstraint(["email"], ["team.code"], name="fk_email"),
        )

    ops = migrate(backend, before, after)
    assert summary(ops) == [
        ("DropConstraintOp:foreignkey", "fk_name", ("name",)),
        ("DropConstraintOp:foreignkey", "fk_age", ("age",)),
        ("CreateForeignKeyOp", "fk_name", ("name",)),
        ("CreateForeignKeyOp", "fk_email", ("email",)),
    ]
    (changed,) = [op for op in ops if isinstance(op, CreateForeignKeyOp) and op.kw]
    assert changed.kw == {"ondelete": "SET NULL"}


def test_unnamed_foreign_keys_match_by_what_they_link(backend: Backend) -> None:
    def before(m: sa.MetaData) -> None:
        teams(m)
        people(m, columns=(sa.Column("team_id", sa.ForeignKey("team.id")),))

    def after(m: sa.MetaData) -> None:
        teams(m)
        people(
            m,
            sa.ForeignKeyConstraint(["name"], ["team.code"], name="fk_name"),
            columns=(sa.Column("team_id", sa.ForeignKey("team.id", ondelete="NO ACTION")),),
        )

    ops = migrate(backend, before, after)
    assert summary(ops) == [("CreateForeignKeyOp", "fk_name", ("name",))]


def test_restrict_is_a_change_from_no_action(backend: Backend) -> None:
    def action(ondelete: str | None) -> Models:
        def models(m: sa.MetaData) -> None:
            teams(m)
            people(
                m, sa.ForeignKeyConstraint(["age"], ["team.id"], name="fk_age", ondelete=ondelete)
            )

        return models

    ops = migrate(backend, action(None), action("RESTRICT"))
    assert summary(ops) == [
        ("DropConstraintOp:foreignkey", "fk_age", ("age",)),
        ("CreateForeignKeyOp", "fk_age", ("age",)),
    ]


# -- check constraints ----------------------------------------------------------------------------


def test_named_checks_added_removed_and_changed(backend: Backend) -> None:
    def before(m: sa.MetaData) -> None:
        people(
            m,
            sa.CheckConstraint("age >= 0", name="ck_age"),
            sa.CheckConstraint("name <> ''", name="ck_name"),
            sa.CheckConstraint("age < 200"),
        )

    def after(m: sa.MetaData) -> None:
        people(
            m,
            sa.CheckConstraint("age >= 18", name="ck_age"),
            sa.CheckConstraint("email LIKE '%@%'", name="ck_email"),
            sa.CheckConstraint("age < 150"),  # unnamed: not compared
        )

    ops = migrate(backend, before, after)
    assert summary(ops) == [
        ("DropConstraintOp:check", "ck_age", None),
        ("DropConstraintOp:check", "ck_name", None),
        ("CreateCheckConstraintOp", "ck_age", None),
        ("CreateCheckConstraintOp", "ck_email", None),
    ]
    assert [check_text(str(op.condition)) for op in ops[2:]] == ["age>=18", "emaillike'%@%'"]


def test_checks_are_compared_only_when_asked(backend: Backend) -> None:
    metadata = sa.MetaData()
    people(metadata)
    new = sa.MetaData()
    people(new, sa.CheckConstraint("age >= 0", name="ck_age"))
    with sync_connection(backend.sync_url, begin=True) as connection:
        metadata.create_all(connection)
        assert compare(connection, new, compare_check_constraints=False) == []
        assert len(compare(connection, new)) == 1


def test_check_text_reads_postgresql_spelling_as_the_models() -> None:
    model = "region IN ('north', 'south')"
    database = (
        "(region)::text = ANY "
        "((ARRAY['north'::character varying, 'south'::character varying])::text[])"
    )
    assert check_text(model) == check_text(database)


# -- hooks ----------------------------------------------------------------------------------------


def test_include_object_and_include_name_are_honoured(backend: Backend) -> None:
    def before(m: sa.MetaData) -> None:
        people(m, sa.Index("ix_keep_db", "name"), sa.Index("ix_hidden", "age"))

    def after(m: sa.MetaData) -> None:
        people(m, sa.Index("ix_new", "email"), sa.Index("ix_skip_model", "age"))

    seen: list[tuple[Any, ...]] = []

    def include_object(obj: Any, name: str, type_: str, reflected: bool, compare_to: Any) -> bool:
        seen.append((name, type_, reflected, compare_to))
        return not name.startswith(("ix_keep", "ix_skip"))

    def include_name(name: str, type_: str, parents: dict[str, Any]) -> bool:
        assert parents["table_name"] == "person"
        return name != "ix_hidden"

    old, new = sa.MetaData(), sa.MetaData()
    before(old)
    after(new)
    with sync_connection(backend.sync_url, begin=True) as connection:
        old.create_all(connection)
        ops = compare(connection, new, include_object=include_object, include_name=include_name)
    assert summary(ops) == [("CreateIndexOp", "ix_new", ("email",))]
    assert ("ix_keep_db", "index", True, None) in seen
    assert not any(row[0] == "ix_hidden" for row in seen)


def test_reflected_objects_reach_include_object_as_sqlalchemy_objects(backend: Backend) -> None:
    old, new = sa.MetaData(), sa.MetaData()
    teams(old)
    people(
        old,
        sa.UniqueConstraint("email", name="uq_email"),
        sa.Index("ix_lower_name", sa.func.lower(sa.column("name"))),
        sa.ForeignKeyConstraint(["age"], ["team.id"], name="fk_age"),
        sa.CheckConstraint("age > 0", name="ck_age"),
    )
    teams(new)
    people(new)
    objects: dict[str, Any] = {}

    def include_object(obj: Any, name: str, type_: str, reflected: bool, compare_to: Any) -> bool:
        objects[type_] = obj
        return False

    with sync_connection(backend.sync_url, begin=True) as connection:
        old.create_all(connection)
        assert compare(connection, new, include_object=include_object) == []
    assert sorted(objects) == [
        "check_constraint",
        "foreign_key_constraint",
        "index",
        "unique_constraint",
    ]
    assert [c.name for c in objects["unique_constraint"].columns] == ["email"]
    assert objects["foreign_key_constraint"].referred_table.name == "team"
    assert objects["index"].name == "ix_lower_name"
    assert objects["check_constraint"].name == "ck_age"
