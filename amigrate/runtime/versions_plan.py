"""Which version-table rows each step inserts, updates or deletes. Pure: no SQL here.

The rows are the database's heads: the applied revisions that no other applied revision
builds on, through ``down_revision`` or ``depends_on``. Everything below a row is applied,
so the rows alone say where the database is; keeping them exact after every step is what
lets the next run (or Alembic, which reads the same table) pick up where this one stopped.
``runtime/versions.py`` writes the changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from amigrate._util import fields_repr

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from amigrate.script.revision import RevisionMap


@dataclass(repr=False, frozen=True, slots=True)
class VersionChange:
    """One row change: ``insert`` writes ``new``, ``update`` turns ``old`` into ``new``,
    ``delete`` removes ``old``."""

    __repr__ = fields_repr

    kind: Literal["insert", "update", "delete"]
    old: str | None = None
    new: str | None = None


def apply_changes(rows: Iterable[str], changes: Iterable[VersionChange]) -> tuple[str, ...]:
    """The rows after ``changes``, sorted; a change that does not fit the rows is a bug, so
    it raises ``ValueError`` (offline mode and tests replay plans with this)."""
    result = set(rows)
    for change in changes:
        if change.old is not None:
            if change.old not in result:
                raise ValueError(f"{change.kind} of missing version row {change.old!r}")
            result.remove(change.old)
        if change.new is not None:
            if change.new in result:
                raise ValueError(f"{change.kind} of existing version row {change.new!r}")
            result.add(change.new)
    return tuple(sorted(result))


def _insert(rev_id: str) -> VersionChange:
    return VersionChange("insert", new=rev_id)


def _update(old: str, new: str) -> VersionChange:
    return VersionChange("update", old=old, new=new)


def _delete(rev_id: str) -> VersionChange:
    return VersionChange("delete", old=rev_id)


class VersionRows:
    """The rows of one database while a plan is built, and the applied revisions they imply.

    Built once per plan, so each step costs only its own edges (Alembic recomputes the
    ancestors of every head at each step). Steps must come in plan order: an upgrade after
    everything it builds on, a downgrade after everything that builds on it.
    """

    def __init__(self, graph: RevisionMap, rows: Iterable[str]) -> None:
        self.graph = graph
        self.rows: set[str] = set(rows)
        self.applied: set[str] = graph.ancestors(self.rows)

    def snapshot(self) -> tuple[str, ...]:
        return tuple(sorted(self.rows))

    def upgrade(self, rev_id: str) -> tuple[VersionChange, ...]:
        """Apply ``rev_id``: it takes the place of the rows it builds on, or is a new row.

        Several such rows (a merge, or a dependency that was a row of its own) collapse into
        one: all but the last are deleted and the last is updated, as Alembic does.
        """
        covered = [below for below in self._below(rev_id) if below in self.rows]
        self.applied.add(rev_id)
        self.rows.difference_update(covered)
        self.rows.add(rev_id)
        if not covered:
            return (_insert(rev_id),)
        *gone, last = covered
        return (*map(_delete, gone), _update(last, rev_id))

    def downgrade(self, rev_id: str) -> tuple[VersionChange, ...]:
        """Unapply ``rev_id``: what it built on becomes a row again, unless another applied
        revision still builds on it. Several (an unmerge) are inserted before the update."""
        self.applied.discard(rev_id)
        exposed = [
            below
            for below in self._below(rev_id)
            if below not in self.rows and not self._built_on(below)
        ]
        self.rows.remove(rev_id)  # nothing applied is above it any more, so it is a row
        self.rows.update(exposed)
        if not exposed:
            return (_delete(rev_id),)
        *extra, last = exposed
        return (*map(_insert, extra), _update(rev_id, last))

    def _below(self, rev_id: str) -> tuple[str, ...]:
        """What ``rev_id`` builds on: its down_revisions, then its dependencies."""
        parents = self.graph.parents(rev_id)
        deps = self.graph.dependencies(rev_id)
        if not deps:
            return parents
        return (*parents, *(dep for dep in deps if dep not in parents))

    def _built_on(self, rev_id: str) -> bool:
        graph, applied = self.graph, self.applied
        return any(up in applied for up in graph.children(rev_id)) or any(
            up in applied for up in graph.dependents(rev_id)
        )


def stamp_changes(
    graph: RevisionMap, rows: Sequence[str], dests: Sequence[str]
) -> tuple[VersionChange, ...]:
    """Rows for ``stamp dests``: each destination replaces the rows on its line of history
    (its ancestors and descendants, depends_on counted) or, when none is, becomes a new row.

    The replaced rows collapse as in a merge: all but the last deleted, the last updated.
    """
    current = list(dict.fromkeys(rows))
    changes: list[VersionChange] = []
    for dest in _topmost(graph, dests):
        if dest in current:
            continue
        line = _line_of(graph, [dest])
        replaced = [row for row in current if row in line]
        current = [row for row in current if row not in line]
        current.append(dest)
        if not replaced:
            changes.append(_insert(dest))
        else:
            *gone, last = replaced
            changes.extend(map(_delete, gone))
            changes.append(_update(last, dest))
    return tuple(changes)


def unstamp_changes(
    graph: RevisionMap, rows: Sequence[str], lows: Sequence[str] | None
) -> tuple[VersionChange, ...]:
    """Rows for stamping ``base`` (``lows`` None: every row goes) or ``X@base`` (the rows on
    the line of history of X's lowest revisions go, as ``base`` takes every line)."""
    current = list(dict.fromkeys(rows))
    if lows is None:
        return tuple(map(_delete, current))
    line = _line_of(graph, lows)
    return tuple(_delete(row) for row in current if row in line)


def _line_of(graph: RevisionMap, revs: Iterable[str]) -> set[str]:
    revs = list(revs)
    return graph.ancestors(revs) | graph.descendants(revs)


def _topmost(graph: RevisionMap, dests: Sequence[str]) -> list[str]:
    """``dests`` without those below another destination: those are implied (``stamp heads``
    where one head depends on another stamps only the upper one, as ``upgrade heads`` ends)."""
    unique = list(dict.fromkeys(dests))
    if len(unique) < 2:
        return unique
    implied: set[str] = set()
    for dest in unique:
        if dest not in implied:
            implied |= graph.ancestors([dest]) - {dest}
    return [dest for dest in unique if dest not in implied]
