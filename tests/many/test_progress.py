"""Live progress on a terminal, and the numbers it shows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from amigrate import command
from amigrate.aio.fanout import Progress, Target
from amigrate.cli.many import ProgressDisplay

if TYPE_CHECKING:
    from pathlib import Path

    import pytest
    from _envfactory import MigrationEnv


def test_eta_from_the_pace_so_far() -> None:
    assert Progress(total=10, done=0, failed=0, running=4, elapsed=3.0).eta is None
    assert Progress(total=10, done=3, failed=1, running=4, elapsed=2.0).eta == 3.0


def test_the_line_is_redrawn_and_cleared(capsys: pytest.CaptureFixture[str]) -> None:
    display = ProgressDisplay(enabled=True)
    display.update(Progress(total=4, done=1, failed=1, running=2, elapsed=2.0))
    display.update(Progress(total=4, done=3, failed=1, running=0, elapsed=4.0))
    display.finish()
    err = capsys.readouterr().err
    assert "\r1 done, 1 failed, 2 running of 4 (2 s, about 2 s left)" in err
    assert "\r3 done, 1 failed, 0 running of 4 (4 s, about 0 s left)" in err
    assert err.endswith("\r")
    quiet = ProgressDisplay(enabled=False)
    quiet.update(Progress(total=1, done=1, failed=0, running=0, elapsed=1.0))
    assert capsys.readouterr().err == ""


async def test_on_progress_sees_every_target_finish(env: MigrationEnv, tmp_path: Path) -> None:
    env.add_revision("a1", upgrade="op.create_table('t', sa.Column('id', sa.Integer))")
    seen: list[Progress] = []
    targets = [Target(url=f"sqlite+aiosqlite:///{tmp_path / f'{n}.db'}") for n in range(5)]
    results = await command.upgrade_many(
        env.config, targets=targets, jobs=2, on_progress=seen.append, lock=False
    )
    assert [r.after for r in results] == [("a1",)] * 5
    assert max(p.running for p in seen) == 2
    assert (seen[-1].done, seen[-1].failed, seen[-1].running) == (5, 0, 0)
