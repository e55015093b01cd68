"""Many databases at once: one task per target, a bounded number at a time, a result each.

A *target* is one place a command runs: a database section of a multidb config, a tenant
URL, a PostgreSQL schema (on the config's URL or on a tenant URL), or the config's own
database. ``fan_out`` runs a coroutine per target in an anyio task group, at most ``jobs``
at a time (a ``CapacityLimiter``); each target has its own EnvironmentContext, connection
and transactions, so a failure in one leaves the others where their own runs left them.
Failures are collected, never raised from inside the group: the caller gets every result
and decides (``command`` raises ``MultiDatabaseError``). With ``fail_fast`` the first
failure cancels the rest; cancellation takes effect between revisions (see ``StepGuard``).
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from amigrate._util import fields_repr, mask_url_password
from amigrate.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
    from pathlib import Path

    from amigrate.aio.engines import ServerEngines
    from amigrate.config import Config

DEFAULT_JOBS = 8
# The target the current task migrates, for log lines ("[tenant_07] Running upgrade ...").
current_target: contextvars.ContextVar[Target | None] = contextvars.ContextVar(
    "amigrate_current_target", default=None
)
_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(repr=False, frozen=True, slots=True)
class Target:
    """Where one run goes: a multidb ``database`` section, a tenant ``url``, a ``schema``."""

    __repr__ = fields_repr

    database: str | None = None
    url: str | None = None
    schema: str | None = None

    @property
    def name(self) -> str:
        """What output shows: the section, the URL (password masked), ``URL#schema``."""
        where = self.database or (mask_url_password(self.url) if self.url else "")
        if self.schema:
            return f"{where}#{self.schema}" if where else self.schema
        return where or "(default)"

    @property
    def identity(self) -> str:
        """A stable key for sharding: the same on every machine, without any password."""
        return "|".join((self.database or "", _without_password(self.url), self.schema or ""))


@dataclass(repr=False, slots=True)
class TargetResult:
    """How one target's run went: revisions before and after, the steps run, seconds."""

    __repr__ = fields_repr

    target: Target
    status: str = "pending"  # pending, running, ok, failed, cancelled
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    steps: list[Any] = field(default_factory=list)
    seconds: float = 0.0
    error: BaseException | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target.name,
            "database": self.target.database,
            "url": mask_url_password(self.target.url) if self.target.url else None,
            "schema": self.target.schema,
            "status": self.status,
            "from": list(self.before),
            "to": None if self.status == "cancelled" else list(self.after),  # unknown
            "steps": [step.description for step in self.steps],
            "seconds": round(self.seconds, 3),
            "error": None if self.error is None else mask_url_password(str(self.error)),
        }


@dataclass(repr=False, frozen=True, slots=True)
class Progress:
    """Counts while a fan-out runs, for a live display."""

    __repr__ = fields_repr

    total: int
    done: int
    failed: int
    running: int
    elapsed: float

    @property
    def eta(self) -> float | None:
        """Seconds left, estimated from the pace so far (None before anything finished)."""
        finished = self.done + self.failed
        if not finished:
            return None
        return self.elapsed / finished * (self.total - finished)


async def fan_out(
    targets: Sequence[Target],
    run_one: Callable[[Target, TargetResult], Awaitable[None]],
    *,
    jobs: int | None = None,
    fail_fast: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
) -> list[TargetResult]:
    """Run ``run_one`` for every target, ``jobs`` at a time; a result per target, in order.

    ``run_one`` fills in its ``TargetResult`` (before, after, steps) as it goes; errors it
    raises are recorded on the result, not propagated.
    """
    import anyio

    results = [TargetResult(target) for target in targets]
    limiter = anyio.CapacityLimiter(default_jobs(len(targets), jobs))
    started = time.perf_counter()

    counts = {"ok": 0, "failed": 0, "running": 0}  # kept as they change: O(1) per report

    def report() -> None:
        if on_progress is not None:
            elapsed = time.perf_counter() - started
            on_progress(Progress(len(results), counts["ok"], counts["failed"],
                                 counts["running"], elapsed))  # fmt: skip

    async def one(result: TargetResult, group: anyio.abc.TaskGroup) -> None:
        async with limiter:
            result.status = "running"
            counts["running"] += 1
            report()
            begun = time.perf_counter()
            token = current_target.set(result.target)
            try:
                await run_one(result.target, result)
            except anyio.get_cancelled_exc_class():
                result.status = "cancelled"
                raise
            except Exception as error:
                result.status, result.error = "failed", error
                if fail_fast:
                    group.cancel_scope.cancel()
            else:
                result.status = "ok"
            finally:
                current_target.reset(token)
                result.seconds = time.perf_counter() - begun
                counts["running"] -= 1
                if result.status in counts:
                    counts[result.status] += 1
                report()

    async with anyio.create_task_group() as group:
        for result in results:
            group.start_soon(one, result, group)
    for result in results:
        if result.status == "pending":
            result.status = "cancelled"
    return results


def default_jobs(targets: int, jobs: int | None) -> int:
    """``jobs`` if given (at least 1), else up to ``DEFAULT_JOBS``, at most one per target."""
    if jobs is not None:
        if jobs < 1:
            raise ConfigError(f"--jobs must be at least 1, not {jobs}")
        return jobs
    return max(1, min(DEFAULT_JOBS, targets))


# -- choosing targets -------------------------------------------------------------------------


def database_targets(config: Config, names: Sequence[str] | None = None) -> list[Target]:
    """The multidb databases of ``config`` (all, or ``names``: each must be listed)."""
    listed = config.databases
    if not names:
        return [Target(database=name) for name in listed]
    unknown = [name for name in names if name not in listed]
    if unknown:
        valid = ", ".join(listed) if listed else "none: the config has no 'databases' key"
        raise ConfigError(
            f"unknown database {', '.join(map(repr, unknown))} (the config lists: {valid})",
            location=config.location("databases") or config.config_file_name,
        )
    return [Target(database=name) for name in dict.fromkeys(names)]


def tenant_targets(urls: Sequence[str] = (), schemas: Sequence[str] = ()) -> list[Target]:
    """Every URL (or the config's own when none) with every schema (or none)."""
    url_list: list[str | None] = list(urls) or [None]
    schema_list: list[str | None] = list(schemas) or [None]
    return [Target(url=url, schema=schema) for url in url_list for schema in schema_list]


def read_list_file(path: str | Path, what: str) -> list[str]:
    """One entry per line; blank lines and ``#`` comments are skipped; duplicates dropped."""
    from pathlib import Path

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} file {str(path)!r}: {exc.strerror}") from exc
    entries = (line.split(" #", 1)[0].strip() for line in text.splitlines())
    return list(dict.fromkeys(e for e in entries if e and not e.startswith("#")))


def parse_shard(spec: str) -> tuple[int, int]:
    """``I/N`` → (I, N): slice I of N, counted from 0 (a Kubernetes job completion index)."""
    match = _SHARD.fullmatch(spec)
    if match is None:
        raise ConfigError(
            f"--shard {spec!r} is not INDEX/COUNT", hint="e.g. --shard 0/4 ... --shard 3/4"
        )
    index, count = int(match[1]), int(match[2])
    if count < 1 or index >= count:
        raise ConfigError(
            f"--shard {spec}: the index must be below the count (shards are numbered from 0)",
            hint=f"use 0/{count} to {max(count, 1) - 1}/{count}" if count else "COUNT >= 1",
        )
    return index, count


def shard(targets: Sequence[Target], index: int, count: int) -> list[Target]:
    """The targets whose identity hashes to ``index`` modulo ``count``: stable everywhere."""
    return [t for t in targets if shard_of(t, count) == index]


def shard_of(target: Target, count: int) -> int:
    digest = hashlib.sha256(target.identity.encode()).digest()
    return int.from_bytes(digest[:8], "big") % count


# -- connecting to tenant targets -------------------------------------------------------------


@contextlib.asynccontextmanager
async def target_source(
    config: Config, target: Target, engines: ServerEngines
) -> AsyncIterator[Any]:
    """The connection a tenant target runs on (None for a multidb section: env.py connects).

    Its engine comes from ``engines`` (shared by the targets on one server; the caller
    disposes of them). For a schema, the connection's ``search_path`` is that schema alone,
    so unqualified names in operations and ``op.execute`` land there; a missing schema is
    an error here.
    """
    if target.url is None and target.schema is None:
        yield None
        return
    from amigrate.aio.engines import engine_options, url_from_config

    url = target.url or url_from_config(config, target.database)
    options = engine_options(config, None)
    if url.startswith("sqlite") and "connect_args" not in options:
        options["connect_args"] = {"check_same_thread": False}
    engine = engines.engine_for(url, options)
    if target.schema is not None and engine.dialect.name != "postgresql":
        raise ConfigError(
            f"schema tenants need PostgreSQL; {mask_url_password(url)} is {engine.dialect.name}"
        )
    from amigrate.aio.engines import runs_in_greenlet

    with engines.connect_to(url):
        if runs_in_greenlet(engine):
            async with _greenlet_connection(engine, url, target.schema) as connection:
                yield connection
        else:
            async with _sync_connection(engine, url, target.schema) as sync_connection:
                yield sync_connection


@contextlib.asynccontextmanager
async def _greenlet_connection(engine: Any, url: str, schema: str | None) -> AsyncIterator[Any]:
    from amigrate.aio.bridge import GreenletConnection
    from amigrate.aio.engines import connection_failed, in_greenlet

    try:
        connection = GreenletConnection(await in_greenlet(engine.connect))
    except Exception as exc:
        raise connection_failed(url, exc) from exc
    try:
        if schema is not None:
            await connection.run_sync(use_schema, schema, url)
        yield connection
    finally:
        with anyio_shielded():
            await in_greenlet(connection.sync_connection.close)


@contextlib.asynccontextmanager
async def _sync_connection(engine: Any, url: str, schema: str | None) -> AsyncIterator[Any]:
    import anyio.to_thread

    from amigrate.aio.engines import connection_failed

    try:
        connection = await anyio.to_thread.run_sync(engine.connect)
    except Exception as exc:
        raise connection_failed(url, exc) from exc
    try:
        if schema is not None:
            await anyio.to_thread.run_sync(use_schema, connection, schema, url)
        yield connection
    finally:
        with anyio_shielded():
            await anyio.to_thread.run_sync(connection.close)


def use_schema(connection: Any, schema: str, url: str) -> None:
    """Point ``search_path`` at ``schema`` alone (committed), after checking it exists."""
    quoted = connection.dialect.identifier_preparer.quote_identifier(schema)
    connection.exec_driver_sql(f"SET search_path TO {quoted}")
    found = connection.exec_driver_sql("SELECT current_schema()").scalar()
    connection.commit()
    if found is None:
        raise ConfigError(
            f"schema {schema!r} does not exist in {mask_url_password(url)}",
            hint=f"create it first (CREATE SCHEMA {quoted})",
        )


def anyio_shielded() -> Any:
    import anyio

    return anyio.CancelScope(shield=True)


def _without_password(url: str | None) -> str:
    if not url:
        return ""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url)._replace(password=None).render_as_string(hide_password=False)
    except (ArgumentError, ValueError):
        return mask_url_password(url)
