"""Post-write hooks: programs run on a revision file right after it is written (e.g. a formatter).

Three kinds, configured in ``[post_write_hooks]``: ``console_scripts`` (an installed console
script such as ``black``; falls back to an executable of that name beside the interpreter or
on PATH, which covers ``ruff``), ``exec`` (any executable) and ``module`` (``python -m``).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from amigrate.errors import ConfigError, ScriptError

if TYPE_CHECKING:
    from amigrate.config import PostWriteHook

FILENAME_TOKEN = "REVISION_SCRIPT_FILENAME"


def check_hooks(hooks: list[PostWriteHook]) -> None:
    """Find every hook's program and folder now, before a revision file is written."""
    for hook in hooks:
        _program(hook)
        cwd = hook.options.get("cwd")
        if cwd and not os.path.isdir(cwd):
            raise ConfigError(
                f"post-write hook '{hook.name}': cwd {cwd!r} is not a directory",
                location=hook.location,
            )


def run_hooks(hooks: list[PostWriteHook], path: Path) -> None:
    """Run each hook on ``path`` in order; the first failure is a ``ScriptError``."""
    for hook in hooks:
        command = hook_command(hook, path)
        cwd = hook.options.get("cwd") or None
        try:
            done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
        except OSError as exc:
            raise ScriptError(
                f"post-write hook '{hook.name}' could not start {command[0]!r}: {exc.strerror}",
                location=hook.location,
                hint=f"the revision file was written: {path}",
            ) from exc
        if done.returncode != 0:
            detail = _failure_line(done.stderr, done.stdout)
            raise ScriptError(
                f"post-write hook '{hook.name}' failed with exit code {done.returncode}{detail}",
                location=hook.location,
                hint=f"the revision file was written: {path}",
            )


def _failure_line(stderr: str, stdout: str) -> str:
    """The line of a failed hook's output most likely to say why: an error line, else the last."""
    lines = [line.strip() for line in (stderr + "\n" + stdout).splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    chosen = errors[0] if errors else (lines[-1] if lines else "")
    return f": {chosen}" if chosen else ""


def hook_command(hook: PostWriteHook, path: Path) -> list[str]:
    """The argument list a hook runs, with the file name substituted or appended."""
    raw = hook.options.get("options", "")
    arguments = [arg.replace(FILENAME_TOKEN, str(path)) for arg in shlex.split(raw)]
    if FILENAME_TOKEN not in raw:
        arguments.append(str(path))
    return _program(hook) + arguments


def _program(hook: PostWriteHook) -> list[str]:
    options = hook.options
    if hook.type == "console_scripts":
        return _console_script(hook, _required(hook, "entrypoint"))
    if hook.type == "exec":
        executable = _required(hook, "executable")
        found = shutil.which(executable) if os.sep not in executable else executable
        if found is None:
            raise ConfigError(
                f"post-write hook '{hook.name}': executable {executable!r} not found",
                location=hook.location,
            )
        return [found]
    if hook.type == "module":
        return [sys.executable, "-m", _required(hook, "module")]
    raise ConfigError(
        f"post-write hook '{hook.name}' has unknown type {options.get('type', hook.type)!r}",
        location=hook.location,
        hint="use console_scripts, exec or module",
    )


def _console_script(hook: PostWriteHook, name: str) -> list[str]:
    from importlib.metadata import entry_points

    for entry in entry_points(group="console_scripts", name=name):
        module, _, attr = entry.value.partition(":")
        call = attr.strip() or "main"
        code = f"import sys; from {module.strip()} import {call.split('.')[0]} as f; sys.exit(f())"
        if "." not in call:
            return [sys.executable, "-c", code]
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which(name, path=search)
    if found is None:
        raise ConfigError(
            f"post-write hook '{hook.name}': no console script named {name!r}",
            location=hook.location,
            hint="install it in this environment, or use type = exec",
        )
    return [found]


def _required(hook: PostWriteHook, option: str) -> str:
    value = hook.options.get(option)
    if not value:
        raise ConfigError(
            f"post-write hook '{hook.name}' needs '{hook.name}.{option}'", location=hook.location
        )
    return value
