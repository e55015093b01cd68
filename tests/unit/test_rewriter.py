"""Rewriter: the function of an op's most specific class rewrites it, containers included."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from amigrate import Rewriter, ops


def script(*body: ops.MigrateOperation) -> ops.MigrationScript:
    upgrade = ops.UpgradeOps([ops.ModifyTableOps(list(body), table_name="t")])
    return ops.MigrationScript("r1", upgrade_ops=upgrade, downgrade_ops=upgrade.reverse())


def column(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.Integer, nullable=False)


def table_body(directive: ops.MigrationScript) -> list[ops.MigrateOperation]:
    group = directive.upgrade_ops.ops[0]
    assert isinstance(group, ops.ModifyTableOps)
    return group.ops


def test_the_most_specific_class_wins_whatever_the_order() -> None:
    writer = Rewriter()
    seen: list[str] = []

    @writer.rewrites(ops.MigrateOperation)
    def anything(context: Any, revision: Any, op: Any) -> Any:
        seen.append(type(op).__name__)
        return op

    @writer.rewrites(ops.AddColumnOp)
    def nullable_first(context: Any, revision: Any, op: ops.AddColumnOp) -> Any:
        op.column.nullable = True
        alter = ops.AlterColumnOp(
            op.table_name, op.column.name, modify_nullable=False, existing_nullable=True
        )
        return [op, alter]

    directives = [script(ops.AddColumnOp("t", column("a")))]
    writer(None, (), directives)
    body = table_body(directives[0])
    assert [type(op).__name__ for op in body] == ["AddColumnOp", "AlterColumnOp"]
    assert "AddColumnOp" not in seen and "UpgradeOps" in seen and "ModifyTableOps" in seen


def test_a_body_can_be_replaced_and_ops_removed() -> None:
    writer = Rewriter()

    @writer.rewrites(ops.DowngradeOps)
    def no_downgrade(context: Any, revision: Any, op: ops.DowngradeOps) -> Any:
        return ops.DowngradeOps([ops.ExecuteSQLOp("SELECT 1")])

    @writer.rewrites(ops.DropColumnOp)
    def keep_columns(context: Any, revision: Any, op: Any) -> Any:
        return []

    directives = [script(ops.DropColumnOp("t", "a", column=column("a")))]
    writer(None, (), directives)
    assert table_body(directives[0]) == []
    assert [type(op) for op in directives[0].downgrade_ops.ops] == [ops.ExecuteSQLOp]


def test_chain_runs_the_next_hook_after() -> None:
    calls: list[str] = []
    writer = Rewriter()

    @writer.rewrites(ops.AddColumnOp)
    def first(context: Any, revision: Any, op: Any) -> Any:
        calls.append("rewriter")
        return op

    def then(context: Any, revision: Any, directives: list[Any]) -> None:
        calls.append("then")
        directives[:] = []

    directives = [script(ops.AddColumnOp("t", column("a")))]
    writer.chain(then)(None, (), directives)
    assert calls == ["rewriter", "then"] and directives == []
