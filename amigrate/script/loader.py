"""Load one Python file (a revision script or env.py) as an isolated module.

Each load gets a unique module name, so two environments with a ``versions/abc_init.py``
each, loaded in one process, never see each other; ``sys.path`` is left alone.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from amigrate.errors import ScriptError

if TYPE_CHECKING:
    from types import ModuleType


def module_name_for(path: Path) -> str:
    """A module name unique to this file's absolute path.

    ``os.path.abspath``, not ``Path.resolve``: resolving symlinks takes a system call per path
    component, which adds up over a long chain of revisions; two names for one file only mean
    it may be loaded twice.
    """
    absolute = os.path.abspath(path)
    digest = hashlib.sha1(absolute.encode(), usedforsecurity=False).hexdigest()[:16]
    stem = "".join(ch if ch.isalnum() else "_" for ch in path.stem)
    return f"amigrate_scripts.s_{stem}_{digest}"


def load_module(path: Path) -> ModuleType:
    """Execute ``path`` as a fresh module; a failure is a ``ScriptError`` at the failing line."""
    name = module_name_for(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ScriptError("cannot load this file as a Python module", location=str(path))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(name, None)
        raise ScriptError(
            f"syntax error: {exc.msg}", location=f"{exc.filename or path}:{exc.lineno or 1}"
        ) from exc
    except Exception as exc:
        sys.modules.pop(name, None)
        raise ScriptError(
            f"failed to load: {type(exc).__name__}: {exc}", location=_failing_line(exc, path)
        ) from exc
    return module


def _failing_line(exc: BaseException, path: Path) -> str:
    """``path:line`` of the deepest frame inside ``path``, else the file itself."""
    wanted = str(path.resolve())
    line: int | None = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename and str(Path(frame.filename).resolve()) == wanted:
            line = frame.lineno
    return f"{path}:{line}" if line else str(path)
