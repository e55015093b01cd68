"""How results look on stdout: text close to Alembic's, or ``--json`` for scripts and CI."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from pathlib import Path

    from amigrate.runtime.steps import MigrationStep
    from amigrate.script.directory import BranchInfo, RevisionInfo
    from amigrate.script.templates import TemplateInfo


def _json(data: Any) -> str:
    import json

    return json.dumps(data, indent=2, ensure_ascii=False)


def _down(info: RevisionInfo) -> str:
    return ", ".join(info.down_revisions) if info.down_revisions else "<base>"


def summary(
    info: RevisionInfo,
    *,
    parents: bool = False,
    tree: bool = True,
    doc: bool = False,
) -> str:
    """One line: ``down -> rev (labels) (head) (branchpoint), message``."""
    text = info.revision
    if parents:
        deps = f" ({', '.join(info.dependencies)})" if info.dependencies else ""
        text = f"{_down(info)}{deps} -> {text}"
    if info.branch_labels:
        text += f" ({', '.join(info.branch_labels)})"
    if info.is_real_head:
        text += " (head)"
    elif info.is_head:
        text += " (effective head)"
    if info.is_current:
        text += " (current)"
    if tree and info.is_branch_point:
        text += " (branchpoint)"
    if tree and info.is_merge_point:
        text += " (mergepoint)"
    if doc:
        text += f", {info.doc}"
    return text


def entry(info: RevisionInfo) -> str:
    """The full, multi-line description of a revision (``-v`` and ``show``)."""
    flags = "".join(
        label
        for label, on in (
            (" (head)", info.is_head),
            (" (branchpoint)", info.is_branch_point),
            (" (mergepoint)", info.is_merge_point),
            (" (current)", info.is_current),
        )
        if on
    )
    lines = [f"Rev: {info.revision}{flags}"]
    lines.append(f"{'Merges' if info.is_merge_point else 'Parent'}: {_down(info)}")
    if info.dependencies:
        lines.append(f"Also depends on: {', '.join(info.dependencies)}")
    if info.is_branch_point:
        lines.append(f"Branches into: {', '.join(info.children)}")
    if info.branch_labels:
        lines.append(f"Branch names: {', '.join(info.branch_labels)}")
    lines.append(f"Path: {info.path}")
    lines.append("")
    lines.extend(f"    {line}".rstrip() for line in info.longdoc.splitlines())
    lines.append("")
    return "\n".join(lines)


def render_heads(args: argparse.Namespace, infos: Sequence[RevisionInfo]) -> str:
    if args.json:
        return _json([info.to_json() for info in infos])
    if args.verbose:
        return "\n".join(entry(info) for info in infos)
    return "\n".join(summary(info, tree=False) for info in infos)


def render_history(args: argparse.Namespace, infos: Sequence[RevisionInfo]) -> str:
    if args.json:
        return _json([info.to_json() for info in infos])
    if args.verbose:
        return "\n".join(entry(info) for info in infos)
    return "\n".join(summary(info, parents=True, doc=True) for info in infos)


def render_branches(args: argparse.Namespace, points: Sequence[BranchInfo]) -> str:
    if args.json:
        return _json([point.to_json() for point in points])
    blocks = []
    for point in points:
        head = entry(point.point) if args.verbose else summary(point.point)
        pad = " " * len(point.point.revision)
        arms = [f"{pad} -> {summary(b, doc=args.verbose)}" for b in point.branches]
        blocks.append("\n".join([head, *arms]))
    return "\n".join(blocks)


def render_show(args: argparse.Namespace, infos: Sequence[RevisionInfo]) -> str:
    if args.json:
        return _json([info.to_json() for info in infos])
    return "\n".join(entry(info) for info in infos)


def render_steps(args: argparse.Namespace, steps: Sequence[MigrationStep]) -> str:
    """Nothing on stdout: each step is logged as it runs; --sql output went to stdout."""
    return ""


def render_stamp(args: argparse.Namespace, heads: Sequence[str]) -> str:
    return ""


def render_nothing(args: argparse.Namespace, result: object) -> str:
    return ""


def render_current(args: argparse.Namespace, infos: Sequence[RevisionInfo]) -> str:
    if args.verbose:
        return "\n".join(entry(info) for info in infos)
    return "\n".join(summary(info, tree=False) for info in infos)


def render_check(args: argparse.Namespace, diffs: Sequence[str]) -> str:
    if args.json:
        return check_json(diffs)
    return "No differences: the database matches the models."


def check_json(diffs: Sequence[str], *, error: str | None = None) -> str:
    answer: dict[str, Any] = {"differences": list(diffs), "ok": not diffs and error is None}
    if error is not None:
        answer["error"] = error
    return _json(answer)


def render_written(args: argparse.Namespace, info: RevisionInfo | None) -> str:
    if info is None:
        return "No revision written: process_revision_directives removed it."
    return f"Created revision {info.revision}: {_relative(info.path or '')}"


def render_init(args: argparse.Namespace, paths: Sequence[Path]) -> str:
    made = [f"Created {_relative(str(path))}" for path in paths]
    config = _relative(str(paths[0]))
    env = _relative(str(paths[1]))
    return "\n".join(
        [
            *made,
            "",
            f"Next: set sqlalchemy.url in {config} and target_metadata in {env}, then run",
            '  amigrate revision -m "first revision"',
        ]
    )


def render_templates(args: argparse.Namespace, templates: Sequence[TemplateInfo]) -> str:
    width = max((len(t.name) for t in templates), default=0)
    lines = ["Templates:", ""]
    lines.extend(f"  {t.name.ljust(width)}  {t.description}" for t in templates)
    lines += ["", "Use one with: amigrate init --template NAME DIRECTORY"]
    return "\n".join(lines)


def _relative(path: str) -> str:
    """A path relative to the working directory when it is inside it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative
