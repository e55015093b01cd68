"""The base class of every operation (kept apart so the op modules can share it)."""

from __future__ import annotations

from amigrate._util import fields_repr


class MigrateOperation:
    """Base of every operation and container."""

    __repr__ = fields_repr  # the op classes are dataclasses that make no repr of their own

    def reverse(self) -> MigrateOperation:
        """The operation that undoes this one."""
        raise NotImplementedError(f"{type(self).__name__} has no determined inverse")


__all__ = ["MigrateOperation"]
