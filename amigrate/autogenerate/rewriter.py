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
        self._functions: dict[type[ops.MigrateOperation], RewriteFunction] = {}
        self._then: Callable[[Any, Any, list[Any]], None] | None = None

    def rewrites(
        self, op_class: type[ops.MigrateOperation]
    ) -> Callable[[RewriteFunction], RewriteFunction]:
        """Register ``fn(context, revision, op)`` for ops of ``op_class`` and its subclasses.

        An op goes to the function of its most specific registered class; containers
        (``MigrationScript``, ``UpgradeOps``, ``DowngradeOps``, ``ModifyTableOps``) may be
        rewritten too, before what they hold.
        """

        def register(function: RewriteFunction) -> RewriteFunction:
            self._functions[op_class] = function
            return function

        return register

    def chain(self, other: Callable[[Any, Any, list[Any]], None]) -> Rewriter:
        """A rewriter running this one, then ``other`` (another Rewriter or any hook)."""
        combined = Rewriter()
        combined._functions = dict(self._functions)
        previous = self._then

        def both(context: Any, revision: Any, directives: list[Any]) -> None:
            if previous is not None:
                previous(context, revision, directives)
            other(context, revision, directives)

        combined._then = both
        return combined

    def __call__(self, context: Any, revision: Any, directives: list[Any]) -> None:
        directives[:] = self._rewrite_all(context, revision, directives)
        if self._then is not None:
            self._then(context, revision, directives)

    def _rewrite(self, context: Any, revision: Any, op: Any) -> list[Any]:
        """``op`` rewritten, then (for containers) everything inside it, depth first."""
        replaced = self._apply(context, revision, op)
        for item in replaced:
            if isinstance(item, ops.MigrationScript):
                item.upgrade_ops = self._rewrite_body(context, revision, item.upgrade_ops)
                item.downgrade_ops = self._rewrite_body(context, revision, item.downgrade_ops)
            elif isinstance(item, ops.OpContainer):
                item.ops = self._rewrite_all(context, revision, item.ops)
        return replaced

    def _rewrite_body(self, context: Any, revision: Any, body: Any) -> Any:
        """An UpgradeOps / DowngradeOps: its own function may replace it (by one object)."""
        replaced = self._rewrite(context, revision, body)
        return replaced[0] if len(replaced) == 1 else body

    def _rewrite_all(self, context: Any, revision: Any, items: list[Any]) -> list[Any]:
        return [new for item in items for new in self._rewrite(context, revision, item)]

    def _apply(self, context: Any, revision: Any, op: Any) -> list[Any]:
        """The function registered for the most specific class of ``op`` (none: unchanged)."""
        found = (self._functions[c] for c in type(op).__mro__ if c in self._functions)
        function = next(found, None)
        if function is None:
            return [op]
        result = function(context, revision, op)
        if result is None:
            return [op]
        return list(result) if isinstance(result, list | tuple) else [result]
