"""Load one Python file (a revision script or env.py) as an isolated module.

Each load gets a unique module name, so two environments with a ``versions/abc_init.py``
each, loaded in one process, never see each other; ``sys.path`` is left alone.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
import traceback
from types import ModuleType
from typing import TYPE_CHECKING

from amigrate.errors import ScriptError

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec
    from pathlib import Path

    from amigrate.script.codecache import CodeCache

_NOT_A_NAME_CHARACTER = re.compile(r"\W")


def module_name_for(path: Path) -> str:
    """A module name unique to this file's absolute path.

    ``os.path.abspath``, not ``Path.resolve``: resolving symlinks takes a system call per path
    component, which adds up over a long chain of revisions; two names for one file only mean
    it may be loaded twice.
    """
    absolute = os.path.abspath(path)
    digest = hashlib.sha1(absolute.encode(), usedforsecurity=False).hexdigest()[:16]
    return f"amigrate_scripts.s_{_NOT_A_NAME_CHARACTER.sub('_', path.stem)}_{digest}"


def load_module(path: Path, code_cache: CodeCache | None = None) -> ModuleType:
    """Execute ``path`` as a fresh module; a failure is a ``ScriptError`` at the failing line.

    With ``code_cache``, its compiled code comes from there instead of its own ``.pyc``.
    """
    name = module_name_for(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ScriptError("cannot load this file as a Python module", location=str(path))
    module = _module_for(spec) if code_cache is not None else importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    try:
        if code_cache is None:
            spec.loader.exec_module(module)
        else:
            exec(code_cache.code(str(path)), module.__dict__)
    except SyntaxError as exc:
        sys.modules.pop(name, None)
        raise ScriptError(
            f"syntax error: {exc.msg}", location=f"{exc.filename or path}:{exc.lineno or 1}"
        ) from exc
    except Exception as exc:
        sys.modules.pop(name, None)
        where, via = _failing_lines(exc, path)
        raise ScriptError(
            f"failed to load: {type(exc).__name__}: {exc}"
            + (f" (imported at {via})" if via else ""),
            location=where,
            hint=_alembic_hint(path),
        ) from exc
    return module


def _module_for(spec: ModuleSpec) -> ModuleType:
    """The empty module ``importlib.util.module_from_spec`` makes for a source file, without
    its general steps: they were a fifth of what loading a cached revision cost."""
    module = ModuleType(spec.name)
    module.__spec__ = spec
    module.__loader__ = spec.loader
    module.__file__ = spec.origin
    module.__package__ = spec.parent
    return module


def _failing_lines(exc: BaseException, path: Path) -> tuple[str, str | None]:
    """Where it failed: the deepest frame in the user's own code (say, a models module that
    ``path`` imports), and the line of ``path`` that led there when that is elsewhere."""
    import sysconfig

    library = tuple(
        os.path.abspath(p) + os.sep
        for p in {sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib")}
    )
    own = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    target = os.path.abspath(path)
    deepest: str | None = None
    in_path: str | None = None
    for frame in traceback.extract_tb(exc.__traceback__):
        filename = os.path.abspath(frame.filename or "<unknown>")
        if filename == target:
            in_path = deepest = f"{path}:{frame.lineno}"
        elif not (frame.filename or "<").startswith("<") and not filename.startswith(
            (*library, own)
        ):
            deepest = f"{filename}:{frame.lineno}"
    if deepest is None:
        return str(path), None
    return deepest, in_path if in_path != deepest else None


def _alembic_hint(path: Path) -> str | None:
    """For a file written for Alembic: amigrate gives it amigrate's ``op`` and ``context``."""
    if not imports_from_alembic(path):
        return None
    return "write 'from amigrate import context, op' instead of importing them from alembic"


def imports_from_alembic(path: str | os.PathLike[str]) -> bool:
    """Whether the Python file at ``path`` imports from alembic (an unreadable file: no)."""
    try:
        with open(path, encoding="utf-8") as file:
            return any(
                line.strip().startswith(("from alembic import", "import alembic")) for line in file
            )
    except OSError:
        return False
