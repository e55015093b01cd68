"""What reaches a pipe, and when: progress lines on stderr, the SQL script on stdout.

Into a pipe, amigrate gathers progress lines that come in a burst and lets a ``--sql`` script
fill stdout's buffer even under ``PYTHONUNBUFFERED``. A reader must still get every line in
order, soon after it happens, with the error line last.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading

import pytest
from _envfactory import Backend, MigrationEnv

TABLE = "op.create_table({name!r}, sa.Column('id', sa.Integer, primary_key=True))"
WAIT_FOR_RELEASE = """\
import pathlib, time
release = pathlib.Path(__file__).parents[2] / "release"
for _ in range(600):
    if release.exists():
        break
    time.sleep(0.05)
else:
    raise RuntimeError("never released")
"""


def test_progress_lines_reach_a_pipe_while_the_run_goes_on(
    env: MigrationEnv, backend: Backend
) -> None:
    env.add_revision("a1", upgrade=TABLE.format(name="one"))
    env.add_revision("b2", "a1", upgrade=TABLE.format(name="two"))
    env.add_revision("c3", "b2", upgrade=WAIT_FOR_RELEASE)
    process = subprocess.Popen(
        [sys.executable, "-m", "amigrate", "upgrade", "head"],
        cwd=env.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stderr is not None
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stderr])
    reader.start()
    try:
        seen = [lines.get(timeout=30), lines.get(timeout=30)]  # while c3 still waits
    finally:
        (env.root / "release").touch()
        code = process.wait(timeout=60)
        reader.join()
        process.stderr.close()
    assert code == 0
    assert "Running upgrade  -> a1" in seen[0]
    assert "Running upgrade a1 -> b2" in seen[1]
    rest = list(lines.queue)
    assert len(rest) == 1 and "Running upgrade b2 -> c3" in rest[0]


def test_the_error_line_comes_after_the_progress_lines(env: MigrationEnv, backend: Backend) -> None:
    env.add_revision("a1", upgrade=TABLE.format(name="one"))
    env.add_revision("b2", "a1", upgrade=TABLE.format(name="two"))
    env.add_revision("c3", "b2", upgrade='raise RuntimeError("boom")')
    result = env.run("upgrade", "head")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 3, result.stderr
    assert "Running upgrade  -> a1" in lines[0]
    assert "Running upgrade a1 -> b2" in lines[1]
    assert lines[2].startswith("amigrate: error:") and "boom" in lines[2]


@pytest.mark.parametrize("unbuffered", [True, False], ids=["PYTHONUNBUFFERED", "buffered"])
def test_an_sql_script_keeps_what_revisions_print_in_place(
    env: MigrationEnv, unbuffered: bool
) -> None:
    env.write_config(sqlalchemy_url="sqlite:///never-opened.db")
    env.add_revision("a1", upgrade=TABLE.format(name="one"))
    env.add_revision("b2", "a1", upgrade='print("-- printed by b2")\n' + TABLE.format(name="two"))
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        environ["PYTHONUNBUFFERED"] = "1"
    result = subprocess.run(
        [sys.executable, "-m", "amigrate", "upgrade", "head", "--sql"],
        cwd=env.root,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    script = result.stdout
    order = [
        "CREATE TABLE one",
        "-- Running upgrade a1 -> b2",
        "-- printed by b2",
        "CREATE TABLE two",
        "UPDATE alembic_version SET version_num='b2'",
    ]
    positions = [script.find(text) for text in order]
    assert -1 not in positions and positions == sorted(positions), script
    assert not (env.root / "never-opened.db").exists()
