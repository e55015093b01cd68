"""RevisionMap: the graph queries, target resolution, and every error a user can read."""

from __future__ import annotations

import pytest

from amigrate.errors import (
    AmbiguousRevisionError,
    CycleError,
    DuplicateRevisionError,
    MultipleHeadsError,
    NotAncestorError,
    RevisionError,
    UnknownRevisionError,
)
from amigrate.script.revision import Revision, RevisionMap

LINES = {"revision": 3, "down_revision": 4, "branch_labels": 5, "depends_on": 6}


def rev(
    rev_id: str,
    *down: str,
    labels: tuple[str, ...] = (),
    deps: tuple[str, ...] = (),
    path: str | None = None,
) -> Revision:
    return Revision(
        rev_id,
        down_revisions=down,
        branch_labels=frozenset(labels),
        depends_on=deps,
        path=path,
        lines=dict(LINES) if path else {},
    )


def ids(revisions: list[Revision]) -> list[str]:
    return [r.revision for r in revisions]


def error_text(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    """What the CLI prints after ``amigrate: error:``."""
    return str(excinfo.value)


@pytest.fixture
def linear() -> RevisionMap:
    """a <- b <- c <- d"""
    return RevisionMap([rev("a"), rev("b", "a"), rev("c", "b"), rev("d", "c")])


@pytest.fixture
def branched() -> RevisionMap:
    """b forks into the 'x' line (c1 <- d1 <- e1) and the 'y' line (c2 <- d2)."""
    return RevisionMap(
        [
            rev("a"),
            rev("b", "a"),
            rev("c1", "b", labels=("x",)),
            rev("d1", "c1"),
            rev("e1", "d1"),
            rev("c2", "b"),
            rev("d2", "c2", labels=("y",)),
        ]
    )


@pytest.fixture
def merged() -> RevisionMap:
    """b forks into c1 <- d1 and c2 <- d2, merged by m <- n; f branches off c2 as well."""
    return RevisionMap(
        [
            rev("a"),
            rev("b", "a"),
            rev("c1", "b"),
            rev("d1", "c1"),
            rev("c2", "b"),
            rev("d2", "c2"),
            rev("m", "d1", "d2"),
            rev("n", "m"),
            rev("f", "c2"),
        ]
    )


@pytest.fixture
def dependent() -> RevisionMap:
    """a <- b <- c, and a separate root x <- y where y depends on c (by its branch label)."""
    return RevisionMap(
        [
            rev("a"),
            rev("b", "a"),
            rev("c", "b", labels=("main",)),
            rev("x"),
            rev("y", "x", deps=("main",)),
        ]
    )


# -- shape of the graph -------------------------------------------------------------------


def test_linear_history(linear: RevisionMap) -> None:
    assert linear.heads == ("d",)
    assert linear.real_heads == ("d",)
    assert linear.bases == ("a",)
    assert ids(linear.walk()) == ["d", "c", "b", "a"]
    assert linear.children("b") == ("c",)
    assert linear.parents("b") == ("a",)
    assert linear.branch_points() == ()
    assert len(linear) == 4
    assert "c" in linear
    assert "zz" not in linear
    assert linear.get("c").revision == "c"
    assert list(linear.revisions) == ["a", "b", "c", "d"]


def test_branched_history(branched: RevisionMap) -> None:
    assert branched.heads == ("d2", "e1")
    assert branched.bases == ("a",)
    assert branched.children("b") == ("c2", "c1")
    assert branched.is_branch_point("b")
    assert not branched.is_branch_point("c1")
    assert branched.branch_points() == ("b",)
    assert branched.is_head("e1")
    assert not branched.is_head("d1")


def test_merged_history(merged: RevisionMap) -> None:
    assert merged.heads == ("f", "n")
    assert merged.is_merge_point("m")
    assert not merged.is_merge_point("n")
    assert merged.parents("m") == ("d1", "d2")
    assert merged.branch_points() == ("c2", "b")


def test_walk_prints_a_branched_and_merged_history_branch_by_branch(merged: RevisionMap) -> None:
    assert ids(merged.walk()) == ["f", "n", "m", "d1", "c1", "d2", "c2", "b", "a"]


def test_walk_lists_each_branch_whole_before_the_next(branched: RevisionMap) -> None:
    assert ids(branched.walk()) == ["d2", "c2", "e1", "d1", "c1", "b", "a"]


def test_walk_does_not_depend_on_the_order_revisions_are_given(merged: RevisionMap) -> None:
    shuffled = RevisionMap(reversed(list(merged.revisions.values())))
    assert ids(shuffled.walk()) == ids(merged.walk())


def test_walk_between_two_revisions(merged: RevisionMap) -> None:
    assert ids(merged.walk(upper=["m"], lower=["c2"])) == ["m", "d2", "c2"]
    assert ids(merged.walk(upper=["n"])) == ["n", "m", "d1", "c1", "d2", "c2", "b", "a"]
    assert ids(merged.walk(lower=["d1"])) == ["n", "m", "d1"]
    assert merged.walk(upper=[]) == []


def test_walk_refuses_a_lower_end_that_is_not_below_the_upper_end(merged: RevisionMap) -> None:
    with pytest.raises(NotAncestorError) as excinfo:
        merged.walk(upper=["d1"], lower=["c2"])
    assert error_text(excinfo) == "revision 'c2' is not an ancestor of 'd1'"


def test_walk_takes_ids_not_a_single_string(linear: RevisionMap) -> None:
    with pytest.raises(TypeError):
        linear.walk(upper="d")


def test_multiple_roots() -> None:
    graph = RevisionMap([rev("a1"), rev("a2", "a1"), rev("b1"), rev("b2", "b1")])
    assert graph.bases == ("a1", "b1")
    assert graph.heads == ("a2", "b2")
    assert ids(graph.walk()) == ["a2", "a1", "b2", "b1"]
    assert graph.resolve("a2@base") == ("a1",)
    with pytest.raises(AmbiguousRevisionError) as excinfo:
        graph.resolve("base+1")
    assert error_text(excinfo) == (
        "revision target 'base+1' is ambiguous: base has several children a1, b1 "
        "(count from one of the children instead)"
    )


def test_depends_on(dependent: RevisionMap) -> None:
    assert dependent.dependencies("y") == ("c",)
    assert dependent.dependents("c") == ("y",)
    assert dependent.dependencies("c") == ()
    assert dependent.heads == ("y", "c")
    assert dependent.real_heads == ("y",)
    assert not dependent.is_real_head("c")
    assert dependent.is_head("c")
    assert ids(dependent.walk()) == ["y", "x", "c", "b", "a"]


def test_ancestors_and_descendants_follow_dependencies_unless_told_not_to(
    dependent: RevisionMap,
) -> None:
    assert dependent.ancestors(["y"]) == {"y", "x", "c", "b", "a"}
    assert dependent.ancestors(["y"], include_dependencies=False) == {"y", "x"}
    assert dependent.descendants(["b"]) == {"b", "c", "y"}
    assert dependent.descendants(["b"], include_dependencies=False) == {"b", "c"}


def test_depends_on_may_name_a_prefix_or_a_label() -> None:
    graph = RevisionMap(
        [
            rev("1a2b3c"),
            rev("9f8e", labels=("billing",)),
            rev("77", deps=("1a2", "billing", "1a2b3c")),
        ]
    )
    assert graph.dependencies("77") == ("1a2b3c", "9f8e")


def test_queries_reject_an_unknown_id(linear: RevisionMap) -> None:
    with pytest.raises(UnknownRevisionError) as excinfo:
        linear.get("zz")
    assert error_text(excinfo) == "no revision matches 'zz'"
    with pytest.raises(UnknownRevisionError):
        linear.children("zz")
    with pytest.raises(UnknownRevisionError):
        linear.ancestors(["zz"])


def test_an_empty_map() -> None:
    graph = RevisionMap([])
    assert (graph.heads, graph.bases, graph.walk()) == ((), (), [])
    assert graph.resolve("head") == ()
    assert graph.resolve("heads") == ()
    with pytest.raises(RevisionError) as excinfo:
        graph.resolve("base+1")
    assert error_text(excinfo) == (
        "revision target 'base+1' goes 1 revision above base: there are no revisions"
    )


# -- branch labels -------------------------------------------------------------------------


def test_labels_spread_to_descendants_and_down_to_the_branch_point(
    branched: RevisionMap,
) -> None:
    assert branched.branch_labels_of("c1") == {"x"}
    assert branched.branch_labels_of("e1") == {"x"}
    assert branched.branch_labels_of("c2") == {"y"}  # below the declaring d2, above the fork
    assert branched.branch_labels_of("b") == frozenset()  # the branch point itself
    assert branched.branch_revisions("x") == {"c1", "d1", "e1"}
    assert branched.labels == {"x": "c1", "y": "d2"}


def test_a_label_on_a_linear_history_reaches_the_base(linear: RevisionMap) -> None:
    graph = RevisionMap([*linear.revisions.values(), rev("e", "d", labels=("core",))])
    assert {r for r in graph.revisions if "core" in graph.branch_labels_of(r)} == {
        "a",
        "b",
        "c",
        "d",
        "e",
    }


def test_labels_stop_below_at_a_merge_point_and_pass_through_it_above() -> None:
    graph = RevisionMap(
        [
            rev("a"),
            rev("p", "a", labels=("left",)),
            rev("q", "a", labels=("right",)),
            rev("m", "p", "q"),
            rev("n", "m", labels=("top",)),
        ]
    )
    assert graph.branch_labels_of("m") == {"left", "right"}
    assert graph.branch_labels_of("n") == {"left", "right", "top"}
    assert graph.branch_revisions("top") == {"n"}
    assert graph.resolve("top@base") == ("n",)
    assert graph.resolve("left@base") == ("p",)


def test_branch_label_targets(branched: RevisionMap) -> None:
    assert branched.resolve("x") == ("c1",)
    assert branched.resolve("x@head") == ("e1",)
    assert branched.resolve("x@heads") == ("e1",)
    assert branched.resolve("x@base") == ("c1",)
    assert branched.resolve("y@base") == ("c2",)
    assert branched.resolve("y@head") == ("d2",)
    assert branched.resolve("x@d1") == ("d1",)
    assert branched.resolve("x@d") == ("d1",)  # d2 is not on branch x
    assert branched.resolve("x@head-1") == ("d1",)
    assert branched.resolve("x-1") == ("b",)


def test_id_at_head_and_base(branched: RevisionMap) -> None:
    assert branched.resolve("d1@head") == ("e1",)
    assert branched.resolve("b@heads") == ("d2", "e1")
    assert branched.resolve("d1@base") == ("a",)
    with pytest.raises(MultipleHeadsError) as excinfo:
        branched.resolve("b@head")
    assert error_text(excinfo) == (
        "'b@head' needs a single head, but there are 2: d2, e1 (name one of them, or use 'b@heads')"
    )


def test_label_at_id_outside_the_branch(branched: RevisionMap) -> None:
    with pytest.raises(UnknownRevisionError) as excinfo:
        branched.resolve("y@d1")
    assert error_text(excinfo) == "revision 'd1' is not on branch 'y'"
    with pytest.raises(UnknownRevisionError) as excinfo:
        branched.resolve("y@zz")
    assert error_text(excinfo) == (
        "no revision matches 'zz' (it is neither a revision id, an id prefix nor a branch label)"
    )
    with pytest.raises(UnknownRevisionError) as excinfo:
        branched.resolve("zz@d1")
    assert error_text(excinfo) == (
        "'zz' is not a branch label (in 'zz@d1' the part before '@' must be a branch label)"
    )


def test_label_relative_to_the_current_revision(branched: RevisionMap) -> None:
    assert branched.resolve("x@-1", current=("e1", "d2")) == ("d1",)
    assert branched.resolve("x@+1", current=("d1", "d2")) == ("e1",)
    assert branched.resolve("y@+1", current=("e1",)) == ("c2",)  # branch not applied yet
    assert branched.resolve("y@+2", current=("e1",)) == ("d2",)
    with pytest.raises(RevisionError) as excinfo:
        branched.resolve("y@-1", current=("e1",))
    assert error_text(excinfo) == (
        "relative revision 'y@-1' needs a current revision on branch 'y', and there is none"
    )
    with pytest.raises(AmbiguousRevisionError) as excinfo:
        branched.resolve("x@+1", current=("c1", "e1"))
    assert error_text(excinfo) == (
        "relative revision 'x@+1' is ambiguous: the current revisions on branch 'x' are c1, e1"
    )
    with pytest.raises(RevisionError) as excinfo:
        branched.resolve("x@+1")
    assert error_text(excinfo) == (
        "relative revision 'x@+1' needs a current revision "
        "(name a revision to count from, e.g. 'head-1')"
    )


# -- resolving targets ---------------------------------------------------------------------


def test_keywords(linear: RevisionMap, branched: RevisionMap) -> None:
    assert linear.resolve("head") == ("d",)
    assert linear.resolve("heads") == ("d",)
    assert linear.resolve("base") == ()
    assert branched.resolve("heads") == ("d2", "e1")
    assert linear.resolve("  head\n") == ("d",)


def test_head_with_several_heads_says_how_to_pick_one(branched: RevisionMap) -> None:
    with pytest.raises(MultipleHeadsError) as excinfo:
        branched.resolve("head")
    assert error_text(excinfo) == (
        "'head' needs a single head, but there are 2: d2, e1 "
        "(name one, e.g. 'y@head', or use 'heads')"
    )


def test_ids_prefixes_and_labels() -> None:
    graph = RevisionMap(
        [rev("ab12"), rev("ab34", "ab12"), rev("cd56", "ab34", labels=("feat",)), rev("ab")]
    )
    assert graph.resolve("ab34") == ("ab34",)
    assert graph.resolve("ab3") == ("ab34",)
    assert graph.resolve("c") == ("cd56",)
    assert graph.resolve("ab") == ("ab",)  # an exact id wins over the ids it prefixes
    assert graph.resolve("feat") == ("cd56",)
    with pytest.raises(AmbiguousRevisionError) as excinfo:
        graph.resolve("a")
    assert error_text(excinfo) == (
        "revision prefix 'a' matches 3 revisions: ab, ab12, ab34 (use more characters of the id)"
    )


def test_unknown_and_empty_targets(linear: RevisionMap) -> None:
    with pytest.raises(UnknownRevisionError) as excinfo:
        linear.resolve("xyz")
    assert error_text(excinfo) == (
        "no revision matches 'xyz' (it is neither a revision id, an id prefix nor a branch label)"
    )
    with pytest.raises(RevisionError) as excinfo:
        linear.resolve("   ")
    assert error_text(excinfo) == "the revision target is empty (name a revision, e.g. 'head')"


def test_steps_from_a_revision(linear: RevisionMap) -> None:
    assert linear.resolve("b+2") == ("d",)
    assert linear.resolve("head-2") == ("b",)
    assert linear.resolve("d-4") == ()  # one step below the first revision is base
    assert linear.resolve("base+1") == ("a",)
    assert linear.resolve("c+0") == ("c",)


def test_steps_past_either_end_say_by_how_many(linear: RevisionMap) -> None:
    with pytest.raises(RevisionError) as excinfo:
        linear.resolve("b+3")
    assert error_text(excinfo) == "revision target 'b+3' goes 1 revision above head 'd'"
    with pytest.raises(RevisionError) as excinfo:
        linear.resolve("head-7")
    assert error_text(excinfo) == "revision target 'head-7' goes 3 revisions below base"


def test_steps_through_a_fork_or_a_merge_are_ambiguous(merged: RevisionMap) -> None:
    with pytest.raises(AmbiguousRevisionError) as excinfo:
        merged.resolve("a+2")
    assert error_text(excinfo) == (
        "revision target 'a+2' is ambiguous: 'b' is a branch point with children c1, c2 "
        "(count from one of the children instead)"
    )
    with pytest.raises(AmbiguousRevisionError) as excinfo:
        merged.resolve("n-2")
    assert error_text(excinfo) == (
        "revision target 'n-2' is ambiguous: 'm' is a merge point with parents d1, d2 "
        "(step from one of the parents instead)"
    )
    with pytest.raises(MultipleHeadsError):
        merged.resolve("head-1")


def test_relative_to_the_current_revision(linear: RevisionMap) -> None:
    assert linear.resolve("-1", current=("c",)) == ("b",)
    assert linear.resolve("+1", current=("c",)) == ("d",)
    assert linear.resolve("-1", current=("a",)) == ()
    assert linear.resolve("+2", current=()) == ("b",)
    with pytest.raises(RevisionError) as excinfo:
        linear.resolve("-2")
    assert error_text(excinfo) == (
        "relative revision '-2' needs a current revision "
        "(name a revision to count from, e.g. 'head-1')"
    )
    with pytest.raises(RevisionError) as excinfo:
        linear.resolve("-1", current=())
    assert error_text(excinfo) == "revision target '-1' goes 1 revision below base"


def test_relative_to_several_current_revisions(branched: RevisionMap) -> None:
    # Only c2 can move up: e1 is a head, so '+1' is clear.
    assert branched.resolve("+1", current=("e1", "c2")) == ("d2",)
    with pytest.raises(AmbiguousRevisionError) as excinfo:
        branched.resolve("-1", current=("e1", "d2"))
    assert error_text(excinfo) == (
        "relative revision '-1' is ambiguous: the current revisions are d2, e1 "
        "(step from one of them, e.g. 'd2-1', or along a branch: 'label@-1')"
    )
    with pytest.raises(AmbiguousRevisionError):
        branched.resolve("+1", current=("c1", "c2"))


def test_resolve_one(branched: RevisionMap) -> None:
    assert branched.resolve_one("x@head") == "e1"
    assert branched.resolve_one("base") is None
    with pytest.raises(MultipleHeadsError) as excinfo:
        branched.resolve_one("heads")
    assert error_text(excinfo) == (
        "'heads' names 2 revisions where one is needed: d2, e1 (name one of them)"
    )
    merged_bases = RevisionMap([rev("a1"), rev("b1"), rev("m", "a1", "b1")])
    with pytest.raises(AmbiguousRevisionError) as excinfo:
        merged_bases.resolve_one("m@base")
    assert error_text(excinfo) == (
        "'m@base' names 2 revisions where one is needed: a1, b1 (name one of them)"
    )


def test_ranges(linear: RevisionMap) -> None:
    assert linear.resolve_range("a:c") == (("a",), ("c",))
    assert linear.resolve_range(":c") == (None, ("c",))
    assert linear.resolve_range("b:") == (("b",), None)
    assert linear.resolve_range(":") == (None, None)
    assert linear.resolve_range("base:head") == ((), ("d",))


def test_a_relative_end_of_a_range_counts_from_the_other_end(linear: RevisionMap) -> None:
    assert linear.resolve_range("-2:d") == (("b",), ("d",))
    assert linear.resolve_range("b:+1") == (("b",), ("c",))
    assert linear.resolve_range("-1:") == (("c",), None)
    assert linear.resolve_range(":+1") == (None, ("a",))
    with pytest.raises(RevisionError) as excinfo:
        linear.resolve_range("-9:c")
    assert error_text(excinfo) == "revision target 'c-9' goes 6 revisions below base"


def test_malformed_ranges(linear: RevisionMap) -> None:
    with pytest.raises(RevisionError) as excinfo:
        linear.resolve_range("abc")
    assert error_text(excinfo) == "'abc' is not a revision range (ranges look like START:END)"
    with pytest.raises(RevisionError) as excinfo:
        linear.resolve_range("-1:+1")
    assert error_text(excinfo) == (
        "both ends of revision range '-1:+1' are relative (name one end, e.g. 'head-2:head')"
    )


# -- a broken graph is refused at once, pointing at the file ----------------------------------


def test_duplicate_revision_names_both_files() -> None:
    with pytest.raises(DuplicateRevisionError) as excinfo:
        RevisionMap([rev("abc", path="versions/a.py"), rev("abc", path="versions/b.py")])
    assert error_text(excinfo) == (
        "versions/b.py:3: revision 'abc' is defined twice: versions/a.py and versions/b.py"
    )


def test_down_revision_naming_nothing() -> None:
    with pytest.raises(UnknownRevisionError) as excinfo:
        RevisionMap([rev("a"), rev("abc", "xyz", path="versions/abc.py")])
    assert error_text(excinfo) == (
        "versions/abc.py:4: down_revision 'xyz' of revision 'abc' names no revision"
    )
    assert excinfo.value.location == "versions/abc.py:4"


def test_down_revision_naming_a_parent_twice() -> None:
    with pytest.raises(RevisionError) as excinfo:
        RevisionMap([rev("a"), rev("b", "a", "a", path="b.py")])
    assert error_text(excinfo) == "b.py:4: down_revision of revision 'b' names 'a' twice"


def test_depends_on_naming_nothing_or_too_much() -> None:
    with pytest.raises(UnknownRevisionError) as excinfo:
        RevisionMap([rev("a"), rev("b", "a", deps=("zz",), path="b.py")])
    assert error_text(excinfo) == "b.py:6: depends_on 'zz' of revision 'b' names no revision"
    with pytest.raises(AmbiguousRevisionError) as excinfo:
        RevisionMap([rev("a1"), rev("a2"), rev("b", deps=("a",), path="b.py")])
    assert error_text(excinfo) == (
        "b.py:6: depends_on 'a' of revision 'b' matches 2 revisions: a1, a2 "
        "(use more characters of the id)"
    )


def test_branch_label_declared_twice() -> None:
    with pytest.raises(DuplicateRevisionError) as excinfo:
        RevisionMap([rev("a", labels=("x",)), rev("b", "a", labels=("x",), path="b.py")])
    assert (
        error_text(excinfo) == "b.py:5: branch label 'x' is declared by two revisions: 'a' and 'b'"
    )


def test_branch_label_equal_to_a_revision_id() -> None:
    with pytest.raises(RevisionError) as excinfo:
        RevisionMap([rev("a"), rev("b", "a", labels=("a",), path="b.py")])
    assert error_text(excinfo) == (
        "b.py:5: branch label 'a' of revision 'b' is also a revision id (rename the label)"
    )


@pytest.mark.parametrize(
    ("revision", "message"),
    [
        (rev("head", path="h.py"), "h.py:3: revision id 'head' is a reserved word"),
        (rev("", path="e.py"), "e.py:3: revision id '' is empty"),
        (
            rev("a", labels=("x@y",), path="a.py"),
            "a.py:5: branch label 'x@y' of revision 'a' contains '@', ':' or whitespace",
        ),
        (
            rev("a", labels=("base",), path="a.py"),
            "a.py:5: branch label 'base' of revision 'a' is a reserved word",
        ),
    ],
)
def test_names_a_target_could_not_address(revision: Revision, message: str) -> None:
    with pytest.raises(RevisionError) as excinfo:
        RevisionMap([revision])
    assert error_text(excinfo) == message


def test_cycle_prints_the_loop() -> None:
    with pytest.raises(CycleError) as excinfo:
        RevisionMap([rev("a", "c", path="a.py"), rev("b", "a"), rev("c", "b"), rev("d")])
    assert excinfo.value.message == "revision cycle: a -> c -> b -> a"
    assert excinfo.value.location == "a.py:4"


def test_a_revision_naming_itself_is_a_cycle() -> None:
    with pytest.raises(CycleError) as excinfo:
        RevisionMap([rev("base0"), rev("a", "a", path="a.py")])
    assert excinfo.value.message == "revision cycle: a -> a"


def test_cycle_through_depends_on_points_at_the_depends_on_line() -> None:
    with pytest.raises(CycleError) as excinfo:
        RevisionMap([rev("a"), rev("b", "a", deps=("c",), path="b.py"), rev("c", "b")])
    assert excinfo.value.message == "revision cycle: b -> c -> b"
    assert excinfo.value.location == "b.py:6"


# -- long histories ----------------------------------------------------------------------------


def test_a_chain_of_20000_revisions() -> None:
    n = 20_000
    chain = [rev("r00000", labels=("first",))]
    chain += [rev(f"r{i:05d}", f"r{i - 1:05d}") for i in range(1, n)]
    chain[-1] = rev(f"r{n - 1:05d}", f"r{n - 2:05d}", labels=("last",))
    graph = RevisionMap(chain)
    assert graph.heads == ("r19999",)
    assert graph.bases == ("r00000",)
    walked = graph.walk()
    assert len(walked) == n
    assert (walked[0].revision, walked[-1].revision) == ("r19999", "r00000")
    assert len(graph.ancestors(["r19999"])) == n
    assert len(graph.descendants(["r00000"])) == n
    assert graph.resolve("head-19999") == ("r00000",)
    assert graph.resolve("first@+1", current=()) == ("r00000",)
    assert graph.branch_labels_of("r10000") == {"first", "last"}
    assert len(graph.walk(upper=["r15000"], lower=["r05000"])) == 10_001


def test_a_cycle_through_20000_revisions() -> None:
    n = 20_000
    chain = [rev(f"r{i:05d}", f"r{(i - 1) % n:05d}") for i in range(n)]
    with pytest.raises(CycleError) as excinfo:
        RevisionMap(chain)
    assert excinfo.value.message.startswith("revision cycle: r00000 -> r19999 -> r19998 -> ")
    assert excinfo.value.message.endswith(" -> r00001 -> r00000")
