# amigrate's configuration. Commands run in this folder find it by name; elsewhere pass
# -c path/to/amigrate.ini or set AMIGRATE_CONFIG. %(here)s is this file's folder.

[amigrate]
# The migration environment: env.py, script.py.mako and versions/.
script_location = %(here)s/${script_location}

# Prepended to sys.path before env.py runs, so env.py can import your models.
prepend_sys_path = %(here)s

# Where revision files live, separated by commas (default: versions/ in script_location).
# version_locations = %(here)s/${script_location}/versions, %(here)s/plugins/versions

# Names of new revision files. Tokens: rev, slug, epoch, year, month, day, hour, minute, second.
# file_template = %%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s

# How much of the message goes into the file name.
# truncate_slug_length = 40

# Time zone of the "Create Date" in new revisions (an IANA name; default: local time).
# timezone = UTC

# The version table. amigrate keeps Alembic's table, so either tool can carry on the other's work.
# version_table = alembic_version
# version_table_schema = public

# The databases, each configured in a section of its own below.
databases = engine1, engine2

[engine1]
sqlalchemy.url = ${"${"}ENGINE1_URL:-sqlite+aiosqlite:///%(here)s/engine1.db}

[engine2]
sqlalchemy.url = ${"${"}ENGINE2_URL:-sqlite+aiosqlite:///%(here)s/engine2.db}

[post_write_hooks]
# Programs run on each new revision file, e.g. a formatter:
# hooks = ruff
# ruff.type = console_scripts
# ruff.entrypoint = ruff
# ruff.options = format REVISION_SCRIPT_FILENAME
