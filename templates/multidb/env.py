"""How amigrate reaches your databases, and where the models of each are.

The databases are listed by `databases = ...` in amigrate.ini, each with a section holding
its sqlalchemy.url. amigrate imports this file once, then calls the functions below once per
database, concurrently, with `context.database` naming the database at hand; revision files
hold upgrade_<name>() and downgrade_<name>() functions. Do no work at import time.
"""

from sqlalchemy.engine import Connection

from amigrate import context

config = context.config

# The MetaData of each database's models, for `amigrate revision --autogenerate`:
#     from myapp.models import Base, AuditBase
#     target_metadata = {"engine1": Base.metadata, "engine2": AuditBase.metadata}
target_metadata = {"engine1": None, "engine2": None}


def run_migrations_offline() -> None:
    """Write the migrations of one database as SQL (`amigrate upgrade --sql`)."""
    context.configure(
        url=config.get_section_option(context.database, "sqlalchemy.url"),
        target_metadata=target_metadata.get(context.database),
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata.get(context.database))
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    """Run the migrations of one database, awaited in the caller's event loop."""
    async with context.connect() as connection:
        await connection.run_sync(do_run_migrations)
