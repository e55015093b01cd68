"""The plan against Alembic's own: same revisions run, same version rows after every step.

Alembic (installed in the dev environment only, as an oracle) runs real projects written to a
temporary directory: offline (``--sql``) where its SQL text shows every INSERT/UPDATE/DELETE
on ``alembic_version``, and online against a SQLite file where a command has to start from a
given state. Its statements are captured per step (``on_version_apply`` marks where a step
ends), so each step's changes are compared, not just where a command ends.

Alembic picks which of several rows to update and which to delete by set iteration order,
and orders independent branches by file discovery, so steps are compared by the rows they
leave and the kinds of statement they use; our plan replays Alembic's order for that.

Where Alembic is inconsistent we assert our documented behaviour instead. Each place has
an example test below, and the random tests allow exactly these differences:

- D1  upgrade to a revision below the current one: Alembic does nothing; here an error
      saying to use downgrade.
- D2  downgrade to a revision applied only as another branch's dependency: Alembic refuses
      ("Nothing to drop"); here nothing to do, the database is there.
- D3  downgrading a revision whose depends_on is also below its down_revision, beside other
      rows: Alembic writes a row below another row; here only the upper one.
- D4  ``X@base`` for a label on a fork: Alembic removes the whole tree from its root, other
      branches included; here the branch from its first revision.
- D5  ``label@-N`` to a revision with several children: Alembic keeps only the children
      below the revision declaring the label (none) and refuses; here the branch steps down.
- D6  stamping several revisions at once: for each one, Alembic replaces every row sharing
      a line with *any* of them, so unrelated rows vanish; here only rows on its own line.
- D7  ``-N`` from several rows: Alembic warns and steps from the first row it read; here
      an ambiguity error.
- D8  ``+N`` from several rows when only one is not a head: Alembic refuses; here that row
      steps up.
"""

from __future__ import annotations

import io
import re
import sqlite3
import tempfile
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from alembic import command as alembic_command
from alembic.config import Config
from alembic.util import CommandError
from hypothesis import currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from amigrate.errors import AmbiguousRevisionError, NotAncestorError, RevisionError
from amigrate.runtime.steps import (
    MigrationStep,
    VersionChange,
    plan_downgrade,
    plan_range_for_sql,
    plan_stamp,
    plan_upgrade,
)
from amigrate.runtime.versions_plan import VersionRows, apply_changes
from amigrate.script.revision import Revision, RevisionMap

if TYPE_CHECKING:
    from collections.abc import Iterable

# Alembic runs a command in 5-40 ms: these counts keep the module near 30 s. For a deeper
# search, raise them (5,000 each passed when this was written).
FEW = settings(max_examples=200, deadline=None)
MORE = settings(max_examples=300, deadline=None)

ENV_PY = """
from alembic import context


def run_offline():
    context.configure(url="sqlite://", literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online():
    from sqlalchemy import create_engine, event

    log = context.config.attributes["log"]
    engine = create_engine(context.config.get_main_option("sqlalchemy.url"))

    @event.listens_for(engine, "before_cursor_execute")
    def record(conn, cursor, statement, parameters, ctx, executemany):
        log.append(("sql", statement))

    def applied(ctx, step, heads, run_args):
        rev = step.up_revision_id if not step.is_stamp else None
        log.append(("step", rev, step.is_upgrade))

    with engine.connect() as connection:
        context.configure(connection=connection, on_version_apply=applied)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
"""

SCRIPT = '''"""{doc}"""
from alembic import op

revision = {revision!r}
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = {deps!r}


def upgrade():
    pass


def downgrade():
    pass
'''

_INSERT = re.compile(r"INSERT INTO alembic_version \(version_num\) VALUES \('([^']*)'\)")
_UPDATE = re.compile(
    r"UPDATE alembic_version SET version_num='([^']*)' "
    r"WHERE alembic_version.version_num = '([^']*)'"
)
_DELETE = re.compile(r"DELETE FROM alembic_version WHERE alembic_version.version_num = '([^']*)'")
_RUNNING = re.compile(r"-- Running (upgrade|downgrade) (.*) -> (.*)")


@dataclass
class AlembicStep:
    revision: str | None  # None for a stamp
    is_upgrade: bool
    changes: list[VersionChange]
    text: str = ""  # offline: the "Running ..." comment


def parse_change(statement: str) -> VersionChange | None:
    if m := _INSERT.search(statement):
        return VersionChange("insert", new=m[1])
    if m := _UPDATE.search(statement):
        return VersionChange("update", old=m[2], new=m[1])
    if m := _DELETE.search(statement):
        return VersionChange("delete", old=m[1])
    return None


class AlembicProject:
    """An Alembic project for one history, with a SQLite database to run it online."""

    def __init__(self, root: Path, revisions: list[Revision]) -> None:
        self.root = root
        versions = root / "versions"
        versions.mkdir(parents=True)
        (root / "env.py").write_text(ENV_PY)
        (root / "script.py.mako").write_text('"""${message}"""\n')
        for rev in revisions:
            down = rev.down_revisions
            source = SCRIPT.format(
                doc=rev.doc or "no message",
                revision=rev.revision,
                down=None if not down else down[0] if len(down) == 1 else down,
                labels=tuple(sorted(rev.branch_labels)) or None,
                deps=rev.depends_on or None,
            )
            (versions / f"{rev.revision}.py").write_text(source)
        self.buffer = io.StringIO()
        self.config = Config(output_buffer=self.buffer, stdout=io.StringIO())
        self.config.set_main_option("script_location", str(root))
        self.config.set_main_option("sqlalchemy.url", f"sqlite:///{root}/db.sqlite")

    def rows(self) -> set[str]:
        connection = sqlite3.connect(self.root / "db.sqlite")
        try:
            return {row for (row,) in connection.execute("SELECT version_num FROM alembic_version")}
        except sqlite3.OperationalError:  # no version table yet
            return set()
        finally:
            connection.close()

    def set_rows(self, rows: Iterable[str]) -> None:
        """Write the version table directly: after Alembic went astray (D3, D6), the next
        command starts from the same rows on both sides."""
        connection = sqlite3.connect(self.root / "db.sqlite")
        try:
            with connection:
                connection.execute(
                    "CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) "
                    "NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
                )
                connection.execute("DELETE FROM alembic_version")
                connection.executemany(
                    "INSERT INTO alembic_version VALUES (?)", [(row,) for row in rows]
                )
        finally:
            connection.close()

    def run(self, name: str, target: str) -> list[AlembicStep]:
        """Run ``alembic <name> <target>`` online (name ``stamp --purge`` too); the steps with
        their version changes."""
        log: list[tuple[object, ...]] = []
        self.config.attributes["log"] = log
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "downgrade -1 from multiple heads"
            if name == "stamp --purge":
                alembic_command.stamp(self.config, target, purge=True)
            else:
                getattr(alembic_command, name)(self.config, target)
        steps: list[AlembicStep] = []
        pending: list[VersionChange] = []
        for entry in log:
            if entry[0] == "sql":
                change = parse_change(str(entry[1]))
                if change is not None:
                    pending.append(change)
            else:
                revision = None if entry[1] is None else str(entry[1])
                steps.append(AlembicStep(revision, bool(entry[2]), pending))
                pending = []
        return steps

    def offline(self, name: str, spec: str) -> list[AlembicStep]:
        """``alembic <name> <spec> --sql``: the steps as its SQL text shows them."""
        self.buffer.seek(0)
        self.buffer.truncate()
        getattr(alembic_command, name)(self.config, spec, sql=True)
        steps: list[AlembicStep] = []
        for line in self.buffer.getvalue().splitlines():
            if m := _RUNNING.match(line):
                is_upgrade = m[1] == "upgrade"
                rev = m[3] if is_upgrade else m[2]
                steps.append(AlembicStep(rev.strip(), is_upgrade, [], line[len("-- Running ") :]))
            elif (change := parse_change(line)) is not None:
                steps[-1].changes.append(change)
        return steps


# -- random histories and commands ---------------------------------------------------------


@st.composite
def histories(draw: st.DrawFn) -> list[Revision]:
    """Up to 12 revisions: branches, merges, new roots carrying a branch label, depends_on.

    Labels sit on roots only: for a label on a fork, ``X@base`` means different things here
    and in Alembic (D4, below). What a merge builds on is never in line, even through
    depends_on: Alembic's bookkeeping then deletes a row that is not there (a KeyError in
    ``HeadMaintainer``; see test_steps.py for ours).
    """
    size = draw(st.integers(1, 12))
    revisions: list[Revision] = []
    below: list[set[int]] = []  # ancestors through down_revision and depends_on, itself too

    def unrelated(*revs: int) -> bool:
        return not any(a != b and a in below[b] for a in revs for b in revs)

    for i in range(size):
        kind = draw(st.sampled_from(["root", "child", "child", "child", "merge"])) if i else "root"
        parents: list[int] = []
        if kind != "root":
            parents.append(draw(st.integers(0, i - 1)))
        if kind == "merge":
            other = draw(st.integers(0, i - 1))
            if other != parents[0] and unrelated(other, parents[0]):
                parents.append(other)
        deps: list[int] = []
        if i and draw(st.integers(0, 3)) == 0:
            dep = draw(st.integers(0, i - 1))
            if dep not in parents and (len(parents) < 2 or unrelated(dep, *parents)):
                deps.append(dep)
        below.append({i}.union(*(below[p] for p in parents + deps)))
        revisions.append(
            Revision(
                f"r{i:02d}",
                down_revisions=tuple(f"r{p:02d}" for p in parents),
                branch_labels=frozenset({f"l{i:02d}"}) if i and not parents else frozenset(),
                depends_on=tuple(f"r{d:02d}" for d in deps),
                doc=f"step {i}",
            )
        )
    return revisions


def commands(graph: RevisionMap, rows: tuple[str, ...]) -> st.SearchStrategy[tuple[str, str]]:
    """Any command; downgrades mostly to an applied revision (the others only fail)."""
    ids = sorted(graph.revisions)
    applied = sorted(graph.ancestors(rows)) or ids
    labels = sorted(graph.labels)
    up = st.sampled_from(
        [
            *ids,
            "heads",
            "+1",
            "+2",
            *(f"{label}@head" for label in labels),
            *(f"{label}@+1" for label in labels),
        ]
    )
    down = st.one_of(
        st.sampled_from(applied),
        st.sampled_from(
            [
                *ids,
                "base",
                "-1",
                "-2",
                *(f"{label}@base" for label in labels),
                *(f"{label}@-1" for label in labels),
            ]
        ),
    )
    stamp = st.sampled_from([*ids, "heads", "base", *(f"{label}@base" for label in labels)])
    return st.one_of(
        st.tuples(st.just("upgrade"), up),
        st.tuples(st.just("downgrade"), down),
        st.tuples(st.sampled_from(["stamp", "stamp", "stamp --purge"]), stamp),
    )


# -- comparing ---------------------------------------------------------------------------


def note(what: str) -> None:
    """Count how often each case comes up (``--hypothesis-show-statistics``)."""
    if currently_in_test_context():
        event(what)


def topmost(graph: RevisionMap, rows: set[str]) -> set[str]:
    """``rows`` without those below another row (D3 leaves such rows in Alembic's table)."""
    return {row for row in rows if row not in graph.ancestors(rows - {row})}


def kinds(changes: list[VersionChange] | tuple[VersionChange, ...]) -> Counter[str]:
    return Counter(change.kind for change in changes)


def check_steps_in_alembic_order(
    graph: RevisionMap, start: set[str], theirs: list[AlembicStep], ours: list[MigrationStep]
) -> None:
    """The same revisions run, and our rules, replayed in Alembic's order, leave Alembic's
    rows after each step, using the same kinds of statement."""
    assert Counter((s.revision.revision, s.is_upgrade) for s in ours) == Counter(
        (s.revision, s.is_upgrade) for s in theirs
    )
    keeper = VersionRows(graph, start)
    rows = set(start)
    for step in theirs:
        assert step.revision is not None
        exact = rows == keeper.rows
        changes = (
            keeper.upgrade(step.revision) if step.is_upgrade else keeper.downgrade(step.revision)
        )
        rows = set(apply_changes(rows, step.changes))
        if exact and rows == keeper.rows:
            assert kinds(changes) == kinds(step.changes), step
        else:
            # D3: unmerging while other rows exist, Alembic also writes revisions that are
            # below another row; what the table says is applied stays the same.
            note("D3")
            assert graph.ancestors(rows) == graph.ancestors(keeper.rows), step
            assert topmost(graph, rows) == keeper.rows, step


def run_ours(
    graph: RevisionMap, rows: tuple[str, ...], name: str, target: str
) -> list[MigrationStep] | tuple[str, ...] | RevisionError:
    """Our plan for the command: its steps, a stamp's rows, or the error."""
    try:
        if name == "upgrade":
            return plan_upgrade(graph, rows, target)
        if name == "downgrade":
            return plan_downgrade(graph, rows, target)
        return plan_stamp(graph, rows, [target], purge=name == "stamp --purge").heads_after
    except RevisionError as error:
        return error


def replay(rows: tuple[str, ...], steps: list[MigrationStep]) -> tuple[str, ...]:
    for step in steps:
        assert step.heads_before == rows
        rows = apply_changes(rows, step.changes)
        assert step.heads_after == rows
    return rows


def compare_command(
    graph: RevisionMap, project: AlembicProject, rows: tuple[str, ...], name: str, target: str
) -> tuple[str, ...]:
    """Run one command both ways; return our rows after it."""
    ours = run_ours(graph, rows, name, target)
    before = project.rows()
    assert before == set(rows)
    try:
        theirs: list[AlembicStep] | Exception = project.run(name, target)
    except Exception as error:  # Alembic's CommandError, or a crash on an odd state
        theirs = error
    after = project.rows()
    applied = graph.ancestors(rows)

    if isinstance(ours, RevisionError):
        if isinstance(theirs, Exception):
            note(f"{name}: both refuse")
        elif isinstance(ours, NotAncestorError):
            # D1: upgrading to a revision below the current one is a no-op in Alembic and an
            # error here (a downgrade's job).
            note("D1")
            assert name == "upgrade" and "use downgrade" in str(ours), ours
            assert theirs == [] and after == before
        else:
            # D7: stepping down ('-1') from several rows names no single revision; Alembic
            # warns ("will be disallowed in a future release") and picks one.
            note("D7")
            assert isinstance(ours, AmbiguousRevisionError) and target.startswith("-"), ours
            assert len(rows) > 1
            project.set_rows(rows)
        return rows
    if isinstance(theirs, Exception):
        assert isinstance(ours, list)
        if name == "downgrade" and not ours:
            # D2: downgrading to a revision the database has only as another revision's
            # dependency is "Nothing to drop" in Alembic; here the database is already there.
            note("D2")
            assert target in applied and target not in rows, theirs
            return rows
        new_rows = replay(rows, ours)
        project.set_rows(new_rows)
        if name == "downgrade":
            # D5: 'label@-1' to a revision with several children: Alembic keeps only the
            # children below the revision declaring the label - none - and refuses; here
            # the children on the branch's way to its rows go.
            note("D5")
            assert "Not a valid downgrade target" in str(theirs), theirs
            assert target.partition("@")[0] in graph.labels
            return new_rows
        # D8: stepping up ('+1') from several rows, when only one of them is not a head,
        # steps from that one here; Alembic refuses ("Ambiguous upgrade from multiple
        # current revisions").
        note("D8")
        assert name == "upgrade" and target.startswith("+") and len(rows) > 1, theirs
        assert "Ambiguous upgrade" in str(theirs)
        return new_rows
    if isinstance(ours, tuple):  # a stamp
        note(name)
        if after != set(ours):
            # D6: stamping several revisions at once, Alembic replaces every row on the line
            # of *any* of them at each one, so unrelated rows vanish. Here each destination
            # replaces only the rows on its own line.
            note("D6")
            assert len(graph.resolve(target)) > 1
            assert after < set(ours) and set(ours) - after <= before
            project.set_rows(ours)
        return ours
    note(f"{name}: {'some' if ours else 'no'} steps")
    new_rows = replay(rows, ours)
    check_steps_in_alembic_order(graph, before, theirs, ours)
    assert set(new_rows) == topmost(graph, set(new_rows))
    if after != set(new_rows):  # D3, checked step by step above
        assert topmost(graph, after) == set(new_rows)
        project.set_rows(new_rows)
    return new_rows


# -- the tests ---------------------------------------------------------------------------


@FEW
@given(st.data())
def test_commands_leave_the_rows_alembic_leaves(data: st.DataObject) -> None:
    revisions = data.draw(histories(), label="history")
    graph = RevisionMap(revisions)
    with tempfile.TemporaryDirectory() as tmp:
        project = AlembicProject(Path(tmp), revisions)
        rows: tuple[str, ...] = ()
        for _ in range(data.draw(st.integers(1, 8), label="commands")):
            name, target = data.draw(commands(graph, rows), label="command")
            rows = compare_command(graph, project, rows, name, target)


@MORE
@given(histories())
def test_upgrade_from_base_matches_alembic_offline_sql(revisions: list[Revision]) -> None:
    graph = RevisionMap(revisions)
    with tempfile.TemporaryDirectory() as tmp:
        project = AlembicProject(Path(tmp), revisions)
        theirs = project.offline("upgrade", "heads")
    ours = plan_range_for_sql(graph, None, "heads", is_upgrade=True)
    check_steps_in_alembic_order(graph, set(), theirs, ours)
    replay((), ours)
    texts = {step.revision.revision: step.description for step in ours}
    for step in theirs:  # "-- Running upgrade a -> b" is our description without the message
        assert step.revision is not None
        assert texts[step.revision].startswith(step.text)


@FEW
@given(histories())
def test_full_downgrade_matches_alembic(revisions: list[Revision]) -> None:
    """Offline when there is one head (Alembic's --sql range starts at one revision),
    otherwise online from a database upgraded to all heads."""
    graph = RevisionMap(revisions)
    heads = tuple(graph.heads)
    top = plan_upgrade(graph, (), "heads")[-1].heads_after
    with tempfile.TemporaryDirectory() as tmp:
        project = AlembicProject(Path(tmp), revisions)
        if len(top) == 1:
            theirs = project.offline("downgrade", f"{top[0]}:base")
            ours = plan_range_for_sql(graph, top[0], "base", is_upgrade=False)
        else:
            project.run("upgrade", "heads")
            assert project.rows() == set(top) or topmost(graph, project.rows()) == set(top)
            theirs = project.run("downgrade", "base")
            ours = plan_downgrade(graph, top, "base")
            assert project.rows() == set()
    assert set(heads) >= set(top)
    check_steps_in_alembic_order(graph, set(top), theirs, ours)
    assert replay(top, ours) == ()
    for step in theirs:
        if step.text:
            assert step.revision is not None
            ours_text = next(s.description for s in ours if s.revision.revision == step.revision)
            assert ours_text.startswith(step.text)


@pytest.fixture
def project(tmp_path: Path) -> tuple[RevisionMap, AlembicProject]:
    """a <- b forks into c1 ('x' line, on to d1) and c2 ('z'), merged by m;
    p starts a new root 'y', and q (on p) depends on c1."""
    revisions = [
        Revision("a", doc="create users"),
        Revision("b", ("a",), doc="add email"),
        Revision("c1", ("b",), frozenset({"x"})),
        Revision("d1", ("c1",)),
        Revision("c2", ("b",), frozenset({"z"})),
        Revision("m", ("c1", "c2"), doc="merge"),
        Revision("p", (), frozenset({"y"})),
        Revision("q", ("p",), depends_on=("c1",)),
    ]
    return RevisionMap(revisions), AlembicProject(tmp_path / "proj", revisions)


def test_each_step_of_a_full_upgrade_writes_what_alembic_writes(
    project: tuple[RevisionMap, AlembicProject],
) -> None:
    graph, alembic = project
    rows: tuple[str, ...] = ()
    for target in ["c1", "q", "d1"]:
        rows = compare_command(graph, alembic, rows, "upgrade", target)
    assert rows == ("d1", "q")
    rows = compare_command(graph, alembic, rows, "upgrade", "heads")
    assert rows == ("d1", "m", "q")
    rows = compare_command(graph, alembic, rows, "downgrade", "b")
    assert rows == ("b", "p")  # q goes too: it depends on c1


def test_d5_branch_relative_downgrade_to_a_revision_with_several_children(
    project: tuple[RevisionMap, AlembicProject],
) -> None:
    """'x@-1' from d1 targets c1, whose children are d1 and m. Alembic keeps the children that
    are ancestors of the revision declaring 'x' (c1) - none - and refuses; here the children
    leading to the branch's rows (d1) go."""
    graph, alembic = project
    rows = compare_command(graph, alembic, (), "upgrade", "d1")
    rows = compare_command(graph, alembic, rows, "upgrade", "q")
    assert rows == ("d1", "q")
    [step] = plan_downgrade(graph, rows, "x@-1")
    assert (step.revision.revision, step.heads_after) == ("d1", ("q",))  # q still needs c1
    with pytest.raises(CommandError, match="Not a valid downgrade target"):
        alembic.run("downgrade", "x@-1")


def test_stamps_write_what_alembic_writes(project: tuple[RevisionMap, AlembicProject]) -> None:
    graph, alembic = project
    rows: tuple[str, ...] = ()
    for target, expected in [
        ("d1", ("d1",)),
        ("c2", ("c2", "d1")),  # a new branch: inserted
        ("p", ("c2", "d1", "p")),  # a new root
        ("q", ("c2", "d1", "q")),  # p moves up to q
        ("b", ("b",)),  # stamping down replaces every row on b's line
        ("y@base", ("b",)),  # nothing of y is left to clear
        ("base", ()),
    ]:
        rows = compare_command(graph, alembic, rows, "stamp", target)
        assert rows == expected, target


def test_d1_upgrade_below_the_current_revision_is_an_error_here_a_no_op_in_alembic(
    project: tuple[RevisionMap, AlembicProject],
) -> None:
    graph, alembic = project
    rows = compare_command(graph, alembic, (), "upgrade", "d1")
    with pytest.raises(NotAncestorError, match="'b' is below the current revision 'd1'"):
        plan_upgrade(graph, rows, "b")
    compare_command(graph, alembic, rows, "upgrade", "b")  # Alembic: nothing happens


def test_d2_downgrade_to_a_revision_held_by_a_dependency_is_a_no_op_here(
    project: tuple[RevisionMap, AlembicProject],
) -> None:
    graph, alembic = project
    rows = compare_command(graph, alembic, (), "upgrade", "q")
    assert rows == ("q",)  # c1 is applied: q depends on it
    assert plan_downgrade(graph, rows, "c1") == []
    with pytest.raises(CommandError, match="not a valid downgrade target"):
        alembic.run("downgrade", "c1")


def test_d4_label_at_base_on_a_fork(project: tuple[RevisionMap, AlembicProject]) -> None:
    graph, alembic = project
    rows = compare_command(graph, alembic, (), "upgrade", "heads")
    steps = plan_downgrade(graph, rows, "x@base")
    assert {step.revision.revision for step in steps} == {"c1", "d1", "m", "q"}
    assert steps[-1].heads_after == ("c2", "p")
    alembic.run("downgrade", "x@base")
    assert alembic.rows() == {"p"}  # a, b and the z branch went as well


def test_d6_stamp_of_several_heads_keeps_unrelated_rows(tmp_path: Path) -> None:
    """Roots a, b and c; c depends on a. Stamping heads from (a, b): c takes a's place."""
    revisions = [
        Revision("a"),
        Revision("b", (), frozenset({"lb"})),
        Revision("c", (), frozenset({"lc"}), depends_on=("a",)),
    ]
    graph = RevisionMap(revisions)
    alembic = AlembicProject(tmp_path / "proj", revisions)
    rows = compare_command(graph, alembic, (), "upgrade", "a")
    rows = compare_command(graph, alembic, rows, "upgrade", "b")
    assert plan_stamp(graph, rows, ["heads"]).heads_after == ("b", "c")
    alembic.run("stamp", "heads")
    assert alembic.rows() == {"c"}  # b vanished


def test_d7_d8_relative_targets_from_several_rows(tmp_path: Path) -> None:
    """a <- b, and a root z: at (a, z), '+1' can only mean b; at (b, z), '-1' could be either."""
    revisions = [Revision("a"), Revision("b", ("a",)), Revision("z", (), frozenset({"zz"}))]
    graph = RevisionMap(revisions)
    alembic = AlembicProject(tmp_path / "proj", revisions)
    rows = compare_command(graph, alembic, (), "upgrade", "a")
    rows = compare_command(graph, alembic, rows, "upgrade", "z")
    assert rows == ("a", "z")
    with pytest.raises(CommandError, match="Ambiguous upgrade"):
        alembic.run("upgrade", "+1")
    rows = compare_command(graph, alembic, rows, "upgrade", "+1")  # D8
    assert rows == ("b", "z")
    with pytest.raises(AmbiguousRevisionError, match="'-1' is ambiguous"):
        plan_downgrade(graph, rows, "-1")
    alembic.run("downgrade", "-1")  # D7: a warning, then one of the rows steps down
    assert alembic.rows() != {"b", "z"}


def test_d3_unmerge_beside_another_row_writes_no_row_below_another(tmp_path: Path) -> None:
    """r depends on a, which b already builds on; z is an unrelated root."""
    revisions = [
        Revision("a"),
        Revision("b", ("a",)),
        Revision("r", ("b",), depends_on=("a",)),
        Revision("z", (), frozenset({"zz"})),
    ]
    graph = RevisionMap(revisions)
    alembic = AlembicProject(tmp_path / "proj", revisions)
    rows = compare_command(graph, alembic, (), "upgrade", "heads")
    assert rows == ("r", "z")
    [step] = plan_downgrade(graph, rows, "b")
    assert step.changes == (VersionChange("update", old="r", new="b"),)
    assert step.heads_after == ("b", "z")
    alembic.run("downgrade", "b")
    assert alembic.rows() == {"a", "b", "z"}  # Alembic keeps 'a' although 'b' is above it


def test_stamp_heads_where_a_head_depends_on_another(tmp_path: Path) -> None:
    """'a' is a head (nothing names it as down_revision) but p depends on it: only p is
    written, as 'upgrade heads' leaves the table."""
    revisions = [Revision("a"), Revision("p", (), frozenset({"y"}), depends_on=("a",))]
    graph = RevisionMap(revisions)
    alembic = AlembicProject(tmp_path / "proj", revisions)
    assert compare_command(graph, alembic, (), "upgrade", "heads") == ("p",)
    assert compare_command(graph, alembic, ("p",), "stamp", "base") == ()
    assert compare_command(graph, alembic, (), "stamp", "heads") == ("p",)


def test_stamp_from_several_rows_online(project: tuple[RevisionMap, AlembicProject]) -> None:
    graph, alembic = project
    rows = compare_command(graph, alembic, (), "upgrade", "heads")
    assert compare_command(graph, alembic, rows, "stamp", "x@base") == ()
    rows = compare_command(graph, alembic, (), "upgrade", "heads")
    assert compare_command(graph, alembic, rows, "stamp", "p") == ("d1", "m", "p")
