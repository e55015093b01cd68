"""``context.connect()``: one connection for env.py, from the app's objects or from the config.

``async with context.connect() as connection`` yields something with ``await
connection.run_sync(fn)``: the application's own ``AsyncConnection``; a ``GreenletConnection``
for an async driver amigrate connected itself (``fn`` in a greenlet of the caller's loop, as
``AsyncConnection.run_sync`` runs it); or a ``ThreadedConnection`` that runs ``fn`` in a
worker thread for sync drivers. A plain ``with`` (sync env.py, already in a worker thread)
yields a sync ``Connection``.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import threading
from typing import TYPE_CHECKING, Any, cast

from amigrate.aio.engines import (
    connection_failed,
    create_engine_for,
    engine_options,
    in_greenlet,
    is_async_connection,
    is_async_engine,
    runs_in_greenlet,
    url_from_config,
)
from amigrate.errors import AmigrateError, ScriptError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.ext.asyncio import AsyncConnection

    from amigrate.runtime.environment import EnvironmentContext


class ThreadedConnection:
    """A sync ``Connection`` with an awaitable ``run_sync``, like ``AsyncConnection``'s."""

    def __init__(self, connection: Connection) -> None:
        self.sync_connection = connection

    async def run_sync(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        import anyio.to_thread

        call = functools.partial(fn, self.sync_connection, *args, **kwargs)
        return await anyio.to_thread.run_sync(call)


class GreenletConnection:
    """A sync ``Connection`` of an async driver, used the way ``AsyncConnection`` uses it.

    ``run_sync(fn)`` is ``AsyncConnection.run_sync``: ``fn`` runs in a greenlet of the
    caller's event loop, and each driver call inside it is awaited there. Everything else
    (``execute``, ``commit``, ``begin``, ...) is answered by a real ``AsyncConnection`` around
    the same connection, made on first use: only then are SQLAlchemy's asyncio extension and
    the ORM it imports loaded (50-90 ms that a plain migration has no use for). Where an
    actual ``AsyncConnection`` is needed (``AsyncSession(bind=...)``, ``isinstance``), pass
    ``as_async_connection()``; ``sync_engine`` is refused so that ``AsyncSession`` cannot
    quietly open a second connection outside the migration's transaction.
    """

    def __init__(self, connection: Connection) -> None:
        self.sync_connection = connection
        self._async_connection: Any = None

    def __repr__(self) -> str:
        driver = f"{self.dialect.name}+{self.dialect.driver}"
        return f"<GreenletConnection {driver}: as_async_connection() gives its AsyncConnection>"

    @property
    def dialect(self) -> Any:
        return self.sync_connection.dialect

    async def run_sync(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        from sqlalchemy.util import greenlet_spawn

        return await greenlet_spawn(fn, self.sync_connection, *args, _require_await=False, **kwargs)

    def as_async_connection(self) -> AsyncConnection:
        """The ``AsyncConnection`` of this very connection (made once, on first use)."""
        if self._async_connection is None:
            from sqlalchemy.ext.asyncio import AsyncConnection

            self._async_connection = AsyncConnection._retrieve_proxy_for_target(
                self.sync_connection
            )
        return cast("AsyncConnection", self._async_connection)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if name == "sync_engine":
            raise AttributeError(
                "a GreenletConnection has no sync_engine: pass connection.as_async_connection()"
                " where an AsyncConnection is needed (AsyncSession(bind=...))"
            )
        return getattr(self.as_async_connection(), name)


def _yielded(connection: GreenletConnection) -> Any:
    """What env.py gets: the real ``AsyncConnection`` when its module is loaded anyway."""
    if "sqlalchemy.ext.asyncio" in sys.modules:  # env.py or the app imported it: it is free
        return connection.as_async_connection()
    return connection


class Connector:
    """The context manager ``context.connect()`` returns, for one use."""

    def __init__(self, env: EnvironmentContext, source: Any) -> None:
        self.env = env
        self.source = source
        self._cleanup: list[Callable[[], Any]] = []
        # the connection we opened, and how to commit it (see _commit_left_open)
        self._opened: tuple[Connection, Callable[[], Any]] | None = None

    # -- async env.py ---------------------------------------------------------------------

    async def __aenter__(self) -> Any:
        from sqlalchemy.engine import Connection, Engine

        source = self.source if self.source is not None else self._engine_from_config()
        if is_async_connection(source):
            return source
        if isinstance(source, GreenletConnection):  # a tenant's, made by the fan-out
            return _yielded(source)
        if isinstance(source, Connection):
            if runs_in_greenlet(source):
                return _yielded(GreenletConnection(source))
            return ThreadedConnection(source)
        if is_async_engine(source):
            try:
                connection = await source.connect()
            except Exception as exc:
                raise connection_failed(str(source.url), exc) from exc
            self._cleanup.append(connection.close)
            assert connection.sync_connection is not None  # started by connect()
            self._opened = (connection.sync_connection, connection.commit)
            return connection
        if isinstance(source, Engine) and runs_in_greenlet(source):
            try:
                sync_connection = await in_greenlet(source.connect)
            except Exception as exc:
                raise connection_failed(str(source.url), exc) from exc
            self._cleanup.append(functools.partial(in_greenlet, sync_connection.close))
            self._opened = (sync_connection, functools.partial(in_greenlet, sync_connection.commit))
            return _yielded(GreenletConnection(sync_connection))
        if isinstance(source, Engine):
            import anyio.to_thread

            sync = await anyio.to_thread.run_sync(self._connect_sync, source)
            self._cleanup.append(functools.partial(anyio.to_thread.run_sync, sync.close))
            self._opened = (sync, functools.partial(anyio.to_thread.run_sync, sync.commit))
            return ThreadedConnection(sync)
        raise AmigrateError(f"cannot migrate through a {type(source).__name__}")

    async def __aexit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> None:
        import anyio

        with anyio.CancelScope(shield=True):  # a cancelled run still closes what it opened
            try:
                if exc_type is None and (committing := self._commit_left_open()) is not None:
                    await committing
            finally:
                while self._cleanup:
                    result = self._cleanup.pop()()
                    if result is not None:
                        await result

    def _commit_left_open(self) -> Any:
        """Commit the connection we opened if it ends the block inside a transaction; what
        the commit returns (an awaitable for an async env.py's connection), else None.

        That happens when env.py ran a statement of its own before the migrations (SQLAlchemy
        began a transaction for it): the run then treats the transaction as the caller's
        and leaves the COMMIT to it. Closing would roll the migrations back, silently. The
        connection is ours and the block ended without an error: commit it.
        """
        if self._opened is None or not self._opened[0].in_transaction():
            return None
        return self._opened[1]()

    # -- sync env.py (in a worker thread) -------------------------------------------------

    def __enter__(self) -> Connection:
        from sqlalchemy.engine import Connection, Engine

        source = self.source if self.source is not None else self._engine_from_config()
        if isinstance(source, Connection) and not runs_in_greenlet(source):
            return source
        if isinstance(source, Engine) and not runs_in_greenlet(source):
            connection = self._connect_sync(source)
            self._cleanup.append(connection.close)
            self._opened = (connection, connection.commit)
            return connection
        raise ScriptError(
            "env.py's run_migrations_online() is a plain function, but the database is "
            "reached through an async driver or object",
            location=str(self.env.script.env_py),
            hint="make it 'async def' (see the async template) or use a sync driver URL",
        )

    def __exit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> None:
        try:
            if exc_type is None:
                self._commit_left_open()
        finally:
            while self._cleanup:
                self._cleanup.pop()()

    # -- helpers --------------------------------------------------------------------------

    def _engine_from_config(self) -> Engine | Any:
        config = self.env.config
        url = url_from_config(config, self.env.database)
        options = engine_options(config, self.env.database)
        if url.startswith("sqlite") and "connect_args" not in options:
            options["connect_args"] = {"check_same_thread": False}  # threads take turns
        engine = create_engine_for(url, options)
        if runs_in_greenlet(engine):
            self._cleanup.insert(0, functools.partial(in_greenlet, engine.dispose))
        else:
            self._cleanup.insert(0, engine.dispose)
        return engine

    @staticmethod
    def _connect_sync(engine: Engine) -> Connection:
        try:
            return engine.connect()
        except Exception as exc:
            raise connection_failed(str(engine.url), exc) from exc


class StepGuard:
    """Lets cancelling ``await upgrade()`` stop the run between revisions, never inside one.

    Each step runs shielded from cancellation (its transaction commits or rolls back whole);
    between steps the guard checks whether the awaiting task was cancelled. Works for the
    sync core in ``AsyncConnection.run_sync`` (a greenlet in the caller's loop) and in anyio
    worker threads; elsewhere (a legacy env.py's own ``asyncio.run``) it does nothing.
    """

    def __init__(self) -> None:
        self.loop_thread = threading.get_ident()

    def _in_callers_greenlet(self) -> bool:
        from sqlalchemy.util.concurrency import in_greenlet

        return threading.get_ident() == self.loop_thread and in_greenlet()

    def check(self) -> None:
        if self._in_callers_greenlet():
            import anyio.lowlevel
            from sqlalchemy.util.concurrency import await_only

            await_only(anyio.lowlevel.checkpoint_if_cancelled())
        elif threading.get_ident() != self.loop_thread:
            import anyio.from_thread

            with contextlib.suppress(RuntimeError):  # not an anyio worker thread
                anyio.from_thread.check_cancelled()

    def sleep(self, seconds: float) -> None:
        """Wait without blocking the event loop (the sync core may run in its greenlet)."""
        import time

        if self._in_callers_greenlet():
            import anyio
            from sqlalchemy.util.concurrency import await_only

            await_only(anyio.sleep(seconds))
            return
        self.check()
        time.sleep(seconds)
        self.check()

    @contextlib.contextmanager
    def shield(self) -> Iterator[None]:
        if not self._in_callers_greenlet():
            yield
            return
        import anyio

        with anyio.CancelScope(shield=True):
            yield
