"""Rewriter: a ``process_revision_directives`` hook made of one function per op class.

    writer = Rewriter()

    @writer.rewrites(ops.AddColumnOp)
    def add_nullable_first(context, revision, op):
        ...  # return an op, a list of ops (e.g. add nullable, then alter), or [] to drop it

    context.configure(..., process_revision_directives=writer)

Both the upgrade and the downgrade ops are rewritten; ``chain`` runs another hook after.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from amigrate.operations import ops

RewriteFunction = Callable[[Any, Any, Any], Any]


class Rewriter:
    """Rewrites each op of a class (containers included) with the registered function."""

    def __init__(self) -> None:
        self._functions: list[tuple[type[ops.MigrateOperation], RewriteFunction]] = []
        self._then: Callable[[Any, Any, list[Any]], None] | None = None

    def rewrites(
        self, op_class: type[ops.MigrateOperation]
    ) -> Callable[[RewriteFunction], RewriteFunction]:
        """Register ``fn(context, revision, op)`` for ops of ``op_class`` (subclasses too)."""

        def register(function: RewriteFunction) -> RewriteFunction:
            self._functions.append((op_class, function))
            return function

        return register

    def chain(self, other: Callable[[Any, Any, list[Any]], None]) -> Rewriter:
        """A rewriter running this one, then ``other`` (another Rewriter or any hook)."""
        combined = Rewriter()
        combined._functions = list(self._functions)
        previous = self._then

        def both(context: Any, revision: Any, directives: list[Any]) -> None:
            if previous is not None:
                previous(context, revision, directives)
            other(context, revision, directives)

        combined._then = both
        return combined

    def __call__(self, context: Any, revision: Any, directives: list[Any]) -> None:
        directives[:] = [
            new for script in directives for new in self._rewrite(context, revision, script)
        ]
        if self._then is not None:
            self._then(context, revision, directives)

    def _rewrite(self, context: Any, revision: Any, op: Any) -> list[Any]:
        replaced = self._apply(context, revision, op)
        for item in replaced:
            if isinstance(item, ops.MigrationScript):
                for body in (item.upgrade_ops, item.downgrade_ops):
                    body.ops = self._rewrite_all(context, revision, body.ops)
            elif isinstance(item, ops.OpContainer):
                item.ops = self._rewrite_all(context, revision, item.ops)
        return replaced

    def _rewrite_all(self, context: Any, revision: Any, items: list[Any]) -> list[Any]:
        return [new for item in items for new in self._rewrite(context, revision, item)]

    def _apply(self, context: Any, revision: Any, op: Any) -> list[Any]:
        for op_class, function in self._functions:
            if isinstance(op, op_class):
                result = function(context, revision, op)
                if result is None:
                    return [op]
                return list(result) if isinstance(result, list | tuple) else [result]
        return [op]
