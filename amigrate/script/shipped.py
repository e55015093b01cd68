"""The revision templates amigrate ships, rendered without Mako.

Most projects keep the ``script.py.mako`` that ``init`` wrote. When a template's text is, byte
for byte, one of the shipped ones, `renderer_for` returns a plain function that writes what
Mako would: a ``revision`` then neither imports Mako (about 20 ms, a third of the command)
nor compiles the template. Any other text, or any failure here, goes to Mako, which also
words the errors. tests/unit/test_shipped_templates.py renders every shipped template both
ways, over many variable sets, and requires the same text.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from amigrate.script.write import comma, docstring, py

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    Renderer = Callable[[Mapping[str, Any]], str]

SCRIPT_TEMPLATE = "script.py.mako"


def renderer_for(text: str) -> Renderer | None:
    """The Mako-free renderer of ``text``, if it is a shipped revision template."""
    return _shipped().get(text)


@functools.cache
def _shipped() -> dict[str, Renderer]:
    """Each shipped template's text, with the function that renders it."""
    from amigrate.script.templates import templates_root

    renderers: dict[str, Renderer] = {}
    for folder, renderer in (("generic", _single), ("async", _single), ("multidb", _multidb)):
        path = templates_root() / folder / SCRIPT_TEMPLATE
        try:
            renderers[path.read_bytes().decode("utf-8")] = renderer
        except OSError:  # pragma: no cover - a broken installation: Mako renders instead
            continue
    return renderers


def _header(v: Mapping[str, Any]) -> str:
    """Everything up to the functions: docstring, imports, revision identifiers."""
    down = v["down_revision"]
    revises = " " + comma(down) if down else ""
    imports = f"{v['imports']!s}\n" if v["imports"] else ""
    return (
        f'"""{docstring(str(v["message"] or "empty message"))!s}\n'
        "\n"
        f"Revision ID: {v['up_revision']!s}\n"
        f"Revises:{revises!s}\n"
        f"Create Date: {v['create_date']!s}\n"
        '"""\n'
        "\n"
        "from collections.abc import Sequence\n"
        "\n"
        "import sqlalchemy as sa\n"
        f"{imports}"
        "\n"
        "from amigrate import op\n"
        "\n"
        f"revision: str = {py(v['up_revision'])!s}\n"
        f"down_revision: str | Sequence[str] | None = {py(down)!s}\n"
        f"branch_labels: str | Sequence[str] | None = {py(v['branch_labels'])!s}\n"
        f"depends_on: str | Sequence[str] | None = {py(v['depends_on'])!s}\n"
    )


def _single(v: Mapping[str, Any]) -> str:
    """templates/generic (and async) script.py.mako."""
    return (
        f"{_header(v)}"
        "\n\n"
        "def upgrade() -> None:\n"
        f"    {v['upgrades'] if v['upgrades'] else 'pass'!s}\n"
        "\n\n"
        "def downgrade() -> None:\n"
        f"    {v['downgrades'] if v['downgrades'] else 'pass'!s}\n"
    )


def _multidb(v: Mapping[str, Any]) -> str:
    """templates/multidb script.py.mako: one pair of functions per database."""
    parts = [_header(v)]
    for name in v["databases"]:
        parts.append(
            "\n\n"
            f"def upgrade_{name!s}() -> None:\n"
            f"    {v.get(f'{name}_upgrades') or 'pass'!s}\n"
            "\n\n"
            f"def downgrade_{name!s}() -> None:\n"
            f"    {v.get(f'{name}_downgrades') or 'pass'!s}\n"
        )
    return "".join(parts)
