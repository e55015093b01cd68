"""pyproject.toml as config sections: our [tool.amigrate], and Alembic's [tool.alembic].

``tomllib`` is imported only when a file is parsed. It does not report lines, so a key's line
is found by scanning the text, which is good enough for messages.

[tool.alembic] is read for Alembic projects whose settings are split between alembic.ini and
pyproject.toml (``alembic init -t pyproject``): its keys join the ini's main section, and its
hooks, an array of tables each with a ``name``, become our [post_write_hooks] keys.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from amigrate._ini import Option, read_text
from amigrate.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

# Compiled on first use (re caches them): most runs never read TOML.
_HEADER = r"\s*(?P<array>\[)?\[(?P<name>[^\]]+)\]\]?\s*(?:#.*)?$"
_KEY = r"\s*(?P<name>(?:[\w-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[\w-]+|\"[^\"]*\"|'[^']*'))*)\s*="
_PART = r"\"([^\"]*)\"|'([^']*)'|([^.\s]+)"
_NAME_LISTS = ("databases", "hooks")
_ALEMBIC_HOOKS = "tool.alembic.post_write_hooks"


def table_name(section: str) -> str:
    """How pyproject.toml names a section: the main one is [tool.amigrate] itself."""
    return "tool.amigrate" if section == "amigrate" else f"tool.amigrate.{section}"


def load(text: str, path: str, section: str) -> dict[str, dict[str, Option]]:
    """The sections of [tool.amigrate]; ConfigError if it or the table ``section`` is missing."""
    sections = parse_pyproject(text, path)
    if sections is None:
        raise ConfigError(f"no [tool.amigrate] table in {path}")
    if section not in sections:
        found = ", ".join(f"[{table_name(name)}]" for name in sections)
        raise ConfigError(f"no [{table_name(section)}] table in {path}; it has {found}")
    return sections


def merge_tool_alembic(
    sections: dict[str, dict[str, Option]], defaults: dict[str, Option], main: str, folder: Path
) -> None:
    """Add [tool.alembic] of ``folder``/pyproject.toml to the ``sections`` of an alembic.ini.

    As in Alembic, a key the ini sets (in section ``main`` or [DEFAULT]) wins, and so does a
    [post_write_hooks] section of the ini. Section ``main`` is added if the ini has none.
    """
    path = folder / "pyproject.toml"
    text = read_text(path) if path.is_file() else ""
    # Most pyproject.toml files never mention alembic: no need to parse them.
    merged = parse_tool_alembic(text, str(path)) if "alembic" in text else None
    if merged is None:
        return
    options, hooks = merged
    target = sections.setdefault(main, {})
    for key, option in options.items():
        if key not in target and key not in defaults:
            target[key] = option
    if hooks and "post_write_hooks" not in sections:
        sections["post_write_hooks"] = hooks


def parse_pyproject(text: str, path: str) -> dict[str, dict[str, Option]] | None:
    """[tool.amigrate] as sections, or None if the file has no such table.

    The table itself is section ``amigrate``; each sub-table is a section of that name, except
    ``sqlalchemy`` (what ``sqlalchemy.url = ...`` makes), kept as ``sqlalchemy.*`` keys.
    Nested tables become dotted keys (``ruff.type``); lists of strings keep their items.
    """
    table = _tool_table(text, path, "amigrate")
    if table is None:
        return None
    lines = _lines(text)
    sections: dict[str, dict[str, Option]] = {"amigrate": {}}
    for key, value in table.items():
        if isinstance(value, dict) and key != "sqlalchemy":
            sections[key] = _options(f"tool.amigrate.{key}", value, lines, path)
        else:
            options = _options("tool.amigrate", {key: value}, lines, path)
            sections["amigrate"].update(options)
    return sections


def parse_tool_alembic(text: str, path: str) -> tuple[dict[str, Option], dict[str, Option]] | None:
    """[tool.alembic] as (main section keys, [post_write_hooks] keys); None if it is absent.

    Every option remembers ``path``: it is merged into a config read from another file.
    """
    table = _tool_table(text, path, "alembic")
    if table is None:
        return None
    lines = _lines(text)
    hooks = table.pop("post_write_hooks", None)
    main = _options("tool.alembic", table, lines, path)
    hook_options = {} if hooks is None else _alembic_hooks(hooks, lines, path)
    for option in (*main.values(), *hook_options.values()):
        option.path = path
    return main, hook_options


def has_amigrate_table(path: Path) -> bool:
    """Whether the pyproject.toml at ``path`` has a [tool.amigrate] table."""
    text = read_text(path)
    # Most pyproject.toml files never mention amigrate: no need to parse them.
    return "amigrate" in text and parse_pyproject(text, str(path)) is not None


def _tool_table(text: str, path: str, name: str) -> dict[str, Any] | None:
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        found = re.search(r" \(at line (\d+), column \d+\)$", message)
        location = f"{path}:{found[1]}" if found else path
        message = message[: found.start()] if found else message
        raise ConfigError(f"invalid TOML: {message}", location=location) from None
    tool = data.get("tool")
    table = tool.get(name) if isinstance(tool, dict) else None
    return table if isinstance(table, dict) else None


def _alembic_hooks(hooks: object, lines: dict[str, int], path: str) -> dict[str, Option]:
    """Alembic's hook tables as ``hooks`` plus ``NAME.option`` keys, in file order."""
    line = lines.get(_ALEMBIC_HOOKS)
    if not isinstance(hooks, list) or not all(isinstance(hook, dict) for hook in hooks):
        raise ConfigError(
            "post_write_hooks in [tool.alembic] must be an array of tables",
            location=f"{path}:{line}" if line else path,
            hint='write each hook as a [[tool.alembic.post_write_hooks]] table with name = "..."',
        )
    names: list[str] = []
    options: dict[str, Option] = {}
    for index, hook in enumerate(hooks):
        table = f"{_ALEMBIC_HOOKS}[{index}]"
        name = _hook_name(hook.get("name"), names, f"{path}:{lines.get(table, line)}")
        names.append(name)
        for key, value in _flatten(hook):
            if key != "name":
                found = lines.get(f"{table}.{key}") or lines.get(table, line)
                options[f"{name}.{key}"] = _option(key, value, path, found)
    options["hooks"] = Option(", ".join(names), line, items=tuple(names))
    return options


def _hook_name(name: object, taken: list[str], location: str) -> str:
    """The hook's name; Alembic allows one name twice, so a repeat becomes ``NAME-2``."""
    if not isinstance(name, str) or not re.fullmatch(r"[^\s,]+", name):
        raise ConfigError(
            "each [[tool.alembic.post_write_hooks]] table needs a name without spaces or commas",
            location=location,
            hint='for example name = "ruff"',
        )
    unique, number = name, 1
    while unique in taken:
        number += 1
        unique = f"{name}-{number}"
    return unique


def _options(
    table: str, values: dict[str, Any], lines: dict[str, int], path: str
) -> dict[str, Option]:
    options = {}
    for key, value in _flatten(values):
        dotted = f"{table}.{key}".lower()
        line = next((lines[name] for name in _prefixes(dotted, table) if name in lines), None)
        options[key] = _option(key, value, path, line)
    return options


def _option(key: str, value: object, path: str, line: int | None) -> Option:
    if isinstance(value, bool):
        return Option("true" if value else "false", line)
    if isinstance(value, str | int | float):
        return Option(str(value), line)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        joiner = ", " if key.rpartition(".")[2] in _NAME_LISTS else "\n"
        return Option(joiner.join(value), line, items=tuple(value))
    hint = None
    if key == "post_write_hooks":
        hint = 'write a [tool.amigrate.post_write_hooks] table: hooks = ["ruff"], ruff.type = ...'
    raise ConfigError(
        f"{key} must be a string, number, boolean or list of strings",
        location=f"{path}:{line}" if line else path,
        hint=hint,
    )


def _lines(text: str) -> dict[str, int]:
    """Dotted key → first line where it is assigned or opened as a table (a plain scan).

    The N-th table of an array of tables (``[[name]]``) is also ``name[N]``, counted from 0.
    """
    lines: dict[str, int] = {}
    counts: dict[str, int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if key := re.match(_KEY, line):
            lines.setdefault(".".join(filter(None, (table, _name(key["name"])))), number)
        elif header := re.match(_HEADER, line):
            table = _name(header["name"])
            lines.setdefault(table, number)
            if header["array"]:
                counts[table] = counts.get(table, -1) + 1
                table = f"{table}[{counts[table]}]"
                lines[table] = number
    return lines


def _name(text: str) -> str:
    return ".".join("".join(part) for part in re.findall(_PART, text)).lower()


def _prefixes(dotted: str, stop: str) -> Iterator[str]:
    """``dotted`` and its shorter prefixes down to ``stop``: an inline table's own line."""
    while len(dotted) > len(stop):
        yield dotted
        dotted = dotted.rpartition(".")[0]


def _flatten(table: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in table.items():
        name = f"{prefix}{key}".lower()
        if isinstance(value, dict):
            yield from _flatten(value, f"{name}.")
        else:
            yield name, value
