"""amigrate's dataclasses share one repr; it must read exactly as the one dataclasses makes."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from typing import Any

import pytest

import amigrate


def amigrate_dataclasses() -> list[type[Any]]:
    found: dict[str, type[Any]] = {}
    for module_info in pkgutil.walk_packages(amigrate.__path__, "amigrate."):
        if module_info.name == "amigrate.__main__" or module_info.name.startswith(
            "amigrate.templates"
        ):
            continue
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and dataclasses.is_dataclass(value)
                and value.__module__ == module.__name__
            ):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[name] for name in sorted(found)]


CLASSES = amigrate_dataclasses()


def with_sample_values(cls: type[Any]) -> tuple[Any, dict[str, Any]]:
    """An instance of ``cls`` whose every field holds a telling value (``__init__`` skipped)."""
    instance = object.__new__(cls)
    values: dict[str, Any] = {}
    for number, item in enumerate(dataclasses.fields(cls)):
        values[item.name] = [f"{item.name}-{number}", None, {"k": (number,)}][number % 3]
        object.__setattr__(instance, item.name, values[item.name])
    return instance, values


def reference_repr(cls: type[Any], values: dict[str, Any]) -> str:
    """What ``@dataclass`` (repr on) would show for a class of ``cls``'s name and fields."""
    twin = dataclasses.make_dataclass(
        cls.__qualname__,
        [(f.name, Any, dataclasses.field(repr=f.repr)) for f in dataclasses.fields(cls)],
        repr=True,
    )
    twin.__qualname__ = cls.__qualname__
    instance = object.__new__(twin)
    for name, value in values.items():
        object.__setattr__(instance, name, value)
    return repr(instance)


def test_every_record_is_found() -> None:
    names = {cls.__name__ for cls in CLASSES}
    assert {"Revision", "MigrationStep", "DropTableOp", "AlterColumnOp", "UpgradeOps"} <= names
    assert len(CLASSES) > 60


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: f"{cls.__module__}.{cls.__qualname__}")
def test_repr_reads_as_dataclasses_writes_it(cls: type[Any]) -> None:
    instance, values = with_sample_values(cls)
    assert repr(instance) == reference_repr(cls, values)


def test_a_record_holding_itself_does_not_recurse_forever() -> None:
    from amigrate.operations.ops import UpgradeOps

    ops = UpgradeOps(ops=[])
    ops.ops.append(ops)
    assert repr(ops) == "UpgradeOps(ops=[...], upgrade_token='upgrades')"


def test_a_plain_subclass_of_an_operation_keeps_pythons_repr() -> None:
    """A user's own operation written as a plain class (Alembic style) must still repr."""
    from amigrate.operations.ops_base import MigrateOperation

    class TouchTableOp(MigrateOperation):
        def __init__(self, table_name: str) -> None:
            self.table_name = table_name

    assert repr(TouchTableOp("t")).startswith("<")
    assert "TouchTableOp object at 0x" in repr(TouchTableOp("t"))
