"""Engines and connections: built from the config (NullPool), or the application's own.

A URL's driver decides the bridge: async drivers (asyncpg, aiosqlite) run the sync core in a
greenlet of the caller's loop (``greenlet_spawn``, what ``AsyncConnection.run_sync`` does);
sync drivers (psycopg, sqlite3) run it in a worker thread.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import sys
from typing import TYPE_CHECKING, Any, TypeGuard, TypeVar, cast

from amigrate._util import mask_url_password
from amigrate.errors import ConfigError, ConnectionFailedError

_T = TypeVar("_T")

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sqlalchemy.engine import Connection, Dialect, Engine
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from amigrate.config import Config


def url_from_config(config: Config, section: str | None = None) -> str:
    """``sqlalchemy.url`` of the main section (or a multidb database section)."""
    if section is None:
        url = config.sqlalchemy_url
        where = config.location("sqlalchemy.url")
    else:
        url = config.get_section_option(section, "sqlalchemy.url")
        where = config.location("sqlalchemy.url", section)
    if not url:
        name = f"[{section}]" if section else f"[{config.config_ini_section}]"
        raise ConfigError(
            f"no sqlalchemy.url in {name}",
            location=where or config.config_file_name,
            hint="set it in the config file, or pass a connection or engine from code",
        )
    return url


def is_async_url(url: str) -> bool:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        return bool(make_url(url).get_dialect().is_async)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise ConfigError(f"cannot use database URL {mask_url_password(url)}: {exc}") from exc


def is_async_engine(value: object) -> TypeGuard[AsyncEngine]:
    """Whether ``value`` is SQLAlchemy's ``AsyncEngine``, without importing its module.

    Nothing is an ``AsyncEngine`` or ``AsyncConnection`` until ``sqlalchemy.ext.asyncio`` has
    been imported, and importing it imports the ORM (50-90 ms): a run on a sync driver
    (``sqlite://``, ``postgresql+psycopg://``) should not pay that just to ask.
    """
    kind = getattr(sys.modules.get("sqlalchemy.ext.asyncio"), "AsyncEngine", None)
    return kind is not None and isinstance(value, kind)  # None: not (yet) imported


def is_async_connection(value: object) -> TypeGuard[AsyncConnection]:
    """Whether ``value`` is SQLAlchemy's ``AsyncConnection`` (see `is_async_engine`)."""
    kind = getattr(sys.modules.get("sqlalchemy.ext.asyncio"), "AsyncConnection", None)
    return kind is not None and isinstance(value, kind)


def engine_options(config: Config, section: str | None) -> dict[str, Any]:
    """``sqlalchemy.*`` engine options of the section, besides the URL (strings, as given)."""
    values = config.get_section(section or config.config_ini_section) or {}
    options: dict[str, Any] = {}
    for key, value in values.items():
        if key.startswith("sqlalchemy.") and key != "sqlalchemy.url":
            options[key.removeprefix("sqlalchemy.")] = _coerce(value)
    return options


def create_engine_for(url: str, options: dict[str, Any]) -> Engine:
    """A NullPool engine for ``url``: migrations hold one connection and give it back.

    An async driver's (asyncpg, aiosqlite) is a plain ``Engine`` too, whose connections are
    used inside ``greenlet_spawn`` only (`runs_in_greenlet`; ``bridge.GreenletConnection``).
    That is what an ``AsyncEngine`` is underneath; making one would import SQLAlchemy's
    asyncio extension and, with it, the ORM (50-90 ms of every command). On asyncpg, DDL
    and the version-row writes skip the driver's prepare step (`ddl.simple_query`); on
    aiosqlite, each statement takes one trip to the driver's thread (`ddl.aiosqlite_trips`).
    """
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from amigrate.ddl import aiosqlite_trips, simple_query

    try:
        is_async_url(url)  # a URL SQLAlchemy cannot use is a ConfigError that says why
        engine = create_engine(url, poolclass=NullPool, **options)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(f"cannot create an engine for {mask_url_password(url)}: {exc}") from exc
    simple_query.install(engine)  # asyncpg: DDL and version rows in one round trip each
    aiosqlite_trips.install(engine)  # aiosqlite: every statement in one trip to its thread
    return engine


def runs_in_greenlet(value: Engine | Connection) -> bool:
    """Whether a sync ``Engine``/``Connection`` belongs to an async driver (asyncpg, aiosqlite).

    Its driver calls must run inside ``greenlet_spawn``, in the event loop's thread.
    """
    return bool(getattr(value.dialect, "is_async", False))


async def in_greenlet(fn: Callable[..., _T], *args: Any) -> _T:
    """``fn(*args)`` in a greenlet of the running loop, as ``AsyncConnection.run_sync`` does."""
    from sqlalchemy.util import greenlet_spawn

    return cast("_T", await greenlet_spawn(fn, *args, _require_await=False))


class ServerEngines:
    """The engines of many database URLs; URLs of one PostgreSQL server share theirs.

    On an engine's first connection SQLAlchemy reads the server's version and settings
    (five round trips); the databases of one server (same URL but for the database, same
    options) share that work: their engine is made for the first of them, and inside
    ``connect_to(url)`` its connections are made for ``url``, exactly as an engine of that
    URL would make them. What that first connection read (server version, default schema
    and isolation level) then stands for all of them.
    """

    def __init__(self) -> None:
        self._engines: dict[str, Engine] = {}
        self._url: contextvars.ContextVar[str | None] = contextvars.ContextVar(
            "amigrate_connect_to", default=None
        )

    def engine_for(self, url: str, options: dict[str, Any]) -> Engine:
        """The engine for ``url`` (shared with the other databases of its server)."""
        from sqlalchemy import event

        key = _sharing_key(url, options)
        engine = self._engines.get(key)
        if engine is None:
            engine = self._engines[key] = create_engine_for(url, options)
            hook = functools.partial(self._make_for_url, options.get("connect_args", {}))
            event.listen(engine, "do_connect", hook)
        return engine

    @contextlib.contextmanager
    def connect_to(self, url: str) -> Iterator[None]:
        """Make the connections opened in this block (and this context) for ``url``."""
        token = self._url.set(url)
        try:
            yield
        finally:
            self._url.reset(token)

    def _make_for_url(
        self,
        connect_args: dict[str, Any],
        dialect: Dialect,
        record: Any,
        cargs: list[Any],
        cparams: dict[str, Any],
    ) -> None:
        """SQLAlchemy's ``do_connect`` hook: the arguments as ``create_engine(url)`` has them."""
        from sqlalchemy.engine import make_url

        url = self._url.get()
        if url is None:
            return
        url_cargs, url_cparams = dialect.create_connect_args(make_url(url))
        cargs[:] = url_cargs
        cparams.clear()
        cparams.update(url_cparams, **connect_args)

    async def dispose(self) -> None:
        engines, self._engines = list(self._engines.values()), {}
        for engine in engines:
            if runs_in_greenlet(engine):
                await in_greenlet(engine.dispose)
            else:
                engine.dispose()


def _sharing_key(url: str, options: dict[str, Any]) -> str:
    """What engines are shared by: the URL (a PostgreSQL one without its database), options."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return url  # shared with nothing: create_engine_for says what is wrong with it
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(database="")
    return f"{parsed.render_as_string(hide_password=False)} {sorted(options.items())!r}"


def connection_failed(url: str, exc: BaseException) -> ConnectionFailedError:
    original = getattr(exc, "orig", None) or exc
    detail = str(original).strip().splitlines()[0] if str(original).strip() else ""
    kind = type(original).__name__
    return ConnectionFailedError(
        mask_url_password(f"cannot connect to {url}: {kind}{': ' + detail if detail else ''}")
    )


def _coerce(value: str) -> Any:
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered.lstrip("-").isdigit():
        return int(lowered)
    return value
