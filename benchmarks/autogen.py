"""Autogenerate against a drifted database: ``revision --autogenerate``, amigrate vs Alembic.

    .venv/bin/python benchmarks/autogen.py [--runs N] [--tables N] [--backend sqlite|postgresql]
                                           [--workload one|multidb] [--profile] [--check]

A model of ``--tables`` tables (200; columns of several types, indexes, unique constraints,
foreign keys to earlier tables) is written as ``models.py``, and each database is made by
``create_all`` from a *drifted* copy of it: about 50 differences (tables missing and extra,
columns missing and extra, nullability, types, indexes, unique constraints, foreign keys).
Two workloads:

- ``one``: one database; amigrate's and Alembic's ``async`` templates (aiosqlite on a
  SQLite file, asyncpg on PostgreSQL);
- ``multidb``: three databases; both tools' ``multidb`` templates (amigrate's is async and
  compares the databases concurrently; Alembic's is sync: pysqlite / psycopg, one after the
  other).

Each tool's env.py gets ``from models import metadata`` as ``target_metadata``, nothing else
changed. Every run is a whole process (``amigrate revision --autogenerate -m drift`` /
``alembic revision --autogenerate -m drift``) whose file is deleted afterwards; one unmeasured
run first checks that both files hold the same number of operations. ``--profile`` runs
amigrate once more under cProfile and prints where the time goes. PostgreSQL is
``AMIGRATE_TEST_POSTGRES_URL`` or a throwaway server from tests/_pgserver.py.
"""

from __future__ import annotations

import argparse
import configparser
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "autogen"
BIN = Path(sys.executable).parent  # the venv's bin, not the base interpreter's
ENVIRON = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
GOALS = {"one": 0.5, "multidb": 0.35}
DATABASES = {"one": ("main",), "multidb": ("engine1", "engine2", "engine3")}
TOOLS = ("amigrate", "alembic")
TYPES = ("sa.Integer()", "sa.String(length=80)", "sa.Boolean()", "sa.Text()", "sa.Numeric(10, 2)")

# -- the model and its drift --------------------------------------------------------------------


@dataclass
class Model:
    """Tables as data, so the same model renders as source and as a drifted MetaData."""

    tables: dict[str, dict[str, Any]] = field(default_factory=dict)

    def source(self) -> str:
        lines = [
            '"""A generated model for benchmarks/autogen.py."""',
            "import sqlalchemy as sa",
            "",
        ]
        lines.append("metadata = sa.MetaData()")
        for name, table in self.tables.items():
            lines += ["", f"{name} = sa.Table(", f"    {name!r},", "    metadata,"]
            lines.append('    sa.Column("id", sa.Integer(), primary_key=True),')
            for column, (type_, nullable) in table["columns"].items():
                lines.append(f"    sa.Column({column!r}, {type_}, nullable={nullable}),")
            for column, target in table["fks"].items():
                lines.append(
                    f"    sa.Column({column!r}, sa.Integer(), sa.ForeignKey({target + '.id'!r}),"
                    " nullable=True),"
                )
            for column in table["uniques"]:
                lines.append(f"    sa.UniqueConstraint({column!r}, name='uq_{name}_{column}'),")
            lines.append(")")
            for column in table["indexes"]:
                lines.append(f"sa.Index('ix_{name}_{column}', {name}.c.{column})")
        return "\n".join(lines) + "\n"

    def metadata(self) -> Any:
        namespace: dict[str, Any] = {}
        exec(compile(self.source(), "<model>", "exec"), namespace)
        return namespace["metadata"]


def build_model(size: int, seed: int = 200) -> Model:
    rng = random.Random(seed)
    model = Model()
    for number in range(1, size + 1):
        columns = {
            f"c{n}": (rng.choice(TYPES), rng.random() < 0.6) for n in range(rng.randint(4, 9))
        }
        earlier = [f"t{n:03d}" for n in range(max(1, number - 20), number)]
        fks = {f"{t}_id": t for t in rng.sample(earlier, min(len(earlier), rng.randint(0, 2)))}
        names = sorted(columns)
        indexes = rng.sample(names, rng.randint(0, 2))
        uniques = [c for c in rng.sample(names, 1) if c not in indexes and rng.random() < 0.3]
        model.tables[f"t{number:03d}"] = {
            "columns": columns,
            "fks": fks,
            "indexes": indexes,
            "uniques": uniques,
        }
    return model


def drift(model: Model, seed: int = 50) -> tuple[Model, int]:
    """A copy of ``model`` that differs in about 50 places; returns it and the count."""
    import copy

    rng = random.Random(seed)
    drifted = copy.deepcopy(model)
    tables = list(drifted.tables)
    referenced = {t for table in drifted.tables.values() for t in table["fks"].values()}
    changes = 0
    for name in rng.sample([t for t in tables if t not in referenced], 5):  # add_table
        del drifted.tables[name]
        changes += 1
    for number in range(3):  # remove_table
        drifted.tables[f"legacy_{number}"] = {
            "columns": {"note": ("sa.Text()", True)},
            "fks": {},
            "indexes": [],
            "uniques": [],
        }
        changes += 1
    candidates = [t for t in drifted.tables if t.startswith("t")]
    for kind, count in (
        ("missing", 10),
        ("extra", 5),
        ("nullable", 8),
        ("type", 6),
        ("index", 5),
        ("extra_index", 3),
        ("fk", 3),
        ("unique", 2),
    ):
        for _ in range(count):
            changes += _drift_one(drifted.tables[rng.choice(candidates)], kind, rng)
    return drifted, changes


def _drift_one(table: dict[str, Any], kind: str, rng: random.Random) -> int:
    columns = table["columns"]
    plain = [c for c in columns if c not in table["indexes"] and c not in table["uniques"]]
    if kind == "missing" and plain:
        del columns[rng.choice(plain)]
    elif kind == "extra":
        columns[f"old_{rng.randrange(10**6)}"] = ("sa.Integer()", True)
    elif kind == "nullable" and plain:
        column = rng.choice(plain)
        columns[column] = (columns[column][0], not columns[column][1])
    elif kind == "type" and (texts := [c for c in plain if "String" in columns[c][0]]):
        column = rng.choice(texts)
        columns[column] = ("sa.String(length=40)", columns[column][1])
    elif kind == "index" and table["indexes"]:
        table["indexes"].pop()
    elif kind == "extra_index" and plain:
        table["indexes"].append(rng.choice(plain))
    elif kind == "fk" and table["fks"]:
        table["fks"].popitem()
        return 2  # the column and its foreign key
    elif kind == "unique" and table["uniques"]:
        table["uniques"].pop()
    else:
        return 0
    return 1


# -- projects -------------------------------------------------------------------------------------


def write_project(tool: str, root: Path, model: Model, urls: dict[str, str]) -> Path:
    """``<tool> init -t async|multidb`` in ``root``, the URLs set, env.py given the model."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    multidb = len(urls) > 1
    template = "multidb" if multidb else "async"
    subprocess.run(
        [str(BIN / tool), "init", "-t", template, "migrations"],
        cwd=root,
        env=ENVIRON,
        check=True,
        capture_output=True,
    )
    (root / "models.py").write_text(model.source())
    env_py = root / "migrations" / "env.py"
    if multidb:
        names = ", ".join(repr(name) for name in urls)
        line = f"target_metadata = {{name: metadata for name in ({names})}}"
    else:
        line = "target_metadata = metadata"
    text = re.sub(r"(?m)^target_metadata = .*$", line, env_py.read_text(), count=1)
    env_py.write_text("from models import metadata\n" + text)
    set_urls(root / f"{tool}.ini", urls)
    return root


def set_urls(ini: Path, urls: dict[str, str]) -> None:
    """One database: ``sqlalchemy.url``; several: ``databases`` and a section each."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ini)
    main = "alembic" if ini.name == "alembic.ini" else "amigrate"
    if len(urls) == 1:
        parser[main]["sqlalchemy.url"] = next(iter(urls.values())).replace("%", "%%")
    else:
        for section in parser[main].get("databases", "").replace(",", " ").split():
            parser.remove_section(section)
        parser[main]["databases"] = ", ".join(urls)
        for name, url in urls.items():
            parser[name] = {"sqlalchemy.url": url.replace("%", "%%")}
    with ini.open("w") as file:
        parser.write(file)


# -- databases ----------------------------------------------------------------------------------


@dataclass
class Databases:
    """Per database name: the async URL (amigrate; Alembic's async template) and sync URL."""

    backend: str
    urls: dict[str, str]
    sync_urls: dict[str, str]

    def for_tool(self, tool: str, names: tuple[str, ...]) -> dict[str, str]:
        # Alembic's multidb template makes sync engines; everything else is async
        chosen = self.sync_urls if tool == "alembic" and len(names) > 1 else self.urls
        return {name: chosen[name] for name in names}


@contextmanager
def databases(backend: str, drifted: Model) -> Iterator[Databases]:
    """The drifted schema in each of engine1..3 and main (read only: both tools share it)."""
    names = sorted({name for group in DATABASES.values() for name in group})
    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="amigrate-autogen-"))
        try:
            files = {name: folder / f"{name}.sqlite" for name in names}
            dbs = Databases(
                backend,
                {n: f"sqlite+aiosqlite:///{p}" for n, p in files.items()},
                {n: f"sqlite:///{p}" for n, p in files.items()},
            )
            _create_all(dbs, drifted)
            yield dbs
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    sys.path.insert(0, str(HERE.parent / "tests"))
    from _pgserver import PostgresServer

    server = PostgresServer.from_environment().start()
    dbnames = {name: f"bench_autogen_{name}" for name in names}
    try:
        for dbname in dbnames.values():
            server.drop_database(dbname)
            server.create_database(dbname)
        dbs = Databases(
            backend,
            {n: server.url_for(d, "asyncpg") for n, d in dbnames.items()},
            {n: server.url_for(d, "psycopg") for n, d in dbnames.items()},
        )
        _create_all(dbs, drifted)
        yield dbs
    finally:
        for dbname in dbnames.values():
            server.drop_database(dbname)
        server.stop()


def _create_all(dbs: Databases, drifted: Model) -> None:
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    metadata = drifted.metadata()
    for url in dbs.sync_urls.values():
        engine = sa.create_engine(url, poolclass=NullPool)
        try:
            with engine.begin() as connection:
                metadata.create_all(connection)
        finally:
            engine.dispose()


# -- timing -------------------------------------------------------------------------------------


class BenchmarkError(RuntimeError):
    pass


def autogenerate(tool: str, project: Path, prefix: tuple[str, ...] = ()) -> tuple[float, str]:
    """One ``revision --autogenerate`` process: (seconds, the file's text); the file is removed."""
    versions = project / "migrations" / "versions"
    for path in versions.glob("*.py"):
        path.unlink()
    args = [*prefix, tool] if prefix else [str(BIN / tool)]
    args += ["revision", "--autogenerate", "-m", "drift"]
    started = time.perf_counter()
    result = subprocess.run(args, cwd=project, env=ENVIRON, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    written = list(versions.glob("*.py"))
    if result.returncode != 0 or len(written) != 1:
        raise BenchmarkError(
            f"{tool} revision --autogenerate (in {project}) exited with {result.returncode}, "
            f"{len(written)} files\n--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
        )
    text = written[0].read_text()
    written[0].unlink()
    return elapsed, text


def count_ops(text: str) -> int:
    """Operations in the upgrade function(s): ``op.`` / ``batch_op.`` calls, minus batch openers."""
    upgrades = re.findall(r"def upgrade\w*\(\) -> None:\n(.*?)(?=\ndef |\Z)", text, re.S)
    body = "\n".join(upgrades)
    calls = re.findall(r"^\s*(?:batch_)?op\.(\w+)\(", body, re.M)
    return sum(1 for call in calls if call != "batch_alter_table")


@dataclass
class Result:
    seconds: dict[str, float]
    ops: dict[str, int]


def measure(workload: str, dbs: Databases, model: Model, runs: int) -> Result:
    names = DATABASES[workload]
    projects = {
        tool: write_project(
            tool, WORK / f"{dbs.backend}-{workload}" / tool, model, dbs.for_tool(tool, names)
        )
        for tool in TOOLS
    }
    times: dict[str, list[float]] = {tool: [] for tool in TOOLS}
    ops: dict[str, int] = {}
    for attempt in range(runs + 1):
        for tool in TOOLS:
            elapsed, text = autogenerate(tool, projects[tool])
            if attempt == 0:
                ops[tool] = count_ops(text)
                (projects[tool] / "last_revision.py").write_text(text)
            else:
                times[tool].append(elapsed)
    return Result({tool: statistics.median(values) for tool, values in times.items()}, ops)


PHASES = """\
import json, sys, threading, time
started = time.perf_counter()
import sqlalchemy as sa
from sqlalchemy import event
from amigrate.autogenerate import api, compare, reflect, render
from amigrate.aio import envscript
from amigrate.script import create

spent, lock = {}, threading.Lock()
queries = [0]

def timed(module, name, phase):
    original = getattr(module, name)
    def wrapper(*args, **kw):
        begun = time.perf_counter()
        try:
            return original(*args, **kw)
        finally:
            with lock:
                spent[phase] = spent.get(phase, 0.0) + time.perf_counter() - begun
    setattr(module, name, wrapper)

@event.listens_for(sa.engine.Engine, "before_cursor_execute")
def count(*args):
    queries[0] += 1

timed(envscript, "_load_env", "env.py")
timed(reflect, "reflect", "reflect")
timed(compare, "compare_schema", "compare")
timed(render, "render_python_code", "render")
timed(create, "write_revision", "write")
imported = time.perf_counter() - started
from amigrate.cli import main
code = main(["revision", "--autogenerate", "-m", "drift"])
total = time.perf_counter() - started
print(json.dumps({"imports": imported, "total": total, "queries": queries[0], **spent}))
sys.exit(code)
"""


def profile(workload: str, backend: str) -> None:
    """amigrate once with timers around its phases, once under cProfile (top functions)."""
    import json
    import pstats

    project = WORK / f"{backend}-{workload}" / "amigrate"
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", PHASES], cwd=project, env=ENVIRON, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    for path in (project / "migrations" / "versions").glob("*.py"):
        path.unlink()
    if result.returncode != 0:
        raise BenchmarkError(f"the timed run failed\n{result.stdout}{result.stderr}")
    phases = json.loads(result.stdout.strip().splitlines()[-1])
    total = phases["total"]
    print(
        f"\namigrate revision --autogenerate, {backend}, {workload}: {elapsed:.2f} s,"
        f" {total:.2f} s of it in Python after the interpreter started"
    )
    print(f"  {phases['queries']} SQL statements; env.py includes importing the models")
    accounted = 0.0
    for label in ("imports", "env.py", "reflect", "compare", "render", "write"):
        seconds = phases.get(label, 0.0)
        accounted += seconds if label != "imports" else 0.0
        print(f"  {label:<8} {seconds:7.3f} s  {seconds / total:6.1%}")
    rest = total - phases["imports"] - accounted
    print(f"  {'other':<8} {rest:7.3f} s  {rest / total:6.1%}  (connecting, CLI, run set-up)")
    if len(DATABASES[workload]) > 1:
        print("  (phases are summed over the databases, which run concurrently)")
    out = project / "autogen.prof"
    autogenerate("amigrate", project, (sys.executable, "-m", "cProfile", "-o", str(out), "-m"))
    stats = pstats.Stats(str(out))
    print("  cProfile (main thread only), the top functions by own time:")
    stats.sort_stats("tottime").print_stats(10)


def report(results: dict[tuple[str, str], Result], runs: int, size: int) -> bool:
    print(
        f"{'workload':<28} {'amigrate s':>10} {'alembic s':>9} {'ratio':>7} {'goal':>6}"
        f" {'ops (amigrate/alembic)':>23}"
    )
    met = True
    for (backend, workload), result in results.items():
        ours, theirs = result.seconds["amigrate"], result.seconds["alembic"]
        goal = GOALS[workload]
        met = met and ours / theirs <= goal
        label = f"{backend}: {workload} ({len(DATABASES[workload])} db)"
        ops = f"{result.ops['amigrate']}/{result.ops['alembic']}"
        print(
            f"{label:<28} {ours:>10.3f} {theirs:>9.3f} {ours / theirs:>6.2f}x {goal:>5.2f}x"
            f" {ops:>23}",
            flush=True,
        )
    print(
        f"\n{size} tables, about 50 differences per database; median of {runs} runs per"
        " process, after one unmeasured run (whole processes, interpreter start included)."
        f"\ngoals: at most {GOALS['one']}x Alembic on one database, {GOALS['multidb']}x on"
        f" three: {'met' if met else 'MISSED'}"
    )
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="measured runs per process (5)")
    parser.add_argument("--tables", type=int, default=200, help="tables in the model (200)")
    parser.add_argument(
        "--backend", action="append", choices=["sqlite", "postgresql"], help="default: both"
    )
    parser.add_argument(
        "--workload", action="append", choices=list(DATABASES), help="default: both"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile amigrate's run")
    parser.add_argument("--check", action="store_true", help="exit 1 if a goal is missed")
    args = parser.parse_args(argv)
    model = build_model(args.tables)
    drifted, changes = drift(model)
    print(f"model: {len(model.tables)} tables; drifted database: {changes} differences\n")
    results: dict[tuple[str, str], Result] = {}
    try:
        for backend in args.backend or ["sqlite", "postgresql"]:
            with databases(backend, drifted) as dbs:
                for workload in args.workload or list(DATABASES):
                    results[(backend, workload)] = measure(workload, dbs, model, args.runs)
                    if args.profile:
                        profile(workload, backend)
    except BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    met = report(results, args.runs, args.tables)
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
