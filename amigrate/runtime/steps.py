"""The migration plan: which revisions to run, in which order, and the version rows after each.

Pure (no database, no SQLAlchemy), so the plan is computed once per command, shared by
every database of a many-database run, and tested against Alembic without a server. The
rules follow Alembic's; where Alembic is inconsistent, the docstrings below say so.

- Upgrading to T applies every ancestor of T (down_revision and depends_on) that the rows do
  not already imply, parents first.
- Downgrading to T unapplies the applied revisions above T's children, children first.
  ``base`` unapplies everything, ``X@base`` everything from X's lowest revision up. Lines of
  history that do not lead to T stay; so do other branches when the target is scoped to one
  (``label@...``, ``-N``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from amigrate._util import fields_repr
from amigrate.errors import NotAncestorError, RevisionError, UnknownRevisionError
from amigrate.runtime.versions_plan import (
    VersionChange,
    VersionRows,
    apply_changes,
    stamp_changes,
    unstamp_changes,
)
from amigrate.script.resolve import BRANCH_RELATIVE, RELATIVE

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from amigrate.script.revision import Revision, RevisionMap

_STEPS_DOWN = re.compile(r"(.*?)-(\d+)")


@dataclass(repr=False, frozen=True, slots=True)
class MigrationStep:
    """Run one revision's script, then write ``changes`` in the same transaction."""

    __repr__ = fields_repr

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


@dataclass(repr=False, frozen=True, slots=True)
class StampPlan:
    """The version-table changes of a stamp; no script runs."""

    __repr__ = fields_repr

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
    """The steps that take a database at ``current`` up to ``target``.

    A target the database is already past is an error (Alembic does nothing), since only a
    downgrade goes down.
    """
    keeper = VersionRows(graph, _known(graph, current))
    goal = _Target.read(graph, target, keeper.snapshot(), keeper.applied)
    wanted = graph.ancestors(goal.ids) - keeper.applied
    if not wanted:
        _refuse_below(graph, goal, keeper)
        return []
    order = [rev for rev in reversed(graph.walk(goal.ids)) if rev.revision in wanted]
    return _steps(keeper, order, is_upgrade=True)


def plan_downgrade(graph: RevisionMap, current: Sequence[str], target: str) -> list[MigrationStep]:
    """The steps that take a database at ``current`` down to ``target``.

    A target applied only because another branch depends on it needs no step (Alembic
    refuses: "Nothing to drop").
    """
    rows = _known(graph, current)
    keeper = VersionRows(graph, rows)
    goal = _Target.read(graph, target, rows, keeper.applied)
    if goal.below is not None:
        lowest = goal.below or graph.bases
        doomed = graph.descendants(lowest) & keeper.applied
    else:
        _refuse_not_below(graph, goal, keeper)
        children = [child for rev_id in goal.ids for child in graph.children(rev_id)]
        if goal.line is not None:
            children = [child for child in children if child in goal.line]
        doomed = graph.descendants(children) & keeper.applied
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
    known = all(row in graph for row in rows)
    dests, below = _stamp_destinations(graph, targets, rows if known else None)
    start = rows
    changes: tuple[VersionChange, ...] = ()
    if purge:
        changes, start = tuple(VersionChange("delete", old=row) for row in rows), ()
    if below is not None:
        cleared = unstamp_changes(graph, start, below or None)
        changes, start = changes + cleared, apply_changes(start, cleared)
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
    start = (start or "").strip()
    if not start and not is_upgrade:
        raise RevisionError(
            "downgrade --sql needs a range START:END",
            hint="offline mode cannot read the database's revision, e.g. 'head:base'",
        )
    if not start:
        rows: tuple[str, ...] = ()
    elif RELATIVE.fullmatch(start):
        rows = graph.resolve_range(f"{start}:{end}")[0] or ()
    else:
        rows = graph.resolve(start)
    planner = plan_upgrade if is_upgrade else plan_downgrade
    return planner(graph, rows, end)


# -- targets -------------------------------------------------------------------------------


@dataclass(repr=False, frozen=True, slots=True)
class _Target:
    """What a target expression means for a plan.

    ``ids``: the revisions it names. ``below``: for targets that name the state *below*
    revisions (``base``, ``X@base``, stepping down past a root), the lowest revisions that
    must go, ``()`` meaning every root; otherwise None. ``line``: for targets scoped to one
    line of history (``label@...``, ``-N``), the revisions on that line, so a downgrade leaves
    the other children of the target alone (as Alembic's branch filter does).
    """

    __repr__ = fields_repr

    text: str
    ids: tuple[str, ...]
    below: tuple[str, ...] | None
    line: set[str] | None

    @classmethod
    def read(
        cls, graph: RevisionMap, target: str, rows: tuple[str, ...] | None, applied: set[str]
    ) -> _Target:
        text = target.strip()
        current = _current_for(graph, text, rows, applied)
        if text.endswith("@base"):
            return cls(text, (), graph.resolve(text, current=current), None)
        ids = graph.resolve(text, current=current)
        below: tuple[str, ...] | None = None
        if not ids:  # base, or stepped down to it: below the last revision stepped over
            m = _STEPS_DOWN.fullmatch(text)
            last = f"{m[1]}-{int(m[2]) - 1}" if m and int(m[2]) > 0 else None
            below = graph.resolve(last, current=current) if last else ()
        return cls(text, ids, below, _line(graph, text, current))

    def shown(self) -> str:
        """As typed, with the ids it means when they differ: ``'-1' (b2)``."""
        if not self.ids or self.ids == (self.text,):
            return repr(self.text)
        return f"{self.text!r} ({', '.join(self.ids)})"


def _current_for(
    graph: RevisionMap, text: str, rows: tuple[str, ...] | None, applied: set[str]
) -> tuple[str, ...] | None:
    """The current revisions ``text`` counts from: the rows, and for ``label@+N`` on a branch
    no row is on, the branch's topmost applied revisions (applied as a dependency of another
    branch), so ``+1`` steps above them as Alembic does, instead of re-running the first."""
    m = BRANCH_RELATIVE.fullmatch(text)
    if rows is None or not m or m[1] not in graph.labels:
        return rows
    members = graph.branch_revisions(m[1])
    if any(row in members for row in rows):
        return rows
    held = members & applied
    tops = [rev for rev in held if not any(child in held for child in graph.children(rev))]
    return rows + graph.ordered(tops)


def _line(graph: RevisionMap, text: str, current: tuple[str, ...] | None) -> set[str] | None:
    """The line of history a ``label@...`` or ``-N`` target steps along, else None."""
    label = text.partition("@")[0] if "@" in text else None
    if label is not None and label in graph.labels:
        members = graph.branch_revisions(label)
        starts = [rev for rev in current or () if rev in members]
    elif RELATIVE.fullmatch(text):
        starts = list(current or ())
    else:
        return None
    return graph.ancestors(starts, include_dependencies=False)


def _stamp_destinations(
    graph: RevisionMap, targets: Sequence[str], rows: tuple[str, ...] | None
) -> tuple[list[str], tuple[str, ...] | None]:
    """The revisions to stamp, and what ``base`` / ``X@base`` targets clear: None (nothing),
    ``()`` (every row) or the lowest revisions of each X."""
    applied = graph.ancestors(rows) if rows else set()
    dests: list[str] = []
    belows: list[tuple[str, ...]] = []
    for target in targets:
        goal = _Target.read(graph, target, rows, applied)
        dests.extend(goal.ids)
        if goal.below is not None:
            belows.append(goal.below)
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


# -- steps and refusals --------------------------------------------------------------------


def _known(graph: RevisionMap, current: Iterable[str]) -> tuple[str, ...]:
    rows = tuple(dict.fromkeys(current))
    current_heads_valid(graph, rows)
    return rows


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


def _refuse_below(graph: RevisionMap, goal: _Target, keeper: VersionRows) -> None:
    """Nothing to upgrade: fine when the database is at the target, an error when past it.

    A target applied only as another branch's dependency is not "past": its own line never
    moved beyond it.
    """
    if goal.below == ():
        past = sorted(keeper.rows)
    elif goal.below is not None:
        past = _rows_above(graph, goal.below, keeper.rows)
    else:
        stuck = [
            rev_id
            for rev_id in goal.ids
            if rev_id not in keeper.rows
            and any(child in keeper.applied for child in graph.children(rev_id))
        ]
        past = _rows_above(graph, [c for s in stuck for c in graph.children(s)], keeper.rows)
    if past:
        raise NotAncestorError(f"{goal.shown()} is below {_where(past)}; use downgrade")


def _refuse_not_below(graph: RevisionMap, goal: _Target, keeper: VersionRows) -> None:
    """A downgrade target must be applied: the database has to be at it or above it."""
    missing = [rev_id for rev_id in goal.ids if rev_id not in keeper.applied]
    if not missing:
        return
    where = _where(sorted(keeper.rows))
    below_missing = graph.ancestors(missing)
    if not keeper.rows or any(row in below_missing for row in keeper.rows):
        raise NotAncestorError(f"{goal.shown()} is above {where}; use upgrade")
    raise NotAncestorError(
        f"{goal.shown()} is not below {where}",
        hint="downgrade goes down to a revision the database has applied",
    )


def _rows_above(graph: RevisionMap, revs: Iterable[str], rows: Iterable[str]) -> list[str]:
    above = graph.descendants(revs)
    return sorted(row for row in rows if row in above)


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
