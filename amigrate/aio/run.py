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
) -> EnvironmentContext:
    """Run ``work`` (the command's plan) through env.py on the configured database.

    ``source`` is the application's own AsyncEngine / AsyncConnection / Engine / Connection;
    without it, ``config.attributes["connection"]`` or ``sqlalchemy.url`` is used.
    """
    if source is None:
        source = config.attributes.get("connection") or config.attributes.get("engine")
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
        step_guard=StepGuard(),
    )
    await run_environment(env)
    return env
