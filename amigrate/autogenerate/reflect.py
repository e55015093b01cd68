"""What the database holds, read in bulk: one ``Inspector.get_multi_*`` call per kind.

Only the tables that ``include_name`` admits are reflected. The results stay SQLAlchemy's
reflection dicts (``ReflectedColumn``, ``ReflectedIndex``, ...): comparing them directly is
cheaper than building Table objects, which are built only where an op needs one (a dropped
table's reverse).

SQLite reads its PRAGMAs table by table; through an async driver each is a round trip to
the driver's thread, so a file database is read over a plain ``sqlite3`` connection of its
own where one sees the same schema (``dialects/sqlite.py``).
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from amigrate._util import fields_repr
from amigrate.errors import AmigrateError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.engine.reflection import Inspector
    from sqlalchemy.schema import Table

    from amigrate.autogenerate.api import AutogenContext


@dataclass(repr=False)
class ReflectedTable:
    """One table as the database has it, in SQLAlchemy's reflection dicts."""

    __repr__ = fields_repr

    name: str
    schema: str | None
    columns: list[dict[str, Any]] = field(default_factory=list)
    primary_key: dict[str, Any] = field(default_factory=dict)
    foreign_keys: list[dict[str, Any]] = field(default_factory=list)
    indexes: list[dict[str, Any]] = field(default_factory=list)
    unique_constraints: list[dict[str, Any]] = field(default_factory=list)
    check_constraints: list[dict[str, Any]] = field(default_factory=list)
    comment: str | None = None
    index_sql: dict[str, str] = field(default_factory=dict)
    """SQLite: each index's ``CREATE INDEX`` text, for the indexes on expressions that
    SQLAlchemy does not reflect (``compare/indexes.py`` reads them from it)."""


@dataclass(repr=False)
class SchemaReflection:
    """Every compared schema's tables, and (PostgreSQL) its enum types.

    ``tables`` is keyed by (schema, name), schema None for the default schema;
    ``table_names`` holds every table name the database has per schema (before filters on
    what to reflect in full), and the model tables ``include_name`` turns down; ``enums``
    the ``Inspector.get_enums()`` dicts per schema.
    """

    __repr__ = fields_repr

    tables: dict[tuple[str | None, str], ReflectedTable] = field(default_factory=dict)
    table_names: dict[str | None, set[str]] = field(default_factory=dict)
    enums: dict[str | None, list[dict[str, Any]]] = field(default_factory=dict)
    default_schema: str | None = None
    """The database's default schema by name (``public``); it is keyed None above."""

    def key(self, table: Table) -> tuple[str | None, str]:
        """A model table's key in ``tables``: its schema named by default is None here."""
        schema = None if table.schema == self.default_schema else table.schema
        return schema, table.name


def reflect(context: AutogenContext) -> SchemaReflection:
    """Reflect, in bulk, every table ``context`` will compare, in every schema it compares.

    A table is reflected when ``include_name`` admits it, model table or not (a table to
    drop needs its full shape for the drop's reverse). A model table it turns down is left
    out entirely: neither created, nor compared, nor dropped. The version table never is.
    Reflected columns, indexes, unique constraints and foreign keys that ``include_name``
    turns down are left out, as if the database had none of them.
    """
    connection = context.connection
    if connection is None:
        raise AmigrateError("autogenerate needs a database connection to compare with")
    if context.dialect_name == "sqlite":
        from sqlalchemy.exc import DBAPIError

        from amigrate.autogenerate.dialects.sqlite import reading_connection

        with reading_connection(connection) as reader:
            if reader is not None:
                # what the plain connection cannot read (a virtual table of an extension
                # only the given connection loaded) is read over the given one
                with contextlib.suppress(DBAPIError):
                    return _reflect(context, reader)
    return _reflect(context, connection)


def _reflect(context: AutogenContext, connection: Connection) -> SchemaReflection:
    from sqlalchemy import inspect

    inspector = inspect(connection)
    reflection = SchemaReflection(default_schema=inspector.default_schema_name)
    models = {reflection.key(table) for table in context.sorted_tables()}
    for schema in _schemas(context, inspector, models):
        names = set(inspector.get_table_names(schema=schema))
        names.discard(_version_table(context, inspector, schema))
        wanted = sorted(
            name for name in names if context.include_name(name, "table", _parents(schema, name))
        )
        refused = {
            name
            for model_schema, name in models
            if model_schema == schema
            and name not in names
            and not context.include_name(name, "table", _parents(schema, name))
        }
        # a model table include_name turns down is left out as if the database had it
        # (nothing creates it) and it were not reflected (nothing compares it)
        reflection.table_names[schema] = names | refused
        if wanted:
            modelled = {name for model_schema, name in models if model_schema == schema}
            # every table wanted (the usual case): the queries need no list of 200 names
            everything = len(wanted) == len(names)
            _reflect_tables(
                context, connection, inspector, schema, wanted, modelled, everything, reflection
            )
        if hasattr(inspector, "get_enums"):
            reflection.enums[schema] = list(inspector.get_enums(schema=schema))
    return reflection


_KINDS = {
    "columns": "get_multi_columns",
    "primary_key": "get_multi_pk_constraint",
    "foreign_keys": "get_multi_foreign_keys",
    "indexes": "get_multi_indexes",
    "unique_constraints": "get_multi_unique_constraints",
    "check_constraints": "get_multi_check_constraints",
    "comment": "get_multi_table_comment",
}
_NAME_TYPES = {
    "columns": "column",
    "indexes": "index",
    "unique_constraints": "unique_constraint",
    "foreign_keys": "foreign_key_constraint",
}
_SYSTEM_SCHEMAS = {"information_schema"}
_SKIPPED_INDEX = "Skipped unsupported reflection of expression-based index"


def _schemas(
    context: AutogenContext, inspector: Inspector, models: set[tuple[str | None, str]]
) -> list[str | None]:
    if not context.opts.include_schemas:
        named = sorted({schema for schema, _ in models if schema is not None})
        if named:
            # a schema the database lacks has no tables (SQLite would raise instead)
            existing = set(inspector.get_schema_names())
            named = [schema for schema in named if schema in existing]
        return [None, *named]
    default = inspector.default_schema_name
    found = [
        name
        for name in inspector.get_schema_names()
        if name != default and name not in _SYSTEM_SCHEMAS and not name.startswith("pg_")
    ]
    return [schema for schema in [None, *found] if context.include_name(schema, "schema", {})]


def _version_table(context: AutogenContext, inspector: Inspector, schema: str | None) -> str:
    wanted = context.opts.version_table_schema
    if wanted == schema or (schema is None and wanted == inspector.default_schema_name):
        return context.opts.version_table
    return ""


def _parents(schema: str | None, table: str) -> dict[str, Any]:
    return {
        "schema_name": schema,
        "table_name": table,
        "schema_qualified_table_name": f"{schema}.{table}" if schema else table,
    }


def _reflect_tables(
    context: AutogenContext,
    connection: Connection,
    inspector: Inspector,
    schema: str | None,
    names: list[str],
    modelled: set[str],
    everything: bool,
    reflection: SchemaReflection,
) -> None:
    from sqlalchemy.exc import SAWarning

    tables = {name: ReflectedTable(name, schema) for name in names}
    for attribute, method in _KINDS.items():
        filter_names: list[str] | None = None if everything else names
        if attribute == "check_constraints" and not context.opts.compare_check_constraints:
            # not compared: only a table to drop needs its checks (its drop's reverse)
            filter_names = [name for name in names if name not in modelled]
            if not filter_names:
                continue
        try:
            with warnings.catch_warnings():
                # SQLite: indexes on expressions are read by compare/indexes.py itself
                warnings.filterwarnings("ignore", _SKIPPED_INDEX, category=SAWarning)
                found = getattr(inspector, method)(schema=schema, filter_names=filter_names)
        except NotImplementedError:
            continue
        for (_, name), value in found.items():
            if name not in tables:
                continue
            if attribute == "comment":
                value = value.get("text")
            elif attribute in _NAME_TYPES:
                value = _included(context, _NAME_TYPES[attribute], schema, name, value)
                if attribute in ("indexes", "unique_constraints"):
                    value = [_without_default_options(item) for item in value]
            elif attribute == "primary_key":
                value = dict(value or {})
            setattr(tables[name], attribute, value)
    if inspector.dialect.name == "sqlite":
        from amigrate.autogenerate.dialects.sqlite import index_sql

        for name, found in index_sql(connection, schema).items():
            if name in tables:
                tables[name].index_sql = found
    for name, table in tables.items():
        reflection.tables[(schema, name)] = table


def _without_default_options(item: dict[str, Any]) -> dict[str, Any]:
    """``item`` without the dialect options that say "the default" (PostgreSQL reports
    ``postgresql_include=[]`` for every index): an op recreating it need not spell them."""
    options = item.get("dialect_options")
    if not options:
        return item
    kept = {key: value for key, value in options.items() if not _is_default_option(value)}
    return {**item, "dialect_options": kept}


def _is_default_option(value: Any) -> bool:
    if value is None or value is False:
        return True
    return isinstance(value, list | tuple | dict | set) and not value


def _included(
    context: AutogenContext,
    type_: str,
    schema: str | None,
    table: str,
    items: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    parents = _parents(schema, table)
    return [item for item in items if context.include_name(item.get("name"), type_, parents)]
