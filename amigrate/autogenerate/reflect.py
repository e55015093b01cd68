"""What the database holds, read in bulk: one ``Inspector.get_multi_*`` call per kind.

Only the tables the models know (or, for removed tables, that ``include_name`` admits) are
reflected. The results stay SQLAlchemy's reflection dicts (``ReflectedColumn``,
``ReflectedIndex``, ...): comparing them directly is cheaper than building Table objects,
which are built only where an op needs one (a dropped table's reverse).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from amigrate.autogenerate.api import AutogenContext


@dataclass
class ReflectedTable:
    """One table as the database has it, in SQLAlchemy's reflection dicts."""

    name: str
    schema: str | None
    columns: list[dict[str, Any]] = field(default_factory=list)
    primary_key: dict[str, Any] = field(default_factory=dict)
    foreign_keys: list[dict[str, Any]] = field(default_factory=list)
    indexes: list[dict[str, Any]] = field(default_factory=list)
    unique_constraints: list[dict[str, Any]] = field(default_factory=list)
    check_constraints: list[dict[str, Any]] = field(default_factory=list)
    comment: str | None = None


@dataclass
class SchemaReflection:
    """Every compared schema's tables, and (PostgreSQL) its enum types.

    ``tables`` is keyed by (schema, name), schema None for the default schema;
    ``table_names`` holds every table name the database has per schema (before filters on
    what to reflect in full); ``enums`` the ``Inspector.get_enums()`` dicts per schema.
    """

    tables: dict[tuple[str | None, str], ReflectedTable] = field(default_factory=dict)
    table_names: dict[str | None, set[str]] = field(default_factory=dict)
    enums: dict[str | None, list[dict[str, Any]]] = field(default_factory=dict)


def reflect(context: AutogenContext) -> SchemaReflection:
    """Reflect what ``context`` compares, in bulk (implemented by the compare work)."""
    raise NotImplementedError
