"""Rendering ops into revision-file code: the text users read, and that it runs.

Exact strings pin the common operations (the form an Alembic user writes by hand); the
rest is checked by compiling and evaluating what was rendered.
"""

from __future__ import annotations

import enum
import textwrap
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from amigrate.autogenerate.api import AutogenContext, AutogenOptions
from amigrate.autogenerate.ops import (
    AddEnumValueOp,
    CreateEnumTypeOp,
    DropEnumTypeOp,
    ExecuteReversibleSQLOp,
    TodoOp,
)
from amigrate.autogenerate.render import render_imports, render_python_code, renderer
from amigrate.autogenerate.render.code import flat
from amigrate.autogenerate.render.types import render_type
from amigrate.errors import ScriptError
from amigrate.operations import ops
from amigrate.operations.ops_base import MigrateOperation


def context(dialect: str = "postgresql", **options: Any) -> AutogenContext:
    found = postgresql.dialect() if dialect == "postgresql" else sqlite.dialect()
    return AutogenContext(found, opts=AutogenOptions(**options))


def render(*operations: MigrateOperation, dialect: str = "postgresql", **options: Any) -> str:
    return render_python_code(ops.UpgradeOps(list(operations)), context(dialect, **options))


def same(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


class Mood(enum.Enum):
    happy = "happy"
    sad = "sad"


class Lowercase(sa.types.TypeDecorator[str]):
    impl = sa.String
    cache_ok = True


# -- the common operations, exactly -----------------------------------------------------------


def test_add_column() -> None:
    op = ops.AddColumnOp("t", sa.Column("x", sa.String(50), nullable=True))
    expected = 'op.add_column("t", sa.Column("x", sa.String(length=50), nullable=True))'
    assert render(op) == expected


def test_alter_column_keeps_what_the_column_was() -> None:
    op = ops.AlterColumnOp(
        "t", "x", existing_type=sa.VARCHAR(50), existing_nullable=True, modify_nullable=False
    )
    assert render(op) == same(
        """
        op.alter_column(
            "t",
            "x",
            existing_type=sa.VARCHAR(length=50),
            nullable=False,
            existing_nullable=True,
        )
        """
    )


def test_alter_column_defaults_comment_rename_and_schema() -> None:
    op = ops.AlterColumnOp(
        "t",
        "x",
        schema="s",
        existing_server_default=sa.text("'a'::character varying"),
        modify_server_default=None,
        modify_comment="new",
        existing_comment="old",
        modify_name="y",
    )
    assert render(op) == same(
        """
        op.alter_column(
            "t",
            "x",
            server_default=None,
            existing_server_default=sa.text("'a'::character varying"),
            comment="new",
            existing_comment="old",
            new_column_name="y",
            schema="s",
        )
        """
    )


def test_create_index_with_an_expression_and_a_where_clause() -> None:
    op = ops.CreateIndexOp(
        "ix", "t", ("a", sa.text("lower(b)")), kw={"postgresql_where": sa.text("a > 0")}
    )
    assert render(op) == same(
        """
        op.create_index(
            "ix",
            "t",
            ["a", sa.text("lower(b)")],
            unique=False,
            postgresql_where=sa.text("a > 0"),
        )
        """
    )


def test_drop_constraint_and_drop_index() -> None:
    assert render(ops.DropConstraintOp("fk", "t", type_="foreignkey")) == (
        'op.drop_constraint("fk", "t", type_="foreignkey")'
    )
    assert render(ops.DropIndexOp("ix", "t", schema="s")) == (
        'op.drop_index("ix", table_name="t", schema="s")'
    )


def test_create_table_with_constraints_then_its_indexes() -> None:
    metadata = sa.MetaData()
    table = sa.Table(
        "invoice",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("account.id", ondelete="CASCADE")),
        sa.Column("code", sa.String(20), nullable=False, unique=True, comment="the code"),
        sa.Column("total", sa.Numeric(10, 2), server_default="0"),
        sa.CheckConstraint("total >= 0", name="positive"),
        sa.Index("ix_invoice_total", "total"),
        comment="invoices",
    )
    items = (*table.columns, *table.indexes, *table.constraints)
    op = ops.CreateTableOp("invoice", items, schema="s", kw={"comment": "invoices"})
    assert render(op) == same(
        """
        op.create_table(
            "invoice",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("account_id", sa.Integer(), nullable=True),
            sa.Column("code", sa.String(length=20), nullable=False, comment="the code"),
            sa.Column("total", sa.Numeric(precision=10, scale=2), server_default="0", nullable=True),
            sa.PrimaryKeyConstraint("id"),
            sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
            sa.UniqueConstraint("code"),
            sa.CheckConstraint("total >= 0", name="positive"),
            comment="invoices",
            schema="s",
        )
        op.create_index("ix_invoice_total", "invoice", ["total"], unique=False, schema="s")
        """  # noqa: E501
    )


def test_names_from_a_naming_convention_are_marked_final() -> None:
    metadata = sa.MetaData(naming_convention={"pk": "pk_%(table_name)s"})
    table = sa.Table("t", metadata, sa.Column("id", sa.Integer, primary_key=True))
    code = render(ops.CreateTableOp("t", (*table.columns, *table.constraints)))
    assert 'sa.PrimaryKeyConstraint("id", name=op.f("pk_t"))' in code


def test_table_operations() -> None:
    assert render(
        ops.DropTableOp("t", schema="s"),
        ops.RenameTableOp("a", "b"),
        ops.DropColumnOp("t", "x"),
        ops.CreateTableCommentOp("t", "new", existing_comment="old"),
        ops.DropTableCommentOp("t", existing_comment="old"),
    ) == same(
        """
        op.drop_table("t", schema="s")
        op.rename_table("a", "b")
        op.drop_column("t", "x")
        op.create_table_comment("t", "new", existing_comment="old")
        op.drop_table_comment("t", existing_comment="old")
        """
    )


def test_constraint_operations() -> None:
    assert render(
        ops.CreatePrimaryKeyOp("pk", "t", ("id",)),
        ops.CreateUniqueConstraintOp("uq", "t", ("a", "b"), kw={"deferrable": True}),
        ops.CreateCheckConstraintOp("ck", "t", "a > 0"),
        ops.CreateForeignKeyOp(
            "fk", "t", "u", ("u_id",), ("id",), referent_schema="r", kw={"ondelete": "SET NULL"}
        ),
        ops.CreateExcludeConstraintOp("ex", "t", (("period", "&&"),), kw={"using": "gist"}),
    ) == same(
        """
        op.create_primary_key("pk", "t", ["id"])
        op.create_unique_constraint("uq", "t", ["a", "b"], deferrable=True)
        op.create_check_constraint("ck", "t", "a > 0")
        op.create_foreign_key(
            "fk",
            "t",
            "u",
            ["u_id"],
            ["id"],
            referent_schema="r",
            ondelete="SET NULL",
        )
        op.create_exclude_constraint("ex", "t", ("period", "&&"), using="gist")
        """
    )


def test_server_defaults_computed_and_identity() -> None:
    column = sa.Column(
        "n", sa.Integer, sa.Identity(start=10, increment=5), comment="counter", nullable=False
    )
    total = sa.Column("total", sa.Integer, sa.Computed("a + b", persisted=True))
    stamped = sa.Column("at", sa.DateTime, server_default=sa.func.now())
    quoted = sa.Column("q", sa.String, server_default=sa.text("'x'"))
    assert render(
        ops.AddColumnOp("t", column),
        ops.AddColumnOp("t", total),
        ops.AddColumnOp("t", stamped),
        ops.AddColumnOp("t", quoted),
    ) == same(
        """
        op.add_column(
            "t",
            sa.Column(
                "n",
                sa.Integer(),
                sa.Identity(start=10, increment=5),
                nullable=False,
                comment="counter",
            ),
        )
        op.add_column(
            "t",
            sa.Column("total", sa.Integer(), sa.Computed("a + b", persisted=True), nullable=True),
        )
        op.add_column(
            "t",
            sa.Column("at", sa.DateTime(), server_default=sa.text("now()"), nullable=True),
        )
        op.add_column("t", sa.Column("q", sa.String(), server_default=sa.text("'x'"), nullable=True))
        """  # noqa: E501
    )


def test_execute_keeps_strings_and_texts() -> None:
    assert render(
        ops.ExecuteSQLOp("UPDATE t SET a = :a"),
        ops.ExecuteSQLOp(sa.text("SELECT 1")),
        ops.ExecuteSQLOp(sa.select(sa.literal_column("':b'"))),
    ) == same(
        """
        op.execute("UPDATE t SET a = :a")
        op.execute(sa.text("SELECT 1"))
        op.execute(sa.text("SELECT '\\\\:b'"))
        """
    )


def test_bulk_insert() -> None:
    table = sa.table("t", sa.column("id", sa.Integer), sa.column("name", sa.String))
    op = ops.BulkInsertOp(table, [{"id": 1, "name": "a'b"}])
    assert render(op) == same(
        """
        op.bulk_insert(
            sa.table("t", sa.column("id", sa.Integer()), sa.column("name", sa.String())),
            [{"id": 1, "name": "a'b"}],
        )
        """
    )


# -- containers ---------------------------------------------------------------------------------


def test_an_empty_container_is_pass() -> None:
    assert render() == "pass"


def test_a_container_of_notes_still_has_a_statement() -> None:
    assert render(TodoOp("check this")) == "# TODO: check this\npass"


def test_modify_table_ops_render_one_after_another() -> None:
    group = ops.ModifyTableOps(
        [ops.DropColumnOp("t", "a"), ops.DropColumnOp("t", "b")], table_name="t"
    )
    assert render(group) == 'op.drop_column("t", "a")\nop.drop_column("t", "b")'


def test_batch_mode_writes_batch_op_calls_without_the_table() -> None:
    group = ops.ModifyTableOps(
        [
            ops.AddColumnOp("t", sa.Column("x", sa.Integer)),
            ops.AlterColumnOp(
                "t", "y", existing_type=sa.Integer(), existing_nullable=True, modify_nullable=False
            ),
            ops.CreateForeignKeyOp("fk", "t", "u", ("x",), ("id",)),
            ops.CreateIndexOp("ix", "t", ("x",)),
            ops.DropConstraintOp("uq", "t", type_="unique"),
        ],
        table_name="t",
    )
    assert render(group, dialect="sqlite", render_as_batch=True) == same(
        """
        with op.batch_alter_table("t", schema=None) as batch_op:
            batch_op.add_column(sa.Column("x", sa.Integer(), nullable=True))
            batch_op.alter_column(
                "y",
                existing_type=sa.Integer(),
                nullable=False,
                existing_nullable=True,
            )
            batch_op.create_foreign_key("fk", "u", ["x"], ["id"])
            batch_op.create_index("ix", ["x"], unique=False)
            batch_op.drop_constraint("uq", type_="unique")
        """
    )


def test_batch_mode_writes_ops_it_has_no_method_for_between_blocks() -> None:
    group = ops.ModifyTableOps(
        [
            ops.DropColumnOp("t", "a"),
            ops.CreateExcludeConstraintOp("ex", "t", (("a", "="),), schema="s"),
            ops.DropColumnOp("t", "b"),
        ],
        table_name="t",
        schema="s",
    )
    assert render(group, render_as_batch=True) == same(
        """
        with op.batch_alter_table("t", schema="s") as batch_op:
            batch_op.drop_column("a")
        op.create_exclude_constraint("ex", "t", ("a", "="), schema="s")
        with op.batch_alter_table("t", schema="s") as batch_op:
            batch_op.drop_column("b")
        """
    )


def test_batch_names_final_names_through_batch_op() -> None:
    group = ops.ModifyTableOps(
        [ops.CreateIndexOp(sa.sql.elements.conv("ix_t_a"), "t", ("a",))], table_name="t"
    )
    assert 'batch_op.create_index(batch_op.f("ix_t_a"), ["a"], unique=False)' in render(
        group, render_as_batch=True
    )


def test_downgrade_is_rendered_from_the_reverse() -> None:
    create = ops.CreateTableOp("t", (sa.Column("id", sa.Integer, primary_key=True),))
    upgrade = ops.UpgradeOps([create, ops.CreateIndexOp("ix", "t", ("id",))])
    ctx = context()
    assert render_python_code(upgrade.reverse(), ctx) == same(
        """
        op.drop_index("ix", table_name="t")
        op.drop_table("t")
        """
    )


def test_long_statements_wrap_one_argument_per_line() -> None:
    columns = tuple(sa.Column(f"column_number_{i}", sa.String(200)) for i in range(5))
    code = render(ops.CreateTableOp("a_table_with_a_long_name", columns))
    assert all(len(line) + 4 <= 99 for line in code.splitlines())
    assert code.splitlines()[1] == '    "a_table_with_a_long_name",'


# -- types and imports --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "expected"),
    [
        (sa.String(50), "sa.String(length=50)"),
        (sa.Integer(), "sa.Integer()"),
        (sa.Numeric(10, 2), "sa.Numeric(precision=10, scale=2)"),
        (sa.DateTime(timezone=True), "sa.DateTime(timezone=True)"),
        (sa.VARCHAR(5, collation="C"), 'sa.VARCHAR(length=5, collation="C")'),
        (sa.ARRAY(sa.Integer()), "sa.ARRAY(sa.Integer())"),
        (postgresql.JSONB(), "postgresql.JSONB(astext_type=sa.Text())"),
        (postgresql.ARRAY(sa.Integer, dimensions=2), "postgresql.ARRAY(sa.Integer(), dimensions=2)"),  # noqa: E501
        (sqlite.JSON(), "sqlite.JSON()"),
        (sa.PickleType(), "sa.PickleType()"),
        (sa.Enum("a", "b", name="mood"), 'sa.Enum("a", "b", name="mood")'),
        (sa.Enum(Mood), 'sa.Enum("happy", "sad", name="mood")'),
        (sa.Enum("x", native_enum=False, length=20), 'sa.Enum("x", native_enum=False, length=20)'),
        (sa.String(10).with_variant(sa.Text(), "sqlite"), 'sa.String(length=10).with_variant(sa.Text(), "sqlite")'),  # noqa: E501
        (Lowercase(30), "test_render.Lowercase(length=30)"),
        (sa.types.NullType(), "sa.types.NullType()"),
    ],
)  # fmt: skip
def test_types(type_: sa.types.TypeEngine[Any], expected: str) -> None:
    ctx = context("sqlite")
    rendered = flat(render_type(type_, ctx))
    assert rendered == expected
    namespace: dict[str, Any] = {"sa": sa, "postgresql": postgresql}
    for line in ctx.imports:
        exec(line, namespace)
    rebuilt = eval(rendered, namespace)
    assert type(rebuilt) is type(type_)
    assert repr(rebuilt) == repr(type_)


def test_dialect_types_add_their_import() -> None:
    ctx = context()
    code = render_python_code(
        ops.UpgradeOps([ops.AddColumnOp("t", sa.Column("j", postgresql.JSONB))]), ctx
    )
    assert "postgresql.JSONB(astext_type=sa.Text())" in code
    assert render_imports(ctx) == "from sqlalchemy.dialects import postgresql"


def test_user_types_import_their_module_or_use_the_prefix() -> None:
    ctx = context()
    assert flat(render_type(Lowercase(10), ctx)) == "test_render.Lowercase(length=10)"
    assert ctx.imports == {"import test_render"}
    ctx = context(user_module_prefix="types.")
    assert flat(render_type(Lowercase(10), ctx)) == "types.Lowercase(length=10)"
    assert ctx.imports == set()


def test_native_enum_columns_on_postgresql_leave_the_type_to_its_own_statement() -> None:
    op = ops.AddColumnOp("t", sa.Column("m", sa.Enum("a", "b", name="mood")))
    assert render(op) == same(
        """
        op.add_column(
            "t",
            sa.Column("m", postgresql.ENUM("a", "b", name="mood", create_type=False), nullable=True),
        )
        """  # noqa: E501
    )
    assert render(op, dialect="sqlite") == (
        'op.add_column("t", sa.Column("m", sa.Enum("a", "b", name="mood"), nullable=True))'
    )


def test_render_item_is_asked_first() -> None:
    def render_item(kind: str, obj: Any, ctx: AutogenContext) -> str | bool:
        if kind == "type" and isinstance(obj, sa.String):
            ctx.imports.add("import myapp")
            return "myapp.Text()"
        if kind == "server_default":
            return 'sa.text("42")'
        return False

    op = ops.AddColumnOp("t", sa.Column("x", sa.String(5), server_default="1"))
    ctx = context(render_item=render_item)
    code = render_python_code(ops.UpgradeOps([op]), ctx)
    assert code == (
        'op.add_column("t", sa.Column("x", myapp.Text(), server_default=sa.text("42"), '
        "nullable=True))"
    )
    assert render_imports(ctx) == "import myapp"


def test_a_render_item_hook_returning_broken_code_is_an_error() -> None:
    op = ops.AddColumnOp("t", sa.Column("x", sa.Integer))
    with pytest.raises(ScriptError, match="does not compile"):
        render(op, render_item=lambda kind, obj, ctx: "sa.Column((" if kind == "column" else False)


def test_sqlalchemy_module_prefix() -> None:
    op = ops.AddColumnOp("t", sa.Column("x", sa.Integer))
    code = render(op, sqlalchemy_module_prefix="sqlalchemy.")
    assert code == 'op.add_column("t", sqlalchemy.Column("x", sqlalchemy.Integer(), nullable=True))'


# -- autogenerate's own ops ---------------------------------------------------------------------


def test_enum_types() -> None:
    create = CreateEnumTypeOp("mood", ("happy", "it's"), schema="s")
    assert render(create, create.reverse()) == same(
        """
        op.execute(
            postgresql.CreateEnumType(postgresql.ENUM("happy", "it's", name="mood", schema="s")),
        )
        op.execute(postgresql.DropEnumType(postgresql.ENUM("happy", "it's", name="mood", schema="s")))
        """  # noqa: E501
    )


def test_add_enum_value_runs_in_an_autocommit_block_and_quotes_the_value() -> None:
    op = AddEnumValueOp("Mood", "it's :x 5%", schema="s", after="sad")
    assert render(op) == same(
        """
        with op.get_context().autocommit_block():
            op.execute("ALTER TYPE s.\\"Mood\\" ADD VALUE IF NOT EXISTS 'it''s \\\\:x 5%' AFTER 'sad'")
        """  # noqa: E501
    )
    assert render(op.reverse()).startswith("# TODO: PostgreSQL cannot remove value")


def test_todo_notes_wrap_and_carry_a_commented_suggestion() -> None:
    op = TodoOp("word " * 30 + "\nsecond line", suggestion="op.drop_column('t', 'x')")
    lines = render(op).splitlines()
    assert lines[0].startswith("# TODO: word word")
    assert all(len(line) <= 90 for line in lines)
    assert lines[-3:] == ["#       second line", "# op.drop_column('t', 'x')", "pass"]


def test_execute_reversible_sql_is_exact() -> None:
    op = ExecuteReversibleSQLOp("ALTER TABLE t ALTER id SET :x", "SELECT 1", "identity")
    assert render(op) == '# identity\nop.execute("ALTER TABLE t ALTER id SET \\\\:x")'


# -- safety --------------------------------------------------------------------------------------


NASTY = [
    "it's",
    'say "hi"',
    "back\\slash",
    "new\nline",
    "''' and \"\"\"",
    ":name",
    "50%",
    "ü€",
    "class",
]


@pytest.mark.parametrize("text", NASTY)
def test_nasty_text_compiles_to_itself(text: str) -> None:
    column = sa.Column(text, sa.String(10), server_default=text, comment=text)
    op = ops.CreateTableOp(text, (column,), schema=text, kw={"comment": text})
    code = render(op, TodoOp(text, suggestion=text))
    compile(code, "<test>", "exec")
    calls: list[tuple[Any, ...]] = []

    class Recorder:
        def __getattr__(self, method: str) -> Any:
            return lambda *args, **kw: calls.append((method, args, kw))

    exec(code, {"sa": sa, "op": Recorder()})
    (method, args, kw), *_ = calls
    assert method == "create_table"
    assert args[0] == text and args[1].name == text and args[1].comment == text
    assert args[1].server_default.arg == text
    assert kw == {"comment": text, "schema": text}


def test_a_value_with_no_literal_is_an_error() -> None:
    op = ops.BulkInsertOp(sa.table("t", sa.column("x")), [{"x": object()}])
    with pytest.raises(ScriptError, match="cannot write"):
        render(op)


def test_plugins_register_renderers() -> None:
    class Vacuum(MigrateOperation):
        pass

    with pytest.raises(ScriptError, match="no renderer for Vacuum"):
        render(Vacuum())

    @renderer(Vacuum)
    def vacuum(op: Vacuum, target: Any) -> list[Any]:
        return ['op.execute("VACUUM")']

    assert render(Vacuum()) == 'op.execute("VACUUM")'


def test_drop_enum_type_reverse_renders() -> None:
    assert render(DropEnumTypeOp("m", ("a",)).reverse()).startswith("op.execute(postgresql.Create")


def test_checks_made_by_types_are_left_to_the_types() -> None:
    metadata = sa.MetaData(naming_convention={"ck": "ck_%(table_name)s_%(constraint_name)s"})
    table = sa.Table(
        "t",
        metadata,
        sa.Column("flag", sa.Boolean(create_constraint=True)),
        sa.Column("mood", sa.Enum("a", "b", name="mood", create_constraint=True)),
    )
    code = render(ops.CreateTableOp("t", tuple(table.columns)), dialect="sqlite")
    assert "CheckConstraint" not in code
    assert 'sa.Enum("a", "b", name="mood", create_constraint=True)' in code
    assert "sa.Boolean(create_constraint=True)" in code


def test_a_model_string_default_is_a_value_and_reflected_sql_is_text() -> None:
    op = ops.AlterColumnOp(
        "t", "n", modify_server_default="5", existing_server_default=sa.text("'0'")
    )
    assert render(op) == (
        'op.alter_column("t", "n", server_default="5", existing_server_default=sa.text("\'0\'"))'
    )


def test_render_item_for_constraints_and_indexes() -> None:
    seen: list[str] = []

    def render_item(kind: str, obj: Any, ctx: AutogenContext) -> str | bool:
        seen.append(kind)
        return f"my_{kind}()" if kind != "column" else False

    table = sa.Table(
        "t",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("u", sa.Integer, sa.ForeignKey("o.id"), unique=True),
        sa.CheckConstraint("u > 0"),
        sa.Index("ix", "u"),
    )
    items = (*table.columns, *table.constraints, *table.indexes)
    code = render(ops.CreateTableOp("t", items), render_item=render_item)
    assert code == same(
        """
        op.create_table(
            "t",
            sa.Column("id", my_type(), nullable=False),
            sa.Column("u", my_type(), nullable=True),
            my_primary_key(),
            my_foreign_key(),
            my_unique(),
            my_check(),
        )
        my_index()
        """
    )
    assert {"column", "type", "primary_key", "foreign_key", "unique", "check", "index"} <= set(seen)
