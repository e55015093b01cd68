"""Offline SQL of a long chain, ``upgrade base:head --sql``: amigrate against Alembic.

    .venv/bin/python benchmarks/offline.py [--runs N] [--revisions N] [--regenerate] [--check]

The chain and the projects are chain.py's (``init -t async`` for both tools), written into
benchmarks/.work/offline-<N>/ with a PostgreSQL URL in the config and no server: offline mode
only needs the dialect. Each tool runs once unmeasured (byte-code caches warm, as users have
them), then ``--runs`` times, as whole processes; the table shows medians. Both scripts must
hold the same DDL (counted by statement kind) and end at the chain's head.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from typing import TYPE_CHECKING

from chain import BIN, ENVIRON, WORK, build_chain, write_project

if TYPE_CHECKING:
    from pathlib import Path

GENERATOR_VERSION = "1"
URL = "postgresql+asyncpg://bench:secret@127.0.0.1:1/bench"  # never connected to
GOAL_VS_ALEMBIC = 0.5
_KIND = re.compile(r"^(CREATE TABLE|ALTER TABLE \S+ ADD COLUMN|CREATE INDEX|INSERT|UPDATE)\b")


def generate(size: int, regenerate: bool) -> dict[str, Path]:
    root = WORK / f"offline-{size}"
    marker = root / ".complete"
    paths = {tool: root / tool for tool in ("amigrate", "alembic")}
    if not regenerate and marker.exists() and marker.read_text() == GENERATOR_VERSION:
        return paths
    if root.exists():
        shutil.rmtree(root)
    chain = build_chain(size)
    for tool, path in paths.items():
        write_project(tool, path, chain, URL)
    marker.write_text(GENERATOR_VERSION)
    return paths


class BenchmarkError(RuntimeError):
    pass


def run(tool: str, cwd: Path) -> tuple[float, str]:
    args = [str(BIN / tool), "upgrade", "base:head", "--sql"]
    started = time.perf_counter()
    result = subprocess.run(args, cwd=cwd, env=ENVIRON, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise BenchmarkError(
            f"{tool} upgrade base:head --sql (in {cwd}) exited with {result.returncode}\n"
            f"--- stdout\n{result.stdout[-2000:]}--- stderr\n{result.stderr[-2000:]}"
        )
    return elapsed, result.stdout


def kinds(script: str) -> Counter[str]:
    """How many statements of each kind the script holds (the DDL and version-table writes)."""
    found: Counter[str] = Counter()
    for line in script.splitlines():
        match = _KIND.match(line)
        if match:
            found[match.group(1).split()[0] + " " + match.group(1).split()[-1]] += 1
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="measured runs per tool (3)")
    parser.add_argument("--revisions", type=int, default=500, help="chain length (500)")
    parser.add_argument("--regenerate", action="store_true", help="rewrite the projects")
    parser.add_argument("--check", action="store_true", help="exit 1 if the goal is missed")
    args = parser.parse_args(argv)
    head = build_chain(args.revisions)[-1].rev
    projects = generate(args.revisions, args.regenerate)
    times: dict[str, list[float]] = {tool: [] for tool in projects}
    scripts: dict[str, str] = {}
    try:
        for attempt in range(args.runs + 1):
            for tool, project in projects.items():
                elapsed, scripts[tool] = run(tool, project)
                if attempt:
                    times[tool].append(elapsed)
        for tool, script in scripts.items():
            if f"'{head}'" not in script:
                raise BenchmarkError(f"{tool}'s script does not end at the head {head}")
        if kinds(scripts["amigrate"]) != kinds(scripts["alembic"]):
            raise BenchmarkError(
                "the scripts differ in their statements: "
                f"amigrate {dict(kinds(scripts['amigrate']))}, "
                f"alembic {dict(kinds(scripts['alembic']))}"
            )
    except BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    ours, theirs = (statistics.median(times[tool]) for tool in ("amigrate", "alembic"))
    ratio = ours / theirs
    print(f"{'workload':<32} {'amigrate s':>10} {'alembic s':>10} {'ratio':>7}")
    label = f"upgrade base:head --sql, {args.revisions}"
    print(f"{label:<32} {ours:>10.3f} {theirs:>10.3f} {ratio:>6.2f}x")
    met = ratio <= GOAL_VS_ALEMBIC
    print(
        f"\nmedian of {args.runs} runs per tool, after one unmeasured run; postgresql dialect."
        f"\ngoal: at most {GOAL_VS_ALEMBIC}x alembic: {'met' if met else 'MISSED'}"
    )
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
