"""Small helpers with no better home: revision ids, password masking, atomic writes."""

from __future__ import annotations

import os
import re
import reprlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)(?P<password>[^@\s]*)@")


@reprlib.recursive_repr()
def fields_repr(self: object) -> str:
    """A dataclass's repr as ``dataclasses`` writes it, shared instead of made per class.

    Classes say ``@dataclass(repr=False)`` and ``__repr__ = fields_repr``: on Python 3.11 a
    generated repr costs each command that imports the class time (3-4 ms for the 54 an
    autogenerate imports). A plain (not dataclass) subclass gets Python's default repr.
    """
    import dataclasses

    if not dataclasses.is_dataclass(self):  # a user's own plain subclass of an op
        return object.__repr__(self)
    shown = ", ".join(
        f"{item.name}={getattr(self, item.name)!r}"
        for item in dataclasses.fields(self)
        if item.repr
    )
    return f"{type(self).__qualname__}({shown})"


def new_rev_id() -> str:
    """A fresh 12-hex-digit revision id, the shape Alembic uses."""
    return os.urandom(6).hex()


def mask_url_password(text: str) -> str:
    """Replace the password of every URL in ``text`` with ``***``.

    Works on any text (an error message, a URL) without importing SQLAlchemy.
    """
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}***@", text)


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like ``name``, for 'did you mean' hints."""
    import difflib

    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def atomic_write(path: Path, text: str, *, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the whole new one."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, _mode_for(path))
        with os.fdopen(fd, "w", encoding=encoding, newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _mode_for(path: Path) -> int:
    """The existing file's mode, or what a plain ``open()`` would give (0o666 less umask)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
