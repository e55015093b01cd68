"""RevisionMap against a brute-force reference on random histories with branches and merges."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amigrate.errors import AmbiguousRevisionError, CycleError, NotAncestorError, RevisionError
from amigrate.script.revision import Revision, RevisionMap

# A small alphabet, so that ids often share prefixes (and some ids prefix others).
ID_CHARS = "0a1b"
SETTINGS = settings(max_examples=200, deadline=None)


@st.composite
def histories(draw: st.DrawFn) -> list[Revision]:
    """Up to 40 revisions, each on 0-2 earlier ones, some depending on unrelated earlier ones."""
    size = draw(st.integers(1, 40))
    names = draw(
        st.lists(
            st.text(ID_CHARS, min_size=1, max_size=5), min_size=size, max_size=size, unique=True
        )
    )
    revisions: list[Revision] = []
    below: list[set[int]] = []  # indices each revision reaches, itself included
    for i, name in enumerate(names):
        parents = draw(st.lists(st.integers(0, i - 1), max_size=2, unique=True)) if i else []
        reached = {i}.union(*(below[p] for p in parents))
        unrelated = [j for j in range(i) if j not in reached]
        deps = (
            draw(st.lists(st.sampled_from(unrelated), max_size=2, unique=True)) if unrelated else []
        )
        below.append(reached.union(*(below[d] for d in deps)))
        revisions.append(
            Revision(
                name,
                down_revisions=tuple(names[p] for p in parents),
                depends_on=tuple(names[d] for d in deps),
            )
        )
    return draw(st.permutations(revisions))


class Reference:
    """The graph computed the slow, obvious way."""

    def __init__(self, revisions: list[Revision]) -> None:
        self.ids = [r.revision for r in revisions]
        self.parents = {r.revision: set(r.down_revisions) for r in revisions}
        self.deps = {r.revision: set(r.depends_on) for r in revisions}
        self.below = _closure({r: self.parents[r] | self.deps[r] for r in self.ids})
        self.below_plain = _closure(self.parents)
        self.above = {r: {s for s in self.ids if r in self.below[s]} for r in self.ids}
        self.above_plain = {r: {s for s in self.ids if r in self.below_plain[s]} for r in self.ids}

    def children(self, rev_id: str) -> set[str]:
        return {s for s in self.ids if rev_id in self.parents[s]}

    def heads(self) -> set[str]:
        return {r for r in self.ids if not self.children(r)}

    def real_heads(self) -> set[str]:
        return {r for r in self.heads() if not any(r in self.deps[s] for s in self.ids)}

    def bases(self) -> set[str]:
        return {r for r in self.ids if not self.parents[r]}


def _closure(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """Each node with everything it reaches, by repeated set union until nothing changes."""
    reach = {node: {node} | targets for node, targets in edges.items()}
    changed = True
    while changed:
        changed = False
        for node, found in reach.items():
            grown = found.union(*(reach[t] for t in found))
            if grown != found:
                reach[node] = grown
                changed = True
    return reach


def some_ids(data: st.DataObject, ids: list[str], min_size: int = 0) -> list[str]:
    return data.draw(st.lists(st.sampled_from(ids), min_size=min_size, max_size=4, unique=True))


@SETTINGS
@given(histories())
def test_heads_real_heads_and_bases(revisions: list[Revision]) -> None:
    graph, ref = RevisionMap(revisions), Reference(revisions)
    walked = [r.revision for r in graph.walk()]
    for found, expected in [
        (graph.heads, ref.heads()),
        (graph.real_heads, ref.real_heads()),
        (graph.bases, ref.bases()),
    ]:
        assert set(found) == expected
        assert list(found) == [r for r in walked if r in expected]  # listed newest first


@SETTINGS
@given(histories(), st.data())
def test_ancestors_and_descendants(revisions: list[Revision], data: st.DataObject) -> None:
    graph, ref = RevisionMap(revisions), Reference(revisions)
    chosen = some_ids(data, ref.ids)
    assert graph.ancestors(chosen) == set().union(*(ref.below[r] for r in chosen))
    assert graph.descendants(chosen) == set().union(*(ref.above[r] for r in chosen))
    assert graph.ancestors(chosen, include_dependencies=False) == set().union(
        *(ref.below_plain[r] for r in chosen)
    )
    assert graph.descendants(chosen, include_dependencies=False) == set().union(
        *(ref.above_plain[r] for r in chosen)
    )


@SETTINGS
@given(histories(), st.data())
def test_walk(revisions: list[Revision], data: st.DataObject) -> None:
    graph, ref = RevisionMap(revisions), Reference(revisions)
    upper = some_ids(data, ref.ids, min_size=1) if data.draw(st.booleans()) else None
    lower = some_ids(data, ref.ids) if data.draw(st.booleans()) else None
    tops = ref.heads() if upper is None else set(upper)
    reachable = set().union(*(ref.below[r] for r in tops))
    if lower and not set(lower) <= reachable:
        with pytest.raises(NotAncestorError, match="is not an ancestor of"):
            graph.walk(upper, lower)
        return
    expected = reachable
    if lower:
        expected &= set().union(*(ref.above[r] for r in lower))
    walked = [r.revision for r in graph.walk(upper, lower)]
    assert len(walked) == len(set(walked))
    assert set(walked) == expected
    position = {rev_id: i for i, rev_id in enumerate(walked)}
    for rev_id in walked:
        for above in ref.above[rev_id] & expected:
            assert position[above] <= position[rev_id], f"{above} listed after {rev_id}"


@SETTINGS
@given(histories())
def test_walk_order_does_not_depend_on_input_order(revisions: list[Revision]) -> None:
    forward = RevisionMap(revisions).walk()
    backward = RevisionMap(reversed(revisions)).walk()
    assert forward == backward


@SETTINGS
@given(histories(), st.data())
def test_prefix_resolution(revisions: list[Revision], data: st.DataObject) -> None:
    graph, ref = RevisionMap(revisions), Reference(revisions)
    name = data.draw(st.sampled_from(ref.ids))
    prefix = name[: data.draw(st.integers(1, len(name)))]
    sharing = sorted(r for r in ref.ids if r.startswith(prefix))
    if prefix in ref.ids or len(sharing) == 1:
        assert graph.resolve(prefix) == (prefix if prefix in ref.ids else sharing[0],)
    else:
        with pytest.raises(AmbiguousRevisionError) as excinfo:
            graph.resolve(prefix)
        assert excinfo.value.message == (
            f"revision prefix {prefix!r} matches {len(sharing)} revisions: {', '.join(sharing)}"
        )


@SETTINGS
@given(histories(), st.data())
def test_one_step_up_and_down(revisions: list[Revision], data: st.DataObject) -> None:
    graph, ref = RevisionMap(revisions), Reference(revisions)
    rev_id = data.draw(st.sampled_from(ref.ids))
    children, parents = sorted(ref.children(rev_id)), sorted(ref.parents[rev_id])
    if len(children) == 1:
        assert graph.resolve(f"{rev_id}+1") == (children[0],)
    else:
        error = RevisionError if not children else AmbiguousRevisionError
        with pytest.raises(error) as up:
            graph.resolve(f"{rev_id}+1")
        assert type(up.value) is error
        assert ", ".join(children) in up.value.message
    if len(parents) <= 1:
        assert graph.resolve(f"{rev_id}-1") == tuple(parents)
    else:
        with pytest.raises(AmbiguousRevisionError, match=re.escape(", ".join(parents))):
            graph.resolve(f"{rev_id}-1")


@SETTINGS
@given(histories(), st.data(), st.booleans())
def test_closing_a_loop_is_reported_as_a_real_cycle(
    revisions: list[Revision], data: st.DataObject, as_dependency: bool
) -> None:
    ref = Reference(revisions)
    upper = data.draw(st.sampled_from(ref.ids))
    lower = data.draw(st.sampled_from(sorted(ref.below[upper])))
    # `lower` is below `upper`; making `lower` name `upper` closes the loop.
    looped = []
    for r in revisions:
        if r.revision == lower and as_dependency:
            r = Revision(r.revision, r.down_revisions, depends_on=(*r.depends_on, upper))
        elif r.revision == lower:
            r = Revision(r.revision, (*r.down_revisions, upper), depends_on=r.depends_on)
        looped.append(r)
    with pytest.raises(CycleError) as excinfo:
        RevisionMap(looped)
    message = excinfo.value.message
    assert message.startswith("revision cycle: ")
    cycle = message.removeprefix("revision cycle: ").split(" -> ")
    assert cycle[0] == cycle[-1]
    assert len(set(cycle[:-1])) == len(cycle) - 1
    names = {r.revision: {*r.down_revisions, *r.depends_on} for r in looped}
    for here, there in itertools.pairwise(cycle):
        assert there in names[here], f"{here} does not name {there}"
