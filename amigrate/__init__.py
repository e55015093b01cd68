"""amigrate: async-first schema migrations for SQLAlchemy.

Revision scripts and env.py use ``from amigrate import op, context``; applications use
``from amigrate import command, Config`` and ``await command.upgrade(config, "head")``.
Names are imported on first use, so ``import amigrate`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from amigrate._version import __version__

if TYPE_CHECKING:
    from amigrate import command
    from amigrate.autogen_commands import compare_metadata, produce_migrations
    from amigrate.autogenerate.rewriter import Rewriter
    from amigrate.config import Config
    from amigrate.operations import ops
    from amigrate.runtime.current import context, op

__all__ = [
    "Config",
    "Rewriter",
    "__version__",
    "command",
    "compare_metadata",
    "context",
    "op",
    "ops",
    "produce_migrations",
]

_LAZY = {
    "Config": ("amigrate.config", "Config"),
    "command": ("amigrate.command", None),
    "context": ("amigrate.runtime.current", "context"),
    "op": ("amigrate.runtime.current", "op"),
    "ops": ("amigrate.operations.ops", None),
    "compare_metadata": ("amigrate.autogen_commands", "compare_metadata"),
    "produce_migrations": ("amigrate.autogen_commands", "produce_migrations"),
    "Rewriter": ("amigrate.autogenerate.rewriter", "Rewriter"),
}


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'amigrate' has no attribute {name!r}") from None
    module = import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
