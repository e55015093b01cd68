"""The ``amigrate`` command: parse arguments, run one command coroutine, print, exit."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, NoReturn, cast

from amigrate.cli.errors import EXIT_OK, report

if TYPE_CHECKING:
    from collections.abc import Coroutine, Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    from amigrate.cli.parser import build_parser

    arguments = _attach_dash_values(sys.argv[1:] if argv is None else argv)
    args = build_parser(arguments).parse_args(arguments)
    spec = args.spec
    try:
        config = _load_config(args) if spec.needs_config else None
        loop = spec.needs_loop
        needs_loop = loop(args, config) if callable(loop) else loop
        sql = getattr(args, "sql", False)
        if needs_loop or sql:  # progress lines: running or writing SQL
            from amigrate.cli import logs

            logs.configure()
        held = sql and _hold_stdout()
        try:
            result = run(spec.call(args, config), needs_loop=needs_loop)
        finally:
            if held:  # flushes: a reader gone (`| head`) shows here, not at the exit
                cast("Any", sys.stdout).reconfigure(write_through=True)
        text = spec.render(args, result)
    except (Exception, KeyboardInterrupt) as error:
        _flush_progress()  # the progress so far, then the error
        if _reader_went_away(error):  # `amigrate upgrade head --sql | head`
            return EXIT_OK
        return report(error, show_traceback=args.traceback)
    _flush_progress()
    if text:
        try:
            print(text, flush=True)
        except BrokenPipeError:  # `amigrate history | head`: the reader had enough
            _discard_stdout()
    return EXIT_OK


def _hold_stdout() -> bool:
    """Let the SQL script gather in standard output's buffer when it goes to a pipe or file.

    ``PYTHONUNBUFFERED`` (common in containers) makes every write a system call: a few
    thousand for 500 revisions, each waking the reader. Held, the script goes out in 8 KB
    pieces, in the same order as anything else printed; a terminal still gets every line at
    once. True if standard output was changed (`main` restores it).
    """
    stdout: Any = sys.stdout
    try:
        if stdout.isatty() or not stdout.write_through:
            return False
        stdout.reconfigure(write_through=False)
    except (AttributeError, ValueError, OSError):  # not a text file of its own, or closed
        return False
    return True


def _flush_progress() -> None:
    """Write the progress lines still waiting, if this command logs any (`amigrate.cli.logs`)."""
    logs = sys.modules.get("amigrate.cli.logs")
    if logs is not None:
        logs.flush()


def _reader_went_away(error: BaseException | None) -> bool:
    """Whether ``error`` comes from writing to a standard output whose reader has closed it
    (``| head``): not a failure, as for any Unix tool; the rest of the output is discarded.

    A broken pipe elsewhere (a database socket) is a failure: standard output itself must
    be the closed pipe.
    """
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, BrokenPipeError) and _stdout_reader_gone():
            _discard_stdout()
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _discard_stdout() -> None:
    """Send what is still to be written to standard output (and Python's flush at exit)
    to ``/dev/null``, so a closed pipe fails no second time."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _stdout_reader_gone() -> bool:
    """Whether standard output is a pipe nobody reads any more (poll reports an error)."""
    import select

    if not hasattr(select, "poll"):
        return False
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (OSError, ValueError):
        return False


def console_main() -> NoReturn:
    """The ``amigrate`` program: :func:`main`, tuned for a process that exits right after.

    The cyclic garbage collector is off until work that needs it begins (``amigrate._gc``), and
    everything is frozen before the exit so the interpreter's last collection skips it. Both
    save tens of milliseconds per run; ``main()`` itself leaves the process's settings alone,
    for callers that embed it.
    """
    import gc

    from amigrate import _gc

    _gc.defer()
    code = main()
    gc.freeze()
    sys.exit(code)


def _attach_dash_values(argv: Sequence[str]) -> list[str]:
    """Let ``-r -3:`` mean a range: argparse would take ``-3:`` for an option."""
    fixed: list[str] = []
    for token in argv:
        if fixed and fixed[-1] in ("-r", "--rev-range") and token.startswith("-"):
            fixed[-1] = f"--rev-range={token}"
        else:
            fixed.append(token)
    return fixed


def run(coroutine: Coroutine[Any, Any, Any], *, needs_loop: bool) -> Any:
    """Run a command coroutine to completion.

    Commands that need no database never await, so they run without an event loop: that
    keeps ``heads`` and ``history`` from importing asyncio (tens of milliseconds per call).
    """
    if needs_loop:
        import anyio

        async def _await() -> Any:
            return await coroutine

        return anyio.run(_await)
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("a command declared needs_loop=False awaited I/O")


def _load_config(args: Any) -> Any:
    from amigrate.config import Config

    config = Config.discover(file=args.config, section=args.name, x_arguments=args.x)
    config.cmd_opts = args
    return config
