"""EnvironmentContext: what env.py sees as ``context`` during one command on one database.

It carries the command's work (a plan function injected by ``command.py``: the runtime never
knows which command it serves), the config and script directory, and the connection the
application handed in, if any. env.py calls ``configure()`` then ``run_migrations()``.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Literal, TextIO, overload

from amigrate.errors import ConfigError, ScriptError
from amigrate.runtime.migration import MigrationContext, MigrationOptions

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import ModuleType

    from sqlalchemy.engine import Connection

    from amigrate.config import Config
    from amigrate.runtime.migration import Work
    from amigrate.script.directory import ScriptDirectory

_OPTION_NAMES = {
    "version_table",
    "version_table_schema",
    "transaction_per_migration",
    "literal_binds",
    "output_buffer",
    "tag",
    "target_metadata",
}


class EnvironmentContext:
    """The env.py facade: ``configure``, ``run_migrations``, ``begin_transaction`` and friends."""

    def __init__(
        self,
        config: Config,
        script: ScriptDirectory,
        work: Work,
        *,
        as_sql: bool = False,
        starting_heads: tuple[str, ...] = (),
        destination: str | None = None,
        tag: str | None = None,
        output_buffer: TextIO | None = None,
        database: str | None = None,
        connector: Any = None,
        step_guard: Any = None,
        schema: str | None = None,
        migration_lock: Any = None,
    ) -> None:
        self.config = config
        self.script = script
        self.work = work
        self.as_sql = as_sql
        self.starting_heads = starting_heads
        self.destination = destination
        self.tag = tag
        self.output_buffer = output_buffer
        self.database = database
        self.connector = connector
        self.step_guard = step_guard
        self.migration_lock = migration_lock  # aio.locking.MigrationLock, or None
        self.schema = schema  # a tenant schema: its version table lives in it
        self.migrations_ran = False
        self._migration_context: MigrationContext | None = None
        self._modules: dict[str, ModuleType] = {}

    # -- what env.py asks -----------------------------------------------------------------

    def is_offline_mode(self) -> bool:
        return self.as_sql

    def is_transactional_ddl(self) -> bool:
        return bool(self.get_context().impl.transactional_ddl)

    @overload
    def get_x_argument(self, as_dictionary: Literal[False] = False) -> list[str]: ...
    @overload
    def get_x_argument(self, as_dictionary: Literal[True]) -> dict[str, str]: ...
    def get_x_argument(self, as_dictionary: bool = False) -> list[str] | dict[str, str]:
        """The ``-x`` values of the command line (``key=value`` pairs as a dict if asked)."""
        if as_dictionary:
            return self.config.get_x_argument(as_dictionary=True)
        return self.config.get_x_argument()

    def get_tag_argument(self) -> str | None:
        return self.tag

    def get_starting_revision_argument(self) -> tuple[str, ...]:
        return self.starting_heads

    def get_revision_argument(self) -> str | None:
        return self.destination

    def get_head_revisions(self) -> tuple[str, ...]:
        return self.script.revisions.heads

    def get_context(self) -> MigrationContext:
        if self._migration_context is None:
            raise ScriptError(
                "env.py must call context.configure() before this",
                location=str(self.script.env_py),
            )
        return self._migration_context

    def get_bind(self) -> Connection:
        connection = self.get_context().connection
        if connection is None:
            raise ScriptError("there is no connection in offline (--sql) mode")
        return connection

    def connect(self) -> Any:
        """A connection to the database: ``async with`` in async env.py, ``with`` in sync."""
        if self.connector is None:
            raise ScriptError("context.connect() is only available while a command runs")
        return self.connector(self)

    # -- configure and run ----------------------------------------------------------------

    def configure(
        self,
        connection: Connection | None = None,
        url: str | None = None,
        dialect_name: str | None = None,
        dialect_opts: dict[str, Any] | None = None,
        transactional_ddl: bool | None = None,
        **options: Any,
    ) -> None:
        """Say where to migrate (connection, or url/dialect for --sql) and how."""
        chosen = {name: options.pop(name) for name in list(options) if name in _OPTION_NAMES}
        schema = chosen.pop("version_table_schema", None)
        schema = self.schema or schema  # a tenant's version table is in its own schema
        settings = MigrationOptions(
            version_table=chosen.pop("version_table", None) or self.config.version_table,
            version_table_schema=schema or self.config.version_table_schema,
            as_sql=self.as_sql,
            starting_heads=self.starting_heads,
            tag=chosen.pop("tag", None) or self.tag,
            output_buffer=chosen.pop("output_buffer", None) or self.output_buffer,
            function_name=f"upgrade_{self.database}" if self.database else None,
            step_guard=self.step_guard,
            lock=self.migration_lock,
            extra=options,
            **chosen,
        )
        if self.as_sql:
            url = url or (None if connection is None else str(connection.engine.url))
            if url is None and dialect_name is None:
                url = self.config.sqlalchemy_url
            self._migration_context = MigrationContext.configure(
                url=url, dialect_name=dialect_name, dialect_opts=dialect_opts, options=settings
            )
        elif connection is None:
            raise ConfigError(
                "context.configure() needs connection= to run migrations online",
                location=str(self.script.env_py),
            )
        else:
            self._migration_context = MigrationContext.configure(connection, options=settings)
        if transactional_ddl is not None:
            self._migration_context.impl.transactional_ddl = transactional_ddl

    def begin_transaction(self) -> contextlib.AbstractContextManager[None]:
        if self._migration_context is None:
            return contextlib.nullcontext()
        return self._migration_context.begin_transaction()

    def run_migrations(self, **kw: Any) -> None:
        """Plan from the database's current revision and run the steps."""
        context = self.get_context()
        try:
            context.run_migrations(self.work, self.load_script)
        finally:
            context.restore_driver_settings()
            self.script.code_cache.save()
        self.migrations_ran = True

    def share_script_modules(self, modules: dict[str, ModuleType]) -> None:
        """Use ``modules`` as the cache of loaded revision files (shared by many runs)."""
        self._modules = modules

    def load_script(self, path: str) -> ModuleType:
        from pathlib import Path

        from amigrate import _gc
        from amigrate.script.loader import load_module

        module = self._modules.get(path)
        if module is None:
            if not self.as_sql:  # revisions run on data from here on: they may churn through it
                _gc.resume()
            module = self._modules[path] = load_module(Path(path), self.script.code_cache)
        return module

    @contextlib.contextmanager
    def bound(self) -> Iterator[EnvironmentContext]:
        """Make this the active ``context`` in the current execution context."""
        from amigrate.runtime.current import active_environment

        token = active_environment.set(self)
        try:
            yield self
        finally:
            active_environment.reset(token)

    def run_sync_hook(self, hook: Callable[[], Any]) -> Any:
        """Call a sync env.py function with this context active (used from worker threads)."""
        with self.bound():
            return hook()
