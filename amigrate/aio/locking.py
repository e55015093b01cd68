"""The cross-process migration lock: one migrator at a time per database and version table.

PostgreSQL: a session advisory lock, held by the migration connection itself. A session lock
is untouched by the run's commits and rollbacks, and the server releases it when the session
ends, so a migrator that dies frees it with its connection; a finished run unlocks it before
the connection goes back to its owner. The lock is polled with ``pg_try_advisory_lock`` up
to the timeout, in short transactions (a waiter never sits in one: ``CREATE INDEX
CONCURRENTLY`` of the holder waits for those), then ``LockTimeoutError`` names the holder.
Only when the caller handed in a connection inside its own transaction is the lock taken on
a *dedicated* connection (autocommit) from the same engine: unlocking inside the caller's
transaction could meet it aborted, and the run cannot end it.

SQLite needs no object here: the runtime takes ``BEGIN IMMEDIATE`` per revision and re-reads
the version rows inside it (``MigrationContext``). ``MigrationLock.timeout`` becomes the
connection's busy timeout.

The runtime calls ``acquire(context)`` from its synchronous core (in ``run_sync``'s greenlet
or a worker thread), after a first read found work to do, and ``release()`` when the run ends.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from amigrate.errors import ConnectionFailedError, LockTimeoutError

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Connection

    from amigrate.aio.bridge import StepGuard
    from amigrate.runtime.migration import MigrationContext

log = logging.getLogger("amigrate.lock")

DEFAULT_TIMEOUT = 300.0  # seconds; a long migration of another replica should not fail ours
_FIRST_POLL, _MAX_POLL = 0.02, 0.25

_HOLDER_QUERY = """
SELECT a.pid, a.usename, a.application_name, host(a.client_addr), a.backend_start
FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid::bigint = CAST(:classid AS bigint) AND l.objid::bigint = CAST(:objid AS bigint)
"""


def lock_key(database: str, schema: str, table: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock`` (same in every process)."""
    name = "\x00".join(("amigrate", database, schema, table)).encode()
    return int.from_bytes(hashlib.blake2b(name, digest_size=8).digest(), "big", signed=True)


class MigrationLock:
    """The lock of one command on one database; ``acquire`` once, ``release`` always."""

    def __init__(self, timeout: float | None, guard: StepGuard) -> None:
        self.timeout = DEFAULT_TIMEOUT if timeout is None else timeout
        self.guard = guard
        self._connection: Connection | None = None  # the session holding the lock
        self._context: MigrationContext | None = None
        self._dedicated = False
        self._key = 0

    def acquire(self, context: MigrationContext, still_needed: Callable[[], bool]) -> bool:
        """Wait (politely: the event loop keeps running) until this run holds the lock.

        The first try shares the transaction of the run's first read; between polls,
        ``still_needed()`` re-reads the version rows: False (another migrator did the work)
        ends the wait without the lock. The reads' transaction is over when this returns.
        """
        if context.dialect.name != "postgresql" or context.connection is None:
            context.end_reads()
            return True  # SQLite locks per step; other dialects have no lock yet
        database, schema = context.connection.execute(
            text("SELECT current_database(), current_schema()")
        ).one()
        schema = context.opts.version_table_schema or schema or ""
        self._key = lock_key(database, schema, context.opts.version_table)
        self._context = context
        self._dedicated = context.in_callers_transaction
        if self._dedicated:
            context.end_reads()
            self._connection = _second_connection(context.connection)
        else:
            self._connection = context.connection
        try:
            held = self._poll(database, still_needed)
        except BaseException:  # maybe granted while being cancelled: let go, to be sure
            with self.guard.shield():
                self._unlock()
            raise
        if not held:
            self._forget()
        return held

    def _poll(self, database: str, still_needed: Callable[[], bool]) -> bool:
        deadline = time.monotonic() + self.timeout
        delay = _FIRST_POLL
        waited = False
        while not self._try():
            if not still_needed():
                return False
            if time.monotonic() >= deadline:
                raise self._timeout_error(database)
            if not waited:
                log.info("waiting for the migration lock on %s", database)
                waited = True
            self.guard.sleep(min(delay, max(deadline - time.monotonic(), 0)))
            delay = min(delay * 2, _MAX_POLL)
        return True

    def _try(self) -> bool:
        assert self._connection is not None and self._context is not None
        query = text("SELECT pg_try_advisory_lock(CAST(:key AS bigint))")
        held = bool(self._connection.execute(query, {"key": self._key}).scalar())
        self._context.end_reads()  # wait, or go on, in no transaction
        return held

    def _timeout_error(self, database: str) -> LockTimeoutError:
        assert self._connection is not None and self._context is not None
        unsigned = self._key & 0xFFFF_FFFF_FFFF_FFFF
        ids = {"classid": unsigned >> 32, "objid": unsigned & 0xFFFF_FFFF}
        holder = self._connection.execute(text(_HOLDER_QUERY), ids).first()
        self._context.end_reads()
        who = "another migrator" if holder is None else _describe_holder(*holder)
        return LockTimeoutError(
            f"the migration lock on database {database!r} was not granted in "
            f"{self.timeout:g} s: {who} holds it",
            hint="wait for that migration to finish, raise lock_timeout / --lock-timeout, "
            "or end that session",
        )

    def release(self) -> None:
        """Unlock (and close a dedicated lock connection)."""
        if self._connection is None:
            return
        with self.guard.shield():
            self._unlock()

    def _unlock(self) -> None:
        """Unlock; should that fail, drop the connection: the lock goes with its session."""
        assert self._connection is not None and self._context is not None
        try:
            unlock = text("SELECT pg_advisory_unlock(CAST(:key AS bigint))")
            self._connection.execute(unlock, {"key": self._key})
            self._context.end_reads()
        except Exception:
            log.debug("unlocking failed; the lock goes with its connection", exc_info=True)
            self._connection.invalidate()
        finally:
            self._forget()

    def _forget(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and self._dedicated:
            connection.close()


def _describe_holder(
    pid: int, user: str | None, application: str | None, address: str | None, since: Any
) -> str:
    """'PostgreSQL backend pid 4711 (replica-7, user app) from 10.0.3.12, connected since ...'.

    Columns of other users' sessions may be NULL without the pg_read_all_stats role.
    """
    who = f"PostgreSQL backend pid {pid}"
    details = [part for part in (application, user and f"user {user}") if part]
    if details:
        who += f" ({', '.join(details)})"
    if address:
        who += f" from {address}"
    if since is not None:
        who += f", connected since {since:%Y-%m-%d %H:%M:%S%z}"
    return who


def _second_connection(connection: Connection) -> Connection:
    """A new connection from the migration connection's engine, in autocommit mode.

    For a connection the application handed in, that is its engine's pool: it must allow a
    second connection while the first is checked out.
    """
    from amigrate.aio.engines import connection_failed

    engine = connection.engine
    try:
        second = engine.connect()
    except Exception as exc:
        failed = connection_failed(str(engine.url), exc).message
        raise ConnectionFailedError(
            f"the migration lock needs a second connection: {failed}",
            hint="allow one more connection in the pool, or skip the lock (--no-lock)",
        ) from exc
    return second.execution_options(isolation_level="AUTOCOMMIT")
