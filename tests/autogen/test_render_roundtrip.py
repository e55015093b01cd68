"""Random names, comments, defaults and SQL survive render → compile → exec exactly.

The rendered code runs against a recorder standing in for ``op`` (it records each call's
method and arguments; it is not a database), and the recorded arguments must carry exactly
the text the op objects held.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import TextClause, conv

from amigrate.autogenerate.api import AutogenContext, AutogenOptions
from amigrate.autogenerate.ops import (
    AddEnumValueOp,
    CreateEnumTypeOp,
    ExecuteReversibleSQLOp,
    TodoOp,
)
from amigrate.autogenerate.render import render_imports, render_python_code
from amigrate.autogenerate.render.literals import string, text_source
from amigrate.operations import ops
from amigrate.operations.ops_base import MigrateOperation

texts = st.text(max_size=30)
names = st.text(min_size=1, max_size=20)
Call = tuple[str, tuple[Any, ...], dict[str, Any]]


class Recorder:
    """``op`` (and ``batch_op``): records ``(method, args, kwargs)`` of every call."""

    def __init__(self, calls: list[Call], prefix: str = "") -> None:
        self.calls = calls
        self.prefix = prefix

    def __getattr__(self, method: str) -> Any:
        def record(*args: Any, **kw: Any) -> None:
            self.calls.append((self.prefix + method, args, kw))

        return record

    def f(self, name: str) -> conv:
        return conv(name)

    def get_context(self) -> Recorder:
        return self

    @contextlib.contextmanager
    def autocommit_block(self) -> Iterator[None]:
        self.calls.append(("autocommit_block", (), {}))
        yield

    @contextlib.contextmanager
    def batch_alter_table(self, table_name: str, schema: str | None = None) -> Iterator[Recorder]:
        self.calls.append(("batch_alter_table", (table_name,), {"schema": schema}))
        yield Recorder(self.calls, "batch_op.")


def run(*operations: MigrateOperation, batch: bool = False) -> list[Call]:
    ctx = AutogenContext(postgresql.dialect(), opts=AutogenOptions(render_as_batch=batch))
    code = render_python_code(ops.UpgradeOps(list(operations)), ctx)
    namespace: dict[str, Any] = {"sa": sa}
    exec(render_imports(ctx), namespace)
    calls: list[Call] = []
    namespace["op"] = Recorder(calls)
    exec(compile(code, "<rendered>", "exec"), namespace)
    return calls


def executed_sql(statement: Any) -> str:
    """What ``op.execute`` would run for ``statement`` (a string is read as ``text()``)."""
    clause = sa.text(statement) if isinstance(statement, str) else statement
    assert isinstance(clause, TextClause)
    assert clause._bindparams == {}
    return str(clause.compile())


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_string_literals_are_exact(value: str) -> None:
    assert eval(string(value)) == value


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(":\\'%ab_ 1\n")))
def test_text_source_runs_the_sql_exactly(sql: str) -> None:
    assert executed_sql(text_source(sql)) == sql


@settings(max_examples=60, deadline=None)
@given(table=names, column=names, schema=names, comment=texts, default=texts, note=texts)
def test_create_table(
    table: str, column: str, schema: str, comment: str, default: str, note: str
) -> None:
    col = sa.Column(column, sa.String(20), server_default=default, comment=comment)
    check = sa.CheckConstraint(sa.text(note), name=note or None)
    op = ops.CreateTableOp(table, (col, check), schema=schema, kw={"comment": note})
    [(method, args, kw)] = run(op)
    assert method == "create_table"
    assert args[0] == table
    rendered_column, rendered_check = args[1:]
    assert rendered_column.name == column
    assert rendered_column.comment == comment
    assert rendered_column.server_default.arg == default
    assert rendered_check.sqltext.text == note
    assert rendered_check.name == (note or None)
    assert kw == {"comment": note, "schema": schema}


@settings(max_examples=60, deadline=None)
@given(table=names, column=names, reflected=texts, model=texts, comment=texts, new_name=names)
def test_alter_column(
    table: str, column: str, reflected: str, model: str, comment: str, new_name: str
) -> None:
    op = ops.AlterColumnOp(
        table,
        column,
        existing_server_default=sa.text(text_source(reflected)),  # as compare makes it
        modify_server_default=model,
        existing_comment=comment,
        modify_comment=None,
        modify_name=new_name,
    )
    [(method, args, kw)] = run(op)
    assert (method, args) == ("alter_column", (table, column))
    assert executed_sql(kw["existing_server_default"]) == reflected
    assert kw["server_default"] == model
    assert kw["existing_comment"] == comment
    assert kw["comment"] is None
    assert kw["new_column_name"] == new_name


@settings(max_examples=60, deadline=None)
@given(table=names, index=names, columns=st.lists(names, min_size=1, max_size=3), sql=texts)
def test_indexes_and_constraints(table: str, index: str, columns: list[str], sql: str) -> None:
    calls = run(
        ops.CreateIndexOp(index, table, (*columns, sa.text(sql))),
        ops.DropConstraintOp(index, table, type_="unique"),
        ops.CreateCheckConstraintOp(index, table, sql),
        ops.CreateForeignKeyOp(index, table, sql or "x", tuple(columns), tuple(columns)),
    )
    (_, create, create_kw), (_, drop, _), (_, check, _), (_, fk, _) = calls
    assert create[:2] == (index, table)
    assert create[2][:-1] == columns
    assert create[2][-1].text == sql
    assert create_kw == {"unique": False}
    assert drop == (index, table)
    assert check == (index, table, sql)
    assert fk == (index, table, sql or "x", columns, columns)


@settings(max_examples=60, deadline=None)
@given(table=names, column=names, comment=texts, default=texts)
def test_batch_blocks(table: str, column: str, comment: str, default: str) -> None:
    added = sa.Column(column, sa.Integer, server_default=sa.text(default), comment=comment)
    group = ops.ModifyTableOps(
        [ops.AddColumnOp(table, added), ops.DropColumnOp(table, column)], table_name=table
    )
    calls = run(group, batch=True)
    assert [(method, args) for method, args, _ in calls[::2]] == [
        ("batch_alter_table", (table,)),
        ("batch_op.drop_column", (column,)),
    ]
    (method, (rendered,), _) = calls[1]
    assert method == "batch_op.add_column"
    assert rendered.name == column and rendered.comment == comment
    assert rendered.server_default.arg.text == default


@settings(max_examples=60, deadline=None)
@given(name=names, values=st.lists(texts, min_size=1, max_size=4, unique=True), value=texts)
def test_enum_ops(name: str, values: list[str], value: str) -> None:
    calls = run(
        CreateEnumTypeOp(name, tuple(values), schema=name),
        AddEnumValueOp(name, value, schema=name, before=values[0]),
    )
    (_, (create,), _), (block, _, _), (_, (alter,), _) = calls
    assert create.element.name == name and create.element.schema == name
    assert create.element.enums == values
    assert block == "autocommit_block"
    preparer = postgresql.dialect().identifier_preparer
    quoted = f"{preparer.quote_schema(name)}.{preparer.quote(name)}"
    literal = "'" + value.replace("'", "''") + "'"
    before = "'" + values[0].replace("'", "''") + "'"
    expected = f"ALTER TYPE {quoted} ADD VALUE IF NOT EXISTS {literal} BEFORE {before}"
    assert executed_sql(alter) == expected


@settings(max_examples=60, deadline=None)
@given(sql=texts, note=texts, suggestion=texts)
def test_notes_and_reversible_sql(sql: str, note: str, suggestion: str) -> None:
    calls = run(TodoOp(note, suggestion=suggestion), ExecuteReversibleSQLOp(sql, "x", note))
    [(method, (statement,), _)] = calls
    assert method == "execute"
    assert executed_sql(statement) == sql
