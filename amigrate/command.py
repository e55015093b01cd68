"""The commands, as coroutines: what the CLI runs and what applications await.

Commands return data (``RevisionInfo`` and friends) and never print; the CLI renders them.
The commands that need no database do all their work without awaiting, so the CLI can run
them without starting an event loop.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from amigrate.errors import (
    ConfigError,
    DatabaseNotAtHeadError,
    RevisionError,
    ScriptError,
)
from amigrate.script import create
from amigrate.script.directory import BranchInfo, RevisionInfo, ScriptDirectory, describe

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence
    from typing import Any, TextIO

    from amigrate.aio.fanout import Progress, Target, TargetResult
    from amigrate.config import Config
    from amigrate.runtime.migration import MigrationContext, Work
    from amigrate.runtime.steps import MigrationStep, StampPlan
    from amigrate.script.revision import RevisionMap
    from amigrate.script.templates import TemplateInfo


async def list_templates() -> list[TemplateInfo]:
    """List the environment templates that init can use."""
    from amigrate.script import templates

    return templates.list_templates()


async def init(
    directory: str | Path, template: str = "generic", *, config_file: str | Path | None = None
) -> list[Path]:
    """Create a migration environment in DIRECTORY, and the config file pointing at it."""
    from amigrate.script import templates

    chosen = templates.template_named(template)
    return templates.lay_out(chosen, Path(directory), Path(config_file or "amigrate.ini"))


async def heads(config: Config, *, resolve_dependencies: bool = False) -> list[RevisionInfo]:
    """Show the head revisions."""
    graph = ScriptDirectory.from_config(config).revisions
    ids = graph.real_heads if resolve_dependencies else graph.heads
    return [describe(graph, rev) for rev in ids]


async def branches(config: Config) -> list[BranchInfo]:
    """Show the branch points and the revisions they branch into."""
    graph = ScriptDirectory.from_config(config).revisions
    return [
        BranchInfo(describe(graph, rev), tuple(describe(graph, c) for c in graph.children(rev)))
        for rev in (r.revision for r in graph.walk())
        if graph.is_branch_point(rev)
    ]


async def history(
    config: Config,
    rev_range: str | None = None,
    *,
    indicate_current: bool = False,
    connection: Any = None,
) -> list[RevisionInfo]:
    """List revisions, newest first (all, or a START:END range)."""
    script = ScriptDirectory.from_config(config)
    graph = script.revisions
    start, _, end = (rev_range or "").partition(":")
    uses_current = "current" in (start, end)
    needs_database = indicate_current or uses_current
    rows = await _current_rows(config, script, connection) if needs_database else ()
    if rev_range is None:
        walked = graph.walk()
    else:
        lower, upper = _history_bounds(graph, rev_range, rows if uses_current else None)
        if upper == ():
            return []
        walked = graph.walk(upper=upper, lower=lower or None)
    marked = set(rows) if indicate_current else set()
    return [describe(graph, r.revision, current=r.revision in marked) for r in walked]


async def edit(config: Config, rev: str = "current", *, connection: Any = None) -> list[Path]:
    """Open the file of revision REV (default: the database's current one) in $EDITOR."""
    import os
    import shlex
    import subprocess

    script = ScriptDirectory.from_config(config)
    graph = script.revisions
    ids = (
        await _current_rows(config, script, connection) if rev == "current" else graph.resolve(rev)
    )
    if not ids:
        raise RevisionError(f"{rev!r} names no revision file", hint="the database is at base")
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not editor:
        raise ConfigError("no editor to open the file with", hint="set EDITOR (or VISUAL)")
    import anyio.to_thread

    paths = [Path(graph.get(rev_id).path or "") for rev_id in ids]
    argv = [*shlex.split(editor), *map(str, paths)]
    done = await anyio.to_thread.run_sync(lambda: subprocess.run(argv, check=False))
    if done.returncode != 0:
        raise ScriptError(f"editor {editor!r} exited with {done.returncode}")
    return paths


def _history_bounds(
    graph: RevisionMap, rev_range: str, rows: tuple[str, ...] | None
) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """START:END as (lower, upper); with the database's rows, 'current' and +N/-N use them."""
    if rows is None or ":" not in rev_range:
        return graph.resolve_range(rev_range)
    start, _, end = rev_range.partition(":")

    def side(text: str) -> tuple[str, ...] | None:
        if not text:
            return None
        return rows if text == "current" else graph.resolve(text, current=rows)

    return side(start), side(end)


async def _current_rows(config: Config, script: ScriptDirectory, source: Any) -> tuple[str, ...]:
    from amigrate.aio.run import run_command

    rows: list[str] = []

    def work(heads: tuple[str, ...], context: MigrationContext) -> list[MigrationStep]:
        rows.extend(heads)
        return []

    await run_command(config, script, work, source=source)
    return tuple(rows)


async def show(config: Config, rev: str) -> list[RevisionInfo]:
    """Show the revision(s) REV names, in full."""
    graph = ScriptDirectory.from_config(config).revisions
    ids = graph.resolve(rev)
    if not ids:
        raise RevisionError(
            f"{rev!r} names no revision to show", hint="base is below every revision"
        )
    return [describe(graph, r) for r in ids]


async def revision(
    config: Config,
    message: str | None = None,
    *,
    head: str = "head",
    splice: bool = False,
    branch_label: str | Sequence[str] | None = None,
    depends_on: str | Sequence[str] | None = None,
    rev_id: str | None = None,
    version_path: str | Path | None = None,
    autogenerate: bool = False,
    connection: Any = None,
) -> RevisionInfo | None:
    """Create a new revision file (on top of the single head unless told otherwise).

    With ``autogenerate``, the file holds the operations that bring the database to the
    models (env.py's ``target_metadata``), for review. It returns None only when a
    ``process_revision_directives`` hook removed the revision.
    """
    if autogenerate:
        from amigrate import autogen_commands

        return await autogen_commands.revision(
            config,
            message,
            head=head,
            splice=splice,
            branch_label=branch_label,
            depends_on=depends_on,
            rev_id=rev_id,
            version_path=version_path,
            connection=connection,
        )
    script = ScriptDirectory.from_config(config)
    graph = script.revisions
    parents = create.parents_for(graph, head, splice=splice)
    labels = create.new_branch_labels(graph, branch_label)
    dependencies = tuple(create.dependency_name(graph, dep) for dep in create.names(depends_on))
    directory = create.version_directory(script, parents, version_path, config)
    return create.write_revision(
        config, script, graph, directory, parents, message, labels, dependencies, rev_id
    )


async def check(config: Config, *, connection: Any = None) -> list[str]:
    """Fail (exit 1) with the list of differences when the database and the models disagree.

    In code it returns [] when they agree, and raises AutogenerateDiffsDetected otherwise;
    the error's ``diffs`` lists the differences, one line each (what ``revision
    --autogenerate`` would write). The database must be at the head revision(s).
    """
    from amigrate import autogen_commands

    return await autogen_commands.check(config, connection=connection)


async def merge(
    config: Config,
    revisions: str | Sequence[str],
    message: str | None = None,
    *,
    branch_label: str | Sequence[str] | None = None,
    rev_id: str | None = None,
) -> RevisionInfo:
    """Create a revision that merges two or more revisions (or all heads) into one."""
    script = ScriptDirectory.from_config(config)
    graph = script.revisions
    parents: list[str] = []
    for target in create.names(revisions):
        parents.extend(r for r in graph.resolve(target) if r not in parents)
    if len(parents) < 2:
        found = ", ".join(parents) or "none"
        raise RevisionError(
            f"a merge needs at least two revisions; "
            f"{', '.join(create.names(revisions))!r} names {found}",
            hint="name two or more heads, or use 'heads'",
        )
    for rev in parents:
        above = graph.descendants([rev]) & set(parents) - {rev}
        if above:
            raise RevisionError(
                f"cannot merge {rev!r} with its descendant {sorted(above)[0]!r}",
                hint="merge revisions on different branches",
            )
    labels = create.new_branch_labels(graph, branch_label)
    directory = script.location_of(parents[0])
    return create.write_revision(
        config, script, graph, directory, tuple(parents), message, labels, (), rev_id
    )


async def upgrade(
    config: Config,
    revision: str = "heads",
    *,
    sql: bool = False,
    tag: str | None = None,
    connection: Any = None,
    output_buffer: TextIO | None = None,
    lock: bool = True,
    lock_timeout: float | None = None,
) -> list[MigrationStep]:
    """Upgrade the database to REVISION (default: all heads).

    Safe to await from every replica at once: the migration lock (``lock=False`` skips it;
    ``lock_timeout`` in seconds) makes each revision run exactly once.
    """
    from amigrate.runtime.steps import plan_upgrade

    return await _migrate(
        config,
        revision,
        plan_upgrade,
        sql=sql,
        tag=tag,
        source=connection,
        output=output_buffer,
        lock=lock,
        lock_timeout=lock_timeout,
    )


async def downgrade(
    config: Config,
    revision: str,
    *,
    sql: bool = False,
    tag: str | None = None,
    connection: Any = None,
    output_buffer: TextIO | None = None,
    lock: bool = True,
    lock_timeout: float | None = None,
) -> list[MigrationStep]:
    """Downgrade the database to REVISION (an id, -N, or base)."""
    from amigrate.runtime.steps import plan_downgrade

    if sql and ":" not in revision:
        raise RevisionError(
            "downgrade --sql needs a range START:END, e.g. 'head:base'",
            hint="offline mode cannot read the database's current revision",
        )
    return await _migrate(
        config,
        revision,
        plan_downgrade,
        sql=sql,
        tag=tag,
        source=connection,
        output=output_buffer,
        lock=lock,
        lock_timeout=lock_timeout,
    )


async def stamp(
    config: Config,
    revision: str | Sequence[str],
    *,
    sql: bool = False,
    tag: str | None = None,
    purge: bool = False,
    connection: Any = None,
    output_buffer: TextIO | None = None,
    lock: bool = True,
    lock_timeout: float | None = None,
) -> tuple[str, ...]:
    """Set the version table to REVISION without running any migration."""
    from amigrate.aio.run import run_command
    from amigrate.runtime.steps import plan_stamp

    if _runs_all_databases(config, connection) and not sql:
        results = await stamp_many(
            config, revision, purge=purge, lock=lock, lock_timeout=lock_timeout
        )
        return results[0].after
    script = ScriptDirectory.from_config(config)
    graph = script.revisions
    targets = list(create.names(revision))
    starting: tuple[str, ...] = ()
    if sql and len(targets) == 1 and ":" in targets[0]:
        start, _, end = targets[0].partition(":")
        starting, targets = graph.resolve(start or "base"), [end]
    result: list[tuple[str, ...]] = []

    def work(heads: tuple[str, ...], context: MigrationContext) -> StampPlan:
        plan = plan_stamp(graph, heads, targets, purge=purge)
        result.append(plan.heads_after)
        return plan

    async def run(database: str | None, output: TextIO | None) -> None:
        await run_command(
            config,
            script,
            work,
            as_sql=sql,
            starting_heads=starting,
            tag=tag,
            output_buffer=output,
            source=connection,
            database=database,
            lock=lock,
            lock_timeout=lock_timeout,
        )

    if _runs_all_databases(config, connection):
        await _each_database_sql(config, output_buffer, run)
    else:
        await run(None, output_buffer)
    return result[-1] if result else ()  # online, the last plan is the one made under the lock


async def current(
    config: Config, *, check_heads: bool = False, connection: Any = None
) -> list[RevisionInfo]:
    """Show the revision(s) the database is at."""
    from amigrate.runtime.steps import current_heads_valid

    if config.databases and connection is None:
        raise ConfigError(
            f"this config lists several databases ({', '.join(config.databases)})",
            location=config.location("databases"),
            hint="use command.current_many() for them, or pass connection=",
        )
    script = ScriptDirectory.from_config(config)
    graph = script.revisions
    rows = await _current_rows(config, script, connection)
    current_heads_valid(graph, rows)
    tips = _applied_tips(graph, rows)
    if check_heads and set(tips) != set(graph.heads):
        raise DatabaseNotAtHeadError(
            f"the database is at {', '.join(tips) or 'base'}, "
            f"not at the head revision(s) {', '.join(graph.heads)}",
            hint="run 'amigrate upgrade heads'",
        )
    if not rows:
        logging.getLogger("amigrate.command").info("the database has no version rows (base)")
    return [describe(graph, rev) for rev in tips]


def _applied_tips(graph: RevisionMap, rows: Sequence[str]) -> tuple[str, ...]:
    """The version rows plus the tips of branches applied only as a dependency.

    With c3 depending on x1 of another branch, the table holds just 'c3', yet x1 is where
    that branch stands: it is current too (as Alembic's `current` shows it).
    """
    applied = graph.ancestors(rows)
    tips = [rev for rev in applied if not any(c in applied for c in graph.children(rev))]
    return graph.ordered(tips)


async def ensure_version(config: Config, *, sql: bool = False, connection: Any = None) -> None:
    """Create the version table if it does not exist yet."""
    from amigrate.aio.run import run_command

    script = ScriptDirectory.from_config(config)

    def work(heads: tuple[str, ...], context: MigrationContext) -> list[MigrationStep]:
        if context.connection is None or not context.versions.exists(context.connection):
            context.versions.create()
        return []

    await run_command(config, script, work, as_sql=sql, source=connection)


async def _migrate(
    config: Config,
    revision: str,
    planner: Any,
    *,
    sql: bool,
    tag: str | None,
    source: Any,
    output: TextIO | None,
    lock: bool = True,
    lock_timeout: float | None = None,
) -> list[MigrationStep]:
    from amigrate.aio.run import run_command

    if _runs_all_databases(config, source) and not sql:
        each = _steps_work(planner, revision)
        locking = {"lock": lock, "lock_timeout": lock_timeout}
        results = await _many(config, each, None, None, False, None, **locking)
        return [step for result in results for step in result.steps]
    script = ScriptDirectory.from_config(config)
    graph = script.revisions
    starting: tuple[str, ...] = ()
    target = revision
    if sql and ":" in revision:
        start, _, target = revision.partition(":")
        starting = graph.resolve(start or "base")
    elif ":" in revision:
        raise RevisionError(
            f"a range like {revision!r} only works with --sql", hint="name one target revision"
        )
    planned: dict[MigrationContext, list[MigrationStep]] = {}  # the last plan per database

    def work(heads: tuple[str, ...], context: MigrationContext) -> list[MigrationStep]:
        steps = list(planner(graph, heads, target))
        planned[context] = [*context.steps_run, *steps]  # planned again under the lock, maybe
        return steps

    async def run(database: str | None, output_buffer: TextIO | None) -> None:
        await run_command(
            config,
            script,
            work,
            as_sql=sql,
            starting_heads=starting,
            destination=target,
            tag=tag,
            output_buffer=output_buffer,
            source=source,
            database=database,
            lock=lock,
            lock_timeout=lock_timeout,
        )

    if _runs_all_databases(config, source):  # --sql: one database after the other
        await _each_database_sql(config, output, run)
    else:
        await run(None, output)
    return [step for steps in planned.values() for step in steps]


def _runs_all_databases(config: Config, source: Any) -> bool:
    """A multidb config, and no connection of the application's: every database runs."""
    given = source or config.attributes.get("connection") or config.attributes.get("engine")
    return bool(config.databases) and given is None


async def _each_database_sql(
    config: Config,
    output: TextIO | None,
    run: Callable[[str | None, TextIO | None], Awaitable[None]],
) -> None:
    """Offline SQL for each database of a multidb config in turn, each under a header."""
    import sys

    from amigrate.aio.fanout import database_targets

    for target in database_targets(config, config.attributes.get("databases")):
        name = target.database
        stream = output or sys.stdout
        stream.write(f"-- database: {name}\n\n")
        await run(name, stream)
        stream.write("\n")


# -- many databases at once -------------------------------------------------------------------


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

    work = _steps_work(plan_upgrade, revision)
    locking = {"lock": lock, "lock_timeout": lock_timeout}
    return await _many(config, work, targets, jobs, fail_fast, on_progress, **locking)


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

    work = _steps_work(plan_downgrade, revision)
    locking = {"lock": lock, "lock_timeout": lock_timeout}
    return await _many(config, work, targets, jobs, fail_fast, on_progress, **locking)


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
    return await _many(config, make, targets, jobs, fail_fast, on_progress, **locking)


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
            result.before = result.after = _applied_tips(graph, heads)
            if check_heads and set(result.after) != set(graph.heads):
                raise DatabaseNotAtHeadError(
                    f"at {', '.join(result.after) or 'base'}, not at {', '.join(graph.heads)}"
                )
            return []

        return work

    return await _many(config, make, targets, jobs, False, on_progress)


def _steps_work(planner: Any, revision: str) -> Callable[[RevisionMap, TargetResult], Work]:
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


async def _many(
    config: Config,
    make_work: Callable[[RevisionMap, TargetResult], Work],
    targets: Sequence[Target] | None,
    jobs: int | None,
    fail_fast: bool,
    on_progress: Callable[[Progress], None] | None,
    **locking: Any,
) -> list[TargetResult]:
    """Parse the graph once, then run a work function per target through ``fan_out``.

    ``locking`` is ``lock`` / ``lock_timeout``, as ``upgrade`` takes them (none: read only).
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
    script = ScriptDirectory.from_config(config)
    graph = script.revisions
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
