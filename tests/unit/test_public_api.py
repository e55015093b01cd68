"""The public API is what ``amigrate/__init__.py`` lists, and every name resolves."""

from __future__ import annotations

import amigrate


def test_the_public_names_are_pinned() -> None:
    assert amigrate.__all__ == [
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


def test_every_public_name_resolves() -> None:
    for name in amigrate.__all__:
        assert getattr(amigrate, name) is not None, name
    assert sorted(dir(amigrate)) == sorted(amigrate.__all__)
    assert callable(amigrate.compare_metadata) and callable(amigrate.produce_migrations)
    assert hasattr(amigrate.ops, "AddColumnOp")
