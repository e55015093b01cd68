"""Where statements go: a live connection (online) or SQL text for a script (offline).

The implementation above a sink never knows which one it has: the same statements reach the
database or the script, so what ``--sql`` prints is what an online run executes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TextIO, TypeAlias

from sqlalchemy.engine import make_url
from sqlalchemy.engine.mock import MockConnection
from sqlalchemy.sql.ddl import ExecutableDDLElement
from sqlalchemy.sql.elements import ClauseElement

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Dialect, Result
    from sqlalchemy.sql.base import Executable

Parameters: TypeAlias = Mapping[str, Any] | Sequence[Mapping[str, Any]]
Statement: TypeAlias = "Executable | str"

_LEADING_TAB = re.compile(r"^\t", re.MULTILINE)


class Sink(Protocol):
    """What an implementation writes statements to."""

    @property
    def dialect(self) -> Dialect: ...

    @property
    def as_sql(self) -> bool: ...

    @property
    def ddl_bind(self) -> Connection | MockConnection:
        """The object handed to SQLAlchemy's DDL events (e.g. PostgreSQL ENUM creation)."""
        ...

    def execute(
        self,
        statement: Statement,
        parameters: Parameters | None = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> Result[Any] | None: ...


class ConnectionSink:
    """Executes each statement on a synchronous ``Connection``, with bound parameters."""

    as_sql = False

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def __repr__(self) -> str:
        return f"<ConnectionSink {self.dialect.name}>"

    @property
    def dialect(self) -> Dialect:
        return self.connection.dialect

    @property
    def ddl_bind(self) -> Connection:
        return self.connection

    def execute(
        self,
        statement: Statement,
        parameters: Parameters | None = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> Result[Any]:
        """Run ``statement``; a plain string goes to the driver as it is.

        Without parameters the driver is told there are none (SQLAlchemy's
        ``no_parameters``), so a ``%`` in the string is not read as a placeholder.
        """
        if isinstance(statement, str):
            options = dict(execution_options or {})
            if parameters is None:
                options.setdefault("no_parameters", True)
            return self.connection.exec_driver_sql(statement, parameters, execution_options=options)
        return self.connection.execute(statement, parameters, execution_options=execution_options)


class ScriptSink:
    """Writes each statement as SQL text: ``<sql><terminator>`` and a blank line.

    Values are rendered inline (``literal_binds``) because a script has no parameters to
    bind. A plain string is written as given. Use a dialect from `offline_dialect` so ``%``
    in SQL text is not doubled for drivers with the ``pyformat`` parameter style.
    """

    as_sql = True

    def __init__(
        self,
        dialect: Dialect,
        output: TextIO,
        *,
        literal_binds: bool = True,
        terminator: str = ";",
    ) -> None:
        self._dialect = dialect
        self.output = output
        self.literal_binds = literal_binds
        self.terminator = terminator
        self._mock = MockConnection(dialect, self._execute_from_ddl_event)

    def __repr__(self) -> str:
        return f"<ScriptSink {self.dialect.name}>"

    @property
    def dialect(self) -> Dialect:
        return self._dialect

    @property
    def ddl_bind(self) -> MockConnection:
        return self._mock

    def execute(
        self,
        statement: Statement,
        parameters: Parameters | None = None,
        *,
        execution_options: Mapping[str, Any] | None = None,
    ) -> None:
        """Write ``statement``; execution options mean nothing in a script and are ignored."""
        if parameters:
            raise ValueError(
                "a SQL script cannot carry bound parameters; "
                "put the values in the statement (op.inline_literal) instead"
            )
        self.write(self.render(statement).strip() + self.terminator + "\n\n")

    def render(self, statement: Statement) -> str:
        """The SQL text of ``statement`` for this dialect, values inline."""
        if isinstance(statement, str):
            return statement
        if not isinstance(statement, ClauseElement):
            raise TypeError(f"cannot render {statement!r} as SQL text")
        if isinstance(statement, ExecutableDDLElement):
            # DDL renders its values inline anyway; CREATE TABLE indents columns with tabs.
            return _LEADING_TAB.sub("    ", str(statement.compile(dialect=self.dialect)))
        compile_kwargs = {"literal_binds": True} if self.literal_binds else {}
        return str(statement.compile(dialect=self.dialect, compile_kwargs=compile_kwargs))

    def comment(self, text: str) -> None:
        """Write ``text`` as SQL line comments (``-- text``) followed by a blank line."""
        lines = text.splitlines() or [""]
        self.write("".join(f"-- {line}".rstrip() + "\n" for line in lines) + "\n")

    def write(self, text: str) -> None:
        """Write ``text`` verbatim."""
        self.output.write(text)

    def _execute_from_ddl_event(self, statement: Executable, parameters: Any = None) -> None:
        self.execute(statement, parameters)


def offline_dialect(name: str, **options: Any) -> Dialect:
    """A dialect for SQL scripts: ``name`` is a dialect name or URL (no driver is imported).

    The ``named`` parameter style is the default, so SQL text compiles without the ``%%``
    escaping that the ``pyformat`` drivers need.
    """
    url = make_url(name if "://" in name else f"{name}://")
    options.setdefault("paramstyle", "named")
    dialect: Dialect = url.get_dialect()(**options)
    return dialect


__all__ = ["ConnectionSink", "Parameters", "ScriptSink", "Sink", "Statement", "offline_dialect"]
