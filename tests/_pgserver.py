"""A throwaway PostgreSQL server for the test session.

``PostgresServer.start()`` runs ``initdb`` into a fresh temporary directory and starts
``postgres`` on 127.0.0.1 and a free port, tuned for speed over durability: fsync off, and the
directory in /dev/shm when there is room (CREATE DATABASE takes ~10 ms there, ~200 ms on disk).
It is stopped and its directory removed at exit: by the session fixture's finalizer, by
``atexit`` (Ctrl-C, a crashing pytest), and — should the test process be killed outright — by
the kernel, which sends the postmaster SIGINT (fast shutdown) when its parent dies; the next
session removes such a run's directory.

If ``AMIGRATE_TEST_POSTGRES_URL`` is set, that server is used instead and nothing is started;
its user needs the CREATEDB privilege.

Run as root, the server runs as the ``postgres`` user (``initdb`` refuses root).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg
    from sqlalchemy.engine import URL

ENV_VAR = "AMIGRATE_TEST_POSTGRES_URL"
START_TIMEOUT = 30.0
_PREFIX = "amigrate-pg-"
_OWNER_FILE = "owner.pid"
_BASE_DIRS = ["/dev/shm"]
_MIN_FREE_BYTES = 1 << 30
_PR_SET_PDEATHSIG = 1


class PostgresServerError(RuntimeError):
    """The test PostgreSQL server could not be found, started or reached."""


def _make_url(text: str) -> URL:
    from sqlalchemy.engine import make_url

    return make_url(text)


def mask(url: str) -> str:
    """``url`` with its password hidden, for messages."""
    try:
        return _make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy understands: mask the generic way
        from amigrate._util import mask_url_password

        return mask_url_password(url)


def find_bindir() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding initdb and postgres."""
    candidates = [Path(path).parent for path in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    candidates = [c for c in candidates if (c / "postgres").exists() and (c / "pg_ctl").exists()]
    if not candidates:
        raise PostgresServerError(
            "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin: install Debian's "
            f"'postgresql' package (scripts/test does this when run as root) or set {ENV_VAR}"
        )
    return max(candidates, key=lambda c: _version_key(c.parent.name))


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in name.split("."))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _base_dir() -> str:
    """Where the server's directory goes: /dev/shm if usable and roomy, else the temp dir."""
    for base in _BASE_DIRS:
        try:
            stat = os.statvfs(base)
        except OSError:
            continue
        roomy = stat.f_bavail * stat.f_frsize >= _MIN_FREE_BYTES
        if roomy and os.access(base, os.W_OK | os.X_OK) and os.stat(base).st_mode & 0o1000:
            return base
    return tempfile.gettempdir()


def _remove_orphans() -> None:
    """Remove server directories left by test runs that were killed (SIGKILL, SIGTERM).

    Their servers are already gone (see ``_die_with_parent``); only the files remain.
    """
    directories = [
        d for base in [*_BASE_DIRS, tempfile.gettempdir()] for d in Path(base).glob(f"{_PREFIX}*")
    ]
    for directory in directories:
        try:
            owner = int((directory / _OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue  # not ours, or being created right now
        if not _alive(owner) and not _alive(_postmaster_pid(directory)):
            shutil.rmtree(directory, ignore_errors=True)


def _postmaster_pid(directory: Path) -> int:
    try:
        return int((directory / "data" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _die_with_parent() -> None:
    """preexec_fn: ask the kernel to SIGINT the server (fast shutdown) if pytest dies.

    Runs after the switch to the ``postgres`` user (a credential change would clear it).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGINT)


class PostgresServer:
    """One PostgreSQL server: started here (a throwaway) or given by ``AMIGRATE_TEST_POSTGRES_URL``.

    ``url`` is the async (asyncpg) URL of the maintenance database; ``sync_url`` the psycopg one;
    ``conninfo`` the plain libpq URL psycopg connects with.
    """

    def __init__(self, url: str | None = None) -> None:
        self._external = url
        self._dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._user: pwd.struct_passwd | None = None
        self._bindir: Path | None = None
        self._admin: psycopg.Connection | None = None
        self._base: URL | None = _make_url(url) if url else None
        self.startup_seconds = 0.0

    @classmethod
    def from_environment(cls) -> PostgresServer:
        return cls(os.environ.get(ENV_VAR) or None)

    # -- URLs --------------------------------------------------------------------------------

    @property
    def base_url(self) -> URL:
        if self._base is None:
            raise PostgresServerError("the PostgreSQL server has not been started")
        return self._base

    def url_for(self, database: str, driver: str = "asyncpg") -> str:
        """A SQLAlchemy URL (with password) for ``database`` through ``driver``."""
        url = self.base_url.set(drivername=f"postgresql+{driver}", database=database)
        return url.render_as_string(hide_password=False)

    def conninfo_for(self, database: str) -> str:
        """A libpq URL for ``database``, what ``psycopg.connect`` takes."""
        url = self.base_url.set(drivername="postgresql", database=database)
        return url.render_as_string(hide_password=False)

    @property
    def database(self) -> str:
        return self.base_url.database or "postgres"

    @property
    def url(self) -> str:
        return self.url_for(self.database, "asyncpg")

    @property
    def sync_url(self) -> str:
        return self.url_for(self.database, "psycopg")

    @property
    def conninfo(self) -> str:
        return self.conninfo_for(self.database)

    def __repr__(self) -> str:
        where = mask(self.url) if self._base is not None else "not started"
        return f"<PostgresServer {where}>"

    # -- life cycle --------------------------------------------------------------------------

    def start(self) -> PostgresServer:
        if self._external is not None:
            self.admin()  # fail early, with a clear message, if it cannot be reached
            return self
        if self._proc is not None:
            return self
        started = time.perf_counter()
        atexit.register(self.stop)
        self._bindir = find_bindir()
        self._user = self._server_user()
        _remove_orphans()
        self._dir = Path(tempfile.mkdtemp(prefix=_PREFIX, dir=_base_dir()))
        (self._dir / _OWNER_FILE).write_text(str(os.getpid()))
        if self._user is not None:
            os.chown(self._dir, self._user.pw_uid, self._user.pw_gid)
        self._initdb()
        for attempt in range(5):  # a free port can be taken between choosing and binding it
            port = _free_port()
            if self._launch(port, last_try=attempt == 4):
                break
        self._base = _make_url(f"postgresql://postgres@127.0.0.1:{port}/postgres")
        self.startup_seconds = time.perf_counter() - started
        return self

    def stop(self) -> None:
        """Stop the server (fast, then immediate, then SIGKILL) and remove its directory."""
        if self._admin is not None:
            with contextlib.suppress(Exception):
                self._admin.close()
            self._admin = None
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            for mode in ("fast", "immediate"):
                self._pg_ctl_stop(proc, mode)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=10)
                    break
            else:
                proc.kill()
                proc.wait()
        directory, self._dir = self._dir, None
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)

    def _server_user(self) -> pwd.struct_passwd | None:
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresServerError(
                "running as root, but there is no 'postgres' user to run the test server as "
                f"(initdb refuses root): install Debian's 'postgresql' package or set {ENV_VAR}"
            ) from None

    def _run_as_server_user(
        self, args: list[str], timeout: float
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args,
            user=self._user.pw_uid if self._user else None,
            group=self._user.pw_gid if self._user else None,
            extra_groups=[] if self._user else None,
            cwd=self._dir,
            env=self._server_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def _server_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        env["LANG"] = "C"
        if self._user is not None:
            env["HOME"] = str(self._dir)
            env["USER"] = env["LOGNAME"] = self._user.pw_name
        return env

    def _initdb(self) -> None:
        assert self._bindir is not None and self._dir is not None
        args = [str(self._bindir / "initdb"), "-D", str(self._dir / "data")]
        args += ["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"]
        result = self._run_as_server_user(args, timeout=120)
        if result.returncode != 0:
            raise PostgresServerError(
                f"initdb failed (exit {result.returncode}):\n{result.stdout}{result.stderr}"
            )

    def _launch(self, port: int, *, last_try: bool) -> bool:
        """Start postgres on ``port`` and wait for it; False if the port was taken meanwhile."""
        assert self._bindir is not None and self._dir is not None
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(port),
            "unix_socket_directories": str(self._dir),
            "fsync": "off",
            "full_page_writes": "off",
            "synchronous_commit": "off",
            "max_connections": "200",
            "shared_buffers": "32MB",
            "autovacuum": "off",
        }
        args = [str(self._bindir / "postgres"), "-D", str(self._dir / "data")]
        for name, value in settings.items():
            args += ["-c", f"{name}={value}"]
        log = (self._dir / "server.log").open("ab")
        try:
            self._proc = subprocess.Popen(
                args,
                user=self._user.pw_uid if self._user else None,
                group=self._user.pw_gid if self._user else None,
                extra_groups=[] if self._user else None,
                cwd=self._dir,
                env=self._server_env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches pytest, which stops us in order
                preexec_fn=_die_with_parent,
            )
        finally:
            log.close()
        try:
            self._wait_until_ready(port)
        except PostgresServerError:
            if (
                self._proc.poll() is not None
                and "already in use" in self.log_tail()
                and not last_try
            ):
                self._proc = None
                return False
            raise
        return True

    def _wait_until_ready(self, port: int) -> None:
        import psycopg

        assert self._proc is not None
        conninfo = f"postgresql://postgres@127.0.0.1:{port}/postgres?connect_timeout=2"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self._proc.poll() is not None:
                raise PostgresServerError(
                    f"postgres exited with code {self._proc.returncode} while starting; "
                    f"server log:\n{self.log_tail()}"
                )
            try:
                psycopg.connect(conninfo).close()
                return
            except psycopg.OperationalError as error:
                if time.monotonic() > deadline:
                    raise PostgresServerError(
                        f"postgres did not accept connections on 127.0.0.1:{port} within "
                        f"{START_TIMEOUT:.0f} s ({error}); server log:\n{self.log_tail()}"
                    ) from None
            time.sleep(0.02)

    def _pg_ctl_stop(self, proc: subprocess.Popen[bytes], mode: str) -> None:
        """Ask for a ``mode`` shutdown; signal the postmaster directly if pg_ctl cannot."""
        assert self._bindir is not None and self._dir is not None
        args = [str(self._bindir / "pg_ctl"), "stop", "-D", str(self._dir / "data")]
        args += ["-m", mode, "--no-wait"]
        try:
            done = self._run_as_server_user(args, timeout=30).returncode == 0
        except Exception:
            done = False
        if not done:
            with contextlib.suppress(OSError):
                proc.send_signal(signal.SIGINT if mode == "fast" else signal.SIGQUIT)

    def log_tail(self, lines: int = 30) -> str:
        if self._dir is None:
            return "(no server log)"
        try:
            text = (self._dir / "server.log").read_text(errors="replace")
        except OSError as error:
            return f"(server log unreadable: {error})"
        return "\n".join(text.splitlines()[-lines:])

    # -- administration ----------------------------------------------------------------------

    def admin(self) -> psycopg.Connection:
        """An autocommit psycopg connection to the maintenance database, kept for the session."""
        import psycopg

        if self._admin is None or self._admin.closed:
            try:
                self._admin = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=10)
            except psycopg.OperationalError as error:
                message = mask(str(error)).replace(self.conninfo, mask(self.conninfo))
                raise PostgresServerError(
                    f"cannot connect to the test PostgreSQL server {mask(self.url)}: {message}"
                ) from None
        return self._admin

    def server_version(self) -> int:
        """``server_version_num``, e.g. 150004."""
        return int(self.admin().info.server_version)

    def create_database(self, name: str) -> None:
        from psycopg import sql

        self.admin().execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop_database(self, name: str) -> None:
        from psycopg import sql

        admin = self.admin()
        if self.server_version() >= 130000:
            query = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        else:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            query = sql.SQL("DROP DATABASE IF EXISTS {}")
        admin.execute(query.format(sql.Identifier(name)))

    def database_exists(self, name: str) -> bool:
        row = self.admin().execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        return row.fetchone() is not None
