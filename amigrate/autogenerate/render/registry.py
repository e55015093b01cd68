"""The renderer registry: op class → function writing its statements.

A renderer takes the op and a `Target` (the autogenerate context, and whether the op is
written inside a ``with op.batch_alter_table(...) as batch_op:`` block) and returns
statements: `Call` trees, formatted later to fit the line, or finished source text
(comments, ``with`` blocks). Plugins register renderers for their own ops with `renderer`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from amigrate._util import fields_repr

if TYPE_CHECKING:
    from amigrate.autogenerate.api import AutogenContext
    from amigrate.autogenerate.render.code import Expr
    from amigrate.operations.ops_base import MigrateOperation


@dataclass(repr=False, frozen=True)
class Target:
    """Where statements are written: ``op.`` calls, or ``batch_op.`` calls in a batch block."""

    __repr__ = fields_repr

    ctx: AutogenContext
    batch: bool = False

    @property
    def op(self) -> str:
        """The prefix of operation calls: ``"op."`` or ``"batch_op."``."""
        return "batch_op." if self.batch else "op."


Renderer = Callable[[Any, Target], "list[Expr]"]
_R = TypeVar("_R", bound=Renderer)

_plain: dict[type[Any], Renderer] = {}
_batch: dict[type[Any], Renderer] = {}


def renderer(op_cls: type[MigrateOperation], *, batch: bool = False) -> Callable[[_R], _R]:
    """Decorator: ``fn(op, target)`` renders ``op_cls`` (``batch=True``: inside batch blocks)."""

    def decorate(fn: _R) -> _R:
        (_batch if batch else _plain)[op_cls] = fn
        return fn

    return decorate


def lookup(op_cls: type[Any], *, batch: bool = False) -> Renderer | None:
    """The renderer for ``op_cls`` or its nearest registered base class; None if none."""
    table = _batch if batch else _plain
    for cls in op_cls.__mro__:
        found = table.get(cls)
        if found is not None:
            return found
    return None


__all__ = ["Renderer", "Target", "lookup", "renderer"]
