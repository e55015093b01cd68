"""The header cache: fresh entries skip parsing, changed files are parsed (and checked) again."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from amigrate.errors import ScriptError
from amigrate.script import headercache

REVISION = (
    '"""{message}"""\nrevision = "{rev}"\ndown_revision = {down}\n\ndef upgrade():\n    pass\n'
)


@pytest.fixture(autouse=True)
def bytecode_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)


def write(folder: Path, rev: str, down: str | None, message: str = "m") -> Path:
    path = folder / f"{rev}.py"
    path.write_text(REVISION.format(message=message, rev=rev, down=repr(down)))
    return path


def read(folder: Path) -> dict[str, str]:
    entries = sorted(
        (e for e in os.scandir(folder) if e.name.endswith(".py")), key=lambda e: e.name
    )
    return {r.revision: r.doc for r in headercache.read_folder(folder, entries)}


def test_cache_is_written_and_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "a1", None, "first")
    write(tmp_path, "b2", "a1", "second")
    assert read(tmp_path) == {"a1": "first", "b2": "second"}
    cache = tmp_path / "__pycache__" / headercache.CACHE_NAME
    assert set(json.loads(cache.read_text())["files"]) == {"a1.py", "b2.py"}

    def no_parsing(path: Path) -> None:
        raise AssertionError(f"parsed {path} although its cache entry is fresh")

    monkeypatch.setattr(headercache, "read_revision", no_parsing)
    assert read(tmp_path) == {"a1": "first", "b2": "second"}


def test_an_edited_file_is_parsed_again(tmp_path: Path) -> None:
    path = write(tmp_path, "a1", None, "before")
    assert read(tmp_path) == {"a1": "before"}
    path.write_text(REVISION.format(message="after, longer", rev="a1", down=None))
    assert read(tmp_path) == {"a1": "after, longer"}


def test_a_file_broken_after_caching_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "a1", None)
    read(tmp_path)
    path.write_text('revision = "a1"\ndown_revision = None\ndef upgrade(:\n')
    with pytest.raises(ScriptError, match="syntax error"):
        read(tmp_path)


def test_damaged_cache_is_ignored(tmp_path: Path) -> None:
    write(tmp_path, "a1", None, "first")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / headercache.CACHE_NAME).write_text("{not json")
    assert read(tmp_path) == {"a1": "first"}
    data = {"format": 1, "files": {"a1.py": [[0, 0], ["garbage"]]}}
    (tmp_path / "__pycache__" / headercache.CACHE_NAME).write_text(json.dumps(data))
    assert read(tmp_path) == {"a1": "first"}


def test_no_cache_without_bytecode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    write(tmp_path, "a1", None)
    assert read(tmp_path) == {"a1": "m"}
    assert not (tmp_path / "__pycache__").exists()


def test_unwritable_cache_still_reads(tmp_path: Path) -> None:
    write(tmp_path, "a1", None)
    (tmp_path / "__pycache__").write_text("a file where the cache folder would go")
    assert read(tmp_path) == {"a1": "m"}
    assert read(tmp_path) == {"a1": "m"}
