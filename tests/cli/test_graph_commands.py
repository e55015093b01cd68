"""heads, branches, history and show: what a user sees on stdout, in text and in JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _envfactory import MigrationEnv


def branchy(env: MigrationEnv) -> None:
    """a1 -> b2 -> (c3, d4 [label 'side']) -> m5 merging c3 and d4; root e6 depends on b2."""
    env.add_revision("a1", message="create accounts")
    env.add_revision("b2", "a1", message="add email")
    env.add_revision("c3", "b2", message="main line")
    env.add_revision("d4", "b2", message="side line", branch_labels="side")
    env.add_revision("m5", ("c3", "d4"), message="merge lines")
    env.add_revision("e6", None, message="other root", depends_on="b2")


def test_heads_on_linear_history(env: MigrationEnv, cli) -> None:
    env.add_revision("a1")
    env.add_revision("b2", "a1")
    assert cli("heads") == (0, "b2 (head)\n", "")


def test_heads_of_empty_history_prints_nothing(env: MigrationEnv, cli) -> None:
    assert cli("heads") == (0, "", "")


def test_heads_with_labels_and_dependencies(env: MigrationEnv, cli) -> None:
    env.add_revision("a1")
    env.add_revision("b2", "a1", branch_labels="core")
    env.add_revision("x9", None, depends_on="b2")
    code, out, _ = cli("heads")
    assert code == 0
    assert sorted(out.splitlines()) == ["b2 (core) (effective head)", "x9 (head)"]
    code, out, _ = cli("heads", "--resolve-dependencies")
    assert out == "x9 (head)\n"


def test_heads_verbose_shows_the_full_entry(env: MigrationEnv, cli) -> None:
    path = env.add_revision("a1", message="create accounts")
    code, out, _ = cli("heads", "-v")
    assert code == 0
    assert out.splitlines()[:3] == ["Rev: a1 (head)", "Parent: <base>", f"Path: {path}"]
    assert "    create accounts" in out


def test_history_newest_first_with_markers(env: MigrationEnv, cli) -> None:
    branchy(env)
    code, out, _ = cli("history")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] in (
        "<base> (b2) -> e6 (head), other root",
        "c3, d4 -> m5 (head) (mergepoint), merge lines",
    )
    assert "a1 -> b2 (branchpoint), add email" in lines
    assert "b2 -> d4 (side), side line" in lines
    assert lines[-1] == "<base> -> a1, create accounts"
    assert len(lines) == 6
    order = [line.split(" -> ")[1].split()[0].rstrip(",") for line in lines]
    assert order.index("m5") < order.index("c3") < order.index("b2")
    assert order.index("d4") < order.index("b2") < order.index("a1")


def test_history_range(env: MigrationEnv, cli) -> None:
    for rev, down in [("a1", None), ("b2", "a1"), ("c3", "b2"), ("d4", "c3")]:
        env.add_revision(rev, down)

    def shown(rev_range: str) -> list[str]:
        code, out, err = cli("history", "-r", rev_range)
        assert (code, err) == (0, "")
        return [line.split(",")[0] for line in out.splitlines()]

    assert shown("b2:c3") == ["b2 -> c3", "a1 -> b2"]
    assert shown("c3:") == ["c3 -> d4 (head)", "b2 -> c3"]
    assert shown(":a1") == ["<base> -> a1"]
    assert shown("-1:") == ["c3 -> d4 (head)", "b2 -> c3"]
    assert shown("a1:+1") == ["a1 -> b2", "<base> -> a1"]
    assert shown("b2:head") == ["c3 -> d4 (head)", "b2 -> c3", "a1 -> b2"]


def test_history_range_not_in_line_is_an_error(env: MigrationEnv, cli) -> None:
    env.add_revision("a1")
    env.add_revision("b2", "a1")
    env.add_revision("c3", "a1")
    code, out, err = cli("history", "-r", "b2:c3")
    assert code == 1
    assert out == ""
    assert err.startswith("amigrate: error: ") and "'b2' is not an ancestor of" in err
    assert len(err.splitlines()) == 1


def test_history_json(env: MigrationEnv, cli) -> None:
    branchy(env)
    _code, out, _ = cli("history", "--json")
    data = json.loads(out)
    by_id = {item["revision"]: item for item in data}
    assert set(by_id) == {"a1", "b2", "c3", "d4", "m5", "e6"}
    assert by_id["m5"]["down_revisions"] == ["c3", "d4"]
    assert by_id["m5"]["is_merge_point"] is True
    assert by_id["b2"]["is_branch_point"] is True
    assert by_id["e6"]["depends_on"] == ["b2"]
    assert by_id["d4"]["branch_labels"] == ["side"]
    assert by_id["a1"]["message"] == "create accounts"
    assert Path(by_id["a1"]["path"]).name.startswith("a1_")


def test_branches(env: MigrationEnv, cli) -> None:
    branchy(env)
    code, out, _ = cli("branches")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "b2 (branchpoint)"
    assert sorted(lines[1:]) == ["   -> c3", "   -> d4 (side)"]
    data = json.loads(cli("branches", "--json")[1])
    assert [point["revision"] for point in data] == ["b2"]
    assert sorted(b["revision"] for b in data[0]["branches"]) == ["c3", "d4"]


def test_show_by_prefix_label_and_heads(env: MigrationEnv, cli) -> None:
    branchy(env)
    code, out, _ = cli("show", "m")
    assert code == 0
    assert out.startswith("Rev: m5 (head) (mergepoint)\nMerges: c3, d4\n")
    code, out, _ = cli("show", "side")
    assert out.startswith("Rev: d4\nParent: b2\nBranch names: side\n")
    code, out, _ = cli("show", "e6")
    assert "Also depends on: b2" in out
    code, out, _ = cli("show", "heads", "--json")
    assert sorted(item["revision"] for item in json.loads(out)) == ["e6", "m5"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "zz"), "no revision matches 'zz'"),
        (("show", "head"), "'head' needs a single head, but there are 3: a2, e6, m5"),
        (("history", "-r", "a1"), "START:END"),
    ],
)
def test_bad_targets_are_one_line_errors(env: MigrationEnv, cli, args, message) -> None:
    branchy(env)
    env.add_revision("a2", "a1")  # makes the prefix 'a' ambiguous too
    code, out, err = cli(*args)
    assert code == 1
    assert out == ""
    assert err.startswith("amigrate: error: ")
    assert message in err
    assert len(err.splitlines()) == 1


def test_ambiguous_prefix_lists_candidates(env: MigrationEnv, cli) -> None:
    env.add_revision("ab1")
    env.add_revision("ab2", "ab1")
    code, _, err = cli("show", "ab")
    assert code == 1
    assert "ab1, ab2" in err
