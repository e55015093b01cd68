"""The revision graph: pure data, no files, no SQLAlchemy."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Revision:
    """One revision as its file header declares it.

    ``depends_on`` holds the targets as written (ids, prefixes or branch labels);
    ``RevisionMap`` resolves them. ``lines`` maps header names (``revision``,
    ``down_revision``, ``branch_labels``, ``depends_on``) to their line in ``path``,
    so graph errors can point at the right place.
    """

    revision: str
    down_revisions: tuple[str, ...] = ()
    branch_labels: frozenset[str] = frozenset()
    depends_on: tuple[str, ...] = ()
    path: str | None = None
    doc: str = ""
    longdoc: str = ""
    lines: dict[str, int] = field(default_factory=dict, compare=False, hash=False)

    def location(self, header: str = "revision") -> str | None:
        """``path:line`` of a header assignment, for error messages."""
        if self.path is None:
            return None
        line = self.lines.get(header)
        return f"{self.path}:{line}" if line else self.path
