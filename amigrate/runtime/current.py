"""The active migration of this task, in context variables; the `op` and `context` proxies.

Revision scripts and env.py write ``from amigrate import op, context`` as they would with
Alembic, but the objects behind those names live in ``ContextVar``s set around each run, so
any number of migrations can run concurrently in one process without seeing each other.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from amigrate.errors import NoActiveMigrationError

active_operations: ContextVar[Any] = ContextVar("amigrate_operations")
active_environment: ContextVar[Any] = ContextVar("amigrate_environment")


class _Proxy:
    """Forwards attribute access to the object in a context variable, or explains its absence."""

    __slots__ = ("_variable", "_what")

    def __init__(self, variable: ContextVar[Any], what: str) -> None:
        object.__setattr__(self, "_variable", variable)
        object.__setattr__(self, "_what", what)

    def _target(self) -> Any:
        try:
            return self._variable.get()
        except LookupError:
            raise NoActiveMigrationError(
                f"amigrate.{self._what} is only usable while a migration runs",
                hint="it is set up by amigrate for revision scripts and env.py",
            ) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"amigrate.{self._what} is read-only")

    def __repr__(self) -> str:
        try:
            return f"<amigrate.{self._what} proxy for {self._variable.get()!r}>"
        except LookupError:
            return f"<amigrate.{self._what} proxy (no active migration)>"


op: Any = _Proxy(active_operations, "op")
context: Any = _Proxy(active_environment, "context")
