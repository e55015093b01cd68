"""Read a revision file's header (ids, parents, labels, docstring) with ``ast``, never executing it.

Reading headers instead of importing scripts keeps ``heads`` and ``history`` fast and free of
side effects. The whole file is parsed, so a syntax error anywhere in it is found at once.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from amigrate.errors import ScriptError
from amigrate.script.revision import Revision

if TYPE_CHECKING:
    from pathlib import Path

HEADER_NAMES = ("revision", "down_revision", "branch_labels", "depends_on")

_LITERAL_KINDS = "a string, None, or a tuple/list/set of strings"


def read_revision(path: Path) -> Revision:
    """The ``Revision`` declared by the file at ``path``; ``ScriptError`` if it has none."""
    try:
        source = path.read_bytes()
    except OSError as exc:
        raise ScriptError(f"cannot read revision file: {exc.strerror}", location=str(path)) from exc
    module = _parse_header(source, path)
    values, lines = _header_assignments(module, path)
    if "revision" not in values:
        raise ScriptError(
            "not a revision file: it has no 'revision = \"...\"' line",
            location=str(path),
            hint="revision files need revision and down_revision at module level",
        )
    if "down_revision" not in values:
        raise ScriptError(
            "no 'down_revision = ...' line",
            location=str(path),
            hint="a first revision says down_revision = None",
        )
    if values["down_revision"] == "":
        raise ScriptError(
            "down_revision is an empty string",
            location=f"{path}:{lines['down_revision']}",
            hint="a first revision says down_revision = None",
        )
    revision = values["revision"]
    if not isinstance(revision, str) or not revision.strip():
        raise ScriptError(
            "revision must be a non-empty string", location=f"{path}:{lines['revision']}"
        )
    longdoc = (ast.get_docstring(module, clean=True) or "").strip()
    return Revision(
        revision=revision.strip(),
        down_revisions=_as_names(values.get("down_revision"), "down_revision", path, lines),
        branch_labels=frozenset(
            _as_names(values.get("branch_labels"), "branch_labels", path, lines)
        ),
        depends_on=_as_names(values.get("depends_on"), "depends_on", path, lines),
        path=str(path),
        doc=" ".join(longdoc.split("\n\n", 1)[0].split()),
        longdoc=longdoc,
        lines=lines,
    )


def _parse_header(source: bytes, path: Path) -> ast.Module:
    try:
        return ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise ScriptError(f"syntax error: {exc.msg}", location=f"{path}:{exc.lineno or 1}") from exc
    except ValueError as exc:  # e.g. null bytes
        raise ScriptError(f"cannot parse revision file: {exc}", location=str(path)) from exc


def _assigned_name(node: ast.stmt) -> str | None:
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        return target.id if isinstance(target, ast.Name) else None
    if isinstance(node, ast.AnnAssign) and node.value is not None:
        return node.target.id if isinstance(node.target, ast.Name) else None
    return None


def _header_assignments(module: ast.Module, path: Path) -> tuple[dict[str, object], dict[str, int]]:
    values: dict[str, object] = {}
    lines: dict[str, int] = {}
    for node in module.body:
        name = _assigned_name(node)
        if name not in HEADER_NAMES:
            continue
        if name in lines:
            raise ScriptError(
                f"{name} is assigned twice (lines {lines[name]} and {node.lineno})",
                location=f"{path}:{node.lineno}",
            )
        assert isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None
        try:
            values[name] = ast.literal_eval(node.value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            raise ScriptError(
                f"{name} must be a literal ({_LITERAL_KINDS}), not an expression",
                location=f"{path}:{node.lineno}",
                hint="amigrate reads headers without running the file",
            ) from None
        lines[name] = node.lineno
    return values, lines


def _as_names(value: object, name: str, path: Path, lines: dict[str, int]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        items: list[object] = [value]
    elif isinstance(value, tuple | list):
        items = list(value)
    elif isinstance(value, set | frozenset):
        items = sorted(value, key=str)
    else:
        raise ScriptError(
            f"{name} must be {_LITERAL_KINDS}, not {type(value).__name__}",
            location=f"{path}:{lines[name]}",
        )
    names: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ScriptError(
                f"{name} must contain only strings, found {item!r}",
                location=f"{path}:{lines[name]}",
            )
        if item.strip() and item.strip() not in names:
            names.append(item.strip())
    return tuple(names)
