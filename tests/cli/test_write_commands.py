"""init, list_templates, revision and merge: the files they write, and what they refuse."""

from __future__ import annotations

import ast
import os
import stat
import sys
from pathlib import Path

import pytest
from _envfactory import MigrationEnv

from amigrate.cli import main
from amigrate.script.headers import read_revision


def versions(env: MigrationEnv) -> dict[str, Path]:
    return {read_revision(p).revision: p for p in env.versions.glob("*.py")}


# -- init and list_templates ------------------------------------------------------------------


def test_list_templates(cli) -> None:
    code, out, _ = cli("list_templates")
    assert code == 0
    names = [line.split()[0] for line in out.splitlines() if line.startswith("  ")]
    assert names == ["async", "generic", "multidb"]


@pytest.mark.parametrize("template", ["generic", "async", "multidb"])
def test_init_then_revision_then_heads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, template: str
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "-t", template, "migrations"]) == 0
    out = capsys.readouterr().out
    assert "Created amigrate.ini" in out
    assert (tmp_path / "migrations" / "env.py").is_file()
    assert (tmp_path / "migrations" / "versions").is_dir()
    ini = (tmp_path / "amigrate.ini").read_text()
    assert "script_location = %(here)s/migrations" in ini
    ast.parse((tmp_path / "migrations" / "env.py").read_text())

    assert main(["revision", "-m", "create account table"]) == 0
    out = capsys.readouterr().out
    files = list((tmp_path / "migrations" / "versions").glob("*.py"))
    assert len(files) == 1
    assert files[0].name.endswith("_create_account_table.py")
    text = files[0].read_text()
    ast.parse(text)
    rev = read_revision(files[0])
    assert rev.down_revisions == ()
    assert rev.doc == "create account table"
    assert f"Created revision {rev.revision}" in out
    if template == "multidb":
        assert "def upgrade_engine1() -> None:" in text
        assert "def downgrade_engine2() -> None:" in text
    else:
        assert "def upgrade() -> None:" in text

    assert main(["heads"]) == 0
    assert capsys.readouterr().out == f"{rev.revision} (head)\n"


def test_init_refuses_non_empty_directory(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "keep.txt").write_text("mine")
    assert main(["init", "migrations"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "amigrate: error: directory 'migrations' already exists and is not empty "
        "(init only creates new environments; choose another directory)\n"
    )
    assert not (tmp_path / "amigrate.ini").exists()
    assert os.listdir(tmp_path / "migrations") == ["keep.txt"]


def test_init_refuses_existing_config(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "amigrate.ini").write_text("[amigrate]\n")
    assert main(["init", "migrations"]) == 1
    assert "config file 'amigrate.ini' already exists" in capsys.readouterr().err
    assert not (tmp_path / "migrations").exists()


def test_init_bad_template_name(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "-t", "nope", "migrations"]) == 1
    assert capsys.readouterr().err == (
        "amigrate: error: no template named 'nope' (choose one of: async, generic, multidb)\n"
    )
    assert os.listdir(tmp_path) == []


def test_init_with_config_path_elsewhere(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conf").mkdir()
    assert main(["-c", "conf/db.ini", "init", "migrations"]) == 0
    assert "script_location = %(here)s/../migrations" in (tmp_path / "conf/db.ini").read_text()
    assert main(["-c", "conf/db.ini", "revision", "-m", "x"]) == 0
    assert len(list((tmp_path / "migrations/versions").glob("*.py"))) == 1


# -- revision ---------------------------------------------------------------------------------


def test_revision_chain_and_options(env: MigrationEnv, cli) -> None:
    env.use_template("generic")
    assert cli("revision", "-m", "one", "--rev-id", "aaa1")[0] == 0
    assert cli("revision", "-m", "two", "--rev-id", "bbb2", "--branch-label", "core")[0] == 0
    assert cli("revision", "-m", "three", "--rev-id", "ccc3", "--depends-on", "aaa")[0] == 0
    revs = versions(env)
    assert read_revision(revs["bbb2"]).down_revisions == ("aaa1",)
    assert read_revision(revs["bbb2"]).branch_labels == frozenset({"core"})
    assert read_revision(revs["ccc3"]).down_revisions == ("bbb2",)
    assert read_revision(revs["ccc3"]).depends_on == ("aaa1",)
    text = revs["bbb2"].read_text()
    assert 'revision: str = "bbb2"' in text
    assert 'down_revision: str | Sequence[str] | None = "aaa1"' in text
    assert 'branch_labels: str | Sequence[str] | None = ("core",)' in text
    assert "Revises: aaa1" in text


def test_revision_new_root_and_label_head(env: MigrationEnv, cli) -> None:
    env.use_template("generic")
    env.add_revision("a1")
    assert (
        cli(
            "revision",
            "-m",
            "plugin",
            "--head",
            "base",
            "--rev-id",
            "p1",
            "--branch-label",
            "plugin",
        )[0]
        == 0
    )
    assert cli("revision", "-m", "plugin 2", "--head", "plugin@head", "--rev-id", "p2")[0] == 0
    assert read_revision(versions(env)["p2"]).down_revisions == ("p1",)
    code, _, err = cli("revision", "-m", "where?")
    assert code == 1
    assert "'head' needs a single head, but there are 2: a1, p2" in err


def test_revision_splice(env: MigrationEnv, cli) -> None:
    env.use_template("generic")
    env.add_revision("a1")
    env.add_revision("b2", "a1")
    code, _, err = cli("revision", "-m", "x", "--head", "a1")
    assert code == 1
    assert "revision 'a1' is not a head (pass --splice to start a new branch from it)" in err
    assert cli("revision", "-m", "x", "--head", "a1", "--splice", "--rev-id", "c3")[0] == 0
    assert read_revision(versions(env)["c3"]).down_revisions == ("a1",)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--rev-id", "a1"), "revision 'a1' already exists"),
        (("--rev-id", "has-dash"), "'has-dash' cannot be a revision id"),
        (("--rev-id", "head"), "'head' cannot be a revision id"),
        (("--branch-label", "core"), "branch label 'core' is already used"),
        (("--depends-on", "nope"), "no revision matches 'nope'"),
        (("--head", "zz"), "no revision matches 'zz'"),
    ],
)
def test_revision_refusals_write_nothing(env: MigrationEnv, cli, args, message) -> None:
    env.use_template("generic")
    env.add_revision("a1", branch_labels="core")
    before = sorted(os.listdir(env.versions))
    code, _out, err = cli("revision", "-m", "x", *args)
    assert code == 1
    assert message in err
    assert len(err.splitlines()) == 1
    assert sorted(os.listdir(env.versions)) == before


def test_revision_with_broken_template_writes_nothing(env: MigrationEnv, cli) -> None:
    env.write_file("migrations/script.py.mako", 'revision = "${up_revision}"\ndef upgrade(:\n')
    code, _, err = cli("revision", "-m", "x")
    assert code == 1
    assert "the rendered revision is not valid Python" in err
    assert list(env.versions.iterdir()) == []


def test_revision_missing_template(env: MigrationEnv, cli) -> None:
    code, _, err = cli("revision", "-m", "x")
    assert code == 1
    assert "script.py.mako: revision template not found" in err


def test_version_path_and_several_locations(env: MigrationEnv, cli) -> None:
    env.use_template("generic")
    env.write_config(version_locations="%(here)s/migrations/versions, %(here)s/extra")
    code, _, err = cli("revision", "-m", "first")
    assert code == 1
    assert "version location" in err and "extra' does not exist" in err
    (env.root / "extra").mkdir()
    code, _, err = cli("revision", "-m", "first")
    assert code == 1
    assert "several version_locations" in err and "--version-path" in err
    assert cli("revision", "-m", "first", "--version-path", "extra", "--rev-id", "x1")[0] == 0
    assert (env.root / "extra").is_dir()
    assert [p.name for p in (env.root / "extra").glob("*.py")] == ["x1_first.py"]
    assert cli("revision", "-m", "second", "--rev-id", "x2")[0] == 0
    assert (env.root / "extra" / "x2_second.py").is_file()  # follows its parent
    code, _, err = cli("revision", "-m", "x", "--version-path", "elsewhere")
    assert code == 1 and "is not one of the version_locations" in err


def test_file_template_and_slug_truncation(env: MigrationEnv, cli) -> None:
    env.use_template("generic")
    env.write_config(file_template="%%(rev)s__%%(slug)s", truncate_slug_length="10")
    assert cli("revision", "-m", "Add the Account table, now!", "--rev-id", "r1")[0] == 0
    assert [p.name for p in env.versions.glob("*.py")] == ["r1__add_the.py"]


def test_message_with_quotes_and_backslashes_is_kept(env: MigrationEnv, cli) -> None:
    env.use_template("generic")
    message = 'say """hi""" \\o/ — ünïcode'
    assert cli("revision", "-m", message, "--rev-id", "q1")[0] == 0
    assert read_revision(versions(env)["q1"]).doc == message


def test_timezone(env: MigrationEnv, cli) -> None:
    env.use_template("generic")
    env.write_config(timezone="UTC")
    assert cli("revision", "-m", "x", "--rev-id", "t1")[0] == 0
    assert "+00:00" in versions(env)["t1"].read_text()
    env.write_config(timezone="Mars/Olympus")
    code, _, err = cli("revision", "-m", "x")
    assert code == 1 and "unknown timezone 'Mars/Olympus'" in err


# -- merge ------------------------------------------------------------------------------------


def test_merge_heads(env: MigrationEnv, cli) -> None:
    env.use_template("generic")
    env.add_revision("a1")
    env.add_revision("b2", "a1")
    env.add_revision("c3", "a1")
    code, out, _ = cli("merge", "heads", "-m", "join", "--rev-id", "m4")
    assert code == 0 and "Created revision m4" in out
    assert set(read_revision(versions(env)["m4"]).down_revisions) == {"b2", "c3"}
    assert cli("heads") == (0, "m4 (head)\n", "")


def test_merge_refusals(env: MigrationEnv, cli) -> None:
    env.use_template("generic")
    env.add_revision("a1")
    env.add_revision("b2", "a1")
    code, _, err = cli("merge", "heads", "-m", "x")
    assert code == 1 and "a merge needs at least two revisions" in err
    code, _, err = cli("merge", "a1", "b2", "-m", "x")
    assert code == 1 and "cannot merge 'a1' with its descendant 'b2'" in err
    assert len(list(env.versions.glob("*.py"))) == 2


# -- post-write hooks -------------------------------------------------------------------------


def test_post_write_hook_exec_and_module(env: MigrationEnv, cli) -> None:
    env.use_template("generic")
    script = env.write_file(
        "stamp.py", "import sys\nopen(sys.argv[1], 'a').write('# stamped\\n')\n"
    )
    env.config_path.write_text(
        env.config_path.read_text()
        + "\n[post_write_hooks]\nhooks = stamp, fmt\n"
        + f"stamp.type = exec\nstamp.executable = {sys.executable}\n"
        + f"stamp.options = {script} REVISION_SCRIPT_FILENAME\n"
        + "fmt.type = module\nfmt.module = ruff\nfmt.options = format\n"
    )
    assert cli("revision", "-m", "x", "--rev-id", "h1")[0] == 0
    text = versions(env)["h1"].read_text()
    assert text.endswith("# stamped\n")


def test_failing_post_write_hook_reports_but_keeps_file(env: MigrationEnv, cli) -> None:
    env.use_template("generic")
    failing = env.write_file("fail.sh", "#!/bin/sh\necho 'formatter exploded' >&2\nexit 3\n")
    failing.chmod(failing.stat().st_mode | stat.S_IEXEC)
    env.config_path.write_text(
        env.config_path.read_text()
        + f"\n[post_write_hooks]\nhooks = bad\nbad.type = exec\nbad.executable = {failing}\n"
    )
    code, _, err = cli("revision", "-m", "x", "--rev-id", "h2")
    assert code == 1
    assert "post-write hook 'bad' failed with exit code 3: formatter exploded" in err
    assert "the revision file was written" in err
    assert "h2" in versions(env)
