"""Compiled revision scripts, kept together per folder: ``__pycache__/amigrate-code.<tag>``.

The import system keeps each module's byte-code in a ``.pyc`` of its own, and finding,
checking and reading one takes about 25 µs: most of what loading a revision costs, and a
long chain loads hundreds. This cache keeps the code of every revision of a version folder
in one file, read once per run; each entry is keyed, like the header cache, by the file's
size and modification time, so an edited file is compiled again. It is skipped where
Python skips byte-code (``PYTHONDONTWRITEBYTECODE``), and any trouble reading or writing it
just means compiling.
"""

from __future__ import annotations

import contextlib
import importlib.util
import marshal
import os
import sys
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types import CodeType

FORMAT = 1
_Entry = tuple[int, int, bytes]  # mtime_ns, size, marshalled code


class CodeCache:
    """Code objects of revision files, by path; ``save()`` writes what was compiled anew."""

    def __init__(self) -> None:
        self._folders: dict[str, dict[str, _Entry]] = {}
        self._changed: set[str] = set()
        self._lock = threading.Lock()

    def code(self, path: str) -> CodeType:
        """The compiled code of the Python file ``path`` (a ``SyntaxError`` if it has one)."""
        folder, name = os.path.split(path)
        stat = os.stat(path)
        with self._lock:
            entries = self._folders.get(folder)
            if entries is None:
                entries = self._folders[folder] = _read(folder)
            hit = entries.get(name)
        if hit is not None and hit[:2] == (stat.st_mtime_ns, stat.st_size):
            with contextlib.suppress(ValueError, TypeError, EOFError):
                return marshal.loads(hit[2])  # type: ignore[no-any-return]
        with open(path, "rb") as file:
            source = file.read()
        code = compile(source, path, "exec", dont_inherit=True)
        with self._lock:
            entries[name] = (stat.st_mtime_ns, stat.st_size, marshal.dumps(code))
            self._changed.add(folder)
        return code

    def save(self) -> None:
        """Write the folders that gained code; entries of files gone since are dropped."""
        if sys.dont_write_bytecode:
            return
        with self._lock:
            changed, self._changed = self._changed, set()
            for folder in changed:
                _write(folder, self._folders[folder])


def _cache_path(folder: str) -> str:
    tag = sys.implementation.cache_tag or "python"
    return os.path.join(folder, "__pycache__", f"amigrate-code.{tag}")


def _read(folder: str) -> dict[str, _Entry]:
    if sys.dont_write_bytecode:
        return {}
    try:
        with open(_cache_path(folder), "rb") as file:
            data: Any = marshal.load(file)
    except (OSError, ValueError, TypeError, EOFError):
        return {}
    if not isinstance(data, tuple) or data[:2] != (FORMAT, importlib.util.MAGIC_NUMBER):
        return {}
    files = data[2]
    return files if isinstance(files, dict) else {}


def _write(folder: str, entries: dict[str, _Entry]) -> None:
    path = _cache_path(folder)
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        present = set(os.listdir(folder))
        kept = {name: entry for name, entry in entries.items() if name in present}
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as file:
            marshal.dump((FORMAT, importlib.util.MAGIC_NUMBER, kept), file)
        os.replace(tmp, path)
    except OSError:  # read-only checkout, no permission: the cache is only an optimisation
        with contextlib.suppress(OSError):
            os.unlink(tmp)
