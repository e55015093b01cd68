"""One command on one database: build its EnvironmentContext and run env.py for it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from amigrate.aio.bridge import Connector, StepGuard
from amigrate.aio.envscript import run_environment
from amigrate.runtime.environment import EnvironmentContext

if TYPE_CHECKING:
    from typing import TextIO

    from amigrate.config import Config
    from amigrate.runtime.migration import Work
    from amigrate.script.directory import ScriptDirectory


async def run_command(
    config: Config,
    script: ScriptDirectory,
    work: Work,
    *,
    as_sql: bool = False,
    starting_heads: tuple[str, ...] = (),
    destination: str | None = None,
    tag: str | None = None,
    output_buffer: TextIO | None = None,
    source: Any = None,
    database: str | None = None,
    schema: str | None = None,
    script_modules: dict[str, Any] | None = None,
    lock: bool = True,
    lock_timeout: float | None = None,
) -> EnvironmentContext:
    """Run ``work`` (the command's plan) through env.py on the configured database.

    ``source`` is the application's own AsyncEngine / AsyncConnection / Engine / Connection;
    without it, ``config.attributes["connection"]`` or ``sqlalchemy.url`` is used.
    ``database`` names a multidb section (its URL, its ``upgrade_<name>()`` functions);
    ``schema`` a tenant schema (its own version table); ``script_modules`` a cache of
    loaded revision files that many runs of one fan-out share.
    ``lock`` takes the migration lock once the plan has work to do (never offline);
    ``lock_timeout`` (seconds) defaults to the config's ``lock_timeout``.
    """
    if source is None:
        source = config.attributes.get("connection") or config.attributes.get("engine")
    guard = StepGuard()
    migration_lock = None
    if lock and not as_sql:
        from amigrate.aio.locking import MigrationLock

        timeout = lock_timeout if lock_timeout is not None else config.lock_timeout
        migration_lock = MigrationLock(timeout, guard)
    env = EnvironmentContext(
        config,
        script,
        work,
        as_sql=as_sql,
        starting_heads=starting_heads,
        destination=destination,
        tag=tag,
        output_buffer=output_buffer,
        connector=lambda env: Connector(env, source),
        step_guard=guard,
        migration_lock=migration_lock,
        database=database,
        schema=schema,
    )
    if script_modules is not None:
        env.share_script_modules(script_modules)
    await run_environment(env)
    return env
