"""Bad input as a user meets it: one line on stderr, non-zero exit, no traceback, nothing written.

These run the real ``python -m amigrate`` in a subprocess, so exit codes and stderr are
exactly what a shell sees.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _envfactory import MigrationEnv


def assert_one_line_error(result, *fragments: str, code: int = 1) -> None:
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("amigrate: error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_missing_config(tmp_path: Path, env: MigrationEnv) -> None:
    env.config_path.unlink()
    result = env.run("heads", env={"AMIGRATE_CONFIG": ""})
    assert_one_line_error(
        result, f"no configuration found in {env.root}", "amigrate.ini", "alembic.ini"
    )


def test_config_named_by_flag_is_missing(env: MigrationEnv) -> None:
    assert_one_line_error(env.run("-c", "nope.ini", "heads"), "config file not found", "nope.ini")


def test_unknown_key_names_file_line_and_closest_key(env: MigrationEnv) -> None:
    env.config_path.write_text("[amigrate]\n\nscrip_location = %(here)s/migrations\n")
    assert_one_line_error(
        env.run("heads"),
        f"{env.config_path}:3: unknown key 'scrip_location' in [amigrate]",
        "did you mean 'script_location'?",
    )


def test_unknown_key_in_pyproject(env: MigrationEnv) -> None:
    env.config_path.unlink()
    env.write_file(
        "pyproject.toml",
        '[project]\nname = "app"\n\n[tool.amigrate]\nscript_location = "migrations"\n'
        'versions_locations = "x"\n',
    )
    assert_one_line_error(
        env.run("heads"),
        "pyproject.toml:6: unknown key 'versions_locations'",
        "did you mean 'version_locations'?",
    )


def test_syntax_error_in_a_revision_file(env: MigrationEnv) -> None:
    env.add_revision("a1")
    broken = env.add_revision("b2", "a1", upgrade="op.create_table('t'")
    assert_one_line_error(env.run("heads"), f"{broken}:", "syntax error")


def test_non_literal_header(env: MigrationEnv) -> None:
    path = env.write_file(
        "migrations/versions/x.py", 'import os\nrevision = "x1"\ndown_revision = os.getenv("P")\n'
    )
    assert_one_line_error(
        env.run("history"), f"{path}:3: down_revision must be a literal", "(a string, None"
    )


def test_cycle_is_printed(env: MigrationEnv) -> None:
    env.add_revision("a1", "c3")
    env.add_revision("b2", "a1")
    env.add_revision("c3", "b2")
    assert_one_line_error(env.run("heads"), "revision cycle: a1 -> c3 -> b2 -> a1")


def test_duplicate_ids_name_both_files(env: MigrationEnv) -> None:
    first = env.add_revision("a1", filename="first.py")
    second = env.add_revision("a1", filename="second.py")
    assert_one_line_error(env.run("heads"), "'a1' is defined twice", first.name, second.name)


def test_down_revision_naming_nothing(env: MigrationEnv) -> None:
    path = env.add_revision("b2", "zz9")
    assert_one_line_error(
        env.run("history"), f"{path}:", "down_revision 'zz9' of revision 'b2' names no revision"
    )


def test_unknown_and_ambiguous_targets(env: MigrationEnv) -> None:
    env.add_revision("ab1")
    env.add_revision("ab2", "ab1")
    assert_one_line_error(env.run("show", "zz"), "no revision matches 'zz'")
    assert_one_line_error(env.run("show", "ab"), "ab1, ab2", "use more characters")


def test_multiple_heads_listed(env: MigrationEnv) -> None:
    env.add_revision("a1")
    env.add_revision("b2", "a1")
    env.add_revision("c3", "a1")
    assert_one_line_error(env.run("show", "head"), "b2", "c3", "heads")


def test_not_an_ancestor(env: MigrationEnv) -> None:
    env.add_revision("a1")
    env.add_revision("b2", "a1")
    assert_one_line_error(env.run("history", "-r", "b2:a1"), "'b2' is not an ancestor of 'a1'")


def test_usage_error_exits_2(env: MigrationEnv) -> None:
    result = env.run("heads", "--bogus")
    assert result.returncode == 2
    assert "unrecognized arguments: --bogus" in result.stderr


def test_traceback_flag_shows_the_chain(env: MigrationEnv) -> None:
    env.add_revision("b2", "zz9")
    result = env.run("--traceback", "heads")
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("amigrate: error: ")


def test_password_is_masked_in_errors(env: MigrationEnv) -> None:
    env.config_path.write_text(
        "[amigrate]\nscript_location = %(here)s/migrations\n"
        "sqlalchemy.url = postgresql://app:s3cret@db/app\nbogus_key = 1\n"
    )
    result = env.run("--traceback", "heads")
    assert result.returncode == 1
    assert "s3cret" not in result.stderr


@pytest.mark.parametrize("source", ["AMIGRATE_CONFIG", "-c"])
def test_config_elsewhere(env: MigrationEnv, tmp_path: Path, source: str) -> None:
    env.add_revision("a1")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    args = ("heads",) if source == "AMIGRATE_CONFIG" else ("-c", str(env.config_path), "heads")
    extra = {"AMIGRATE_CONFIG": str(env.config_path)} if source == "AMIGRATE_CONFIG" else {}
    result = _run_in(env, elsewhere, *args, extra=extra)
    assert (result.returncode, result.stdout) == (0, "a1 (head)\n")


def test_pyproject_and_alembic_ini_are_found(env: MigrationEnv) -> None:
    env.add_revision("a1")
    env.config_path.unlink()
    env.write_file(
        "alembic.ini", "[alembic]\nscript_location = migrations\n[loggers]\nkeys = root\n"
    )
    assert env.run("heads").stdout == "a1 (head)\n"
    env.write_file("pyproject.toml", '[tool.amigrate]\nscript_location = "migrations"\n')
    env.add_revision("b2", "a1")
    assert env.run("heads").stdout == "b2 (head)\n"


def test_named_section(env: MigrationEnv) -> None:
    env.add_revision("a1")
    env.add_revision("p1", directory="plugin")
    env.config_path.write_text(
        "[amigrate]\nscript_location = %(here)s/migrations\n\n"
        "[plugin]\nscript_location = %(here)s/migrations\nversion_locations = %(here)s/plugin\n"
    )
    assert env.run("heads").stdout == "a1 (head)\n"
    assert env.run("-n", "plugin", "heads").stdout == "p1 (head)\n"
    assert_one_line_error(env.run("-n", "nope", "heads"), "nope")


def _run_in(env: MigrationEnv, cwd: Path, *args: str, extra: dict[str, str]):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "amigrate", *args],
        cwd=cwd,
        env={**os.environ, **extra},
        capture_output=True,
        text=True,
        check=False,
    )
