"""The commands for plain scripts: ``amigrate.sync.upgrade(config, "head")`` runs to completion.

Each function runs its coroutine with ``anyio.run``. Inside a running event loop that is
impossible (and hacks around it deadlock), so it refuses with a clear error: there, write
``await amigrate.command.upgrade(...)``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from amigrate import command
from amigrate.errors import AmigrateError

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

P = ParamSpec("P")
R = TypeVar("R")


def _blocking(function: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, R]:
    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        import asyncio

        import anyio

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return anyio.run(functools.partial(function, *args, **kwargs))
        raise AmigrateError(
            f"amigrate.sync.{function.__name__}() was called inside a running event loop",
            hint=f"use 'await amigrate.command.{function.__name__}(...)' there",
        )

    return run


init = _blocking(command.init)
list_templates = _blocking(command.list_templates)
revision = _blocking(command.revision)
merge = _blocking(command.merge)
upgrade = _blocking(command.upgrade)
downgrade = _blocking(command.downgrade)
stamp = _blocking(command.stamp)
current = _blocking(command.current)
ensure_version = _blocking(command.ensure_version)
edit = _blocking(command.edit)
heads = _blocking(command.heads)
branches = _blocking(command.branches)
history = _blocking(command.history)
show = _blocking(command.show)

__all__ = [
    "branches",
    "current",
    "downgrade",
    "edit",
    "ensure_version",
    "heads",
    "history",
    "init",
    "list_templates",
    "merge",
    "revision",
    "show",
    "stamp",
    "upgrade",
]
