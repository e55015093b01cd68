"""Many databases from the command line: choosing targets, live progress, the summary.

``upgrade``, ``downgrade``, ``stamp`` and ``current`` run over many targets when the config
lists ``databases`` (multidb) or when tenants are given (``--url-file``, ``--schema``,
``--schema-file``, or the config's ``tenant_url_file`` / ``tenant_schema_file``); otherwise
they run on the one database as before.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from amigrate.errors import ConfigError, MultiDatabaseError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Coroutine

    from amigrate.aio.fanout import Progress, Target, TargetResult
    from amigrate.config import Config

URL_FILE_KEY = "tenant_url_file"
SCHEMA_FILE_KEY = "tenant_schema_file"


class ManyResults(list["TargetResult"]):
    """The results of a many-target run, as the renderers receive them."""


def is_many(args: argparse.Namespace, config: Config) -> bool:
    tenants = args.url_file or args.schema or args.schema_file
    configured = config.get_main_option(URL_FILE_KEY) or config.get_main_option(SCHEMA_FILE_KEY)
    return bool(config.databases or tenants or configured or args.database or args.shard)


def choose_targets(args: argparse.Namespace, config: Config) -> list[Target]:
    """The targets the arguments name, sliced by ``--shard``."""
    from amigrate.aio import fanout

    shard = fanout.parse_shard(args.shard) if args.shard else None
    urls = _listed(args.url_file, config, URL_FILE_KEY, "URL")
    listed = _listed(args.schema_file, config, SCHEMA_FILE_KEY, "schema")
    schemas = list(dict.fromkeys([*(args.schema or []), *listed]))
    if urls or schemas:
        if args.database:
            raise ConfigError("--database picks multidb databases; it does not mix with tenants")
        targets = fanout.tenant_targets(urls, schemas)
    elif config.databases or args.database:
        targets = fanout.database_targets(config, args.database)
    else:
        targets = [fanout.Target()]
    return fanout.shard(targets, *shard) if shard else targets


def _listed(given: str | None, config: Config, key: str, what: str) -> list[str]:
    from amigrate.aio.fanout import read_list_file

    path = given or config.get_main_option(key)
    if not path:
        return []
    if not given:
        path = str(config.here / path)
    return read_list_file(path, what)


async def run(
    args: argparse.Namespace,
    config: Config,
    single: Callable[[], Coroutine[Any, Any, Any]],
    many: Callable[..., Coroutine[Any, Any, list[TargetResult]]],
) -> Any:
    """The command on one database (``single``) or on each target (``many``)."""
    if not is_many(args, config):
        return await single()
    if getattr(args, "sql", False):
        if args.url_file or args.schema or args.schema_file or args.shard:
            raise ConfigError("--sql prints one database's SQL; it does not combine with tenants")
        if args.database:
            config.attributes["databases"] = args.database
        return await single()  # multidb: each database's SQL in turn
    targets = choose_targets(args, config)
    display = ProgressDisplay(enabled=sys.stderr.isatty() and not args.json)
    _name_targets_in_logs()
    try:
        results = await many(targets=targets, jobs=args.jobs, on_progress=display.update)
    except MultiDatabaseError as error:
        display.finish()
        text = render(args, ManyResults(error.results))
        if text:
            print(text, flush=True)
        raise
    display.finish()
    return ManyResults(results)


def _name_targets_in_logs() -> None:
    """Prefix amigrate's log lines with the target they are about."""
    import logging

    from amigrate.aio.fanout import current_target

    def prefix(record: logging.LogRecord) -> bool:
        target = current_target.get()
        if target is not None and not getattr(record, "amigrate_target", None):
            record.msg = f"[{target.name}] {record.msg}"
            record.amigrate_target = target.name
        return True

    for handler in logging.getLogger("amigrate").handlers:
        if prefix not in handler.filters:
            handler.addFilter(prefix)


def render(args: argparse.Namespace, results: ManyResults) -> str:
    if args.json:
        import json

        from amigrate._util import mask_url_password

        counts = {s: sum(r.status == s for r in results) for s in ("ok", "failed", "cancelled")}
        data = {
            "targets": [r.to_json() for r in results],
            "summary": {"total": len(results), **counts},
        }
        return mask_url_password(json.dumps(data, indent=2, ensure_ascii=False))
    if args.spec.name == "current":
        return "\n".join(
            f"{r.target.name}: {', '.join(r.after) or '<base>'}"
            + ("" if r.error is None else " (failed)")
            for r in results
        )
    return summary_table(results)


def summary_table(results: list[TargetResult]) -> str:
    """One row per target: status, from and to revisions, steps, seconds."""
    rows = [("target", "status", "from", "to", "steps", "seconds")]
    for r in results:
        before, after = ", ".join(r.before) or "<base>", ", ".join(r.after) or "<base>"
        if r.status == "cancelled":
            after = "?"
        rows.append((r.target.name, r.status, before, after, str(len(r.steps)), f"{r.seconds:.2f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]  # fmt: skip
    ok = sum(r.status == "ok" for r in results)
    lines.append(f"{ok} of {len(results)} target(s) ok")
    return "\n".join(lines)


class ProgressDisplay:
    """A line on a terminal's stderr: done / failed / running, and the time left."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.shown = 0.0
        self.width = 0

    def update(self, progress: Progress) -> None:
        now = time.monotonic()
        finished = progress.done + progress.failed == progress.total
        if not self.enabled or (now - self.shown < 0.1 and not finished):
            return
        self.shown = now
        eta = progress.eta
        left = "" if eta is None else f", about {eta:.0f} s left"
        text = (
            f"{progress.done} done, {progress.failed} failed, {progress.running} running "
            f"of {progress.total} ({progress.elapsed:.0f} s{left})"
        )
        sys.stderr.write("\r" + text.ljust(self.width))
        sys.stderr.flush()
        self.width = len(text)

    def finish(self) -> None:
        if self.enabled and self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()
            self.width = 0


# -- the options, added to the commands that can run on many databases --------------------------


def _many_call(name: str) -> Callable[..., Coroutine[Any, Any, list[TargetResult]]]:
    from amigrate import command

    def call(args: argparse.Namespace, config: Config, **common: Any) -> Any:
        if name != "current" and hasattr(args, "lock"):  # --no-lock, --lock-timeout
            common.update(lock=args.lock, lock_timeout=args.lock_timeout)
        if name == "upgrade":
            return command.upgrade_many(config, args.revision, fail_fast=args.fail_fast, **common)
        if name == "downgrade":
            return command.downgrade_many(config, args.revision, fail_fast=args.fail_fast, **common)
        if name == "stamp":
            return command.stamp_many(
                config, args.revisions, purge=args.purge, fail_fast=args.fail_fast, **common
            )
        return command.current_many(config, check_heads=args.check_heads, **common)

    return call


def extend(specs: tuple[Any, ...], arg: Callable[..., Any]) -> tuple[Any, ...]:
    """``specs`` with the many-database options on upgrade, downgrade, stamp and current."""
    import dataclasses

    options = (
        arg("--database", action="append", metavar="NAME",
            help="multidb: only this database (repeatable; default: all)"),
        arg("--url-file", metavar="FILE",
            help=f"tenants: one database URL per line (default: the {URL_FILE_KEY} key)"),
        arg("--schema", action="append", metavar="NAME",
            help="tenants: a PostgreSQL schema (repeatable)"),
        arg("--schema-file", metavar="FILE",
            help=f"tenants: one schema per line (default: the {SCHEMA_FILE_KEY} key)"),
        arg("--shard", metavar="I/N",
            help="only the targets of slice I of N (0 <= I < N), e.g. a job index"),
        arg("--jobs", "-j", type=int, metavar="N",
            help="databases migrated at once (default: up to 8)"),
    )  # fmt: skip
    fail_fast = arg(
        "--fail-fast", action="store_true", help="stop the other databases at the first failure"
    )
    json_flag = arg("--json", action="store_true", help="print the results as JSON")
    extended = []
    for spec in specs:
        if spec.name not in ("upgrade", "downgrade", "stamp", "current"):
            extended.append(spec)
            continue
        added = options if spec.name == "current" else (*options, fail_fast)
        flags = {flag for a in spec.arguments for flag in a.flags}
        added = (*added, *(() if "--json" in flags else (json_flag,)))
        extended.append(
            dataclasses.replace(
                spec,
                arguments=(*spec.arguments, *added),
                call=_wrap_call(spec.call, _many_call(spec.name)),
                render=_wrap_render(spec.render),
            )
        )
    return tuple(extended)


def _wrap_call(single: Any, many: Any) -> Any:
    def call(args: argparse.Namespace, config: Config | None) -> Any:
        assert config is not None
        return run(args, config, lambda: single(args, config),
                   lambda **common: many(args, config, **common))  # fmt: skip

    return call


def _wrap_render(single: Any) -> Any:
    def render_either(args: argparse.Namespace, result: Any) -> str:
        if isinstance(result, ManyResults):
            return render(args, result)
        return str(single(args, result))

    return render_either
