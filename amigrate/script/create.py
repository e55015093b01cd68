"""New revision files for `revision` and `merge`: where they go, what they say, and the checks.

Everything that can be refused is checked before the file is rendered and written: the
parents, the id, the branch labels, the dependencies, the version location and the hooks.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amigrate.errors import ConfigError, DuplicateRevisionError, RevisionError
from amigrate.script.directory import RevisionInfo, ScriptDirectory, describe
from amigrate.script.revision import RESERVED_NAMES, RevisionMap

if TYPE_CHECKING:
    from collections.abc import Sequence

    from amigrate.config import Config

_REV_ID = re.compile(r"^[A-Za-z0-9_.]{1,32}$")
_LABEL = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.\-]*$")


def new_revision(
    config: Config,
    script: ScriptDirectory,
    graph: RevisionMap,
    message: str | None,
    *,
    head: str = "head",
    splice: bool = False,
    branch_label: str | Sequence[str] | None = None,
    depends_on: str | Sequence[str] | None = None,
    rev_id: str | None = None,
    version_path: str | Path | None = None,
    variables: dict[str, Any] | None = None,
) -> RevisionInfo:
    """The new revision ``revision`` writes: on ``head``, with its labels and dependencies,
    in the version location its parent (or ``version_path``) decides."""
    parents = parents_for(graph, head, splice=splice)
    labels = new_branch_labels(graph, branch_label)
    dependencies = tuple(dependency_name(graph, dep) for dep in names(depends_on))
    directory = version_directory(script, parents, version_path, config)
    return write_revision(
        config,
        script,
        graph,
        directory,
        parents,
        message,
        labels,
        dependencies,
        rev_id,
        variables=variables,
    )


def write_revision(
    config: Config,
    script: ScriptDirectory,
    graph: RevisionMap,
    directory: Path,
    parents: tuple[str, ...],
    message: str | None,
    labels: tuple[str, ...],
    dependencies: tuple[str, ...],
    rev_id: str | None,
    *,
    variables: dict[str, Any] | None = None,
) -> RevisionInfo:
    """Render the new revision in memory, then write it if it compiles (never half a file).

    ``variables`` adds template variables (autogenerate's ``upgrades``, ``imports``, ...).
    """
    from amigrate._util import new_rev_id
    from amigrate.script import write
    from amigrate.script.headers import read_revision, read_written_revision
    from amigrate.script.hooks import check_hooks, run_hooks

    hooks = config.post_write_hooks
    check_hooks(hooks)
    rev_id = checked_rev_id(graph, rev_id) if rev_id is not None else new_rev_id()
    when = write.create_date(config.timezone, location=config.location("timezone"))
    name = write.file_name(config.file_template, rev_id, message, when, config.truncate_slug_length)
    spec = write.ScriptSpec(rev_id, parents, message, labels, dependencies, when)
    values = spec.template_variables()
    values["databases"] = config.databases
    values.update(variables or {})
    text = write.render_template(script.template, values)
    path = write.write_script(directory / name, text)
    run_hooks(hooks, path)
    # a hook may have rewritten the file: then it is read again, whole
    written = read_revision(path) if hooks else read_written_revision(path, text)
    updated = RevisionMap([*graph.revisions.values(), written])
    return describe(updated, rev_id)


def parents_for(graph: RevisionMap, head: str, *, splice: bool) -> tuple[str, ...]:
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


def checked_rev_id(graph: RevisionMap, rev_id: str) -> str:
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


def new_branch_labels(graph: RevisionMap, labels: str | Sequence[str] | None) -> tuple[str, ...]:
    chosen = names(labels)
    for label in chosen:
        if not _LABEL.match(label) or label in RESERVED_NAMES:
            raise RevisionError(f"{label!r} cannot be a branch label")
        owner = next((r for r in graph.revisions.values() if label in r.branch_labels), None)
        if owner is not None or label in graph:
            where = owner.path if owner else graph.get(label).path
            raise DuplicateRevisionError(f"branch label {label!r} is already used", location=where)
    return chosen


def dependency_name(graph: RevisionMap, target: str) -> str:
    """A dependency as written in the new file: labels stay labels, prefixes become ids."""
    resolved = graph.resolve_one(target)
    if resolved is None:
        raise RevisionError("a revision cannot depend on base")
    declared = any(target in r.branch_labels for r in graph.revisions.values())
    return target if declared else resolved


def version_directory(
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


def names(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """Split 'a,b' and ['a', 'b,c'] alike into ('a', 'b', 'c')."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else list(value)
    names: list[str] = []
    for item in items:
        names.extend(part.strip() for part in item.split(",") if part.strip())
    return tuple(dict.fromkeys(names))
