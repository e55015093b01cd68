"""Operations: op objects with reverse(), the `Operations` facade, the implementation registry."""

from __future__ import annotations

from amigrate.operations.base import Operations

__all__ = ["Operations"]
