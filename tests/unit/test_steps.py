"""The migration plan: which revisions run, in which order, and the version rows after each.

Example histories drawn as ``parent <- child``. test_steps_vs_alembic.py checks the same
rules against Alembic on random histories.
"""

from __future__ import annotations

import time

import pytest

from amigrate.errors import (
    AmbiguousRevisionError,
    MultipleHeadsError,
    NotAncestorError,
    RevisionError,
    UnknownRevisionError,
)
from amigrate.runtime.steps import (
    MigrationStep,
    VersionChange,
    plan_downgrade,
    plan_range_for_sql,
    plan_stamp,
    plan_upgrade,
)
from amigrate.runtime.versions_plan import apply_changes
from amigrate.script.revision import Revision, RevisionMap


def rev(
    rev_id: str, *down: str, labels: tuple[str, ...] = (), deps: tuple[str, ...] = (), doc: str = ""
) -> Revision:
    return Revision(
        rev_id, down_revisions=down, branch_labels=frozenset(labels), depends_on=deps, doc=doc
    )


def insert(new: str) -> VersionChange:
    return VersionChange("insert", new=new)


def update(old: str, new: str) -> VersionChange:
    return VersionChange("update", old=old, new=new)


def delete(old: str) -> VersionChange:
    return VersionChange("delete", old=old)


def walk(steps: list[MigrationStep]) -> list[tuple[str, tuple[str, ...]]]:
    """Each step as (revision, rows after it), checking the changes lead there."""
    seen = []
    for step in steps:
        assert apply_changes(step.heads_before, step.changes) == step.heads_after
        seen.append((step.revision.revision, step.heads_after))
    return seen


def ran(steps: list[MigrationStep]) -> list[str]:
    return [step.revision.revision for step in steps]


def final(steps: list[MigrationStep], start: tuple[str, ...] = ()) -> tuple[str, ...]:
    return steps[-1].heads_after if steps else start


@pytest.fixture
def linear() -> RevisionMap:
    """a <- b <- c <- d"""
    return RevisionMap(
        [
            rev("a", doc="create users"),
            rev("b", "a", doc="add email"),
            rev("c", "b"),
            rev("d", "c", doc="index email"),
        ]
    )


@pytest.fixture
def forked() -> RevisionMap:
    """a <- b, then two lines: b <- c1 <- d1 ('x') and b <- c2 ('z'); m merges c1 and c2."""
    return RevisionMap(
        [
            rev("a"),
            rev("b", "a"),
            rev("c1", "b", labels=("x",)),
            rev("d1", "c1"),
            rev("c2", "b", labels=("z",)),
            rev("m", "c1", "c2", doc="merge"),
        ]
    )


@pytest.fixture
def two_roots() -> RevisionMap:
    """The app line a <- b <- c, and a new root p <- q labelled 'audit'; q depends on b."""
    return RevisionMap(
        [
            rev("a"),
            rev("b", "a"),
            rev("c", "b"),
            rev("p", labels=("audit",), doc="audit table"),
            rev("q", "p", deps=("b",)),
        ]
    )


# -- linear ----------------------------------------------------------------------------------


def test_upgrade_from_base_inserts_once_then_updates(linear: RevisionMap) -> None:
    steps = plan_upgrade(linear, [], "head")
    assert [step.changes for step in steps] == [
        (insert("a"),),
        (update("a", "b"),),
        (update("b", "c"),),
        (update("c", "d"),),
    ]
    assert steps[0].heads_before == ()
    assert walk(steps)[-1] == ("d", ("d",))


def test_descriptions_read_like_alembic_log_lines(linear: RevisionMap) -> None:
    up = plan_upgrade(linear, [], "b")
    assert [step.description for step in up] == [
        "upgrade  -> a, create users",
        "upgrade a -> b, add email",
    ]
    down = plan_downgrade(linear, ["c"], "a")
    assert [step.description for step in down] == [
        "downgrade c -> b",
        "downgrade b -> a, add email",
    ]


def test_downgrade_runs_children_first_and_deletes_the_last_row(linear: RevisionMap) -> None:
    steps = plan_downgrade(linear, ["d"], "base")
    assert walk(steps) == [("d", ("c",)), ("c", ("b",)), ("b", ("a",)), ("a", ())]
    assert steps[-1].changes == (delete("a"),)
    assert all(not step.is_upgrade for step in steps)


def test_already_there_is_no_step(linear: RevisionMap) -> None:
    assert plan_upgrade(linear, ["d"], "head") == []
    assert plan_upgrade(linear, ["b"], "b") == []
    assert plan_downgrade(linear, ["b"], "b") == []
    assert plan_downgrade(linear, [], "base") == []


# -- branches and merges ---------------------------------------------------------------------


def test_upgrading_both_branches_writes_a_row_for_each(forked: RevisionMap) -> None:
    steps = plan_upgrade(forked, ["b"], "d1")
    assert walk(steps) == [("c1", ("c1",)), ("d1", ("d1",))]
    steps = plan_upgrade(forked, ["d1"], "c2")
    assert walk(steps) == [("c2", ("c2", "d1"))]
    assert steps[0].changes == (insert("c2"),)  # a new branch: its parent is no row


def test_a_merge_deletes_one_parent_row_and_updates_the_other(forked: RevisionMap) -> None:
    [step] = plan_upgrade(forked, ["c1", "c2"], "m")
    assert step.changes == (delete("c1"), update("c2", "m"))
    assert step.description == "upgrade c1, c2 -> m, merge"
    assert step.heads_after == ("m",)


def test_a_merge_beside_another_branch_keeps_that_row(forked: RevisionMap) -> None:
    [step] = plan_upgrade(forked, ["d1", "c2"], "m")
    assert step.changes == (update("c2", "m"),)  # c1 is below d1: not a row
    assert step.heads_after == ("d1", "m")


def test_undoing_a_merge_writes_both_parents_back(forked: RevisionMap) -> None:
    [step] = plan_downgrade(forked, ["m"], "c1")
    assert step.changes == (insert("c1"), update("m", "c2"))
    assert step.heads_after == ("c1", "c2")


def test_downgrade_to_the_branch_point_removes_both_branches(forked: RevisionMap) -> None:
    steps = plan_downgrade(forked, ["d1", "m"], "b")
    assert set(ran(steps)) == {"d1", "m", "c1", "c2"}
    assert ran(steps).index("m") < ran(steps).index("c1")  # children first
    assert final(steps) == ("b",)


def test_label_relative_downgrade_leaves_the_other_branch(forked: RevisionMap) -> None:
    steps = plan_downgrade(forked, ["c2", "d1"], "x@-1")
    assert walk(steps) == [("d1", ("c1", "c2"))]
    steps = plan_downgrade(forked, ["c2", "d1"], "x@-2")
    assert walk(steps) == [("d1", ("c1", "c2")), ("c1", ("c2",))]


def test_label_at_base_takes_the_branch_from_its_first_revision(forked: RevisionMap) -> None:
    """D4 in test_steps_vs_alembic.py: Alembic reads 'x@base' as the base of the whole tree x
    grows from and also removes b, a and the other branch."""
    steps = plan_downgrade(forked, ["c2", "d1"], "x@base")
    assert walk(steps) == [("d1", ("c1", "c2")), ("c1", ("c2",))]


def test_a_merge_of_revisions_in_line_through_depends_on() -> None:
    """b depends on a; m merges a and b. Alembic's bookkeeping deletes the row 'a', which is
    not there (a KeyError); here a is simply below b."""
    graph = RevisionMap([rev("a"), rev("b", labels=("y",), deps=("a",)), rev("m", "a", "b")])
    steps = plan_upgrade(graph, [], "m")
    assert walk(steps) == [("a", ("a",)), ("b", ("b",)), ("m", ("m",))]
    assert walk(plan_downgrade(graph, ["m"], "base")) == [("m", ("b",)), ("b", ("a",)), ("a", ())]


# -- depends_on and new roots ------------------------------------------------------------------


def test_upgrading_a_dependent_applies_its_dependency_first(two_roots: RevisionMap) -> None:
    steps = plan_upgrade(two_roots, [], "q")
    assert walk(steps) == [("a", ("a",)), ("b", ("b",)), ("p", ("b", "p")), ("q", ("q",))]
    assert steps[-1].changes == (delete("p"), update("b", "q"))  # down_revision first, as Alembic


def test_a_dependency_held_row_is_taken_over_by_the_dependent(two_roots: RevisionMap) -> None:
    [step] = plan_upgrade(two_roots, ["b", "p"], "q")
    assert step.changes == (delete("p"), update("b", "q"))
    assert step.heads_after == ("q",)


def test_moving_the_dependency_line_on_adds_a_row(two_roots: RevisionMap) -> None:
    [step] = plan_upgrade(two_roots, ["q"], "c")
    assert step.changes == (insert("c"),)  # b is held by q, not a row
    assert step.heads_after == ("c", "q")


def test_downgrading_a_dependency_takes_its_dependents_along(two_roots: RevisionMap) -> None:
    steps = plan_downgrade(two_roots, ["c", "q"], "a")
    # after c, b is no row: q still depends on it
    assert walk(steps) == [("c", ("q",)), ("q", ("b", "p")), ("b", ("a", "p"))]


def test_downgrade_to_a_revision_held_by_a_dependent_needs_no_step(two_roots: RevisionMap) -> None:
    """D2: Alembic refuses ("Nothing to drop"); b is applied and nothing of its line is above."""
    assert plan_downgrade(two_roots, ["q"], "b") == []


def test_a_new_root_is_a_row_of_its_own(two_roots: RevisionMap) -> None:
    steps = plan_upgrade(two_roots, ["c"], "audit@+1")
    assert walk(steps) == [("p", ("c", "p"))]
    assert steps[0].changes == (insert("p"),)
    assert steps[0].description == "upgrade  -> p, audit table"


def test_downgrading_a_root_branch_to_base_leaves_the_app_line(two_roots: RevisionMap) -> None:
    steps = plan_downgrade(two_roots, ["c", "q"], "audit@base")
    assert walk(steps) == [("q", ("c", "p")), ("p", ("c",))]


# -- relative and symbolic targets -----------------------------------------------------------


def test_relative_targets_count_from_the_current_revision(linear: RevisionMap) -> None:
    assert ran(plan_upgrade(linear, [], "+2")) == ["a", "b"]
    assert ran(plan_upgrade(linear, ["b"], "+1")) == ["c"]
    assert ran(plan_upgrade(linear, ["a"], "a+2")) == ["b", "c"]
    assert ran(plan_downgrade(linear, ["d"], "-1")) == ["d"]
    assert ran(plan_downgrade(linear, ["c"], "-3")) == ["c", "b", "a"]  # down to base


def test_stepping_down_to_base_keeps_other_roots(two_roots: RevisionMap) -> None:
    steps = plan_downgrade(two_roots, ["c", "p"], "audit@-1")
    assert walk(steps) == [("p", ("c",))]


def test_label_relative_steps_up_along_the_branch(
    forked: RevisionMap, two_roots: RevisionMap
) -> None:
    assert ran(plan_upgrade(forked, ["c2"], "x@+1")) == ["c1"]
    assert ran(plan_upgrade(two_roots, ["c"], "audit@+2")) == ["p", "q"]
    assert ran(plan_upgrade(two_roots, ["c", "p"], "audit@+1")) == ["q"]


def test_heads_and_base(forked: RevisionMap) -> None:
    steps = plan_upgrade(forked, [], "heads")
    assert final(steps) == ("d1", "m")
    assert ran(plan_downgrade(forked, ["d1", "m"], "base"))[-1] == "a"
    assert final(plan_downgrade(forked, ["d1", "m"], "base")) == ()


# -- stamp -----------------------------------------------------------------------------------


def test_stamp_from_an_empty_table_inserts(forked: RevisionMap) -> None:
    plan = plan_stamp(forked, [], ["c1"])
    assert plan.changes == (insert("c1"),)
    assert plan.heads_after == ("c1",)


def test_stamp_up_and_down_updates_the_row_on_the_same_line(linear: RevisionMap) -> None:
    assert plan_stamp(linear, ["b"], ["d"]).changes == (update("b", "d"),)
    assert plan_stamp(linear, ["d"], ["a"]).changes == (update("d", "a"),)
    assert plan_stamp(linear, ["d"], ["d"]).changes == ()


def test_stamp_on_another_branch_adds_a_row(forked: RevisionMap) -> None:
    plan = plan_stamp(forked, ["d1"], ["c2"])
    assert plan.changes == (insert("c2"),)
    assert plan.heads_after == ("c2", "d1")


def test_stamp_below_a_branch_point_replaces_both_branches(forked: RevisionMap) -> None:
    plan = plan_stamp(forked, ["c2", "d1"], ["b"])
    assert plan.changes == (delete("c2"), update("d1", "b"))
    assert plan.heads_after == ("b",)


def test_stamp_several_revisions(forked: RevisionMap) -> None:
    plan = plan_stamp(forked, ["b"], ["d1", "c2"])
    assert plan.changes == (update("b", "d1"), insert("c2"))
    assert plan.heads_after == ("c2", "d1")
    assert plan_stamp(forked, [], ["heads"]).heads_after == ("d1", "m")


def test_stamp_of_revisions_in_line_writes_only_the_upper(forked: RevisionMap) -> None:
    assert plan_stamp(forked, [], ["a", "c1"]).heads_after == ("c1",)


def test_stamp_base_deletes_every_row(forked: RevisionMap) -> None:
    plan = plan_stamp(forked, ["c2", "d1"], ["base"])
    assert plan.changes == (delete("c2"), delete("d1"))
    assert plan.heads_after == ()


def test_stamp_label_at_base_deletes_that_branch_only(two_roots: RevisionMap) -> None:
    plan = plan_stamp(two_roots, ["c", "p"], ["audit@base"])
    assert plan.changes == (delete("p"),)
    assert plan.heads_after == ("c",)


def test_stamp_purge_clears_even_unknown_rows_first(linear: RevisionMap) -> None:
    plan = plan_stamp(linear, ["zz9", "b"], ["c"], purge=True)
    assert plan.changes == (delete("zz9"), delete("b"), insert("c"))
    assert (plan.heads_before, plan.heads_after) == (("b", "zz9"), ("c",))
    assert plan_stamp(linear, ["b"], ["base"], purge=True).heads_after == ()


# -- offline ranges --------------------------------------------------------------------------


def test_sql_ranges_start_where_the_range_says(linear: RevisionMap) -> None:
    assert ran(plan_range_for_sql(linear, None, "b", is_upgrade=True)) == ["a", "b"]
    assert ran(plan_range_for_sql(linear, "base", "b", is_upgrade=True)) == ["a", "b"]
    assert ran(plan_range_for_sql(linear, "b", "d", is_upgrade=True)) == ["c", "d"]
    assert ran(plan_range_for_sql(linear, "b", "+1", is_upgrade=True)) == ["c"]
    assert ran(plan_range_for_sql(linear, "-2", "head", is_upgrade=True)) == ["c", "d"]
    assert ran(plan_range_for_sql(linear, "d", "b", is_upgrade=False)) == ["d", "c"]
    assert ran(plan_range_for_sql(linear, "c", "-1", is_upgrade=False)) == ["c"]


def test_sql_downgrade_needs_a_start(linear: RevisionMap) -> None:
    with pytest.raises(RevisionError) as excinfo:
        plan_range_for_sql(linear, None, "base", is_upgrade=False)
    assert str(excinfo.value) == (
        "downgrade --sql needs a range START:END "
        "(offline mode cannot read the database's revision, e.g. 'head:base')"
    )


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("b", "'b' is below the current revision 'c'; use downgrade"),
        ("-1", "'-1' (b) is below the current revision 'c'; use downgrade"),
        ("base", "'base' is below the current revision 'c'; use downgrade"),
    ],
)
def test_upgrade_below_the_current_revision(linear: RevisionMap, target: str, message: str) -> None:
    with pytest.raises(NotAncestorError) as excinfo:
        plan_upgrade(linear, ["c"], target)
    assert str(excinfo.value) == message


def test_upgrade_below_one_of_several_rows(forked: RevisionMap) -> None:
    with pytest.raises(NotAncestorError) as excinfo:
        plan_upgrade(forked, ["c2", "d1"], "c1")
    assert str(excinfo.value) == "'c1' is below the current revision 'd1'; use downgrade"


def test_downgrade_above_the_current_revision(linear: RevisionMap) -> None:
    with pytest.raises(NotAncestorError) as excinfo:
        plan_downgrade(linear, ["b"], "d")
    assert str(excinfo.value) == "'d' is above the current revision 'b'; use upgrade"


def test_downgrade_to_another_branch(forked: RevisionMap) -> None:
    with pytest.raises(NotAncestorError) as excinfo:
        plan_downgrade(forked, ["d1"], "c2")
    assert str(excinfo.value) == (
        "'c2' is not below the current revision 'd1' "
        "(downgrade goes down to a revision the database has applied)"
    )


def test_downgrade_from_an_empty_table(linear: RevisionMap) -> None:
    with pytest.raises(NotAncestorError) as excinfo:
        plan_downgrade(linear, [], "a")
    assert str(excinfo.value) == (
        "'a' is above the current revision (base: the version table is empty); use upgrade"
    )


def test_relative_targets_past_base_or_head(linear: RevisionMap) -> None:
    with pytest.raises(RevisionError) as excinfo:
        plan_downgrade(linear, ["b"], "-5")
    assert str(excinfo.value) == "revision target '-5' goes 3 revisions below base"
    with pytest.raises(RevisionError) as excinfo:
        plan_upgrade(linear, ["b"], "+5")
    assert str(excinfo.value) == "revision target '+5' goes 3 revisions above head 'd'"


def test_relative_downgrade_from_several_rows_is_ambiguous(forked: RevisionMap) -> None:
    with pytest.raises(AmbiguousRevisionError, match="'-1' is ambiguous: the current revisions"):
        plan_downgrade(forked, ["c2", "d1"], "-1")


def test_head_with_several_heads(forked: RevisionMap) -> None:
    with pytest.raises(MultipleHeadsError) as excinfo:
        plan_upgrade(forked, [], "head")
    assert str(excinfo.value) == (
        "'head' needs a single head, but there are 2: d1, m "
        "(name one, e.g. 'z@head', or use 'heads')"
    )


def test_rows_naming_unknown_revisions(linear: RevisionMap) -> None:
    for plan in (plan_upgrade, plan_downgrade):
        with pytest.raises(UnknownRevisionError) as excinfo:
            plan(linear, ["zz9"], "head")
        assert str(excinfo.value) == (
            "the database is at 'zz9', which no revision file declares "
            "(restore the missing revision file, or reset the version table with 'stamp --purge')"
        )
    with pytest.raises(UnknownRevisionError, match="'zz1' and 'zz9', which"):
        plan_stamp(linear, ["zz9", "b", "zz1"], ["c"])


def test_stamp_base_with_other_targets(forked: RevisionMap) -> None:
    with pytest.raises(RevisionError) as excinfo:
        plan_stamp(forked, [], ["base", "c1"])
    assert str(excinfo.value) == (
        "cannot stamp 'base', 'c1' at once: a 'base' target clears what the others would write"
        " (stamp the base target first, then the others)"
    )


def test_stamp_targets_must_be_a_list(linear: RevisionMap) -> None:
    with pytest.raises(TypeError, match="got the string 'head'"):
        plan_stamp(linear, [], "head")


# -- size --------------------------------------------------------------------------------------


def test_a_long_chain_is_planned_in_linear_time() -> None:
    """2,000 revisions up and back down in well under a second (Alembic re-walks the chain at
    every downgrade step)."""
    ids = [f"r{i:04d}" for i in range(2000)]
    graph = RevisionMap([rev(ids[0]), *(rev(ids[i], ids[i - 1]) for i in range(1, 2000))])
    started = time.perf_counter()
    up = plan_upgrade(graph, [], "head")
    down = plan_downgrade(graph, [ids[-1]], "base")
    elapsed = time.perf_counter() - started
    assert len(up) == len(down) == 2000
    assert final(down) == ()
    assert elapsed < 2.0
