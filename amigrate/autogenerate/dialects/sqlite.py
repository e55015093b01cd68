"""SQLite: a declared type it does not know comes back as the type of its affinity.

SQLite keeps a column's declared type text, and SQLAlchemy reflects the names it knows;
any other name (``VARBINARY``, ``CLOB``, ``DOUBLE PRECISION``) is read back by SQLite's
affinity rules, so such a type matches whatever reflects with the same affinity.

SQLAlchemy's SQLite dialect reflects with PRAGMAs table by table, about ten statements a
table; through aiosqlite each is a round trip to the driver's thread. `reading_connection`
gives a plain ``sqlite3`` connection to the same file instead, whose dialect
(`ReaderDialect`) reads all tables' PRAGMAs in a few statements up front.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine.reflection import ReflectionDefaults
from sqlalchemy.exc import NoSuchTableError

from amigrate.autogenerate.dialects import DialectRules

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import Connection, Engine

_DRIVERS = {"pysqlite", "aiosqlite"}  # drivers that open plain, unencrypted files
_TABLE_PRAGMAS = ("index_list", "foreign_key_list")


class SQLiteRules(DialectRules):
    name = "sqlite"

    def types_match_loosely(self, model: str, reflected: str) -> bool:
        from sqlalchemy.dialects.sqlite.base import SQLiteDialect

        base = model.split("(")[0].strip()
        if base in SQLiteDialect.ischema_names:
            return False
        return affinity(model) == affinity(reflected)


def affinity(declared: str) -> str:
    """The affinity SQLite gives a column declared with type ``declared``."""
    text = declared.upper()
    if "INT" in text:
        return "INTEGER"
    if any(word in text for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in text or not text:
        return "BLOB"
    if any(word in text for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


class ReaderDialect(SQLiteDialect_pysqlite):
    """SQLAlchemy's SQLite dialect, answering its per-table reads from one bulk read.

    The dialect reads each table's PRAGMAs and ``CREATE TABLE`` text through two internal
    methods, one statement a table; `prefetch` reads them for every table of the main
    schema at once (``sqlite_master`` joined with the PRAGMA table functions) and the two
    methods answer from that. Parsing what was read stays the dialect's own (the tests
    check that both ways reflect alike). Only the reading connection uses this dialect: a
    fresh connection, with no temporary tables to consult.
    """

    supports_statement_cache = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._sql: dict[str, str] = {}
        self._names: dict[str, set[str]] = {"table": set(), "index": set()}
        self._rows: dict[str, dict[str, list[tuple[Any, ...]]]] = {}

    def prefetch(self, connection: Connection) -> None:
        """Read every table's PRAGMAs and SQL text, for the reflection to come."""
        for type_, name, sql in connection.exec_driver_sql(
            "SELECT type, name, sql FROM sqlite_master"
        ):
            self._names.setdefault(type_, set()).add(name)
            if type_ in ("table", "view"):
                self._sql[name] = sql
        # the columns come from the PRAGMA the dialect reads them with (xinfo shows computed
        # columns); the other PRAGMA of the two is read on demand, table by table
        version = self.server_version_info or (0,)
        columns = "table_xinfo" if version >= (3, 31) else "table_info"
        for pragma in (columns, *_TABLE_PRAGMAS):
            self._rows[pragma] = _pragma_rows(connection, pragma, "table")
        self._rows["index_info"] = _pragma_rows(connection, "index_info", "index")

    def _get_table_pragma(
        self, connection: Connection, pragma: str, table_name: str, schema: str | None = None
    ) -> Any:
        kind = "index" if pragma == "index_info" else "table"
        if schema is None and pragma in self._rows and table_name in self._names[kind]:
            return self._rows[pragma].get(table_name, [])
        return super()._get_table_pragma(  # type: ignore[no-untyped-call]
            connection, pragma, table_name, schema=schema
        )

    def _get_table_sql(
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> Any:
        if schema is None and table_name in self._sql:
            return self._sql[table_name]
        return super()._get_table_sql(  # type: ignore[no-untyped-call]
            connection, table_name, schema=schema, **kw
        )

    def has_table(
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> bool:
        """Known tables from the bulk read; the dialect asks this of every table without
        an index, with two PRAGMA statements each."""
        if schema is None and table_name in self._sql:
            return True
        return bool(
            super().has_table(  # type: ignore[no-untyped-call]
                connection, table_name, schema=schema, **kw
            )
        )

    def get_unique_constraints(
        self, connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> Any:
        """The dialect's answer, without its slow parse of the table's SQL when the answer
        is sure to be none: it only reports a constraint that has an automatic index."""
        indexes = self._get_table_pragma(connection, "index_list", table_name, schema=schema)
        if not any(row[1].startswith("sqlite_autoindex") for row in indexes):
            if not indexes and not self.has_table(connection, table_name, schema=schema):
                raise NoSuchTableError(f"{schema}.{table_name}" if schema else table_name)
            return ReflectionDefaults.unique_constraints()
        return super().get_unique_constraints(  # type: ignore[no-untyped-call]
            connection, table_name, schema=schema, **kw
        )


registry.register("sqlite.amigrate_reader", __name__, "ReaderDialect")


def _pragma_rows(
    connection: Connection, pragma: str, type_: str
) -> dict[str, list[tuple[Any, ...]]]:
    """Per table (or index) of the main schema: the rows ``PRAGMA <pragma>(name)`` gives."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    # thousands of rows: read straight from the driver (this is our own sqlite3 connection,
    # in the read transaction `_open` began)
    rows = connection.connection.driver_connection.execute(  # type: ignore[union-attr]
        f"SELECT m.name, p.* FROM sqlite_master AS m JOIN pragma_{pragma}(m.name) AS p"
        f" WHERE m.type = '{type_}'"
    )
    for name, *row in rows:
        found.setdefault(name, []).append(tuple(row))
    return found


@contextlib.contextmanager
def reading_connection(connection: Connection) -> Iterator[Connection | None]:
    """A read-only ``sqlite3`` connection that sees the schema ``connection`` sees, or None.

    None when there is no such connection: an in-memory or temporary database, attached
    databases, another driver (SQLCipher), a file that cannot be opened or is locked, or a
    schema ``connection`` changed in a transaction not yet committed (the schema versions
    differ). The connection reads in one transaction, so it sees one state of the file.
    """
    path = _database_file(connection)
    if path is None:
        yield None
        return
    import sqlite3

    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    uri = f"{Path(path).as_uri()}?mode=ro"
    engine = create_engine(
        "sqlite+amigrate_reader://",
        creator=lambda: sqlite3.connect(uri, uri=True, timeout=0, isolation_level=None),
        poolclass=NullPool,
    )
    reader = _open(engine, _schema_version(connection))
    try:
        yield reader
    finally:
        if reader is not None:
            reader.close()
        engine.dispose()


def _open(engine: Engine, schema_version: int) -> Connection | None:
    """A connection of ``engine`` in a read transaction, if it sees that schema version."""
    from sqlalchemy.exc import DBAPIError

    try:
        reader = engine.connect()
    except DBAPIError:
        return None
    try:
        reader.exec_driver_sql("BEGIN")
        if _schema_version(reader) == schema_version:
            assert isinstance(engine.dialect, ReaderDialect)
            engine.dialect.prefetch(reader)
            return reader
    except DBAPIError:
        pass
    reader.close()
    return None


def index_sql(connection: Connection, schema: str | None) -> dict[str, dict[str, str]]:
    """Per table of ``schema``: each index's ``CREATE INDEX`` text, from ``sqlite_master``.

    SQLAlchemy skips indexes on expressions; ``compare/indexes.py`` reads them from this.
    """
    quote = connection.dialect.identifier_preparer.quote_identifier
    master = f"{quote(schema)}.sqlite_master" if schema else "sqlite_master"
    found: dict[str, dict[str, str]] = {}
    rows = connection.exec_driver_sql(
        f"SELECT tbl_name, name, sql FROM {master} WHERE type = 'index' AND sql IS NOT NULL"
    )
    for table, name, sql in rows:
        found.setdefault(table, {})[name] = sql
    return found


def _database_file(connection: Connection) -> str | None:
    """The file of ``connection``'s main database, if it has one and nothing is attached."""
    if connection.dialect.driver not in _DRIVERS:
        return None
    rows = connection.exec_driver_sql("PRAGMA database_list").all()
    files = {name: file for _, name, file in rows}
    if set(files) - {"main", "temp"}:
        return None
    return files.get("main") or None


def _schema_version(connection: Connection) -> int:
    return int(connection.exec_driver_sql("PRAGMA schema_version").scalar_one())


RULES = SQLiteRules()
