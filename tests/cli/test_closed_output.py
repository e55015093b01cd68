"""A reader that stops reading (``amigrate ... | head``) ends the command quietly, as for any
Unix tool: exit 0, no error line, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from _envfactory import MigrationEnv


def _run_into_closed_pipe(env: MigrationEnv, *args: str) -> tuple[int, str]:
    """Run ``python -m amigrate ARGS`` with a stdout pipe whose reader has already gone."""
    process = subprocess.Popen(
        [sys.executable, "-m", "amigrate", *args],
        cwd=env.root,
        env=os.environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    with process.stderr:
        stderr = process.stderr.read()
    return process.wait(timeout=120), stderr


@pytest.fixture
def chain(env: MigrationEnv) -> MigrationEnv:
    env.write_config(sqlalchemy_url="sqlite:///never-opened.db")
    env.add_revision("a1", upgrade='op.create_table("t", sa.Column("id", sa.Integer))')
    env.add_revision("b2", "a1", upgrade='op.add_column("t", sa.Column("n", sa.Integer))')
    return env


@pytest.mark.parametrize(
    "args",
    [
        ("upgrade", "head", "--sql"),
        ("downgrade", "head:base", "--sql"),
        ("history",),
        ("heads",),
    ],
)
def test_a_closed_output_ends_the_command_quietly(
    chain: MigrationEnv, args: tuple[str, ...]
) -> None:
    code, stderr = _run_into_closed_pipe(chain, *args)
    assert code == 0, stderr
    assert "error" not in stderr.lower()
    assert "Traceback" not in stderr
    assert not (chain.root / "never-opened.db").exists()


def test_other_errors_of_an_sql_run_are_still_reported(chain: MigrationEnv) -> None:
    chain.add_revision("c3", "b2", upgrade='raise RuntimeError("boom")')
    result = chain.run("upgrade", "head", "--sql")
    assert result.returncode == 1
    assert "boom" in result.stderr.splitlines()[-1]
