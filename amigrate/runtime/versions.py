"""The version table: Alembic's ``alembic_version``, one row per head the database is at.

Reads and writes go through SQLAlchemy Core with bound parameters, so every ``UPDATE`` hits
the compiled-statement cache (Alembic compiles each step's statement anew). Offline, and
online on an engine where statements without parameters take one round trip instead of two
(asyncpg, `ddl.simple_query`), the writes are text instead: each statement is compiled once
per run with placeholder ids, and each step only swaps its own ids in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam
from sqlalchemy.engine import CursorResult
from sqlalchemy.sql.compiler import SQLCompiler

from amigrate.ddl import simple_query
from amigrate.ddl.sink import ConnectionSink
from amigrate.errors import MigrationFailedError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from sqlalchemy import Table
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.dml import UpdateBase

    from amigrate.ddl.impl import DefaultImpl
    from amigrate.runtime.steps import VersionChange


# Ids no revision has (not hexadecimal), compiled into the offline statements' text once.
_PLACEHOLDER = {"old": "amigrate-old-id-placeholder", "new": "amigrate-new-id-placeholder"}
_Template = tuple[str, "Callable[[str], str]", dict[str, str]]


class VersionTable:
    """The version table of one database (name and schema configurable)."""

    def __init__(self, impl: DefaultImpl, name: str, schema: str | None) -> None:
        self.impl = impl
        self.table: Table = impl.version_table(name, schema)
        self.display_name = f"{schema}.{name}" if schema else name
        self._seen = False
        column = self.table.c.version_num
        new, old = bindparam("new", type_=column.type), bindparam("old", type_=column.type)
        self._statements: dict[str, UpdateBase] = {
            "insert": self.table.insert().values(version_num=new),
            "update": self.table.update().where(column == old).values(version_num=new),
            "delete": self.table.delete().where(column == old),
        }
        self._templates: dict[str, _Template] = {}
        sink = impl.sink
        self._writes_text = isinstance(sink, ConnectionSink) and simple_query.installed(
            sink.connection
        )

    def exists(self, connection: Connection) -> bool:
        from sqlalchemy import inspect

        found = inspect(connection).has_table(self.table.name, schema=self.table.schema)
        self._seen = self._seen or found
        return found

    def read(self, connection: Connection) -> tuple[str, ...]:
        """The rows, sorted; () when the table does not exist yet.

        Once seen, the table is not looked for again: a locked run re-reads the rows before
        every revision, and each look-up is a round trip.
        """
        if not self._seen and not self.exists(connection):
            return ()
        from sqlalchemy import select

        rows = connection.execute(select(self.table.c.version_num)).scalars()
        return tuple(sorted(str(row) for row in rows))

    def create(self) -> None:
        from sqlalchemy.schema import CreateTable

        self.impl.execute(CreateTable(self.table))

    def drop(self) -> None:
        from sqlalchemy.schema import DropTable

        self.impl.execute(DropTable(self.table))

    def apply(self, changes: Iterable[VersionChange], *, commits: bool = False) -> None:
        """Write ``changes``; online, each UPDATE/DELETE must touch exactly one row.

        ``commits``: the transaction commits right after; where writes are text, the last
        one takes the ``COMMIT`` along in its round trip (`simple_query.COMMITS`).
        """
        changes = tuple(changes)
        for number, change in enumerate(changes, 1):
            values = (("old", change.old), ("new", change.new))
            parameters = {key: value for key, value in values if value is not None}
            if self.impl.as_sql:
                self.impl.sink.execute(self._script_text(change.kind, parameters))
                continue
            if self._writes_text:
                last = number == len(changes)
                result = self._write_text(change, parameters, commits=commits and last)
            else:
                result = self.impl.sink.execute(self._statements[change.kind], parameters)
            if change.kind != "insert" and isinstance(result, CursorResult):
                self._check_one_row(change, result.rowcount)

    def _write_text(
        self, change: VersionChange, parameters: dict[str, Any], *, commits: bool
    ) -> Any:
        """One write as literal text: one round trip; with ``commits``, its COMMIT too.

        The result, for the caller to check its row count; None when the server checked it.
        """
        from sqlalchemy.exc import DBAPIError

        text = self._script_text(change.kind, parameters)
        options = {simple_query.RETURNS_NO_ROWS: True}
        if not commits:
            return self.impl.sink.execute(text, execution_options=options)
        options[simple_query.COMMITS] = True
        if change.kind != "insert":  # its row count comes too late to stop the COMMIT
            text = simple_query.one_row_or_error(text)  # so the server checks it
        try:
            self.impl.sink.execute(text, execution_options=options)
        except DBAPIError as exc:
            if simple_query.is_no_row_error(exc):
                self._check_one_row(change, 0)
            raise
        return None

    def _check_one_row(self, change: VersionChange, rowcount: int) -> None:
        if rowcount != 1:
            raise MigrationFailedError(
                f"the version table {self.display_name} has no row {change.old!r} to "
                f"{change.kind}; another process may be migrating this database",
                hint="run 'amigrate current' and 'amigrate stamp' to repair it",
            )

    def _script_text(self, kind: str, parameters: dict[str, Any]) -> str:
        """The statement's SQL with ``parameters`` written in as literals.

        Compiling is most of a statement's cost and only the ids differ from step to step,
        so each statement compiles once with placeholder ids, and each step swaps its own
        ids, rendered by the column type's literal processor, for the placeholders' text.
        """
        template = self._templates.get(kind)
        if template is None:
            template = self._templates[kind] = self._template(kind)
        text, literal, placeholders = template
        for key, value in parameters.items():
            text = text.replace(placeholders[key], literal(value), 1)
        return text

    def _template(self, kind: str) -> _Template:
        """The statement's text with placeholder ids, the type's literal processor, and each
        placeholder as that processor writes it (what a step's ids replace)."""
        type_ = self.table.c.version_num.type
        literal = type_.literal_processor(self.impl.dialect)
        assert literal is not None  # a string type always renders literals
        options = {"literal_execute": True}  # values rendered when given, not at compile
        compiled = self._statements[kind].compile(dialect=self.impl.dialect, compile_kwargs=options)
        assert isinstance(compiled, SQLCompiler)
        text = compiled.construct_expanded_state(_PLACEHOLDER).statement
        return text, literal, {key: literal(value) for key, value in _PLACEHOLDER.items()}
