"""Compiled revisions are cached per folder (``__pycache__/amigrate-code.<tag>``), and the
cache never runs code a file no longer holds: edits, broken files and a damaged cache."""

from __future__ import annotations

import io
import marshal
import os
import sys
from typing import TYPE_CHECKING

import pytest

from amigrate import command
from amigrate.errors import ScriptError

if TYPE_CHECKING:
    from pathlib import Path

    from _envfactory import Backend, MigrationEnv

CACHE = f"amigrate-code.{sys.implementation.cache_tag}"
TABLE_A = "op.create_table('aaaa', sa.Column('id', sa.Integer, primary_key=True))"
TABLE_B = "op.create_table('bbbb', sa.Column('id', sa.Integer, primary_key=True))"
PG_URL = "postgresql://app:s3cret@db.invalid/app"  # --sql never connects


@pytest.fixture(autouse=True)
def bytecode_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """As for most users: Python writes byte-code (the test session may have turned it off)."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)


def cache_file(env: MigrationEnv) -> Path:
    return env.versions / "__pycache__" / CACHE


def rewrite_same_size(path: Path, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` (as long) and move the mtime on, as an editor saving would."""
    assert len(old) == len(new)
    text = path.read_text()
    assert old in text
    before = path.stat()
    path.write_text(text.replace(old, new))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    assert path.stat().st_size == before.st_size


async def offline_sql(env: MigrationEnv, revision: str = "head") -> str:
    buffer = io.StringIO()
    await command.upgrade(env.config, revision, sql=True, output_buffer=buffer)
    return buffer.getvalue()


async def test_an_edited_revision_runs_its_new_code(env: MigrationEnv, backend: Backend) -> None:
    path = env.add_revision("a1", upgrade=TABLE_A, downgrade="op.drop_table('aaaa')")
    await command.upgrade(env.config, "head")
    await command.downgrade(env.config, "base")
    assert cache_file(env).is_file()

    rewrite_same_size(path, "aaaa", "bbbb")
    await command.upgrade(env.config, "head")

    assert await env.tables() == {"alembic_version", "bbbb"}
    assert await env.version_rows() == ["a1"]


async def test_the_second_run_writes_the_same_sql(env: MigrationEnv) -> None:
    env.write_config(sqlalchemy_url=PG_URL)
    env.add_revision("a1", upgrade=TABLE_A)
    env.add_revision("b2", "a1", upgrade=TABLE_B)

    first = await offline_sql(env)
    cached = cache_file(env).read_bytes()
    second = await offline_sql(env)

    assert second == first
    assert "CREATE TABLE aaaa" in first and "CREATE TABLE bbbb" in first
    assert cache_file(env).read_bytes() == cached  # nothing new to write the second time


async def test_a_file_broken_after_caching_fails_at_its_line(env: MigrationEnv) -> None:
    env.write_config(sqlalchemy_url=PG_URL)
    path = env.add_revision("a1", upgrade=TABLE_A)
    await offline_sql(env)
    assert cache_file(env).is_file()
    path.write_text(path.read_text() + "\nimport no_such_module_here\n")
    broken_line = len(path.read_text().splitlines())

    with pytest.raises(ScriptError, match="No module named 'no_such_module_here'") as caught:
        await offline_sql(env)

    assert caught.value.location == f"{path}:{broken_line}"


async def test_a_damaged_cache_is_ignored_and_replaced(env: MigrationEnv) -> None:
    env.write_config(sqlalchemy_url=PG_URL)
    env.add_revision("a1", upgrade=TABLE_A)
    expected = await offline_sql(env)
    cache_file(env).write_bytes(b"\x00not marshal data")

    assert await offline_sql(env) == expected

    _format, _magic, files = marshal.loads(cache_file(env).read_bytes())
    assert sorted(files) == ["a1_revision_a1.py"]


async def test_files_deleted_since_leave_the_cache(env: MigrationEnv) -> None:
    env.write_config(sqlalchemy_url=PG_URL)
    gone = env.add_revision("a1", upgrade=TABLE_A)
    await offline_sql(env)
    gone.unlink()
    env.add_revision("b2", upgrade=TABLE_B)

    assert "CREATE TABLE bbbb" in await offline_sql(env)

    _format, _magic, files = marshal.loads(cache_file(env).read_bytes())
    assert sorted(files) == ["b2_revision_b2.py"]


async def test_no_cache_where_python_writes_no_bytecode(
    env: MigrationEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    env.write_config(sqlalchemy_url=PG_URL)
    env.add_revision("a1", upgrade=TABLE_A)

    assert "CREATE TABLE aaaa" in await offline_sql(env)
    assert not cache_file(env).exists()
