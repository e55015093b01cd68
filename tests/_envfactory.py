"""What a test migrates: a ``Backend`` (a fresh database), a ``MigrationEnv`` (a project).

The ``backend`` fixture (tests/conftest.py) gives a ``Backend`` per test. The ``env`` fixture
makes a ``MigrationEnv`` in ``tmp_path / "proj"`` with an ``amigrate.ini`` already written.
When the test also uses the ``backend`` fixture, the env is bound to it: the config's
``sqlalchemy.url`` is the backend's async URL, and ``env.tables()`` / ``env.version_rows()``
look at that database.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from amigrate._util import mask_url_password

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import AsyncEngine

    from amigrate.config import Config

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = REPO_ROOT / "templates"

Revs = str | Sequence[str] | None

_REVISION_FILE = '''\
"""{message}

Revision ID: {rev}
Revises: {revises}
"""
import sqlalchemy as sa

from amigrate import op

revision = {rev_repr}
down_revision = {down}
branch_labels = {branch_labels}
depends_on = {depends_on}


def upgrade() -> None:
{upgrade}


def downgrade() -> None:
{downgrade}
'''


@dataclass(frozen=True, repr=False)
class Backend:
    """One fresh, empty database: ``async_url`` for amigrate, ``sync_url`` for checks by hand."""

    name: str
    async_url: str
    sync_url: str

    def __repr__(self) -> str:
        return f"Backend({self.name!r}, {mask_url_password(self.async_url)!r})"

    async def tables(self) -> set[str]:
        """Names of the tables in the database's default schema."""
        from sqlalchemy import inspect

        async with self._engine() as engine, engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))

    async def version_rows(self, table: str = "alembic_version") -> list[str]:
        """The sorted ``version_num`` values of ``table``; [] if the table does not exist."""
        from sqlalchemy import column, inspect, select
        from sqlalchemy import table as table_clause

        async with self._engine() as engine, engine.connect() as conn:
            if not await conn.run_sync(lambda sync: inspect(sync).has_table(table)):
                return []
            query = select(column("version_num")).select_from(table_clause(table))
            return sorted(str(row) for row in (await conn.execute(query)).scalars())

    @contextlib.asynccontextmanager
    async def _engine(self) -> AsyncIterator[AsyncEngine]:
        from sqlalchemy.ext.asyncio import create_async_engine
        from sqlalchemy.pool import NullPool

        engine = create_async_engine(self.async_url, poolclass=NullPool)
        try:
            yield engine
        finally:
            await engine.dispose()


@contextlib.contextmanager
def sync_connection(url: str, *, begin: bool = False) -> Iterator[Connection]:
    """A plain SQLAlchemy connection to ``url`` for setting up and checking by hand.

    ``begin``: inside a transaction that commits when the block ends. The engine (no pool)
    is disposed of afterwards.
    """
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() if begin else engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _revs_repr(value: Revs) -> str:
    """None, "x" or ("x", "y") — the way revision files spell these headers."""
    if value is None or isinstance(value, str):
        return repr(value)
    return repr(tuple(value))


def _revs_text(value: Revs) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else ", ".join(value)


def _body(code: str) -> str:
    code = textwrap.dedent(code).strip("\n") or "pass"
    return textwrap.indent(code, "    ", lambda line: bool(line.strip()))


def _slug(message: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:40]


class MigrationEnv:
    """A project directory: ``root/amigrate.ini`` and ``root/migrations/versions``."""

    def __init__(self, root: Path, backend: Backend | None = None) -> None:
        self.root = root
        self.config_path = root / "amigrate.ini"
        self.script_dir = root / "migrations"
        self.versions = self.script_dir / "versions"
        self.backend = backend
        self.versions.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"<MigrationEnv {self.root} backend={self.backend!r}>"

    # -- files -----------------------------------------------------------------------------

    def write_config(self, **main_options: str | None) -> Path:
        """Write amigrate.ini with an ``[amigrate]`` section.

        ``script_location`` defaults to ``%(here)s/migrations`` and, when bound to a backend,
        ``sqlalchemy.url`` to its async URL; pass ``None`` to leave an option out. Keyword
        ``sqlalchemy_url`` means ``sqlalchemy.url`` (any ``sqlalchemy_*`` likewise); other
        names are written as given. Values are written verbatim (``%`` is interpolation).
        """
        options: dict[str, str | None] = {"script_location": "%(here)s/migrations"}
        if self.backend is not None:
            options["sqlalchemy.url"] = self.backend.async_url.replace("%", "%%")
        for name, value in main_options.items():
            if name.startswith("sqlalchemy_"):
                name = "sqlalchemy." + name.removeprefix("sqlalchemy_")
            options[name] = value
        lines = ["[amigrate]"]
        lines += [f"{name} = {value}" for name, value in options.items() if value is not None]
        self.config_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return self.config_path

    def add_revision(
        self,
        rev: str,
        down: Revs = None,
        *,
        message: str | None = None,
        branch_labels: Revs = None,
        depends_on: Revs = None,
        upgrade: str = "pass",
        downgrade: str = "pass",
        filename: str | None = None,
        directory: str | Path | None = None,
    ) -> Path:
        """Write a revision file (default: ``versions/<rev>_<slug>.py``) and return its path.

        ``upgrade`` / ``downgrade`` are function bodies (dedented, then indented); ``sa`` and
        ``op`` are imported. A relative ``directory`` is taken from the project root.
        """
        message = message if message is not None else f"revision {rev}"
        text = _REVISION_FILE.format(
            message=message.replace("\\", "\\\\").replace('"""', '\\"\\"\\"'),
            rev=rev,
            rev_repr=repr(rev),
            revises=_revs_text(down),
            down=_revs_repr(down),
            branch_labels=_revs_repr(branch_labels),
            depends_on=_revs_repr(depends_on),
            upgrade=_body(upgrade),
            downgrade=_body(downgrade),
        )
        folder = self.versions if directory is None else self.root / directory
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / (filename or f"{rev}_{_slug(message) or 'revision'}.py")
        path.write_text(text, encoding="utf-8")
        return path

    def write_file(self, relpath: str | Path, text: str) -> Path:
        """Write ``text`` verbatim to ``root / relpath`` (parents created)."""
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def use_template(self, name: str = "generic") -> None:
        """Copy the repository template's env.py and script.py.mako into the script directory."""
        source = TEMPLATES / name
        for filename in ("env.py", "script.py.mako"):
            shutil.copyfile(source / filename, self.script_dir / filename)

    # -- running ---------------------------------------------------------------------------

    def run(
        self, *args: str, env: Mapping[str, str] | None = None, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run ``python -m amigrate ARGS`` in the project root; ``env`` adds variables.

        With ``check=True`` a non-zero exit fails the test, showing the command's output.
        """
        environ = {**os.environ, **(env or {})}
        result = subprocess.run(
            [sys.executable, "-m", "amigrate", *args],
            cwd=self.root,
            env=environ,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"amigrate {' '.join(args)} exited with {result.returncode}\n"
                f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
            )
        return result

    @property
    def config(self) -> Config:
        from amigrate.config import Config

        return Config(self.config_path)

    # -- the bound database ----------------------------------------------------------------

    def _bound(self) -> Backend:
        if self.backend is None:
            raise RuntimeError("this env has no database: add the `backend` fixture to the test")
        return self.backend

    async def tables(self) -> set[str]:
        """Table names in the bound backend's database."""
        return await self._bound().tables()

    async def version_rows(self, table: str = "alembic_version") -> list[str]:
        """Sorted version_num rows of the bound backend's version table ([] if absent)."""
        return await self._bound().version_rows(table)
