"""DDL: elements, per-dialect implementations, and the sinks statements go to.

`impl_for` imports a dialect's module when that dialect is first asked for, never all of
them up front; a dialect amigrate does not know comes from the ``amigrate.ddl`` entry-point
group (read on the first miss) or falls back to `DefaultImpl`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from amigrate.ddl.impl import DefaultImpl

_BUILTIN = {
    "postgresql": "amigrate.ddl.postgresql:Impl",
    "sqlite": "amigrate.ddl.sqlite:Impl",
    "mysql": "amigrate.ddl.mysql:MySQLImpl",
    "mariadb": "amigrate.ddl.mysql:MariaDBImpl",
}
_ENTRY_POINT_GROUP = "amigrate.ddl"
_found: dict[str, type[DefaultImpl]] = {}


def impl_for(dialect_name: str) -> type[DefaultImpl]:
    """The implementation class for ``dialect_name`` (``"postgresql"``, ``"sqlite"``, ...)."""
    name = dialect_name.partition("+")[0]
    found = _found.get(name)
    if found is None:
        found = _found[name] = _load(name)
    return found


def _load(name: str) -> type[DefaultImpl]:
    builtin = _BUILTIN.get(name)
    if builtin is not None:
        module_name, _, class_name = builtin.partition(":")
        impl: type[DefaultImpl] = getattr(importlib.import_module(module_name), class_name)
        return impl
    plugin = _from_entry_point(name)
    if plugin is not None:
        return plugin
    from amigrate.ddl.impl import DefaultImpl

    return DefaultImpl


def _from_entry_point(name: str) -> type[DefaultImpl] | None:
    from importlib.metadata import entry_points

    for entry_point in entry_points(group=_ENTRY_POINT_GROUP, name=name):
        loaded: type[DefaultImpl] = entry_point.load()
        return loaded
    return None


__all__ = ["impl_for"]
