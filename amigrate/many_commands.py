"""The many-database commands: one revision graph, a work function per database, a fan-out.

``upgrade_many`` and friends run one command over the databases of a multidb config or over
tenant targets, concurrently (``aio/fanout.py``); ``command.upgrade`` and the others use
``run_many`` when a multidb config names several databases. They are re-exported by
``amigrate.command``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from amigrate import _gc
from amigrate.errors import ConfigError, DatabaseNotAtHeadError, RevisionError
from amigrate.script import create
from amigrate.script.directory import ScriptDirectory

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from amigrate.aio.fanout import Progress, Target, TargetResult
    from amigrate.config import Config
    from amigrate.runtime.migration import MigrationContext, Work
    from amigrate.runtime.steps import MigrationStep, StampPlan
    from amigrate.script.revision import RevisionMap


def runs_all_databases(config: Config, source: Any) -> bool:
    """A multidb config, and no connection of the application's: every database runs."""
    given = source or config.attributes.get("connection") or config.attributes.get("engine")
    return bool(config.databases) and given is None


async def upgrade_many(
    config: Config,
    revision: str = "heads",
    *,
    targets: Sequence[Target] | None = None,
    jobs: int | None = None,
    fail_fast: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
    lock: bool = True,
    lock_timeout: float | None = None,
) -> list[TargetResult]:
    """Upgrade many databases to REVISION concurrently; a result per database.

    ``targets`` default to the ``databases`` of a multidb config; pass ``Target(url=...)``
    and ``Target(schema=...)`` objects for tenants. Any failure raises ``MultiDatabaseError``
    once every other database has finished (``results`` holds them all).
    """
    from amigrate.runtime.steps import plan_upgrade

    work = steps_work(plan_upgrade, revision)
    locking = {"lock": lock, "lock_timeout": lock_timeout}
    return await run_many(
        config, work, targets, jobs, fail_fast, on_progress, check=[revision], **locking
    )


async def downgrade_many(
    config: Config,
    revision: str,
    *,
    targets: Sequence[Target] | None = None,
    jobs: int | None = None,
    fail_fast: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
    lock: bool = True,
    lock_timeout: float | None = None,
) -> list[TargetResult]:
    """Downgrade many databases to REVISION concurrently; a result per database."""
    from amigrate.runtime.steps import plan_downgrade

    work = steps_work(plan_downgrade, revision)
    locking = {"lock": lock, "lock_timeout": lock_timeout}
    return await run_many(
        config, work, targets, jobs, fail_fast, on_progress, check=[revision], **locking
    )


async def stamp_many(
    config: Config,
    revision: str | Sequence[str],
    *,
    purge: bool = False,
    targets: Sequence[Target] | None = None,
    jobs: int | None = None,
    fail_fast: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
    lock: bool = True,
    lock_timeout: float | None = None,
) -> list[TargetResult]:
    """Set the version table of many databases to REVISION; a result per database."""
    from amigrate.runtime.steps import plan_stamp

    wanted = list(create.names(revision))

    def make(graph: RevisionMap, result: TargetResult) -> Work:
        def work(heads: tuple[str, ...], context: MigrationContext) -> StampPlan:
            plan = plan_stamp(graph, heads, wanted, purge=purge)
            result.before, result.after = heads, plan.heads_after
            return plan

        return work

    locking = {"lock": lock, "lock_timeout": lock_timeout}
    return await run_many(
        config, make, targets, jobs, fail_fast, on_progress, check=wanted, **locking
    )


async def current_many(
    config: Config,
    *,
    check_heads: bool = False,
    targets: Sequence[Target] | None = None,
    jobs: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> list[TargetResult]:
    """The revision(s) each database is at (``after``); ``check_heads``: behind fails."""
    from amigrate.runtime.steps import current_heads_valid

    def make(graph: RevisionMap, result: TargetResult) -> Work:
        def work(heads: tuple[str, ...], context: MigrationContext) -> list[MigrationStep]:
            current_heads_valid(graph, heads)
            result.before = result.after = graph.applied_tips(heads)
            if check_heads and set(result.after) != set(graph.heads):
                raise DatabaseNotAtHeadError(
                    f"at {', '.join(result.after) or 'base'}, not at {', '.join(graph.heads)}"
                )
            return []

        return work

    return await run_many(config, make, targets, jobs, False, on_progress)


def steps_work(planner: Any, revision: str) -> Callable[[RevisionMap, TargetResult], Work]:
    if ":" in revision:
        raise RevisionError(
            f"a range like {revision!r} only works with --sql", hint="name one target revision"
        )

    def make(graph: RevisionMap, result: TargetResult) -> Work:
        def work(heads: tuple[str, ...], context: MigrationContext) -> list[MigrationStep]:
            steps = list(planner(graph, heads, revision))
            if not context.steps_run:  # planned again under the lock: that read is the truth
                result.before = heads
            result.steps = [*context.steps_run, *steps]
            result.after = steps[-1].heads_after if steps else heads
            return steps

        return work

    return make


_MANY_TARGETS = 8
"""Above this many targets the program's garbage collector is turned on (``amigrate._gc``)."""


async def run_many(
    config: Config,
    make_work: Callable[[RevisionMap, TargetResult], Work],
    targets: Sequence[Target] | None,
    jobs: int | None,
    fail_fast: bool,
    on_progress: Callable[[Progress], None] | None,
    *,
    check: Sequence[str] = (),
    **locking: Any,
) -> list[TargetResult]:
    """Parse the graph once, then run a work function per target through ``fan_out``.

    ``check``: the command's targets, refused before any database is touched if they
    cannot name a revision. ``locking`` is ``lock`` / ``lock_timeout``, as ``upgrade``
    takes them (none: read only).
    """
    from amigrate.aio.engines import ServerEngines
    from amigrate.aio.fanout import database_targets, fan_out, target_source
    from amigrate.aio.run import run_command
    from amigrate.errors import MigrationFailedError, MultiDatabaseError

    if targets is None:  # a multidb config's databases (config.attributes["databases"]: some)
        targets = database_targets(config, config.attributes.get("databases"))
        if not targets:
            raise ConfigError(
                "no databases to migrate",
                hint="list them with 'databases = ...' in the config, or pass targets",
            )
    chosen = list(targets)  # may be empty: an empty --shard slice has nothing to do
    if len(chosen) > _MANY_TARGETS:
        _gc.resume()  # each target leaves cyclic garbage (connections, tasks): collect it
    script = ScriptDirectory.from_config(config)
    graph = script.revisions
    for each in check:
        graph.check_target(each)
    modules: dict[str, Any] = {}
    engines = ServerEngines()  # the tenants of one server share an engine

    async def run_one(target: Target, result: TargetResult) -> None:
        try:
            async with target_source(config, target, engines) as source:
                await run_command(
                    config,
                    script,
                    make_work(graph, result),
                    source=source,
                    database=target.database,
                    schema=target.schema,
                    script_modules=modules,
                    **locking,
                )
        except MigrationFailedError as error:
            _stopped_at(result, error.revision)
            raise

    try:
        results = await fan_out(
            chosen, run_one, jobs=jobs, fail_fast=fail_fast, on_progress=on_progress
        )
    finally:
        await engines.dispose()
    failures = {r.target.name: r.error for r in results if r.error is not None}
    if failures:
        raise MultiDatabaseError(failures, results)
    return results


def _stopped_at(result: TargetResult, failed_revision: str | None) -> None:
    """Trim ``result`` to the steps that committed before ``failed_revision`` failed."""
    for number, step in enumerate(result.steps):
        if step.revision.revision == failed_revision:
            result.steps = result.steps[:number]
            result.after = step.heads_before
            return
