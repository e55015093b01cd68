"""Engines and connections: built from the config (NullPool), or the application's own.

A URL's driver decides the bridge: async drivers (asyncpg, aiosqlite) run the sync core in
``AsyncConnection.run_sync``; sync drivers (psycopg, sqlite3) run it in a worker thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from amigrate._util import mask_url_password
from amigrate.errors import ConfigError, ConnectionFailedError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.ext.asyncio import AsyncEngine

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


def engine_options(config: Config, section: str | None) -> dict[str, Any]:
    """``sqlalchemy.*`` engine options of the section, besides the URL (strings, as given)."""
    values = config.get_section(section or config.config_ini_section) or {}
    options: dict[str, Any] = {}
    for key, value in values.items():
        if key.startswith("sqlalchemy.") and key != "sqlalchemy.url":
            options[key.removeprefix("sqlalchemy.")] = _coerce(value)
    return options


def create_engine_for(url: str, options: dict[str, Any]) -> Engine | AsyncEngine:
    """A NullPool engine for ``url``: migrations hold one connection and give it back."""
    from sqlalchemy.pool import NullPool

    try:
        if is_async_url(url):
            from sqlalchemy.ext.asyncio import create_async_engine

            return create_async_engine(url, poolclass=NullPool, **options)
        from sqlalchemy import create_engine

        return create_engine(url, poolclass=NullPool, **options)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(f"cannot create an engine for {mask_url_password(url)}: {exc}") from exc


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
