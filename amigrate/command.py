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

    from amigrate.config import Config
    from amigrate.runtime.migration import MigrationContext
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
    if autogenerate or config.revision_environment:
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
            compare=autogenerate,
        )
    script = ScriptDirectory.from_config(config)
    return create.new_revision(
        config,
        script,
        script.revisions,
        message,
        head=head,
        splice=splice,
        branch_label=branch_label,
        depends_on=depends_on,
        rev_id=rev_id,
        version_path=version_path,
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

    if runs_all_databases(config, connection) and not sql:
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
    for each in targets:
        graph.check_target(each)
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

    if runs_all_databases(config, connection):
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
    tips = graph.applied_tips(rows)
    if check_heads and set(tips) != set(graph.heads):
        raise DatabaseNotAtHeadError(
            f"the database is at {', '.join(tips) or 'base'}, "
            f"not at the head revision(s) {', '.join(graph.heads)}",
            hint="run 'amigrate upgrade heads'",
        )
    if not rows:
        logging.getLogger("amigrate.command").info("the database has no version rows (base)")
    return [describe(graph, rev) for rev in tips]


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

    if runs_all_databases(config, source) and not sql:
        each = steps_work(planner, revision)
        locking = {"lock": lock, "lock_timeout": lock_timeout}
        results = await run_many(config, each, None, None, False, None, check=[revision], **locking)
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
    graph.check_target(target)
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

    if runs_all_databases(config, source):  # --sql: one database after the other
        await _each_database_sql(config, output, run)
    else:
        await run(None, output)
    return [step for steps in planned.values() for step in steps]


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


from amigrate.many_commands import (  # noqa: E402  (re-exported: command.upgrade_many, ...)
    current_many,
    downgrade_many,
    run_many,
    runs_all_databases,
    stamp_many,
    steps_work,
    upgrade_many,
)

__all__ = [
    "branches",
    "check",
    "current",
    "current_many",
    "downgrade",
    "downgrade_many",
    "edit",
    "ensure_version",
    "heads",
    "history",
    "init",
    "list_templates",
    "merge",
    "revision",
    "show",
    "stamp",
    "stamp_many",
    "upgrade",
    "upgrade_many",
]
