"""The command table: each CLI command, its arguments, the coroutine it runs, how it prints."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from amigrate import command
from amigrate._util import fields_repr
from amigrate._version import __version__
from amigrate.cli import many, output

if TYPE_CHECKING:
    from amigrate.config import Config

Call = Callable[[argparse.Namespace, "Config | None"], Coroutine[Any, Any, Any]]
Render = Callable[[argparse.Namespace, Any], str]


@dataclass(repr=False, frozen=True, slots=True)
class Arg:
    __repr__ = fields_repr

    flags: tuple[str, ...]
    options: dict[str, Any]


def arg(*flags: str, **options: Any) -> Arg:
    return Arg(flags, options)


@dataclass(repr=False, frozen=True, slots=True)
class CommandSpec:
    """One CLI command. ``needs_loop`` is false for commands that never await I/O."""

    __repr__ = fields_repr

    name: str
    function: Callable[..., Any]
    arguments: tuple[Arg, ...]
    call: Call
    render: Render
    needs_config: bool = True
    needs_loop: bool | Callable[[argparse.Namespace, Config | None], bool] = False


VERBOSE = arg("-v", "--verbose", action="store_true", help="show full details")
JSON = arg("--json", action="store_true", help="print JSON for scripts and CI")
MESSAGE = arg("-m", "--message", help="the message of the new revision")
BRANCH_LABEL = arg(
    "--branch-label", action="append", help="a branch label for the new revision (repeatable)"
)
REV_ID = arg("--rev-id", help="the id of the new revision, instead of a random one")

SQL = arg("--sql", action="store_true", help="print the SQL instead of running it")
TAG = arg("--tag", help="a tag for env.py (context.get_tag_argument())")
NO_LOCK = arg(
    "--no-lock",
    dest="lock",
    action="store_false",
    help="do not take the migration lock (e.g. behind PgBouncer in transaction mode)",
)
LOCK_TIMEOUT = arg(
    "--lock-timeout",
    type=float,
    metavar="SECONDS",
    help="how long to wait for the migration lock (default: lock_timeout, or 300)",
)


def _online(args: argparse.Namespace, config: Config | None) -> bool:
    """Whether the command talks to a database; ``--sql`` only writes text, with no event loop."""
    return not args.sql


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "upgrade",
        command.upgrade,
        (
            arg("revision", nargs="?", default="heads", help="target (default: heads)"),
            SQL,
            TAG,
            NO_LOCK,
            LOCK_TIMEOUT,
        ),
        lambda a, c: command.upgrade(_config(c), a.revision, sql=a.sql, tag=a.tag, **_lock(a)),
        output.render_steps,
        needs_loop=_online,
    ),
    CommandSpec(
        "downgrade",
        command.downgrade,
        (arg("revision", help="target: an id, -N, or base"), SQL, TAG, NO_LOCK, LOCK_TIMEOUT),
        lambda a, c: command.downgrade(_config(c), a.revision, sql=a.sql, tag=a.tag, **_lock(a)),
        output.render_steps,
        needs_loop=_online,
    ),
    CommandSpec(
        "stamp",
        command.stamp,
        (
            arg("revisions", nargs="+", help="the revision(s) to record"),
            SQL,
            TAG,
            arg("--purge", action="store_true", help="empty the version table first"),
            NO_LOCK,
            LOCK_TIMEOUT,
        ),
        lambda a, c: command.stamp(
            _config(c), a.revisions, sql=a.sql, tag=a.tag, purge=a.purge, **_lock(a)
        ),
        output.render_stamp,
        needs_loop=_online,
    ),
    CommandSpec(
        "current",
        command.current,
        (
            VERBOSE,
            arg(
                "--check-heads",
                action="store_true",
                help="exit 1 unless the database is at the head revision(s)",
            ),
        ),
        lambda a, c: command.current(_config(c), check_heads=a.check_heads),
        output.render_current,
        needs_loop=True,
    ),
    CommandSpec(
        "edit",
        command.edit,
        (arg("rev", nargs="?", default="current", help="the revision (default: current)"),),
        lambda a, c: command.edit(_config(c), a.rev),
        output.render_nothing,
        needs_loop=True,
    ),
    CommandSpec(
        "ensure_version",
        command.ensure_version,
        (SQL,),
        lambda a, c: command.ensure_version(_config(c), sql=a.sql),
        output.render_nothing,
        needs_loop=_online,
    ),
    CommandSpec(
        "init",
        command.init,
        (
            arg("directory", help="the folder to create (e.g. migrations)"),
            arg("-t", "--template", default="generic", help="template (see list_templates)"),
        ),
        lambda a, c: command.init(a.directory, a.template, config_file=a.config),
        output.render_init,
        needs_config=False,
    ),
    CommandSpec(
        "list_templates",
        command.list_templates,
        (),
        lambda a, c: command.list_templates(),
        output.render_templates,
        needs_config=False,
    ),
    CommandSpec(
        "revision",
        command.revision,
        (
            MESSAGE,
            arg("--head", default="head", help="the revision to build on (default: head)"),
            arg("--splice", action="store_true", help="allow --head to name a non-head"),
            BRANCH_LABEL,
            arg("--depends-on", action="append", help="a revision this one depends on"),
            REV_ID,
            arg("--version-path", help="the version location to write the file into"),
            arg(
                "--autogenerate",
                action="store_true",
                help="write the operations that bring the database to the models",
            ),
        ),
        lambda a, c: command.revision(
            _config(c),
            a.message,
            head=a.head,
            splice=a.splice,
            branch_label=a.branch_label,
            depends_on=a.depends_on,
            rev_id=a.rev_id,
            version_path=a.version_path,
            autogenerate=a.autogenerate,
        ),
        output.render_written,
        needs_loop=lambda a, c: a.autogenerate or bool(c and c.revision_environment),
    ),
    CommandSpec(
        "check",
        command.check,
        (JSON,),
        lambda a, c: _check(a, _config(c)),
        output.render_check,
        needs_loop=True,
    ),
    CommandSpec(
        "merge",
        command.merge,
        (
            arg("revisions", nargs="+", help="revisions to merge, or 'heads'"),
            MESSAGE,
            BRANCH_LABEL,
            REV_ID,
        ),
        lambda a, c: command.merge(
            _config(c), a.revisions, a.message, branch_label=a.branch_label, rev_id=a.rev_id
        ),
        output.render_written,
    ),
    CommandSpec(
        "heads",
        command.heads,
        (
            VERBOSE,
            arg(
                "--resolve-dependencies",
                action="store_true",
                help="leave out heads that another revision depends on",
            ),
            JSON,
        ),
        lambda a, c: command.heads(_config(c), resolve_dependencies=a.resolve_dependencies),
        output.render_heads,
    ),
    CommandSpec(
        "branches",
        command.branches,
        (VERBOSE, JSON),
        lambda a, c: command.branches(_config(c)),
        output.render_branches,
    ),
    CommandSpec(
        "history",
        command.history,
        (
            arg("-r", "--rev-range", help="START:END, either side optional ('current' too)"),
            VERBOSE,
            arg(
                "-i",
                "--indicate-current",
                action="store_true",
                help="mark the database's current revision(s)",
            ),
            JSON,
        ),
        lambda a, c: command.history(_config(c), a.rev_range, indicate_current=a.indicate_current),
        output.render_history,
        needs_loop=lambda a, c: a.indicate_current or "current" in (a.rev_range or "").split(":"),
    ),
    CommandSpec(
        "show",
        command.show,
        (arg("rev", help="a revision id, prefix, label, head or heads"), JSON),
        lambda a, c: command.show(_config(c), a.rev),
        output.render_show,
    ),
)


async def _check(args: argparse.Namespace, config: Config) -> list[str]:
    """``check``; with ``--json`` the differences go to stdout as JSON even when it fails."""
    from amigrate._util import mask_url_password
    from amigrate.errors import AmigrateError, AutogenerateDiffsDetected

    try:
        return await command.check(config)
    except AutogenerateDiffsDetected as error:
        if args.json:
            print(output.check_json(error.diffs), flush=True)
        raise
    except AmigrateError as error:  # CI parsing stdout still gets an answer
        if args.json:
            print(output.check_json([], error=mask_url_password(str(error))), flush=True)
        raise


def _lock(args: argparse.Namespace) -> dict[str, Any]:
    """``--no-lock`` / ``--lock-timeout`` as the commands' keywords."""
    return {"lock": args.lock, "lock_timeout": args.lock_timeout}


COMMANDS = many.extend(COMMANDS, arg)  # --database, --url-file, --schema, --shard, --jobs, ...


def _config(config: Config | None) -> Config:
    assert config is not None, "command declared needs_config"
    return config


_VALUE_OPTIONS = ("-c", "--config", "-n", "--name", "-x")


def command_named_in(argv: list[str]) -> str | None:
    """The command word in ``argv``, skipping global options and their values."""
    tokens = iter(argv)
    for token in tokens:
        if token in _VALUE_OPTIONS:
            next(tokens, None)
        elif not token.startswith("-"):
            return token
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given ``argv``, only the sub-parser of the command it names is built."""
    wanted = command_named_in(argv) if argv is not None else None
    if wanted not in {spec.name for spec in COMMANDS}:
        wanted = None  # unknown or absent: build them all, so usage lists every command
    parser = argparse.ArgumentParser(
        prog="amigrate", description="Async-first schema migrations for SQLAlchemy."
    )
    parser.add_argument("--version", action="version", version=f"amigrate {__version__}")
    parser.add_argument(
        "-c", "--config", help="config file (default: amigrate.ini, pyproject.toml, alembic.ini)"
    )
    parser.add_argument("-n", "--name", help="the config section to use (default: amigrate)")
    parser.add_argument(
        "-x",
        dest="x",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an argument for env.py (repeatable)",
    )
    parser.add_argument(
        "--traceback", action="store_true", help="show the full error chain on failure"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for spec in COMMANDS:
        if wanted is not None and spec.name != wanted:
            continue
        doc = (spec.function.__doc__ or "").strip().splitlines()[0]
        sub = subparsers.add_parser(spec.name, help=doc, description=doc)
        for argument in spec.arguments:
            sub.add_argument(*argument.flags, **argument.options)
        sub.set_defaults(spec=spec)
    return parser
