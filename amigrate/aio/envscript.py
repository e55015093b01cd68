"""Run env.py in one of its three forms, with the command's ``context`` active.

1. Native (our templates): no work at import; ``run_migrations_online`` is awaited in the
   caller's loop when it is ``async def``, or run in a worker thread when it is a plain
   function; ``run_migrations_offline`` runs in a worker thread.
2. Legacy: the module does the work at import, maybe with its own ``asyncio.run``; importing
   it in a worker thread (where that is legal) is the whole run.
3. None: no env.py; a built-in environment uses ``sqlalchemy.url`` or the given connection.

Offline (``--sql``) runs need no I/O, so the CLI drives them with no event loop at all
(importing anyio's backend and starting a loop costs about 20 ms per command): there, what
would go to a worker thread runs in place, and an ``async def`` hook gets a loop of its own.
"""

from __future__ import annotations

import inspect
import sys
from typing import TYPE_CHECKING, Any, TypeVar

from amigrate.errors import ScriptError

T = TypeVar("T")

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType

    from sqlalchemy.engine import Connection

    from amigrate.runtime.environment import EnvironmentContext


async def run_environment(env: EnvironmentContext) -> None:
    """Run the command ``env`` carries through the environment's env.py."""
    path = env.script.env_py
    if not path.is_file():
        await _run_builtin(env)
        return
    _prepend_sys_path(env)
    module = await _off_the_loop(_load_env, env)
    if env.migrations_ran:
        return  # legacy form: importing it did the work
    name = "run_migrations_offline" if env.as_sql else "run_migrations_online"
    hook = getattr(module, name, None)
    if hook is None:
        raise ScriptError(
            f"env.py defines no {name}() and did no work when imported",
            location=str(path),
            hint="see the templates: amigrate init -t async DIR",
        )
    if inspect.iscoroutinefunction(hook):
        with env.bound():
            if event_loop_running():
                await hook()
            else:
                import anyio

                anyio.run(hook)
    else:
        await _off_the_loop(env.run_sync_hook, hook)
    if not env.migrations_ran:
        raise ScriptError(
            f"env.py's {name}() returned without calling context.run_migrations()",
            location=str(path),
        )


def event_loop_running() -> bool:
    """Whether an event loop runs this code (not so when the CLI drives an offline command)."""
    try:
        import sniffio  # type: ignore[import-not-found, unused-ignore]
    except ImportError:  # then trio is not installed either: only asyncio can be running
        import asyncio

        return asyncio._get_running_loop() is not None
    try:
        sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        return False
    return True


async def _off_the_loop(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a worker thread, or right here when no event loop runs."""
    if not event_loop_running():
        return function(*args)
    import anyio.to_thread

    return await anyio.to_thread.run_sync(function, *args)


def _load_env(env: EnvironmentContext) -> ModuleType:
    from amigrate.script.loader import load_module

    with env.bound():
        return load_module(env.script.env_py)


def _prepend_sys_path(env: EnvironmentContext) -> None:
    for entry in reversed(env.config.prepend_sys_path):
        if entry not in sys.path:
            sys.path.insert(0, entry)


async def _run_builtin(env: EnvironmentContext) -> None:
    """No env.py: migrate ``sqlalchemy.url`` (or the given connection) with default options."""
    with env.bound():
        if env.as_sql:
            await _off_the_loop(_offline_builtin, env)
            return
        async with env.connect() as connection:
            await connection.run_sync(_online_builtin, env)


def _offline_builtin(env: EnvironmentContext) -> None:
    with env.bound():
        from amigrate.aio.engines import url_from_config

        env.configure(url=url_from_config(env.config), literal_binds=True)
        with env.begin_transaction():
            env.run_migrations()


def _online_builtin(connection: Connection, env: EnvironmentContext) -> Any:
    with env.bound():
        env.configure(connection=connection)
        with env.begin_transaction():
            env.run_migrations()
