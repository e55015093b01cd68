"""How amigrate reaches your database, and where your models are (async drivers).

amigrate imports this file with `context` bound to the command at hand, then calls
run_migrations_offline() for `--sql` and awaits run_migrations_online() otherwise, in the
caller's event loop: `await command.upgrade(config, "head")` works inside a running app.
Do no work at import time: put it in the functions.
"""

from sqlalchemy.engine import Connection

from amigrate import context

config = context.config

# Your models' MetaData (or a list of them), for `amigrate revision --autogenerate` and
# `amigrate check`:
#     from myapp.models import Base
#     target_metadata = Base.metadata
target_metadata = None

# Autogenerate options, passed to context.configure() below; for example:
#     compare_server_default=True, include_object=skip_legacy_tables, user_module_prefix="myapp."
autogenerate_options: dict[str, object] = {}


def run_migrations_offline() -> None:
    """Write the migrations as SQL instead of running them (`amigrate upgrade --sql`)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection, target_metadata=target_metadata, **autogenerate_options
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    """Run the migrations on a connection to sqlalchemy.url, or on the one your app passed."""
    async with context.connect() as connection:
        await connection.run_sync(do_run_migrations)
