"""Fixtures for command-line tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from _envfactory import MigrationEnv

from amigrate.cli import main

CLI = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(
    env: MigrationEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> CLI:
    """Run amigrate in-process in the project root; returns (exit code, stdout, stderr)."""
    monkeypatch.chdir(env.root)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
