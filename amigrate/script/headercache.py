"""A cache of parsed revision headers, kept like byte-code: ``__pycache__/amigrate-headers.json``.

Parsing 2,000 revision files takes a few hundred milliseconds, which is most of what
``heads`` and ``history`` cost on a long history. Each entry is keyed by the file's size and
modification time, so an edited file is parsed again (and a broken one reported); only files
that parsed cleanly are cached. The cache is skipped where Python skips byte-code
(``PYTHONDONTWRITEBYTECODE``), and any trouble reading or writing it just means parsing.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from amigrate.script.headers import read_revision
from amigrate.script.revision import Revision

CACHE_NAME = "amigrate-headers.json"
FORMAT = 1


def read_folder(folder: Path, files: list[os.DirEntry[str]]) -> list[Revision]:
    """The revisions of ``files`` (entries of ``folder``), from the cache where it is fresh."""
    if sys.dont_write_bytecode:
        return [read_revision(Path(entry.path)) for entry in files]
    cache_path = folder / "__pycache__" / CACHE_NAME
    cached = _load(cache_path)
    fresh: dict[str, Any] = {}
    revisions = []
    for entry in files:
        stat = entry.stat()
        key = [stat.st_mtime_ns, stat.st_size]
        hit = cached.get(entry.name)
        revision = _revision_from(hit[1], entry.path) if hit and _fresh(hit, key) else None
        if revision is None:
            revision = read_revision(Path(entry.path))
        fresh[entry.name] = [key, _data_of(revision)]
        revisions.append(revision)
    if fresh != cached:
        _save(cache_path, fresh)
    return revisions


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {}
    files = data.get("files")
    return files if isinstance(files, dict) else {}


def _save(path: Path, files: dict[str, Any]) -> None:
    text = json.dumps({"format": FORMAT, "files": files}, separators=(",", ":"))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:  # read-only checkout, no permission: the cache is only an optimisation
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _data_of(revision: Revision) -> list[Any]:
    return [
        revision.revision,
        list(revision.down_revisions),
        sorted(revision.branch_labels),
        list(revision.depends_on),
        revision.doc,
        revision.longdoc,
        revision.lines,
    ]


def _fresh(hit: Any, key: list[int]) -> bool:
    return isinstance(hit, list) and len(hit) == 2 and hit[0] == key


def _revision_from(data: Any, path: str) -> Revision | None:
    try:
        rev, down, labels, depends, doc, longdoc, lines = data
    except (TypeError, ValueError):
        return None  # a damaged entry: parse the file instead
    return Revision(
        revision=rev,
        down_revisions=tuple(down),
        branch_labels=frozenset(labels),
        depends_on=tuple(depends),
        path=path,
        doc=doc,
        longdoc=longdoc,
        lines=lines,
    )
