"""A migration project whose env.py reads the models afresh on every command.

``models.py`` in the project root defines ``metadata`` (and optionally ``OPTIONS``, a dict
of env.py configure options); env.py runs it with runpy, so a test can rewrite the models
between two commands of one process.
"""

from __future__ import annotations

import textwrap

from _envfactory import MigrationEnv

ENV_PY = """
import runpy
from pathlib import Path

from amigrate import context

config = context.config
MODELS = Path(config.config_file_name).parent / "models.py"


def configure(**kw):
    models = runpy.run_path(str(MODELS))
    options = dict(models.get("OPTIONS", {}))
    context.configure(target_metadata=models.get("metadata"), **options, **kw)


def run_migrations_offline():
    configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online():
    async with context.connect() as connection:
        await connection.run_sync(do_run)


def do_run(connection):
    configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
"""


def autogen_project(env: MigrationEnv, models: str) -> MigrationEnv:
    """``env`` with the generic script template, the env.py above and ``models``."""
    env.use_template("generic")
    env.write_file("migrations/env.py", ENV_PY)
    write_models(env, models)
    return env


def write_models(env: MigrationEnv, models: str) -> None:
    header = "import sqlalchemy as sa\n\nmetadata = sa.MetaData()\n"
    env.write_file("models.py", header + textwrap.dedent(models))
