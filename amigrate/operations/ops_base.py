"""The base class of every operation (kept apart so the op modules can share it)."""

from __future__ import annotations


class MigrateOperation:
    """Base of every operation and container."""

    def reverse(self) -> MigrateOperation:
        """The operation that undoes this one."""
        raise NotImplementedError(f"{type(self).__name__} has no determined inverse")


__all__ = ["MigrateOperation"]
