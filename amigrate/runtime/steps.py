"""The migration plan: which revisions to run, in which order, and the version rows after each.

Pure (no database, no SQLAlchemy), so the plan is computed once per command, shared by
every database of a many-database run, and tested against Alembic without a server. The
rules follow Alembic's, except where Alembic is inconsistent; those places say so.

- Upgrading to T applies every ancestor of T (down_revision and depends_on) that the rows do
  not already imply, parents first.
- Downgrading to T unapplies the applied revisions above T's children, children first;
  ``base`` unapplies everything, ``X@base`` everything from X's lowest revision up.
  Lines of history that do not lead to T stay as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from amigrate.errors import NotAncestorError, RevisionError, UnknownRevisionError
from amigrate.runtime.versions_plan import (
    VersionChange,
    VersionRows,
    apply_changes,
    stamp_changes,
    unstamp_changes,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from amigrate.script.revision import Revision, RevisionMap

_RELATIVE = re.compile(r"[+-]\d+")
_STEPS_DOWN = re.compile(r"(.*?)-(\d+)")


@dataclass(frozen=True, slots=True)
class MigrationStep:
    """Run one revision's script, then write ``changes`` in the same transaction."""

    revision: Revision
    is_upgrade: bool
    changes: tuple[VersionChange, ...]
    heads_before: tuple[str, ...]
    heads_after: tuple[str, ...]

    @property
    def description(self) -> str:
        """``upgrade a1 -> b2, add email``: the runtime logs it after ``Running`` (Alembic's
        wording, so log searches keep working)."""
        rev = self.revision
        below = ", ".join(rev.down_revisions)
        if self.is_upgrade:
            text = f"upgrade {below} -> {rev.revision}"
        else:
            text = f"downgrade {rev.revision} -> {below}"
        return f"{text}, {rev.doc}" if rev.doc else text


@dataclass(frozen=True, slots=True)
class StampPlan:
    """The version-table changes of a stamp; no script runs."""

    changes: tuple[VersionChange, ...]
    heads_before: tuple[str, ...]
    heads_after: tuple[str, ...]


def current_heads_valid(graph: RevisionMap, current: Iterable[str]) -> None:
    """Refuse version rows no revision file declares: nothing can be planned from them."""
    unknown = sorted({row for row in current if row not in graph})
    if unknown:
        raise UnknownRevisionError(
            f"the database is at {' and '.join(map(repr, unknown))}, "
            "which no revision file declares",
            hint="restore the missing revision file, or reset the version table with "
            "'stamp --purge'",
        )


def plan_upgrade(graph: RevisionMap, current: Sequence[str], target: str) -> list[MigrationStep]:
    """The steps that take a database at ``current`` up to ``target``."""
    rows = _known(graph, current)
    targets, below_targets = _targets(graph, target, rows)
    keeper = VersionRows(graph, rows)
    wanted = graph.ancestors(targets) - keeper.applied
    if not wanted:
        _refuse_below(graph, target, targets, below_targets, keeper)
        return []
    order = [rev for rev in reversed(graph.walk(targets)) if rev.revision in wanted]
    return _steps(keeper, order, is_upgrade=True)


def plan_downgrade(graph: RevisionMap, current: Sequence[str], target: str) -> list[MigrationStep]:
    """The steps that take a database at ``current`` down to ``target``."""
    rows = _known(graph, current)
    targets, below_targets = _targets(graph, target, rows)
    keeper = VersionRows(graph, rows)
    if below_targets == ():
        doomed = set(keeper.applied)
    elif below_targets is not None:  # X@base: X's lowest revisions go as well
        doomed = graph.descendants(below_targets) & keeper.applied
    else:
        _refuse_not_below(graph, target, targets, keeper)
        doomed = graph.descendants(_children_towards(graph, target, targets, rows))
        doomed &= keeper.applied
    order = [rev for rev in graph.walk(rows) if rev.revision in doomed]
    return _steps(keeper, order, is_upgrade=False)


def plan_stamp(
    graph: RevisionMap, current: Sequence[str], targets: Sequence[str], *, purge: bool = False
) -> StampPlan:
    """The version-table changes that make a database at ``current`` say it is at
    ``targets``, running nothing.

    With ``purge`` every row goes first, known or not (the way out of a table naming revisions
    that no longer exist), then the targets are written.
    """
    if isinstance(targets, str):
        raise TypeError(f"expected a sequence of targets, got the string {targets!r}")
    rows = tuple(dict.fromkeys(current))
    if not purge:
        _known(graph, rows)
    resolvable = all(row in graph for row in rows)
    dests, below = _stamp_destinations(graph, targets, rows if resolvable else None)
    start = rows
    changes: tuple[VersionChange, ...] = ()
    if purge:
        changes = tuple(VersionChange("delete", old=row) for row in rows)
        start = ()
    if below is not None:
        cleared = unstamp_changes(graph, start, below or None)
        changes += cleared
        start = apply_changes(start, cleared)
    changes += stamp_changes(graph, start, dests)
    return StampPlan(changes, tuple(sorted(rows)), apply_changes(rows, changes))


def plan_range_for_sql(
    graph: RevisionMap, start: str | None, end: str, *, is_upgrade: bool
) -> list[MigrationStep]:
    """Offline mode (``--sql``): plan from the rows ``start`` names instead of the database's.

    ``upgrade A:B`` starts at A (omitted or ``base``: an empty table); ``downgrade B:A`` needs
    B, since no database says where to start. A relative start counts from the end:
    ``-2:head`` starts two below head.
    """
    if start is not None and not start.strip():
        start = None
    if start is None and not is_upgrade:
        raise RevisionError(
            "downgrade --sql needs a range START:END",
            hint="offline mode cannot read the database's revision, e.g. 'head:base'",
        )
    if start is None:
        rows: tuple[str, ...] = ()
    elif _RELATIVE.fullmatch(start.strip()):
        rows = graph.resolve_range(f"{start}:{end}")[0] or ()
    else:
        rows = graph.resolve(start)
    planner = plan_upgrade if is_upgrade else plan_downgrade
    return planner(graph, rows, end)


# -- helpers ---------------------------------------------------------------------------------


def _known(graph: RevisionMap, current: Iterable[str]) -> tuple[str, ...]:
    rows = tuple(dict.fromkeys(current))
    current_heads_valid(graph, rows)
    return rows


def _targets(
    graph: RevisionMap, target: str, rows: tuple[str, ...] | None
) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    """The ids ``target`` names, and what lies wholly below the target state.

    ``base`` and ``X@base`` name the state below revisions rather than revisions: the second
    item is then ``()`` (below everything) or X's lowest revisions; otherwise it is None.
    Stepping down to base (``-2``, ``label@-1``) is below the last revision stepped over,
    not below everything: other roots stay.
    """
    text = target.strip()
    if text.endswith("@base"):
        return (), graph.resolve(text, current=rows)
    ids = graph.resolve(text, current=rows)
    if ids:
        return ids, None
    if (m := _STEPS_DOWN.fullmatch(text)) and int(m[2]) > 0:
        return (), graph.resolve(f"{m[1]}-{int(m[2]) - 1}", current=rows)
    return (), ()


def _steps(
    keeper: VersionRows, order: Iterable[Revision], *, is_upgrade: bool
) -> list[MigrationStep]:
    steps: list[MigrationStep] = []
    move = keeper.upgrade if is_upgrade else keeper.downgrade
    before = keeper.snapshot()
    for rev in order:
        changes = move(rev.revision)
        after = keeper.snapshot()
        steps.append(MigrationStep(rev, is_upgrade, changes, before, after))
        before = after
    return steps


def _children_towards(
    graph: RevisionMap, target: str, targets: tuple[str, ...], rows: tuple[str, ...]
) -> list[str]:
    """The children of the targets a downgrade removes: all of them, or with ``label@...``
    only those leading to the label's rows, so the other branches stay (as in Alembic)."""
    children = [child for rev_id in targets for child in graph.children(rev_id)]
    label = target.strip().partition("@")[0] if "@" in target else None
    if label is None or label not in graph.labels:
        return children
    on_branch = [row for row in rows if label in graph.branch_labels_of(row)]
    line = graph.ancestors(on_branch, include_dependencies=False)
    return [child for child in children if child in line]


def _refuse_below(
    graph: RevisionMap,
    target: str,
    targets: tuple[str, ...],
    below_targets: tuple[str, ...] | None,
    keeper: VersionRows,
) -> None:
    """Nothing to upgrade: fine when the database is at the target, an error when past it.

    Alembic does nothing here; going down is a downgrade's job, so say so. A target applied
    only as another branch's dependency is not "past": its own line never moved beyond it.
    """
    if below_targets == ():
        past = sorted(keeper.rows)
    elif below_targets is not None:
        past = _rows_above(graph, below_targets, keeper.rows)
    else:
        stuck = [
            t for t in targets if t not in keeper.rows and _has_applied_child(graph, t, keeper)
        ]
        past = _rows_above(graph, [c for t in stuck for c in graph.children(t)], keeper.rows)
    if past:
        raise NotAncestorError(
            f"{_shown(graph, target, keeper)} is below {_where(past)}; use downgrade"
        )


def _refuse_not_below(
    graph: RevisionMap, target: str, targets: tuple[str, ...], keeper: VersionRows
) -> None:
    """A downgrade target must be applied: the database has to be at it or above it."""
    missing = [t for t in targets if t not in keeper.applied]
    if not missing:
        return
    above = [row for row in keeper.rows if row in graph.ancestors(missing)]
    shown = _shown(graph, target, keeper)
    if above:
        raise NotAncestorError(f"{shown} is above {_where(sorted(keeper.rows))}; use upgrade")
    raise NotAncestorError(
        f"{shown} is not below {_where(sorted(keeper.rows))}",
        hint="downgrade goes down to a revision the database has applied",
    )


def _has_applied_child(graph: RevisionMap, rev_id: str, keeper: VersionRows) -> bool:
    return any(child in keeper.applied for child in graph.children(rev_id))


def _rows_above(graph: RevisionMap, revs: Iterable[str], rows: Iterable[str]) -> list[str]:
    above = graph.descendants(revs)
    return sorted(row for row in rows if row in above)


def _stamp_destinations(
    graph: RevisionMap, targets: Sequence[str], rows: tuple[str, ...] | None
) -> tuple[list[str], tuple[str, ...] | None]:
    """The revisions to stamp, and what ``base`` / ``X@base`` targets clear: None (nothing),
    ``()`` (every row) or the lowest revisions of each X."""
    dests: list[str] = []
    belows: list[tuple[str, ...]] = []
    for target in targets:
        ids, below = _targets(graph, target, rows)
        dests.extend(ids)
        if below is not None:
            belows.append(below)
    if not belows:
        return dests, None
    if dests:
        raise RevisionError(
            f"cannot stamp {', '.join(map(repr, targets))} at once: a 'base' target clears "
            "what the others would write",
            hint="stamp the base target first, then the others",
        )
    if () in belows:
        return dests, ()
    return dests, tuple(low for below in belows for low in below)


def _shown(graph: RevisionMap, target: str, keeper: VersionRows) -> str:
    """The target as typed, with the ids it means when they differ: ``'-1' ('b2')``."""
    text = target.strip()
    try:
        ids = graph.resolve(text, current=keeper.snapshot())
    except RevisionError:
        return repr(text)
    if ids == (text,) or not ids:
        return repr(text)
    return f"{text!r} ({', '.join(ids)})"


def _where(rows: Sequence[str]) -> str:
    if not rows:
        return "the current revision (base: the version table is empty)"
    if len(rows) == 1:
        return f"the current revision {rows[0]!r}"
    return f"the current revisions {', '.join(map(repr, rows))}"


__all__ = [
    "MigrationStep",
    "StampPlan",
    "VersionChange",
    "current_heads_valid",
    "plan_downgrade",
    "plan_range_for_sql",
    "plan_stamp",
    "plan_upgrade",
]
