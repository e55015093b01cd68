"""A sibling Alembic project for the differential tests: same revision files, Alembic's op.

Alembic is the oracle here, configured as its users configure it, plus one choice made to
match amigrate's default: ``transaction_per_migration=True`` (offline, it prints BEGIN/COMMIT
around each revision instead of around the whole script).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alembic.config import Config

ALEMBIC_INI = """\
[alembic]
script_location = %(here)s/migrations
path_separator = os
sqlalchemy.url = {url}
"""

ALEMBIC_ENV = '''\
"""Alembic's side of the comparison: a sync engine, one transaction per revision."""
from sqlalchemy import create_engine, pool

from alembic import context

config = context.config
url = config.get_main_option("sqlalchemy.url")

if context.is_offline_mode():
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, transaction_per_migration=True)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()
'''

ALEMBIC_MAKO = '''\
"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
"""
import sqlalchemy as sa

from alembic import op

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
'''


class AlembicProject:
    """``root/alembic.ini`` + ``root/migrations/{env.py, script.py.mako, versions/}``."""

    def __init__(self, root: Path, url: str) -> None:
        self.root = root
        self.versions = root / "migrations" / "versions"
        self.versions.mkdir(parents=True)
        (root / "alembic.ini").write_text(ALEMBIC_INI.format(url=url.replace("%", "%%")))
        (root / "migrations" / "env.py").write_text(ALEMBIC_ENV)
        (root / "migrations" / "script.py.mako").write_text(ALEMBIC_MAKO)

    def copy_revision(self, amigrate_file: Path) -> Path:
        """Copy one of amigrate's revision files, importing ``op`` from alembic instead."""
        text = amigrate_file.read_text(encoding="utf-8")
        assert "from amigrate import op" in text
        path = self.versions / amigrate_file.name
        path.write_text(text.replace("from amigrate import op", "from alembic import op"))
        return path

    def config(self, **kwargs: Any) -> Config:
        """An ``alembic.config.Config`` for the project (kwargs: output_buffer, stdout)."""
        from alembic.config import Config

        return Config(str(self.root / "alembic.ini"), **kwargs)
