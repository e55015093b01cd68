"""The commands, as coroutines: what the CLI runs and what applications await.

Commands return data (``RevisionInfo`` and friends) and never print; the CLI renders them.
The commands that need no database do all their work without awaiting, so the CLI can run
them without starting an event loop.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

from amigrate.errors import (
    ConfigError,
    DatabaseNotAtHeadError,
    DuplicateRevisionError,
    RevisionError,
    ScriptError,
)
from amigrate.script.directory import BranchInfo, RevisionInfo, ScriptDirectory, describe
from amigrate.script.revision import RESERVED_NAMES

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, TextIO

    from amigrate.config import Config
    from amigrate.runtime.migration import MigrationContext
    from amigrate.runtime.steps import MigrationStep, StampPlan
    from amigrate.script.revision import RevisionMap
    from amigrate.script.templates import TemplateInfo

_REV_ID = re.compile(r"^[A-Za-z0-9_.]{1,32}$")
_LABEL = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.\-]*$")


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
) -> RevisionInfo:
    """Create a new revision file (on top of the single head unless told otherwise)."""
    script = ScriptDirectory.from_config(config)
    graph = script.revisions
    parents = _parents_for(graph, head, splice=splice)
    labels = _new_branch_labels(graph, branch_label)
    dependencies = tuple(_dependency_name(graph, dep) for dep in _names(depends_on))
    directory = _version_directory(script, parents, version_path, config)
    return _write_revision(
        config, script, graph, directory, parents, message, labels, dependencies, rev_id
    )


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
    for target in _names(revisions):
        parents.extend(r for r in graph.resolve(target) if r not in parents)
    if len(parents) < 2:
        found = ", ".join(parents) or "none"
        raise RevisionError(
            f"a merge needs at least two revisions; {', '.join(_names(revisions))!r} names {found}",
            hint="name two or more heads, or use 'heads'",
        )
    for rev in parents:
        above = graph.descendants([rev]) & set(parents) - {rev}
        if above:
            raise RevisionError(
                f"cannot merge {rev!r} with its descendant {sorted(above)[0]!r}",
                hint="merge revisions on different branches",
            )
    labels = _new_branch_labels(graph, branch_label)
    directory = script.location_of(parents[0])
    return _write_revision(
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
) -> list[MigrationStep]:
    """Upgrade the database to REVISION (default: all heads)."""
    from amigrate.runtime.steps import plan_upgrade

    return await _migrate(
        config, revision, plan_upgrade, sql=sql, tag=tag, source=connection, output=output_buffer
    )


async def downgrade(
    config: Config,
    revision: str,
    *,
    sql: bool = False,
    tag: str | None = None,
    connection: Any = None,
    output_buffer: TextIO | None = None,
) -> list[MigrationStep]:
    """Downgrade the database to REVISION (an id, -N, or base)."""
    from amigrate.runtime.steps import plan_downgrade

    if sql and ":" not in revision:
        raise RevisionError(
            "downgrade --sql needs a range START:END, e.g. 'head:base'",
            hint="offline mode cannot read the database's current revision",
        )
    return await _migrate(
        config, revision, plan_downgrade, sql=sql, tag=tag, source=connection, output=output_buffer
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
) -> tuple[str, ...]:
    """Set the version table to REVISION without running any migration."""
    from amigrate.aio.run import run_command
    from amigrate.runtime.steps import plan_stamp

    script = ScriptDirectory.from_config(config)
    graph = script.revisions
    targets = list(_names(revision))
    starting: tuple[str, ...] = ()
    if sql and len(targets) == 1 and ":" in targets[0]:
        start, _, end = targets[0].partition(":")
        starting, targets = graph.resolve(start or "base"), [end]
    result: list[tuple[str, ...]] = []

    def work(heads: tuple[str, ...], context: MigrationContext) -> StampPlan:
        plan = plan_stamp(graph, heads, targets, purge=purge)
        result.append(plan.heads_after)
        return plan

    await run_command(
        config,
        script,
        work,
        as_sql=sql,
        starting_heads=starting,
        tag=tag,
        output_buffer=output_buffer,
        source=connection,
    )
    return result[0] if result else ()


async def current(
    config: Config, *, check_heads: bool = False, connection: Any = None
) -> list[RevisionInfo]:
    """Show the revision(s) the database is at."""
    from amigrate.runtime.steps import current_heads_valid

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
) -> list[MigrationStep]:
    from amigrate.aio.run import run_command

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
    planned: list[MigrationStep] = []

    def work(heads: tuple[str, ...], context: MigrationContext) -> list[MigrationStep]:
        steps = list(planner(graph, heads, target))
        planned.extend(steps)
        return steps

    await run_command(
        config,
        script,
        work,
        as_sql=sql,
        starting_heads=starting,
        destination=target,
        tag=tag,
        output_buffer=output,
        source=source,
    )
    return planned


def _write_revision(
    config: Config,
    script: ScriptDirectory,
    graph: RevisionMap,
    directory: Path,
    parents: tuple[str, ...],
    message: str | None,
    labels: tuple[str, ...],
    dependencies: tuple[str, ...],
    rev_id: str | None,
) -> RevisionInfo:
    from amigrate._util import new_rev_id
    from amigrate.script import write
    from amigrate.script.headers import read_revision
    from amigrate.script.hooks import check_hooks, run_hooks
    from amigrate.script.revision import RevisionMap

    hooks = config.post_write_hooks
    check_hooks(hooks)
    rev_id = _checked_rev_id(graph, rev_id) if rev_id is not None else new_rev_id()
    when = write.create_date(config.timezone, location=config.location("timezone"))
    name = write.file_name(config.file_template, rev_id, message, when, config.truncate_slug_length)
    spec = write.ScriptSpec(rev_id, parents, message, labels, dependencies, when)
    variables = spec.template_variables()
    variables["databases"] = config.databases
    text = write.render_template(script.template, variables)
    path = write.write_script(directory / name, text)
    run_hooks(hooks, path)
    updated = RevisionMap([*graph.revisions.values(), read_revision(path)])
    return describe(updated, rev_id)


def _parents_for(graph: RevisionMap, head: str, *, splice: bool) -> tuple[str, ...]:
    if head == "base" or (not len(graph) and head in ("head", "heads")):
        return ()
    parents = graph.resolve(head)
    for rev in parents:
        if not graph.is_head(rev) and not splice:
            raise RevisionError(
                f"revision {rev!r} is not a head",
                hint="pass --splice to start a new branch from it",
            )
    return parents


def _checked_rev_id(graph: RevisionMap, rev_id: str) -> str:
    if rev_id in RESERVED_NAMES or not _REV_ID.match(rev_id):
        raise RevisionError(
            f"{rev_id!r} cannot be a revision id",
            hint="use 1 to 32 letters, digits, '_' or '.', and not head, heads, base or current",
        )
    if rev_id in graph:
        raise DuplicateRevisionError(
            f"revision {rev_id!r} already exists", location=graph.get(rev_id).path
        )
    return rev_id


def _new_branch_labels(graph: RevisionMap, labels: str | Sequence[str] | None) -> tuple[str, ...]:
    names = _names(labels)
    for label in names:
        if not _LABEL.match(label) or label in RESERVED_NAMES:
            raise RevisionError(f"{label!r} cannot be a branch label")
        owner = next((r for r in graph.revisions.values() if label in r.branch_labels), None)
        if owner is not None or label in graph:
            where = owner.path if owner else graph.get(label).path
            raise DuplicateRevisionError(f"branch label {label!r} is already used", location=where)
    return names


def _dependency_name(graph: RevisionMap, target: str) -> str:
    """A dependency as written in the new file: labels stay labels, prefixes become ids."""
    resolved = graph.resolve_one(target)
    if resolved is None:
        raise RevisionError("a revision cannot depend on base")
    declared = any(target in r.branch_labels for r in graph.revisions.values())
    return target if declared else resolved


def _version_directory(
    script: ScriptDirectory,
    parents: tuple[str, ...],
    version_path: str | Path | None,
    config: Config,
) -> Path:
    locations = script.version_locations
    if version_path is not None:
        wanted = Path(version_path).resolve()
        if wanted not in [location.resolve() for location in locations]:
            raise ConfigError(
                f"--version-path '{version_path}' is not one of the version_locations",
                location=config.location("version_locations"),
                hint="choose one of: " + ", ".join(str(loc) for loc in locations),
            )
        return wanted
    if parents:
        return script.location_of(parents[0])
    if len(locations) > 1:
        raise ConfigError(
            "several version_locations are configured; say where the new branch goes",
            location=config.location("version_locations"),
            hint="pass --version-path",
        )
    return locations[0]


def _names(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """Split 'a,b' and ['a', 'b,c'] alike into ('a', 'b', 'c')."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else list(value)
    names: list[str] = []
    for item in items:
        names.extend(part.strip() for part in item.split(",") if part.strip())
    return tuple(dict.fromkeys(names))
