"""MigrationContext: one database's run, on a sync connection (online) or an SQL sink (offline).

Everything here is synchronous SQLAlchemy code: the aio layer runs it inside
``AsyncConnection.run_sync`` or a worker thread. The context owns transactions: one per
revision by default (progress survives a later failure), or one for the whole run.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from amigrate._util import fields_repr
from amigrate.ddl.sink import ScriptSink
from amigrate.errors import AmigrateError, ConfigError, LockTimeoutError, MigrationFailedError
from amigrate.runtime import current
from amigrate.runtime.failures import migration_failure
from amigrate.runtime.steps import StampPlan
from amigrate.runtime.versions import VersionTable

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from types import ModuleType

    from sqlalchemy.engine import Connection, Dialect, RootTransaction

    from amigrate.operations.base import Operations
    from amigrate.runtime.steps import MigrationStep

    Work = Callable[[tuple[str, ...], "MigrationContext"], "Sequence[MigrationStep] | StampPlan"]

log = logging.getLogger("amigrate.runtime.migration")


@dataclass(repr=False)
class MigrationOptions:
    """What env.py's ``context.configure(...)`` decides for a run."""

    __repr__ = fields_repr

    version_table: str = "alembic_version"
    version_table_schema: str | None = None
    transaction_per_migration: bool = True
    as_sql: bool = False
    literal_binds: bool = False
    output_buffer: TextIO | None = None
    starting_heads: tuple[str, ...] = ()
    tag: str | None = None
    target_metadata: Any = None
    function_name: str | None = None  # "upgrade_engine1" for multidb; default upgrade/downgrade
    step_guard: Any = None  # cancellation between steps only (see aio.bridge.StepGuard)
    lock: Any = None  # the migration lock (aio.locking.MigrationLock); None: --no-lock
    extra: dict[str, Any] = field(default_factory=dict)


class MigrationContext:
    """Runs a plan of steps against one database or one SQL script."""

    def __init__(
        self, dialect: Dialect, connection: Connection | None, options: MigrationOptions
    ) -> None:
        from amigrate.ddl import impl_for
        from amigrate.ddl.sink import ConnectionSink

        self.dialect = dialect
        self.connection = connection
        self.opts = options
        self.as_sql = connection is None
        if connection is None:
            output = options.output_buffer or sys.stdout
            sink: Any = ScriptSink(dialect, output, literal_binds=True)
        else:
            sink = ConnectionSink(connection)
        self.impl = impl_for(dialect.name)(dialect, sink)
        self.versions = VersionTable(self.impl, options.version_table, options.version_table_schema)
        self._transaction: RootTransaction | None = None
        self._offline_transaction = False
        self._whole_run = False
        self._external = connection is not None and connection.in_transaction()
        self._lock_held: Any = None  # the lock, while the whole run's transaction is open
        self._sqlite_isolation: Any = None
        # SQLite with a lock: BEGIN IMMEDIATE, and the version rows re-read, in every step
        self._immediate = options.lock is not None and self.dialect.name == "sqlite"
        self._immediate &= connection is not None
        self._busy_timeout: int | None = None
        self.steps_run: list[MigrationStep] = []
        self._autocommitted = False  # an autocommit_block() ran in the current step
        self._operations: Operations | None = None

    @classmethod
    def configure(
        cls,
        connection: Connection | None = None,
        url: str | None = None,
        dialect_name: str | None = None,
        dialect_opts: dict[str, Any] | None = None,
        options: MigrationOptions | None = None,
    ) -> MigrationContext:
        """A context on ``connection``, or an offline one for ``url`` / ``dialect_name``."""
        options = options or MigrationOptions()
        if connection is not None:
            return cls(connection.dialect, connection, options)
        if url is None and dialect_name is None:
            raise ConfigError(
                "context.configure() needs connection=, url= or dialect_name=",
                hint="offline mode (--sql) reads sqlalchemy.url for the dialect",
            )
        from amigrate.ddl.sink import offline_dialect

        dialect = offline_dialect(url or f"{dialect_name}://", **(dialect_opts or {}))
        return cls(dialect, None, options)

    # -- reading ------------------------------------------------------------------------

    def get_current_heads(self) -> tuple[str, ...]:
        """The version rows (offline: the start of the range)."""
        if self.connection is None:
            return self.opts.starting_heads
        return self.versions.read(self.connection)

    def get_current_revision(self) -> str | None:
        heads = self.get_current_heads()
        if len(heads) > 1:
            from amigrate.errors import MultipleHeadsError

            raise MultipleHeadsError(
                f"the database is at several heads: {', '.join(heads)}",
                hint="use get_current_heads()",
            )
        return heads[0] if heads else None

    # -- running ------------------------------------------------------------------------

    def run_migrations(self, work: Work, script_loader: Callable[[str], ModuleType]) -> None:
        """Plan from the current rows with ``work``, then run each step.

        With a lock, a first read that finds work to do is repeated once the lock is held
        (PostgreSQL), or before every step inside ``BEGIN IMMEDIATE`` (SQLite), and ``work``
        plans again from what it finds: whatever another migrator applied meanwhile is not
        applied again, and a waiter that finds the work done returns.
        """
        heads = self.get_current_heads()
        plan = work(heads, self)
        lock = self.opts.lock if self.connection is not None else None
        if lock is None or not (plan or isinstance(plan, StampPlan)):
            self._end_autobegun()
            self._run_plan(plan, heads, work, script_loader)
            return
        try:  # the lock's first try shares the first read's transaction, then ends it
            if not lock.acquire(self, still_needed=lambda: self._still_needed(work, plan)):
                return  # another migrator did the work while this one waited
            heads = self.get_current_heads()
            plan = work(heads, self)
            self._end_autobegun()
            self._run_plan(plan, heads, work, script_loader)
        finally:
            self._release(lock)

    def _release(self, lock: Any) -> None:
        """Release ``lock`` now, or once the whole run's transaction has ended.

        Unlocking before that commit would let the next migrator read the old version rows.
        """
        if self._whole_run:
            self._lock_held = lock
        else:
            lock.release()

    def _still_needed(self, work: Work, plan: Sequence[MigrationStep] | StampPlan) -> bool:
        """Whether the committed version rows still call for work (a stamp always does)."""
        if isinstance(plan, StampPlan):
            return True
        needed = bool(work(self.get_current_heads(), self))
        self._end_autobegun()
        return needed

    def _run_plan(
        self,
        plan: Sequence[MigrationStep] | StampPlan,
        heads: tuple[str, ...],
        work: Work,
        script_loader: Callable[[str], ModuleType],
    ) -> None:
        if isinstance(plan, StampPlan):
            self._stamp(plan, heads, work)
            return
        pending = list(plan)
        need_table = not heads
        guard = self.opts.step_guard
        while pending:
            if guard is not None:
                guard.check()
            with guard.shield() if guard else contextlib.nullcontext(), self._step_transaction():
                if self._immediate and (now := self.get_current_heads()) != heads:
                    heads, pending = now, self._replan(work, now)  # another migrator moved on
                    need_table = not heads
                    if not pending:
                        break
                if need_table:
                    self._ensure_version_table()
                    need_table = False
                step = pending.pop(0)
                self._run_step(step, script_loader)
                self.steps_run.append(step)
                heads = step.heads_after  # the rows this step committed: no need to read them

    def _run_step(self, step: MigrationStep, script_loader: Callable[[str], ModuleType]) -> None:
        started = time.perf_counter()
        if isinstance(self.impl.sink, ScriptSink):
            self.impl.sink.comment(f"Running {step.description}")
        path = step.revision.path or ""
        module = script_loader(path)
        name = self.opts.function_name or ("upgrade" if step.is_upgrade else "downgrade")
        if self.opts.function_name and not step.is_upgrade:
            name = name.replace("upgrade_", "downgrade_", 1)
        function = getattr(module, name, None)
        if function is None:
            raise MigrationFailedError(
                f"revision {step.revision.revision} has no {name}() function",
                revision=step.revision.revision,
                location=path,
            )
        token = current.active_operations.set(self.operations())
        self._autocommitted = False
        try:
            function()
            # the step's own transaction commits right after its version rows
            self.versions.apply(step.changes, commits=not (self._whole_run or self._external))
        except MigrationFailedError:
            raise
        except Exception as exc:
            partly = self._autocommitted and not self.as_sql
            raise migration_failure(exc, step, path, partly_committed=partly) from exc
        finally:
            current.active_operations.reset(token)
        elapsed = (time.perf_counter() - started) * 1000
        log.info("Running %s (%d ms)", step.description, elapsed)

    def operations(self) -> Operations:
        """The ``op`` of this run, one for all its steps.

        Offline, ``get_bind()`` gives a bind that writes SQL.
        """
        if self._operations is None:
            from amigrate.operations.base import Operations

            metadata = self.opts.target_metadata
            convention = getattr(metadata, "naming_convention", None)
            bind: Any = self.connection if self.connection is not None else self.impl.sink.ddl_bind
            self._operations = Operations(
                self.impl, context=self, bind=bind, naming_convention=convention
            )
        return self._operations

    def _replan(self, work: Work, heads: tuple[str, ...]) -> list[MigrationStep]:
        plan = work(heads, self)
        assert not isinstance(plan, StampPlan)
        return list(plan)

    def _stamp(self, plan: StampPlan, heads: tuple[str, ...], work: Work) -> None:
        with self._step_transaction():
            if self._immediate and (now := self.get_current_heads()) != heads:
                heads, replanned = now, work(now, self)
                assert isinstance(replanned, StampPlan)
                plan = replanned
            if not heads and plan.heads_after:
                self._ensure_version_table()
            self.versions.apply(plan.changes)
        log.info(
            "Stamped %s -> %s", ", ".join(heads) or "base", ", ".join(plan.heads_after) or "base"
        )

    def _ensure_version_table(self) -> None:
        if self.connection is None or not self.versions.exists(self.connection):
            self.versions.create()

    # -- transactions -------------------------------------------------------------------

    @contextlib.contextmanager
    def begin_transaction(self) -> Iterator[None]:
        """env.py's ``with context.begin_transaction():`` around ``run_migrations()``.

        Per-revision transactions (the default) begin inside the run; with
        ``transaction_per_migration=False`` the whole run is one transaction.
        """
        if self.opts.transaction_per_migration or self._external:
            yield
            return
        self._end_autobegun()
        self._whole_run = True
        try:
            with self._transaction_block():
                yield
        finally:
            self._whole_run = False
            lock, self._lock_held = self._lock_held, None
            if lock is not None:
                lock.release()

    @contextlib.contextmanager
    def _step_transaction(self) -> Iterator[None]:
        if self._external:
            self._make_callers_sqlite_transaction_real()
        if self._whole_run or self._external:
            yield
            return
        ran_before = len(self.steps_run)
        try:
            with self._transaction_block():
                yield
        except Exception as exc:  # after the step ran: its COMMIT failed (deferred constraint)
            if len(self.steps_run) == ran_before or isinstance(exc, AmigrateError):
                raise
            step = self.steps_run[-1]
            raise migration_failure(exc, step, step.revision.path or "") from exc

    def _make_callers_sqlite_transaction_real(self) -> None:
        """On SQLite, open the caller's transaction in the driver before the step's DDL.

        SQLAlchemy counts a transaction as begun at the caller's first statement, but the
        sqlite3 driver (aiosqlite too) BEGINs only before INSERT/UPDATE/DELETE: after mere
        reads, the step's DDL would be committed as it ran, whatever the caller then did
        with its transaction (a rollback, or a failing revision, would leave tables without
        their version rows). A BEGIN here makes the caller's COMMIT or ROLLBACK cover it all,
        as on PostgreSQL.
        """
        from amigrate.ddl.sqlite import driver_in_transaction

        connection = self.connection
        if connection is None or self.dialect.name != "sqlite":
            return
        if driver_in_transaction(connection):
            return
        if self._immediate:
            self._begin_immediate(connection)
        else:
            connection.exec_driver_sql("BEGIN")

    @contextlib.contextmanager
    def _transaction_block(self) -> Iterator[None]:
        self._begin()
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        self._commit()

    def _begin(self) -> None:
        if self.connection is None:
            if self.impl.transactional_ddl:
                self.impl.emit_begin()
                self._offline_transaction = True
            return
        self._use_explicit_sqlite_transactions()
        self._transaction = self.connection.begin()
        if self.dialect.name == "sqlite":
            self._sqlite_begin(self.connection)

    def _sqlite_begin(self, connection: Connection) -> None:
        if not self._immediate:
            connection.exec_driver_sql("BEGIN")
            return
        try:
            self._begin_immediate(connection)
        except BaseException:
            self._rollback()
            raise

    def _begin_immediate(self, connection: Connection) -> None:
        """Take SQLite's write lock, polling briskly (its busy handler naps up to 100 ms)."""
        from amigrate.ddl.sqlite import begin_immediate

        timeout = self.opts.lock.timeout
        if self._busy_timeout is None:  # put back at the end of the run
            self._busy_timeout = int(connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one())
        deadline, delay = time.monotonic() + timeout, 0.001
        guard = self.opts.step_guard
        while True:
            try:
                begin_immediate(connection, int(timeout * 1000))
                return
            except Exception as exc:
                if "locked" not in str(exc):
                    raise
            if time.monotonic() >= deadline:
                raise LockTimeoutError(
                    f"the SQLite database was locked by another writer for more than {timeout:g} s",
                    hint="wait for the other migration to finish, or raise lock_timeout",
                )
            (guard.sleep if guard is not None else time.sleep)(delay)
            delay = min(delay * 2, 0.02)

    def _commit(self) -> None:
        if self.connection is None:
            if self._offline_transaction:
                self.impl.emit_commit()
                self._offline_transaction = False
            return
        if self._transaction is not None:
            self._transaction.commit()
            self._transaction = None

    def _rollback(self) -> None:
        if self.connection is None:
            self._offline_transaction = False
            return
        if self._transaction is not None:
            transaction, self._transaction = self._transaction, None
            transaction.rollback()

    @property
    def in_callers_transaction(self) -> bool:
        """Whether the run is inside a transaction of the caller's (it commits, not us)."""
        return self._external

    def end_reads(self) -> None:
        """End the transaction our reads began, before waiting (a lock) or running DDL."""
        self._end_autobegun()

    def _end_autobegun(self) -> None:
        """Close the transaction SQLAlchemy auto-began for our reads (never the caller's)."""
        connection = self.connection
        if connection is None or self._external or self._transaction is not None:
            return
        if connection.in_transaction():
            connection.commit()

    def _use_explicit_sqlite_transactions(self) -> None:
        """SQLite drivers begin transactions only before DML; we need DDL inside them too."""
        if self.dialect.name != "sqlite" or self._sqlite_isolation is not None:
            return
        assert self.connection is not None
        raw = self.connection.connection.dbapi_connection
        self._sqlite_isolation = (getattr(raw, "isolation_level", None) or "",)
        raw.isolation_level = None  # type: ignore[union-attr]

    def restore_driver_settings(self) -> None:
        """Undo what the run changed on the caller's DBAPI connection."""
        if self._busy_timeout is not None and self.connection is not None:
            busy, self._busy_timeout = self._busy_timeout, None
            self.connection.exec_driver_sql(f"PRAGMA busy_timeout = {busy}")
            self._end_autobegun()
        if self._sqlite_isolation is None or self.connection is None:
            return
        raw = self.connection.connection.dbapi_connection
        if raw is not None:
            raw.isolation_level = self._sqlite_isolation[0]
        self._sqlite_isolation = None

    @contextlib.contextmanager
    def autocommit_block(self) -> Iterator[None]:
        """Run statements outside any transaction (CREATE INDEX CONCURRENTLY, ...)."""
        in_transaction = self._transaction is not None or self._offline_transaction
        self._autocommitted = True
        if in_transaction:
            self._commit()
        options_changed = False
        if self.connection is not None and self.dialect.name != "sqlite":
            self.connection.execution_options(isolation_level="AUTOCOMMIT")
            options_changed = True
        try:
            yield
        finally:
            if self.connection is not None and self.connection.in_transaction():
                self.connection.commit()  # SQLAlchemy auto-began one, even in autocommit mode
            if options_changed and self.connection is not None:
                level = self.connection.default_isolation_level
                self.connection.execution_options(isolation_level=level)
            if in_transaction:
                self._begin()
