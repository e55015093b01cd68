"""Helpers for many-database tests: multidb projects and revision files for them."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _envfactory import Backend, MigrationEnv

NAMES = ("db1", "db2", "db3")

_MULTIDB_REVISION = '''\
"""revision {rev}"""
import sqlalchemy as sa

from amigrate import op

revision = {rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None
{functions}
'''


def write_multidb_config(env: MigrationEnv, backends: dict[str, Backend]) -> None:
    """amigrate.ini listing ``backends`` as the databases, each in its own section."""
    env.write_config(sqlalchemy_url=None, databases=", ".join(backends))
    sections = "".join(
        f"\n[{name}]\nsqlalchemy.url = {backend.async_url.replace('%', '%%')}\n"
        for name, backend in backends.items()
    )
    with env.config_path.open("a", encoding="utf-8") as file:
        file.write(sections)


def add_multidb_revision(
    env: MigrationEnv, rev: str, down: str | None, bodies: dict[str, str]
) -> None:
    """A revision with ``upgrade_<name>()`` creating ``bodies[name]``'s code, and its undo."""
    functions = []
    for name, body in bodies.items():
        up, _, down_body = body.partition("||")
        for kind, code in (("upgrade", up), ("downgrade", down_body or "pass")):
            indented = textwrap.indent(textwrap.dedent(code).strip() or "pass", "    ")
            functions.append(f"\n\ndef {kind}_{name}() -> None:\n{indented}\n")
    text = _MULTIDB_REVISION.format(rev=rev, down=down, functions="".join(functions))
    env.write_file(f"migrations/versions/{rev}.py", text)


def table_code(table: str) -> str:
    """Create ``table`` on upgrade, drop it on downgrade (the ``||`` form above)."""
    return (
        f"op.create_table({table!r}, sa.Column('id', sa.Integer, primary_key=True))"
        f"||op.drop_table({table!r})"
    )
