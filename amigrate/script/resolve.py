"""Target expressions (``head``, ``ab12``, ``feature@head``, ``-2``, ``A:B``) turned into ids.

Kept apart from ``revision.py`` so the graph stays readable; only the public queries of
``RevisionMap`` are used here. Like the graph, this is stdlib-only and never recursive over
the history: stepping ``-N`` walks N parents in a loop.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from amigrate.errors import (
    AmbiguousRevisionError,
    MultipleHeadsError,
    RevisionError,
    UnknownRevisionError,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from amigrate.script.revision import RevisionMap

# Targets counted from the database's revisions (``+1``; ``label@-2``, its label in group 1).
RELATIVE = re.compile(r"[+-]\d+")
BRANCH_RELATIVE = re.compile(r"([^@]+)@([+-]\d+)")
_OFFSET = re.compile(r"(.+?)([+-]\d+)")
_PREFIX_HINT = "use more characters of the id"


def resolve(rmap: RevisionMap, target: str, current: tuple[str, ...] | None) -> tuple[str, ...]:
    """See ``RevisionMap.resolve``. Exact ids and labels win over the expression syntax."""
    text = target.strip()
    if not text:
        raise RevisionError("the revision target is empty", hint="name a revision, e.g. 'head'")
    if text == "heads":
        return rmap.heads
    if text == "head":
        if len(rmap.heads) > 1:
            hint = f"name one, e.g. {_example(rmap)!r}, or use 'heads'"
            raise _several_heads(rmap.heads, text, hint)
        return rmap.heads
    if text == "base":
        return ()
    if text in rmap:
        return (text,)
    if text in rmap.labels:
        return (rmap.labels[text],)
    if RELATIVE.fullmatch(text):
        return _from_current(rmap, text, current)
    if m := BRANCH_RELATIVE.fullmatch(text):
        return _from_branch_current(rmap, m[1], int(m[2]), text, current)
    if m := _OFFSET.fullmatch(text):
        return _as_ids(_step(rmap, resolve_one(rmap, m[1], current), int(m[2]), text))
    if "@" in text:
        branch, _, where = text.partition("@")
        return _at(rmap, branch, where, text)
    return (_single_match(rmap, text),)


def counts_from_current(target: str) -> bool:
    """Whether ``target`` is relative to the database's revisions (``+1``, ``branch@-2``)."""
    text = target.strip()
    return bool(RELATIVE.fullmatch(text) or BRANCH_RELATIVE.fullmatch(text))


def resolve_one(rmap: RevisionMap, target: str, current: tuple[str, ...] | None) -> str | None:
    """See ``RevisionMap.resolve_one``."""
    found = resolve(rmap, target, current)
    if len(found) > 1:
        text = target.strip()
        error = MultipleHeadsError if text.endswith("heads") else AmbiguousRevisionError
        raise error(
            f"{text!r} names {len(found)} revisions where one is needed: {_listing(found)}",
            hint="name one of them",
        )
    return found[0] if found else None


def resolve_range(
    rmap: RevisionMap, spec: str, current: tuple[str, ...] | None
) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """See ``RevisionMap.resolve_range``."""
    text = spec.strip()
    if text.count(":") != 1:
        raise RevisionError(f"{text!r} is not a revision range", hint="ranges look like START:END")
    lower, upper = (part.strip() for part in text.split(":"))
    lower_relative = bool(RELATIVE.fullmatch(lower))
    upper_relative = bool(RELATIVE.fullmatch(upper))
    if lower_relative and upper_relative:
        raise RevisionError(
            f"both ends of revision range {text!r} are relative",
            hint="name one end, e.g. 'head-2:head'",
        )
    if lower_relative:
        return _relative_to(rmap, upper or "head", lower, current), _side(rmap, upper, current)
    if upper_relative:
        return _side(rmap, lower, current), _relative_to(rmap, lower or "base", upper, current)
    return _side(rmap, lower, current), _side(rmap, upper, current)


def _side(rmap: RevisionMap, text: str, current: tuple[str, ...] | None) -> tuple[str, ...] | None:
    return resolve(rmap, text, current) if text else None


def _relative_to(
    rmap: RevisionMap, anchor: str, offset: str, current: tuple[str, ...] | None
) -> tuple[str, ...]:
    start = resolve_one(rmap, anchor, current)
    return _as_ids(_step(rmap, start, int(offset), anchor + offset))


def _at(rmap: RevisionMap, branch: str, where: str, text: str) -> tuple[str, ...]:
    """``X@head``, ``X@heads``, ``X@base`` (X a label, id or prefix) and ``label@ID``."""
    is_label = branch in rmap.labels
    if where in ("head", "heads"):
        if is_label:
            scope = set(rmap.branch_revisions(branch))
        else:
            scope = rmap.descendants([_single_match(rmap, branch)], include_dependencies=False)
        tops = tuple(head for head in rmap.heads if head in scope)
        if where == "heads":
            return tops
        if len(tops) > 1:
            raise _several_heads(tops, text, f"name one of them, or use '{branch}@heads'")
        return tops
    if where == "base":
        if is_label:
            return _branch_base(rmap, branch)
        below = rmap.ancestors([_single_match(rmap, branch)], include_dependencies=False)
        return tuple(base for base in rmap.bases if base in below)
    if not is_label:
        raise UnknownRevisionError(
            f"{branch!r} is not a branch label",
            hint=f"in {text!r} the part before '@' must be a branch label",
        )
    members = rmap.branch_revisions(branch)
    everywhere = rmap.match(where)
    hits = [rev_id for rev_id in everywhere if rev_id in members]
    if len(hits) == 1:
        return (hits[0],)
    if hits:
        raise AmbiguousRevisionError(
            f"revision prefix {where!r} matches {len(hits)} revisions on branch {branch!r}: "
            f"{_listing(hits)}",
            hint=_PREFIX_HINT,
        )
    if everywhere:
        raise UnknownRevisionError(f"revision {where!r} is not on branch {branch!r}")
    raise _no_match(where)


def _branch_base(rmap: RevisionMap, label: str) -> tuple[str, ...]:
    """The lowest revisions carrying ``label``: none of their parents carries it."""
    members = rmap.branch_revisions(label)
    return tuple(
        rev_id
        for rev_id in rmap.ordered(members)
        if not any(parent in members for parent in rmap.parents(rev_id))
    )


def _from_current(rmap: RevisionMap, text: str, current: tuple[str, ...] | None) -> tuple[str, ...]:
    """Bare ``+N`` / ``-N``. Upgrading from several revisions is clear when only one of them
    is not a head; downgrading from several never is."""
    revs = _current(rmap, text, current)
    steps = int(text)
    if len(revs) <= 1:
        return _as_ids(_step(rmap, revs[0] if revs else None, steps, text))
    movable = [rev_id for rev_id in revs if not rmap.is_head(rev_id)] if steps > 0 else []
    if len(movable) != 1:
        first = sorted(revs)[0]
        raise AmbiguousRevisionError(
            f"relative revision {text!r} is ambiguous: the current revisions are {_listing(revs)}",
            hint=f"step from one of them, e.g. '{first}{text}', or along a branch: 'label@{text}'",
        )
    return _as_ids(_step(rmap, movable[0], steps, text))


def _from_branch_current(
    rmap: RevisionMap, label: str, steps: int, text: str, current: tuple[str, ...] | None
) -> tuple[str, ...]:
    """``label@+N`` / ``label@-N``: from the current revision on that branch. When the
    database has nothing of the branch yet, ``+1`` is the branch's lowest revision."""
    members = rmap.branch_revisions(label)
    on_branch = [rev_id for rev_id in _current(rmap, text, current) if rev_id in members]
    if len(on_branch) > 1:
        raise AmbiguousRevisionError(
            f"relative revision {text!r} is ambiguous: the current revisions on branch "
            f"{label!r} are {_listing(on_branch)}"
        )
    if on_branch:
        return _as_ids(_step(rmap, on_branch[0], steps, text))
    if steps <= 0:
        raise RevisionError(
            f"relative revision {text!r} needs a current revision on branch {label!r}, "
            "and there is none"
        )
    lows = _branch_base(rmap, label)
    if len(lows) > 1:
        raise AmbiguousRevisionError(
            f"relative revision {text!r} is ambiguous: branch {label!r} starts at several "
            f"revisions: {_listing(lows)}"
        )
    return _as_ids(_step(rmap, lows[0], steps - 1, text))


def _step(rmap: RevisionMap, start: str | None, steps: int, text: str) -> str | None:
    """Walk ``steps`` revisions up (children) or down (parents) from ``start`` (None: base)."""
    cur = start
    for done in range(abs(steps)):
        left = _count(abs(steps) - done)
        if steps > 0:
            above = rmap.bases if cur is None else rmap.children(cur)
            if not above:
                end = "base: there are no revisions" if cur is None else f"head {cur!r}"
                raise RevisionError(f"revision target {text!r} goes {left} above {end}")
            if len(above) > 1:
                why = "base has several" if cur is None else f"{cur!r} is a branch point with"
                raise AmbiguousRevisionError(
                    f"revision target {text!r} is ambiguous: {why} children {_listing(above)}",
                    hint="count from one of the children instead",
                )
            cur = above[0]
        else:
            if cur is None:
                raise RevisionError(f"revision target {text!r} goes {left} below base")
            below = rmap.parents(cur)
            if len(below) > 1:
                raise AmbiguousRevisionError(
                    f"revision target {text!r} is ambiguous: {cur!r} is a merge point "
                    f"with parents {_listing(below)}",
                    hint="step from one of the parents instead",
                )
            cur = below[0] if below else None
    return cur


def _current(rmap: RevisionMap, text: str, current: tuple[str, ...] | None) -> tuple[str, ...]:
    if current is None:
        raise RevisionError(
            f"relative revision {text!r} needs a current revision",
            hint="name a revision to count from, e.g. 'head-1'",
        )
    return tuple(rmap.get(rev_id).revision for rev_id in current)


def _several_heads(tops: tuple[str, ...], text: str, hint: str) -> MultipleHeadsError:
    return MultipleHeadsError(
        f"{text!r} needs a single head, but there are {len(tops)}: {_listing(tops)}", hint=hint
    )


def _example(rmap: RevisionMap) -> str:
    """A ``label@head`` (or an id) naming one of the heads, for hints."""
    heads = set(rmap.heads)
    for head in sorted(heads):
        for label in sorted(rmap.branch_labels_of(head)):
            if rmap.branch_revisions(label) & heads == {head}:
                return f"{label}@head"  # only when the label leads to this head alone
    return min(heads)


def _single_match(rmap: RevisionMap, text: str) -> str:
    hits = rmap.match(text)
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise AmbiguousRevisionError(
            f"revision prefix {text!r} matches {len(hits)} revisions: {_listing(hits)}",
            hint=_PREFIX_HINT,
        )
    raise _no_match(text)


def _no_match(text: str) -> UnknownRevisionError:
    return UnknownRevisionError(
        f"no revision matches {text!r}",
        hint="it is neither a revision id, an id prefix nor a branch label",
    )


def _as_ids(rev_id: str | None) -> tuple[str, ...]:
    return () if rev_id is None else (rev_id,)


def _count(n: int) -> str:
    return f"{n} revision" if n == 1 else f"{n} revisions"


def _listing(rev_ids: Iterable[str]) -> str:
    return ", ".join(sorted(rev_ids))
