"""The migration environment on disk: script_location, version locations and the graph in them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amigrate._util import fields_repr
from amigrate.errors import ConfigError
from amigrate.script.revision import Revision, RevisionMap

if TYPE_CHECKING:
    from amigrate.config import Config
    from amigrate.script.codecache import CodeCache


@dataclass(repr=False, frozen=True, slots=True)
class RevisionInfo:
    """A revision together with what the graph knows of it; what commands return and print."""

    __repr__ = fields_repr

    revision: str
    down_revisions: tuple[str, ...]
    dependencies: tuple[str, ...]
    branch_labels: tuple[str, ...]
    children: tuple[str, ...]
    is_head: bool
    is_real_head: bool
    is_branch_point: bool
    is_merge_point: bool
    path: str | None
    doc: str
    longdoc: str
    is_current: bool = False

    def to_json(self) -> dict[str, Any]:
        """Plain data for ``--json`` output."""
        return {
            "revision": self.revision,
            "down_revisions": list(self.down_revisions),
            "depends_on": list(self.dependencies),
            "branch_labels": list(self.branch_labels),
            "children": list(self.children),
            "is_head": self.is_head,
            "is_branch_point": self.is_branch_point,
            "is_merge_point": self.is_merge_point,
            "is_current": self.is_current,
            "path": self.path,
            "message": self.doc,
            "doc": self.longdoc,
        }


@dataclass(repr=False, frozen=True, slots=True)
class BranchInfo:
    """A branch point and the revisions it branches into."""

    __repr__ = fields_repr

    point: RevisionInfo
    branches: tuple[RevisionInfo, ...]

    def to_json(self) -> dict[str, Any]:
        return {**self.point.to_json(), "branches": [b.to_json() for b in self.branches]}


def describe(graph: RevisionMap, rev_id: str, *, current: bool = False) -> RevisionInfo:
    """The ``RevisionInfo`` of one revision of ``graph``."""
    revision = graph.get(rev_id)
    return RevisionInfo(
        revision=rev_id,
        down_revisions=revision.down_revisions,
        dependencies=graph.dependencies(rev_id),
        branch_labels=tuple(sorted(graph.branch_labels_of(rev_id))),
        children=tuple(graph.children(rev_id)),
        is_head=graph.is_head(rev_id),
        is_real_head=graph.is_real_head(rev_id),
        is_branch_point=graph.is_branch_point(rev_id),
        is_merge_point=graph.is_merge_point(rev_id),
        path=revision.path,
        doc=revision.doc,
        longdoc=revision.longdoc,
        is_current=current,
    )


class ScriptDirectory:
    """The folder named by ``script_location``: env.py, script.py.mako and the version files."""

    def __init__(
        self,
        directory: Path,
        version_locations: list[Path],
        *,
        recursive: bool = False,
        config: Config | None = None,
    ) -> None:
        self.dir = directory
        self.version_locations = version_locations
        self.recursive = recursive
        self.config = config

    @classmethod
    def from_config(cls, config: Config) -> ScriptDirectory:
        """The script directory a config points at; ``ConfigError`` if it is missing."""
        directory = config.script_location
        if not directory.is_dir():
            raise ConfigError(
                f"script_location '{directory}' is not a directory",
                location=config.location("script_location"),
                hint="create one with 'amigrate init DIR'",
            )
        return cls(
            directory,
            config.version_locations,
            recursive=config.recursive_version_locations,
            config=config,
        )

    @property
    def env_py(self) -> Path:
        return self.dir / "env.py"

    @property
    def template(self) -> Path:
        return self.dir / "script.py.mako"

    @cached_property
    def revisions(self) -> RevisionMap:
        """The revision graph, read from file headers."""
        return RevisionMap(self.read_revisions())

    @cached_property
    def code_cache(self) -> CodeCache:
        """Compiled revision files, for the runs that load them (``script/codecache.py``)."""
        from amigrate.script.codecache import CodeCache

        return CodeCache()

    def read_revisions(self) -> list[Revision]:
        from amigrate.script.headercache import read_folder

        revisions: list[Revision] = []
        for location in self.version_locations:
            for folder, entries in _python_files(location, recursive=self.recursive).items():
                revisions.extend(read_folder(folder, entries))
        return revisions

    def info(self, rev_id: str) -> RevisionInfo:
        return describe(self.revisions, rev_id)

    def location_of(self, rev_id: str) -> Path:
        """The version location holding ``rev_id``'s file (new children go there too)."""
        path = self.revisions.get(rev_id).path
        assert path is not None
        parent = Path(path).parent
        for location in self.version_locations:
            if parent == location or location in parent.parents:
                return location
        return parent


def _python_files(location: Path, *, recursive: bool) -> dict[Path, list[os.DirEntry[str]]]:
    """The ``.py`` files of ``location`` (and its sub-folders if recursive), by folder."""
    found: dict[Path, list[os.DirEntry[str]]] = {}
    pending = [location]
    while pending:
        folder = pending.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except FileNotFoundError:
            continue
        files = []
        for entry in entries:
            if entry.name.startswith((".", "__")):
                continue
            if entry.is_dir():
                if recursive:
                    pending.append(Path(entry.path))
            elif entry.name.endswith(".py"):
                files.append(entry)
        if files:
            found[folder] = files
    return found
