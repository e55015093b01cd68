"""The revision graph: pure data, no files, no SQLAlchemy.

Every algorithm here is iterative and linear (or n log n) in the number of revisions, so
histories of tens of thousands of revisions neither hit the recursion limit nor a quadratic
sort. Target expressions (``head``, ``feature@-1``, ``A:B``) are parsed in ``resolve.py``.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, NoReturn

from amigrate._util import fields_repr
from amigrate.errors import (
    AmbiguousRevisionError,
    CycleError,
    DuplicateRevisionError,
    NotAncestorError,
    RevisionError,
    UnknownRevisionError,
)
from amigrate.script import resolve as _resolve

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

#: Words that mean something in a target expression, so no id or label may be one of them.
RESERVED_NAMES = frozenset({"head", "heads", "base", "current"})
_BAD_NAME = re.compile(r"[@:\s]|^(?:head|heads|base)?$")


@dataclass(repr=False, frozen=True, slots=True)
class Revision:
    """One revision as its file header declares it.

    ``depends_on`` holds the targets as written (ids, prefixes or branch labels);
    ``RevisionMap`` resolves them. ``lines`` maps header names (``revision``,
    ``down_revision``, ``branch_labels``, ``depends_on``) to their line in ``path``,
    so graph errors can point at the right place.
    """

    __repr__ = fields_repr

    revision: str
    down_revisions: tuple[str, ...] = ()
    branch_labels: frozenset[str] = frozenset()
    depends_on: tuple[str, ...] = ()
    path: str | None = None
    doc: str = ""
    longdoc: str = ""
    lines: dict[str, int] = field(default_factory=dict, compare=False, hash=False)

    def location(self, header: str = "revision") -> str | None:
        """``path:line`` of a header assignment, for error messages."""
        if self.path is None:
            return None
        line = self.lines.get(header)
        return f"{self.path}:{line}" if line else self.path


class RevisionMap:
    """All revisions of a script directory, checked once on construction, then only queried.

    A revision's ``down_revisions`` are its parents; it is their child. Its resolved
    ``depends_on`` are its dependencies; it is their dependent. Both kinds of edge order an
    upgrade, but only ``down_revisions`` make branches and heads. Tuples of revisions come
    newest first, in the order of :meth:`walk` (``parents`` and ``dependencies`` keep the order
    they were written in). Queries take exact ids; :meth:`resolve` turns what a user typed into
    ids.
    """

    def __init__(self, revisions: Iterable[Revision]) -> None:
        self._revs: dict[str, Revision] = {}
        for rev in revisions:
            self._add(rev)
        self._children: dict[str, list[str]] = {rev_id: [] for rev_id in self._revs}
        self._labels: dict[str, str] = {}
        for rev in self._revs.values():
            if rev.down_revisions:
                self._link_parents(rev)
            if rev.branch_labels:
                self._declare_labels(rev)
        self._sorted_ids: list[str] | None = None
        self._deps: dict[str, tuple[str, ...]] = {}
        self._dependents: dict[str, list[str]] = {rev_id: [] for rev_id in self._revs}
        for rev in self._revs.values():
            if rev.depends_on:
                self._deps[rev.revision] = deps = self._resolve_depends_on(rev)
                for dep in deps:
                    self._dependents[dep].append(rev.revision)
        self._order = self._newest_first(None)
        if len(self._order) < len(self._revs):
            self._raise_cycle(set(self._order))
        self._pos = {rev_id: i for i, rev_id in enumerate(self._order)}

    # -- construction and validation -------------------------------------------------------

    def _add(self, rev: Revision) -> None:
        if _BAD_NAME.search(rev.revision):
            _refuse_name("revision id", rev.revision, rev, "revision")
        first = self._revs.setdefault(rev.revision, rev)
        if first is not rev:
            files = f": {first.path} and {rev.path}" if first.path and rev.path else ""
            raise DuplicateRevisionError(
                f"revision {rev.revision!r} is defined twice{files}",
                location=rev.location("revision"),
            )

    def _link_parents(self, rev: Revision) -> None:
        parents = rev.down_revisions
        for parent in parents:
            siblings = self._children.get(parent)
            if siblings is None:
                raise UnknownRevisionError(
                    f"down_revision {parent!r} of revision {rev.revision!r} names no revision",
                    location=rev.location("down_revision"),
                )
            if len(parents) > 1 and parents.count(parent) > 1:
                raise RevisionError(
                    f"down_revision of revision {rev.revision!r} names {parent!r} twice",
                    location=rev.location("down_revision"),
                )
            siblings.append(rev.revision)

    def _declare_labels(self, rev: Revision) -> None:
        where = rev.location("branch_labels")
        for label in sorted(rev.branch_labels):
            if _BAD_NAME.search(label):
                _refuse_name("branch label", label, rev, "branch_labels")
            if label in self._revs:
                raise RevisionError(
                    f"branch label {label!r} of revision {rev.revision!r} is also a revision id",
                    location=where,
                    hint="rename the label",
                )
            owner = self._labels.setdefault(label, rev.revision)
            if owner != rev.revision:
                raise DuplicateRevisionError(
                    f"branch label {label!r} is declared by two revisions: "
                    f"{owner!r} and {rev.revision!r}",
                    location=where,
                )

    def _resolve_depends_on(self, rev: Revision) -> tuple[str, ...]:
        resolved: list[str] = []
        for written in rev.depends_on:
            hits = self.match(written)
            if len(hits) != 1:
                what = f"depends_on {written!r} of revision {rev.revision!r}"
                where = rev.location("depends_on")
                if not hits:
                    raise UnknownRevisionError(f"{what} names no revision", location=where)
                raise AmbiguousRevisionError(
                    f"{what} matches {len(hits)} revisions: {', '.join(hits)}",
                    location=where,
                    hint="use more characters of the id",
                )
            if hits[0] not in resolved:
                resolved.append(hits[0])
        return tuple(resolved)

    def _raise_cycle(self, emitted: set[str]) -> None:
        """Report one loop among the revisions a topological walk could not emit.

        Each of them still has an unemitted child or dependent, so following those links
        from any of them must come back to a revision already seen.
        """
        seen: dict[str, int] = {}
        path: list[str] = []
        cur = min(rev_id for rev_id in self._revs if rev_id not in emitted)
        while cur not in seen:
            seen[cur] = len(path)
            path.append(cur)
            up = (*self._children[cur], *self._dependents[cur])
            cur = next(rev_id for rev_id in up if rev_id not in emitted)
        loop = path[seen[cur] :][::-1]  # now each revision names the next one
        start = loop.index(min(loop))
        loop = loop[start:] + loop[:start]
        first = self._revs[loop[0]]
        header = "down_revision" if loop[(1 % len(loop))] in first.down_revisions else "depends_on"
        raise CycleError(
            "revision cycle: " + " -> ".join([*loop, loop[0]]),
            location=first.location(header),
            hint="each arrow leads from a revision to one it names in down_revision or depends_on",
        )

    # -- plain queries ---------------------------------------------------------------------

    def __contains__(self, rev_id: object) -> bool:
        return rev_id in self._revs

    def __len__(self) -> int:
        return len(self._revs)

    def __repr__(self) -> str:
        return f"<RevisionMap of {len(self._revs)} revisions, heads {list(self.heads)}>"

    @property
    def revisions(self) -> Mapping[str, Revision]:
        """Every revision by id, in the order they were given."""
        return MappingProxyType(self._revs)

    @property
    def labels(self) -> Mapping[str, str]:
        """Each declared branch label and the revision that declares it."""
        return MappingProxyType(self._labels)

    def get(self, rev_id: str) -> Revision:
        """The revision with exactly this id."""
        try:
            return self._revs[rev_id]
        except KeyError:
            raise UnknownRevisionError(f"no revision matches {rev_id!r}") from None

    def match(self, ident: str) -> list[str]:
        """The ids ``ident`` could mean, sorted: itself, its label's revision, or every id it
        prefixes. Callers decide what none or several means in their context."""
        if ident in self._revs:
            return [ident]
        if ident in self._labels:
            return [self._labels[ident]]
        if not ident:
            return []
        if self._sorted_ids is None:
            self._sorted_ids = sorted(self._revs)
        ids = self._sorted_ids
        i = bisect.bisect_left(ids, ident)
        hits: list[str] = []
        while i < len(ids) and ids[i].startswith(ident):
            hits.append(ids[i])
            i += 1
        return hits

    def ordered(self, rev_ids: Iterable[str]) -> tuple[str, ...]:
        """``rev_ids`` sorted newest first, as :meth:`walk` would list them."""
        return tuple(sorted(self._ids(rev_ids), key=self._pos.__getitem__))

    @cached_property
    def heads(self) -> tuple[str, ...]:
        """Revisions no revision names as down_revision (dependents do not count)."""
        return tuple(r for r in self._order if not self._children[r])

    @cached_property
    def real_heads(self) -> tuple[str, ...]:
        """Revisions nothing builds on, counting depends_on too."""
        return tuple(r for r in self.heads if not self._dependents[r])

    @cached_property
    def bases(self) -> tuple[str, ...]:
        """Revisions without a down_revision."""
        return tuple(r for r in self._order if not self._revs[r].down_revisions)

    def parents(self, rev_id: str) -> tuple[str, ...]:
        """The down_revisions of ``rev_id``, as written."""
        return self.get(rev_id).down_revisions

    def applied_tips(self, rows: Iterable[str]) -> tuple[str, ...]:
        """The version rows plus the tips of branches applied only as a dependency.

        With c3 depending on x1 of another branch, the table holds just 'c3', yet x1 is where
        that branch stands: it is current too (as Alembic's `current` shows it).
        """
        applied = self.ancestors(rows)
        tips = [rev for rev in applied if not any(c in applied for c in self.children(rev))]
        return self.ordered(tips)

    def children(self, rev_id: str) -> tuple[str, ...]:
        """Revisions that name ``rev_id`` as down_revision."""
        return self.ordered(self._children[self._known(rev_id)])

    def dependencies(self, rev_id: str) -> tuple[str, ...]:
        """The depends_on of ``rev_id``, resolved to ids, in the order written."""
        return self._deps.get(self._known(rev_id), ())

    def dependents(self, rev_id: str) -> tuple[str, ...]:
        """Revisions whose depends_on names ``rev_id``."""
        return self.ordered(self._dependents[self._known(rev_id)])

    def is_head(self, rev_id: str) -> bool:
        return not self._children[self._known(rev_id)]

    def is_real_head(self, rev_id: str) -> bool:
        return self.is_head(rev_id) and not self._dependents[rev_id]

    def is_branch_point(self, rev_id: str) -> bool:
        return len(self._children[self._known(rev_id)]) > 1

    def is_merge_point(self, rev_id: str) -> bool:
        return len(self.get(rev_id).down_revisions) > 1

    def branch_points(self) -> tuple[str, ...]:
        """Revisions with more than one child, newest first."""
        return tuple(r for r in self._order if len(self._children[r]) > 1)

    # -- branch labels ---------------------------------------------------------------------

    @cached_property
    def _label_members(self) -> dict[str, frozenset[str]]:
        return {label: self._carriers(owner) for label, owner in self._labels.items()}

    @cached_property
    def _labels_by_revision(self) -> dict[str, frozenset[str]]:
        found: dict[str, set[str]] = {}
        for label, members in self._label_members.items():
            for rev_id in members:
                found.setdefault(rev_id, set()).add(label)
        return {rev_id: frozenset(labels) for rev_id, labels in found.items()}

    def _carriers(self, owner: str) -> frozenset[str]:
        members = self._closure([owner], self._children.__getitem__)
        cur = owner
        while len(parents := self._revs[cur].down_revisions) == 1:
            cur = parents[0]
            if len(self._children[cur]) > 1 or len(self._revs[cur].down_revisions) > 1:
                break
            members.add(cur)
        return frozenset(members)

    def branch_labels_of(self, rev_id: str) -> frozenset[str]:
        """The labels ``rev_id`` declares or inherits.

        A label declared on R names a line of history, so it also applies to every
        descendant of R (via down_revision, through merges), and to the ancestors of R down to
        where that line forked off: going down one parent at a time, each ancestor gets the label
        unless it is a branch point or a merge point (where the walk stops, excluding it); a
        base ends the walk, included.
        """
        self._known(rev_id)
        return self._labels_by_revision.get(rev_id, frozenset())

    def branch_revisions(self, label: str) -> frozenset[str]:
        """Every revision carrying ``label`` (see :meth:`branch_labels_of`)."""
        try:
            return self._label_members[label]
        except KeyError:
            raise UnknownRevisionError(f"{label!r} is not a branch label") from None

    # -- walks -----------------------------------------------------------------------------

    def ancestors(self, revs: Iterable[str], *, include_dependencies: bool = True) -> set[str]:
        """``revs`` and every revision below them: what upgrading to them requires."""
        if include_dependencies:
            return self._closure(
                self._ids(revs), lambda r: (*self._revs[r].down_revisions, *self._deps.get(r, ()))
            )
        return self._closure(self._ids(revs), lambda r: self._revs[r].down_revisions)

    def descendants(self, revs: Iterable[str], *, include_dependencies: bool = True) -> set[str]:
        """``revs`` and every revision above them: what downgrading below them removes."""
        if include_dependencies:
            return self._closure(
                self._ids(revs), lambda r: (*self._children[r], *self._dependents[r])
            )
        return self._closure(self._ids(revs), self._children.__getitem__)

    def walk(
        self, upper: Iterable[str] | None = None, lower: Iterable[str] | None = None
    ) -> list[Revision]:
        """Revisions below-or-at ``upper`` (default: the heads) and above-or-at ``lower``
        (default: down to base), newest first: each after all of its descendants in the set,
        and a branch listed whole before the next one starts. This is what ``history`` prints.
        """
        lows = [] if lower is None else self._ids(lower)
        if upper is None and not lows:
            return [self._revs[r] for r in self._order]
        tops = self.heads if upper is None else self._ids(upper)
        members = self.ancestors(tops)
        if lows:
            for low in lows:
                if low not in members:
                    above = " or ".join(map(repr, tops)) or "base"
                    raise NotAncestorError(f"revision {low!r} is not an ancestor of {above}")
            members &= self.descendants(lows)
        return [self._revs[r] for r in self._newest_first(members)]

    def _newest_first(self, members: set[str] | None) -> list[str]:
        """Topological order, children and dependents first (Kahn's algorithm with a stack).

        The stack makes the walk continue along the parent just released, so branches come out
        whole; ties start from the smallest id, so the order does not depend on input order.
        """
        keep: Mapping[str, object] | set[str] = self._revs if members is None else members
        if members is None:
            waiting = {r: len(self._children[r]) + len(self._dependents[r]) for r in self._revs}
        else:
            waiting = {
                r: sum(c in keep for c in self._children[r])
                + sum(d in keep for d in self._dependents[r])
                for r in members
            }
        ready = sorted((r for r, n in waiting.items() if n == 0), reverse=True)
        out: list[str] = []
        while ready:
            rev_id = ready.pop()
            out.append(rev_id)
            parents = self._revs[rev_id].down_revisions
            deps = self._deps.get(rev_id, ())
            below_all = (*deps[::-1], *parents[::-1]) if deps else parents[::-1]
            for below in below_all:
                if below in keep:
                    waiting[below] -= 1
                    if not waiting[below]:
                        ready.append(below)
        return out

    def _closure(self, start: Iterable[str], step: Callable[[str], Sequence[str]]) -> set[str]:
        found: set[str] = set()
        stack = list(start)
        while stack:
            rev_id = stack.pop()
            if rev_id not in found:
                found.add(rev_id)
                stack.extend(step(rev_id))
        return found

    def _known(self, rev_id: str) -> str:
        if rev_id not in self._revs:
            raise UnknownRevisionError(f"no revision matches {rev_id!r}")
        return rev_id

    def _ids(self, revs: Iterable[str]) -> list[str]:
        if isinstance(revs, str):
            raise TypeError(f"expected an iterable of revision ids, got the string {revs!r}")
        return [self._known(rev_id) for rev_id in revs]

    # -- targets ---------------------------------------------------------------------------

    def resolve(self, target: str, *, current: tuple[str, ...] | None = None) -> tuple[str, ...]:
        """The revision ids a target expression names; ``()`` means base.

        ``heads``, ``head``, ``base``; an id, a unique id prefix or a branch label;
        ``X@head``, ``X@heads``, ``X@base`` (X a label, id or prefix); ``label@ID``;
        ``X+N``, ``X-N``; and relative to ``current`` (the database's revisions):
        ``+N``, ``-N``, ``label@+N``, ``label@-N``.
        """
        return _resolve.resolve(self, target, current)

    def check_target(self, target: str) -> None:
        """Raise now if ``target`` cannot name a revision, whatever a database is at.

        Commands call this before they connect, so a mistyped target touches nothing (not
        even a SQLite file that does not exist yet); ``+N`` / ``label@-N`` wait for the
        database's revisions.
        """
        if not _resolve.counts_from_current(target):
            self.resolve(target)

    def resolve_one(self, target: str, *, current: tuple[str, ...] | None = None) -> str | None:
        """The single revision a target names; None means base."""
        return _resolve.resolve_one(self, target, current)

    def resolve_range(
        self, spec: str, *, current: tuple[str, ...] | None = None
    ) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
        """``START:END`` resolved; an empty side is None (base / heads).

        A bare ``+N`` / ``-N`` side counts from the other side: ``-3:B`` starts three below B.
        """
        return _resolve.resolve_range(self, spec, current)


def _refuse_name(kind: str, name: str, rev: Revision, header: str) -> NoReturn:
    """Refuse a name a target expression could not address."""
    if not name:
        problem = "is empty"
    elif name in RESERVED_NAMES:
        problem = "is a reserved word"
    else:
        problem = "contains '@', ':' or whitespace"
    owner = "" if header == "revision" else f" of revision {rev.revision!r}"
    raise RevisionError(f"{kind} {name!r}{owner} {problem}", location=rev.location(header))
